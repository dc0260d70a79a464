#!/usr/bin/env python3
"""Invariant recorder for the e2e tests (issue 8).

  recorder.py watch --kubeconfig KC --namespace NS --out FILE [--parent PID]
      Lists and watches WorkflowRuns, Jobs and pods in NS and appends one
      compact JSON line per event to FILE (FILE.ready appears once the three
      watches are established). Stops on SIGTERM, or when PID is gone.

  recorder.py check --events FILE [--audit LOG --namespace NS --operator-user U]
      Replays the events in resourceVersion order (one etcd numbers every
      change, so this is the order things happened in) and checks the
      invariants below per run. Prints lib.sh-style "ok   - " / "FAIL - "
      lines; exits 1 on any violation.

Python 3 standard library only.
"""
import argparse
import base64
import datetime
import glob
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

KINDS = (  # kind, API prefix, resource
    ("WorkflowRun", "/apis/runbook.dev/v1alpha1", "workflowruns"),
    ("Job", "/apis/batch/v1", "jobs"),
    ("Pod", "/api/v1", "pods"),
)
RUN_LABEL = "runbook.dev/run"
STEP_LABEL = "runbook.dev/step"
MATRIX_LABEL = "runbook.dev/matrix-index"  # a matrix step's combination: one Job each
FINALLY_LABEL = "runbook.dev/finally"
UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
KEEP_LABELS = (RUN_LABEL, STEP_LABEL, MATRIX_LABEL, FINALLY_LABEL, "job-name") + UID_LABELS
TERMINAL_RUN = {"Succeeded", "Failed", "Cancelled"}
TERMINAL_STEP = {"Succeeded", "Failed", "Cancelled", "Skipped"}
TERMINAL_POD = {"Succeeded", "Failed"}


# --- watch --------------------------------------------------------------------


class Api:
    """The server and credentials of a kubeconfig, as kubectl resolves them."""

    def __init__(self, kubeconfig):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", kubeconfig, "config", "view", "--raw", "--minify", "-o", "json"],
            check=True, capture_output=True, text=True).stdout
        cfg = json.loads(out)
        cluster = cfg["clusters"][0]["cluster"]
        user = (cfg.get("users") or [{}])[0].get("user") or {}
        url = urllib.parse.urlsplit(cluster["server"])
        self.https = url.scheme == "https"
        self.host, self.port = url.hostname, url.port or (443 if self.https else 80)
        self.prefix = url.path.rstrip("/")
        self.headers = {"Accept": "application/json"}
        token = user.get("token")
        if not token and user.get("tokenFile"):
            with open(user["tokenFile"]) as f:
                token = f.read().strip()
        if token:
            self.headers["Authorization"] = "Bearer " + token
        if any(k in user for k in ("exec", "auth-provider", "username")):
            sys.exit("recorder: only client certificates and tokens are supported")
        self.ctx = None
        if self.https:
            ctx = ssl.create_default_context()
            if cluster.get("insecure-skip-tls-verify"):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            elif cluster.get("certificate-authority-data"):
                ctx.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
            elif cluster.get("certificate-authority"):
                ctx.load_verify_locations(cafile=cluster["certificate-authority"])
            cert, key = self._pem(user, "client-certificate"), self._pem(user, "client-key")
            if cert:
                try:
                    ctx.load_cert_chain(cert[0], key[0] if key else None)
                finally:
                    for tmp in (cert, key):
                        if tmp and tmp[1]:
                            os.unlink(tmp[0])
            self.ctx = ctx

    @staticmethod
    def _pem(user, field):
        """(path, is_temporary) of a certificate or key given as file or data."""
        if user.get(field):
            return user[field], False
        if user.get(field + "-data"):
            fd, path = tempfile.mkstemp(prefix="recorder-", suffix=".pem")  # mode 0600
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(user[field + "-data"]))
            return path, True
        return None

    def get(self, path, timeout):
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        conn.request("GET", self.prefix + path, headers=self.headers)
        return conn, conn.getresponse()


def project(kind, obj):
    """The compact event record: only what the checker needs."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    rec = {
        "kind": kind,
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "rv": int(meta.get("resourceVersion") or 0),
        "labels": {k: v for k, v in labels.items() if k in KEEP_LABELS},
        "owners": [{"uid": o.get("uid"), "kind": o.get("kind"), "controller": bool(o.get("controller"))}
                   for o in meta.get("ownerReferences") or []],
        "deleting": "deletionTimestamp" in meta,
        "finalizers": meta.get("finalizers") or [],
    }
    status, spec = obj.get("status") or {}, obj.get("spec") or {}
    if kind == "Pod":
        rec["phase"] = status.get("phase", "")
        rec["exit_codes"] = [c["state"]["terminated"].get("exitCode")
                             for c in status.get("containerStatuses") or []
                             if (c.get("state") or {}).get("terminated")]
    elif kind == "Job":
        rec["conditions"] = [c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"]
    else:
        rec["phase"] = status.get("phase", "")
        # A matrix step's combinations share its name: each is keyed by its
        # index too ("test[3]"), the step's own entry by its name.
        rec["steps"] = [{"name": s.get("name") + (f"[{s['index']}]" if "index" in s else ""),
                         "phase": s.get("phase", ""), "job": s.get("job", "")}
                        for s in status.get("steps") or [] if s.get("name")]
        rec["cancel"] = bool(spec.get("cancel"))
    return rec


class Out:
    """FILE, appended one whole line at a time by the three watch threads."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a")

    def write(self, rec):
        rec["t"] = round(time.time(), 3)
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self.lock:
            if self.f:
                self.f.write(line)
                self.f.flush()

    def close(self):
        with self.lock:
            if self.f:
                self.f.close()
                self.f = None


class Gone(Exception):
    """410: the resourceVersion we would resume from has been compacted."""


def watch_kind(api, ns, kind, prefix, resource, out, ready):
    base = f"{prefix}/namespaces/{ns}/{resource}"
    live = {}  # uid -> name, to make up DELETED events a relist reveals
    rv = None
    while True:
        try:
            if rv is None:
                rv = relist(api, base, kind, out, live)
            rv = stream(api, base, kind, rv, out, live, ready)
        except Gone:
            out.write({"type": "NOTE", "kind": kind, "rv": int(rv or 0),
                       "note": f"410 Gone on the {resource} watch: relisting (changes in the gap are lost)"})
            rv = None
        except Exception as e:  # a watch thread must not die
            # The apiserver restarts in the serial tests: resume from rv.
            print(f"recorder: {resource}: {e!r}; retrying", file=sys.stderr)
            time.sleep(0.5)


def relist(api, base, kind, out, live):
    items, cont = [], ""
    while True:
        conn, resp = api.get(f"{base}?limit=500" + (f"&continue={urllib.parse.quote(cont)}" if cont else ""), 30)
        body = resp.read()
        conn.close()
        if resp.status != 200:
            raise ValueError(f"LIST {base}: HTTP {resp.status}: {body[:200]!r}")
        lst = json.loads(body)
        items += lst.get("items") or []
        cont = (lst.get("metadata") or {}).get("continue")
        if not cont:
            break
    list_rv = int(lst["metadata"]["resourceVersion"])
    seen = set()
    for obj in items:
        rec = project(kind, obj)
        rec.update(type="ADDED", listed=True)
        seen.add(rec["uid"])
        live[rec["uid"]] = rec["name"]
        out.write(rec)
    for uid in [u for u in live if u not in seen]:
        # Deleted while we were not watching: the exact rv is unknown, the
        # list's rv is an upper bound.
        out.write({"type": "DELETED", "kind": kind, "name": live.pop(uid), "uid": uid, "rv": list_rv,
                   "synthetic": True, "labels": {}, "owners": [], "deleting": True, "finalizers": []})
    return list_rv


def stream(api, base, kind, rv, out, live, ready):
    conn, resp = api.get(f"{base}?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion={rv}", 330)
    try:
        if resp.status == 410:
            raise Gone()
        if resp.status != 200:
            raise ValueError(f"WATCH {base}: HTTP {resp.status}: {resp.read()[:200]!r}")
        ready.set()
        while True:
            line = resp.readline()
            if not line:
                return rv  # the server ended the watch (timeoutSeconds): resume
            ev = json.loads(line)
            obj = ev.get("object") or {}
            if ev["type"] == "ERROR":
                if obj.get("code") == 410:
                    raise Gone()
                raise ValueError(f"watch error: {obj.get('message')}")
            rv = int(obj["metadata"]["resourceVersion"])
            if ev["type"] == "BOOKMARK":
                continue
            rec = project(kind, obj)
            rec["type"] = ev["type"]
            if ev["type"] == "DELETED":
                live.pop(rec["uid"], None)
            else:
                live[rec["uid"]] = rec["name"]
            out.write(rec)
    finally:
        conn.close()


def cmd_watch(a):
    api = Api(a.kubeconfig)
    out = Out(a.out)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    readies = []
    for kind, prefix, resource in KINDS:
        ready = threading.Event()
        readies.append(ready)
        threading.Thread(target=watch_kind, args=(api, a.namespace, kind, prefix, resource, out, ready),
                         daemon=True, name=resource).start()
    announced = False
    while not stop.wait(0.1):
        if not announced and all(r.is_set() for r in readies):
            open(a.out + ".ready", "w").close()
            announced = True
        # The test's EXIT trap may have been replaced: do not outlive it.
        if a.parent and not os.path.exists(f"/proc/{a.parent}"):
            break
    out.close()
    os._exit(0)  # the threads may be blocked in a read; nothing is left to flush


# --- check --------------------------------------------------------------------


def load_events(path):
    events, notes = [], []
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                break  # a line still being written (record_check_now mid-test)
            try:
                e = json.loads(line)
            except ValueError:
                notes.append(f"unparsable line skipped: {line[:80]!r}")
                continue
            if e.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                events.append(e)
            else:
                notes.append(f"{e.get('kind')} at rv {e.get('rv')}: {e.get('note')}")
    # The merge by etcd revision. A relist repeats objects it already sent:
    # keep one event per object state, (uid, rv).
    uniq, seen = [], set()
    for e in sorted(events, key=lambda e: e["rv"]):
        k = (e["uid"], e["rv"])
        if k not in seen:
            seen.add(k)
            uniq.append(e)
    return uniq, notes


def load_audit(path):
    """Audit events of a log and its rotated backups (name-<time>.log)."""
    stem, ext = os.path.splitext(path)
    entries, ids = [], set()
    for p in sorted(glob.glob(glob.escape(stem) + "-*" + ext)) + [path]:
        # The API server logs request bodies as sent: a body that is not
        # UTF-8 (hostile_status.sh sends one) must not stop the reading.
        with open(p, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    e = json.loads(line)
                except (ValueError, RecursionError):  # RecursionError: a body nested 1000 deep
                    continue
                if e.get("auditID") in ids:
                    continue  # one entry per request, whatever stages are logged
                ids.add(e.get("auditID"))
                entries.append(e)
    return entries


def controller(e, kind=None):
    for o in e.get("owners") or []:
        if o.get("controller") and (kind is None or o.get("kind") == kind):
            return o
    return None


def pod_job_uid(e):
    labels = e.get("labels") or {}
    for k in UID_LABELS:
        if labels.get(k):
            return labels[k]
    return None


def running(pod):
    # Not Succeeded or Failed. A deleted pod that still runs (Running with a
    # deletionTimestamp, in its grace period) is running.
    return pod.get("phase") not in TERMINAL_POD


class Run:
    def __init__(self, uid, name):
        self.uid, self.name = uid, name
        self.phase = ""
        self.terminal = None  # (phase, rv) when it first went terminal
        self.steps = {}  # step -> phase
        self.step_jobs = {}  # step -> {job uid: (name, rv)}
        self.jobs, self.pods = set(), set()
        self.fails = {i: [] for i in ("I1", "I2", "I3", "I4", "I5")}


class Checker:
    MAX_DETAILS = 5

    def __init__(self):
        self.runs = {}  # uid -> Run
        self.jobs = {}  # uid -> {name, run, finally, step, rv}; kept after deletion (pods outlive Jobs)
        self.pods = {}  # uid -> last event, while the pod exists
        self.pods_ever = {}  # uid -> last event
        self.i4_reported = set()
        self.i6 = []
        self.i6_reported = set()

    def run(self, uid, name=""):
        if uid not in self.runs:
            self.runs[uid] = Run(uid, name)
        return self.runs[uid]

    def tied_run(self, pod):
        """The run of a pod, through its Job's controller-uid label only."""
        job = self.jobs.get(pod_job_uid(pod))
        return job["run"] if job else None

    def running_pods(self, run_uid, main_only=False):
        return [p for p in self.pods.values()
                if running(p) and self.tied_run(p) == run_uid
                and not (main_only and self.jobs[pod_job_uid(p)]["finally"])]

    @staticmethod
    def describe(pods):
        return ", ".join(f"pod {p['name']} {p.get('phase') or 'no phase'}"
                         f"{' (terminating)' if p.get('deleting') else ''} (rv {p['rv']})" for p in pods)

    def feed(self, e):
        getattr(self, "on_" + e["kind"].lower())(e)

    def on_workflowrun(self, e):
        r = self.run(e["uid"], e["name"])
        r.name = e["name"]
        if e.get("synthetic"):
            # A relist found the run gone: its last state is unknown, not
            # "no phase"; nothing to check (a TTL may have deleted it).
            return
        phase = e.get("phase", "")
        if r.terminal and phase != r.phase:  # reported once per change
            r.fails["I5"].append(f"phase {r.phase} (terminal since rv {r.terminal[1]}) changed to '{phase}' "
                                 f"at rv {e['rv']}")
        elif phase in TERMINAL_RUN and not r.terminal:
            r.terminal = (phase, e["rv"])
            still = self.running_pods(r.uid)
            if still:
                r.fails["I1"].append(f"{phase} written at rv {e['rv']} while {self.describe(still)}")
        for s in e.get("steps") or []:
            prev = r.steps.get(s["name"])
            if prev in TERMINAL_STEP and s["phase"] != prev:
                r.fails["I5"].append(f"step {s['name']} {prev} changed to '{s['phase']}' at rv {e['rv']}")
            r.steps[s["name"]] = s["phase"]
        r.phase = phase

    def on_job(self, e):
        labels = e.get("labels") or {}
        owner = controller(e)
        if RUN_LABEL in labels and e["uid"] not in self.i6_reported:
            why = None
            if not owner or owner.get("kind") != "WorkflowRun":
                why = "has no controller ownerReference of kind WorkflowRun"
            elif owner["uid"] in self.runs and self.runs[owner["uid"]].name not in ("", labels[RUN_LABEL]):
                why = f"is controlled by run {self.runs[owner['uid']].name}, labelled {labels[RUN_LABEL]}"
            if why:
                self.i6_reported.add(e["uid"])
                self.i6.append(f"Job {e['name']} (rv {e['rv']}) {why}")
        run_uid = owner["uid"] if owner and owner.get("kind") == "WorkflowRun" else None
        if e["uid"] in self.jobs or e["type"] == "DELETED":
            return
        # First sight of this Job: its creation.
        self.jobs[e["uid"]] = {"name": e["name"], "run": run_uid, "rv": e["rv"],
                               "finally": labels.get(FINALLY_LABEL) == "true", "step": labels.get(STEP_LABEL)}
        if not run_uid:
            return
        r = self.run(run_uid, labels.get(RUN_LABEL, ""))
        r.jobs.add(e["uid"])
        step = labels.get(STEP_LABEL, "?")
        if MATRIX_LABEL in labels:  # each combination is a step of its own
            step += f"[{labels[MATRIX_LABEL]}]"
        # Retries happen inside the one Job (backoffLimit), so no retry can
        # explain a second Job for a step.
        others = r.step_jobs.setdefault(step, {})
        if others:
            r.fails["I3"].append(f"step {step}: Job {e['name']} uid {e['uid']} created at rv {e['rv']} after "
                                 + ", ".join(f"Job {n} uid {u} (rv {rv})" for u, (n, rv) in others.items()))
        others[e["uid"]] = (e["name"], e["rv"])
        if self.jobs[e["uid"]]["finally"]:
            still = self.running_pods(run_uid, main_only=True)
            if still:
                r.fails["I2"].append(f"finally Job {e['name']} created at rv {e['rv']} while {self.describe(still)}")
        if r.terminal:
            r.fails["I4"].append(f"Job {e['name']} created at rv {e['rv']}, after {r.terminal[0]} at rv {r.terminal[1]}")

    def on_pod(self, e):
        self.pods_ever[e["uid"]] = e
        if e["type"] == "DELETED":
            self.pods.pop(e["uid"], None)
        else:
            self.pods[e["uid"]] = e
        run_uid = self.tied_run(e)
        if not run_uid:
            return
        r = self.runs[run_uid]
        r.pods.add(e["uid"])
        if (r.terminal and e["type"] != "DELETED" and running(e) and e["rv"] > r.terminal[1]
                and e["uid"] not in self.i4_reported):
            self.i4_reported.add(e["uid"])
            r.fails["I4"].append(f"{self.describe([e])}, after {r.terminal[0]} at rv {r.terminal[1]}")

    def audit(self, entries, ns, user):
        """I7: the operator's DELETEs of Jobs and pods carry preconditions
        (and Foreground for Jobs) and hit only children of runs."""
        fails, n = [], 0
        accepted = {}  # (resource, name, uid) -> DELETEs answered 2xx
        by_name = {}
        for p in self.pods_ever.values():
            by_name.setdefault(("pods", p["name"]), []).append(p["uid"])
        for uid, j in self.jobs.items():
            by_name.setdefault(("jobs", j["name"]), []).append(uid)
        for a in entries:
            ref = a.get("objectRef") or {}
            if (a.get("verb") not in ("delete", "deletecollection") or ref.get("namespace") != ns
                    or (a.get("user") or {}).get("username") != user or ref.get("subresource")
                    or (ref.get("resource"), ref.get("apiGroup", "")) not in (("jobs", "batch"), ("pods", ""))):
                continue
            n += 1
            res, name = ref["resource"], ref.get("name", "")
            what = f"DELETE {res[:-1]} {name} at {a.get('requestReceivedTimestamp', '?')}"
            if a["verb"] == "deletecollection":
                fails.append(f"deletecollection of {res} (no preconditions possible)")
                continue
            body = a.get("requestObject") or {}
            uid = (body.get("preconditions") or {}).get("uid")
            if not uid:
                fails.append(f"{what} without preconditions.uid in its body")
            if res == "jobs" and body.get("propagationPolicy") != "Foreground":
                fails.append(f"{what} with propagationPolicy '{body.get('propagationPolicy', '')}', not Foreground")
            uids = [uid] if uid else by_name.get((res, name), [])
            if res == "pods":
                owned = [u for u in uids if u in self.pods_ever and self.tied_run(self.pods_ever[u])]
            else:
                owned = [u for u in uids if u in self.jobs and self.jobs[u]["run"]]
            if not owned:
                fails.append(f"{what} (uid {uid or '?'}): not a child of a run (by its controller)")
            # The operator remembers a DELETE the server accepted until its
            # watch shows the deletionTimestamp: it never sends a second.
            code = (a.get("responseStatus") or {}).get("code", 0)
            if 200 <= code < 300:
                key = (res, name, uid or "")
                accepted[key] = accepted.get(key, 0) + 1
                if accepted[key] == 2:
                    fails.append(f"{what}: the operator's second accepted DELETE of that {res[:-1]}")
        return fails, n

    def report(self, notes, audit=None):
        lines = [f"# recorder note: {n}" for n in notes]
        texts = {
            "I1": "no pod of the run running when it went terminal",
            "I2": "no finally Job created while a main-step pod runs",
            "I3": "no step has two Jobs",
            "I4": "no Job created nor pod running after the terminal phase",
            "I5": "terminal phases (run and steps) never change",
        }

        def line(ok, what, details):
            if ok:
                lines.append(f"ok   - recorder: {what}")
            else:
                more = f" (and {len(details) - self.MAX_DETAILS} more)" if len(details) > self.MAX_DETAILS else ""
                lines.append(f"FAIL - recorder: {what}: " + "; ".join(details[:self.MAX_DETAILS]) + more)

        for r in sorted(self.runs.values(), key=lambda r: (r.name, r.uid)):
            state = f"{r.terminal[0]} at rv {r.terminal[1]}" if r.terminal else f"never terminal (last phase '{r.phase}')"
            lines.append(f"# run {r.name} (uid {r.uid}): {state}; {len(r.jobs)} Jobs, {len(r.pods)} pods")
            for i, text in texts.items():
                if i in ("I1", "I4") and not r.terminal:
                    continue  # e.g. the namespace was deleted mid-run
                line(not r.fails[i], f"run {r.name}: {i} {text}", r.fails[i])
        line(not self.i6, "I6 every Job labelled runbook.dev/run is controlled by its WorkflowRun", self.i6)
        if audit is not None:
            fails, n = audit
            line(not fails, f"I7 the operator's {n} Job/pod DELETEs carry preconditions (Jobs: Foreground), "
                            "hit only children of runs, and none is repeated once accepted", fails)
        return lines


def check(events, notes=(), audit=None, namespace=None, operator_user=None):
    """Lines to print, and whether all invariants held."""
    c = Checker()
    for e in events:
        c.feed(e)
    lines = c.report(notes, c.audit(audit, namespace, operator_user) if audit is not None else None)
    return lines, not any(l.startswith("FAIL") for l in lines)


def cmd_check(a):
    events, notes = load_events(a.events)
    audit = None
    if a.audit:
        if not (a.namespace and a.operator_user):
            sys.exit("recorder: --audit needs --namespace and --operator-user")
        audit = load_audit(a.audit)
    lines, ok = check(events, notes, audit, a.namespace, a.operator_user)
    print("\n".join(lines), flush=True)
    return 0 if ok else 1


def accepted_deletes(entries, ns, user, resource, name=None):
    """The user's DELETEs of resource in ns that the server accepted, the
    first of each object: (name, epoch seconds, propagationPolicy or "-",
    preconditions.uid or "-")."""
    seen = {}
    for e in entries:
        o = e.get("objectRef") or {}
        if (e.get("verb") != "delete" or o.get("resource") != resource or o.get("subresource")
                or o.get("namespace") != ns or (name and o.get("name") != name)
                or (e.get("user") or {}).get("username") != user
                or not 200 <= (e.get("responseStatus") or {}).get("code", 0) < 300):
            continue
        b = e.get("requestObject") or {}
        t = datetime.datetime.fromisoformat(e["requestReceivedTimestamp"].replace("Z", "+00:00"))
        seen.setdefault(o.get("name"), (o.get("name"), t.timestamp(), b.get("propagationPolicy", "-"),
                                        (b.get("preconditions") or {}).get("uid", "-")))
    return list(seen.values())


def cmd_deletes(a):
    if not os.path.exists(a.audit) or os.path.getsize(a.audit) == 0:
        print(f"no audit log at {a.audit}", file=sys.stderr)
        return 2
    rows = accepted_deletes(load_audit(a.audit), a.namespace, a.user, a.resource, a.name)
    for r in rows:
        print("%s %.3f %s %s" % r)
    return 0 if rows or not a.name else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch", help="record events")
    w.add_argument("--kubeconfig", required=True)
    w.add_argument("--namespace", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--parent", type=int, help="exit when this process is gone")
    c = sub.add_parser("check", help="check recorded events")
    c.add_argument("--events", required=True)
    c.add_argument("--audit")
    c.add_argument("--namespace")
    c.add_argument("--operator-user")
    d = sub.add_parser("deletes", help="a user's accepted DELETEs, from the audit log: "
                                        "NAME EPOCH-SECONDS PROPAGATION PRECONDITION-UID")
    d.add_argument("--audit", required=True)
    d.add_argument("--namespace", required=True)
    d.add_argument("--user", required=True)
    d.add_argument("--resource", required=True, help="pods, jobs, workflowruns")
    d.add_argument("--name", help="only this object (exit 1 when it has none)")
    a = p.parse_args(argv)
    return {"watch": cmd_watch, "check": cmd_check, "deletes": cmd_deletes}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
