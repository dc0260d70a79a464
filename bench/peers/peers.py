#!/usr/bin/env python3
"""Runbook side by side with Argo Workflows' workflow-controller on one local
control plane (bench/peers/run.sh starts the cluster and calls this).

Three systems, one controller process at a time, each started out of cluster
for one trial in a fresh namespace and stopped after it:

  runbook       build/.../runbook-operator --namespace NS (its defaults: qps 50, burst 100)
  argo          workflow-controller --namespaced, defaults (qps 20, burst 30,
                DEFAULT_REQUEUE_TIME 10s)
  argo-tuned    the same with DEFAULT_REQUEUE_TIME=1s, --qps 50 --burst 100

Every Argo Workflow sets podGC {strategy: OnWorkflowCompletion,
deleteDelayDuration: 0s} (else Argo deletes no pod at all) and the same
terminationGracePeriodSeconds (podSpecPatch) as the Runbook Workflow. Pods
carry the same runbook.dev/test-* annotations (test/cluster/kwok-stages.yaml
plays them for both).

Scenarios (trials alternate: round r runs every system once, the order
rotated each round):

  failfast    50 parallel steps: 49 run 60 s, one fails after 10 s.
  cancel      50 parallel 1 h steps, all Running, then Runbook's
              spec.cancel=true / Argo's spec.shutdown=Terminate.
  throughput  100 runs x 5 parallel 1 s steps, created at once.
  memory      idle RssAnon/VmRSS 10 s after start; then 100 runs x 10 1 h
              steps, all pods Running, settled 10 s (once per system).

Times are this host's monotonic clock when a watch event arrives (pods and
the run objects, one watch each). Controller CPU is utime+stime from
/proc/PID/stat; memory from /proc/PID/status.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time

GRACE = 30
SIBLINGS = 49          # failfast: 49 long siblings + the failing step
CANCEL_STEPS = 50
TP_RUNS, TP_STEPS = 100, 5
MEM_RUNS, MEM_STEPS = 100, 10
TERMINAL = {"runbook": {"Succeeded", "Failed", "Cancelled"},
            "argo": {"Succeeded", "Failed", "Error"}}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --- a small API client (the admin certificate of test/cluster/up.sh) --------
class Kube:
    def __init__(self, kubeconfig):
        kv = {}
        for line in open(kubeconfig):
            m = re.match(r"\s*(server|certificate-authority|client-certificate|client-key):\s*(\S+)", line)
            if m:
                kv[m.group(1)] = m.group(2)
        hp = kv["server"].split("://", 1)[1]
        self.host, self.port = hp.rsplit(":", 1)
        self.ctx = ssl.create_default_context(cafile=kv["certificate-authority"])
        self.ctx.load_cert_chain(kv["client-certificate"], kv["client-key"])
        self.local = threading.local()

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx, timeout=timeout)

    def req(self, method, path, body=None, ctype="application/json", ok=(200, 201, 202, 404, 409)):
        c = getattr(self.local, "c", None)
        for attempt in range(20):
            if c is None:
                c = self.local.c = self.conn()
            try:
                hdr = {"Accept": "application/json"}
                data = None
                if body is not None:
                    data = json.dumps(body).encode()
                    hdr["Content-Type"] = ctype
                c.request(method, path, body=data, headers=hdr)
                r = c.getresponse()
                out = r.read()
                if r.status in (429, 503) and attempt < 19:  # e.g. a new CRD's storage (re)initializing
                    time.sleep(0.5)
                    continue
                if r.status not in ok:
                    raise RuntimeError(f"{method} {path}: HTTP {r.status}: {out[:300]!r}")
                return r.status, (json.loads(out) if out else None)
            except (OSError, http.client.HTTPException):
                c.close()
                c = self.local.c = None
                if attempt >= 2:
                    raise
                time.sleep(0.2)


class Watch:
    """A watch of one collection; calls on_event(t, type, obj) in its thread."""

    def __init__(self, kube, path, on_event):
        self.kube, self.path, self.on_event = kube, path, on_event
        _, lst = kube.req("GET", path)
        for o in lst.get("items", []):
            on_event(time.monotonic(), "ADDED", o)
        self.rv = lst["metadata"]["resourceVersion"]
        self.stopped = False
        self.ready = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        self.ready.wait(10)

    def _run(self):
        while not self.stopped:
            c = self.kube.conn(timeout=None)
            self.c = c
            try:
                sep = "&" if "?" in self.path else "?"
                c.request("GET", f"{self.path}{sep}watch=1&allowWatchBookmarks=true&resourceVersion={self.rv}",
                          headers={"Accept": "application/json"})
                r = c.getresponse()
                self.ready.set()
                while not self.stopped:
                    line = r.readline()
                    if not line:
                        break
                    t = time.monotonic()
                    ev = json.loads(line)
                    o = ev["object"]
                    if ev["type"] == "ERROR":
                        raise RuntimeError(f"watch {self.path}: {o}")
                    self.rv = o["metadata"]["resourceVersion"]
                    if ev["type"] != "BOOKMARK":
                        self.on_event(t, ev["type"], o)
            except (OSError, http.client.HTTPException, ValueError):
                if self.stopped:
                    return
                time.sleep(0.1)
            finally:
                c.close()

    def stop(self):
        self.stopped = True
        try:
            self.c.sock.shutdown(socket.SHUT_RDWR)
        except Exception:
            pass


class State:
    """Pods and run objects of one namespace, as the watches saw them."""

    def __init__(self, kube, ns, system):
        self.lock = threading.Condition()
        self.pods = {}     # name -> dict(phase, labels, annotations, del_at, del_phase, gone_at, failed_at, running_at)
        self.runs = {}     # name -> dict(phase, terminal_at)
        self.terminal = TERMINAL["runbook" if system == "runbook" else "argo"]
        self.system = system
        base = "/apis/runbook.dev/v1alpha1" if system == "runbook" else "/apis/argoproj.io/v1alpha1"
        res = "workflowruns" if system == "runbook" else "workflows"
        self.w = [Watch(kube, f"/api/v1/namespaces/{ns}/pods", self._pod),
                  Watch(kube, f"{base}/namespaces/{ns}/{res}", self._run)]

    def _pod(self, t, typ, o):
        with self.lock:
            n = o["metadata"]["name"]
            p = self.pods.setdefault(n, {"del_at": None, "gone_at": None, "failed_at": None,
                                          "running_at": None, "del_phase": None})
            p["labels"] = o["metadata"].get("labels", {})
            p["ann"] = o["metadata"].get("annotations", {})
            ph = o.get("status", {}).get("phase", "")
            p["phase"] = ph
            if ph == "Running" and p["running_at"] is None:
                p["running_at"] = t
            if ph == "Failed" and p["failed_at"] is None:
                p["failed_at"] = t
            if o["metadata"].get("deletionTimestamp") and p["del_at"] is None:
                p["del_at"], p["del_phase"] = t, ph
            if typ == "DELETED":
                p["gone_at"] = t
                if p["del_at"] is None:
                    p["del_at"], p["del_phase"] = t, ph
            self.lock.notify_all()

    def _run(self, t, typ, o):
        with self.lock:
            n = o["metadata"]["name"]
            r = self.runs.setdefault(n, {"terminal_at": None, "phase": ""})
            r["phase"] = o.get("status", {}).get("phase", "") or ""
            if r["phase"] in self.terminal and r["terminal_at"] is None:
                r["terminal_at"] = t
            self.lock.notify_all()

    def wait(self, cond, secs):
        end = time.monotonic() + secs
        with self.lock:
            while True:
                v = cond()
                if v:
                    return v
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.lock.wait(min(left, 0.5))

    def stop(self):
        for w in self.w:
            w.stop()


# --- the objects ---------------------------------------------------------------
def ann(duration, exit_code=None):
    a = {"runbook.dev/test-duration": duration, "runbook.dev/test-sigterm-exit": "200ms"}
    if exit_code is not None:
        a["runbook.dev/test-exit-code"] = str(exit_code)
    return a


def runbook_workflow(ns, name, steps):
    """steps: [(name, annotations)] all parallel."""
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "namespace": ns},
            "spec": {"terminationGracePeriodSeconds": GRACE,
                     "steps": [{"name": s, "image": "busybox", "command": ["sh", "-c", "sleep 1"],
                                "podTemplate": {"metadata": {"annotations": a}}} for s, a in steps]}}


def runbook_run(ns, wf, name):
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": name, "namespace": ns},
            "spec": {"workflowRef": {"name": wf}}}


def argo_workflow(ns, name, steps):
    tmpls = {}
    for s, a in steps:
        key = json.dumps(a, sort_keys=True)
        tmpls.setdefault(key, (f"t{len(tmpls)}", a))
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "namespace": ns},
            "spec": {"entrypoint": "main",
                     "podGC": {"strategy": "OnWorkflowCompletion", "deleteDelayDuration": "0s"},
                     "podSpecPatch": json.dumps({"terminationGracePeriodSeconds": GRACE}),
                     "templates": [{"name": "main", "dag": {"tasks": [
                         {"name": s, "template": tmpls[json.dumps(a, sort_keys=True)][0]} for s, a in steps]}}] +
                     [{"name": tn, "metadata": {"annotations": a},
                       "container": {"image": "busybox", "command": ["sh", "-c", "sleep 1"]}}
                      for tn, a in tmpls.values()]}}


def create(kube, objs):
    for o in objs:
        ns = o["metadata"]["namespace"]
        if o["apiVersion"].startswith("runbook.dev"):
            path = f"/apis/runbook.dev/v1alpha1/namespaces/{ns}/{o['kind'].lower()}s"
        else:
            path = f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows"
        kube.req("POST", path, o, ok=(201,))


def start_runs(kube, system, ns, prefix, steps, count):
    """Creates COUNT runs of the parallel STEPS; returns their names."""
    names = [f"{prefix}-{i}" for i in range(count)]
    if system == "runbook":
        create(kube, [runbook_workflow(ns, prefix, steps)])
        time.sleep(0.5)  # the Workflow Ready before its runs
        create(kube, [runbook_run(ns, prefix, n) for n in names])
    else:
        create(kube, [argo_workflow(ns, n, steps) for n in names])
    return names


# --- controllers ---------------------------------------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_ok(url):
    host, port_path = url.split("://", 1)[1].split(":", 1)
    port, path = port_path.split("/", 1)
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=1)
        c.request("GET", "/" + path)
        return c.getresponse().status == 200
    except OSError:
        return False


class Controller:
    def __init__(self, args, kube, system, ns, logpath):
        self.system = system
        self.logf = open(logpath, "w")
        env = dict(os.environ)
        if system == "runbook":
            hp = free_port()
            cmd = [args.runbook, "--kubeconfig", args.kubeconfig, "--namespace", ns,
                   "--health-addr", f"127.0.0.1:{hp}", "--metrics-addr", "0", "--webhook-addr", "0",
                   "--ui-addr", "0"]
            ready = f"http://127.0.0.1:{hp}/readyz"
        else:
            kube.req("POST", f"/api/v1/namespaces/{ns}/configmaps",
                     {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "workflow-controller-configmap", "namespace": ns}, "data": {}}, ok=(201, 409))
            env["LEADER_ELECTION_DISABLE"] = "true"
            cmd = [args.argo, "--kubeconfig", args.kubeconfig, "-n", ns, "--namespaced", "--managed-namespace", ns]
            if system == "argo-tuned":
                env["DEFAULT_REQUEUE_TIME"] = "1s"
                cmd += ["--qps", "50", "--burst", "100"]
            ready = "http://127.0.0.1:6060/healthz"
        self.p = subprocess.Popen(cmd, env=env, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        end = time.monotonic() + 60
        while not http_ok(ready):
            if self.p.poll() is not None or time.monotonic() > end:
                raise SystemExit(f"peers.py: {system} did not become ready (log {logpath})")
            time.sleep(0.1)
        time.sleep(1)  # informers listed, workers started

    def cpu(self):
        f = open(f"/proc/{self.p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def mem(self):
        kv = {}
        for line in open(f"/proc/{self.p.pid}/status"):
            k, _, v = line.partition(":")
            if k in ("RssAnon", "VmRSS"):
                kv[k] = int(v.split()[0]) / 1024.0  # MiB
        return kv["RssAnon"], kv["VmRSS"]

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.logf.close()


def delete_ns(kube, ns):
    kube.req("DELETE", f"/api/v1/namespaces/{ns}", {"propagationPolicy": "Background"})
    end = time.monotonic() + 180
    while time.monotonic() < end:
        st, _ = kube.req("GET", f"/api/v1/namespaces/{ns}")
        if st == 404:
            return
        time.sleep(0.5)
    log(f"peers.py: namespace {ns} still terminating after 180 s")


# --- scenarios -----------------------------------------------------------------
def sc_failfast(kube, system, ns, st, ctl):
    steps = [("boom", ann("10s", 3))] + [(f"s{i:02d}", ann("60s")) for i in range(SIBLINGS)]
    start_runs(kube, system, ns, "ff", steps, 1)

    def boom():
        for n, p in st.pods.items():
            if p["failed_at"] is not None and p["ann"].get("runbook.dev/test-exit-code"):
                return p["failed_at"]
    t_fail = st.wait(boom, 120)
    if t_fail is None:
        raise SystemExit(f"peers.py: {system} failfast: the failing step never failed")
    r = st.wait(lambda: st.runs.get("ff-0", {}).get("terminal_at"), 150)
    with st.lock:
        sib = {n: p for n, p in st.pods.items() if not p["ann"].get("runbook.dev/test-exit-code")}
        running_at_fail = sum(1 for p in sib.values() if p["running_at"] is not None and p["running_at"] <= t_fail)
        stopped = sum(1 for p in sib.values() if p["del_at"] is not None and p["del_phase"] == "Running")
        present = None if r is None else sum(1 for p in sib.values()
                                             if p["gone_at"] is None or p["gone_at"] > r)
    return {"ff_stopped": f"{stopped} of {running_at_fail}", "ff_stopped_n": stopped,
            "ff_terminal_s": None if r is None else r - t_fail, "ff_present": present,
            "ff_phase": st.runs.get("ff-0", {}).get("phase")}


def sc_cancel(kube, system, ns, st, ctl):
    steps = [(f"s{i:02d}", ann("1h")) for i in range(CANCEL_STEPS)]
    start_runs(kube, system, ns, "cx", steps, 1)
    if not st.wait(lambda: sum(1 for p in st.pods.values() if p["phase"] == "Running") >= CANCEL_STEPS, 120):
        raise SystemExit(f"peers.py: {system} cancel: the {CANCEL_STEPS} pods never all ran")
    time.sleep(2)
    t_c, t_wall = time.monotonic(), time.time()
    if system == "runbook":
        kube.req("PATCH", f"/apis/runbook.dev/v1alpha1/namespaces/{ns}/workflowruns/cx-0",
                 {"spec": {"cancel": True}}, ctype="application/merge-patch+json", ok=(200,))
    else:
        kube.req("PATCH", f"/apis/argoproj.io/v1alpha1/namespaces/{ns}/workflows/cx-0",
                 {"spec": {"shutdown": "Terminate"}}, ctype="application/merge-patch+json", ok=(200,))
    all_del = st.wait(lambda: (all(p["del_at"] for p in st.pods.values()) and
                               max(p["del_at"] for p in st.pods.values())), 120)
    r = st.wait(lambda: st.runs.get("cx-0", {}).get("terminal_at"), 60)
    gone = st.wait(lambda: (all(p["gone_at"] for p in st.pods.values()) and
                            max(p["gone_at"] for p in st.pods.values())), 30)
    with st.lock:
        present = None if r is None else sum(1 for p in st.pods.values() if p["gone_at"] is None or p["gone_at"] > r)
    return {"cx_all_deleting_s": None if not all_del else all_del - t_c,
            "cx_terminal_s": None if r is None else r - t_c, "cx_present": present,
            "cx_gone_s": None if not gone else gone - t_c, "cx_phase": st.runs.get("cx-0", {}).get("phase"),
            "cx_t_wall": t_wall}


def sc_throughput(kube, system, ns, st, ctl):
    steps = [(f"s{i}", ann("1s")) for i in range(TP_STEPS)]
    c0 = ctl.cpu()
    t0 = time.monotonic()
    names = start_runs(kube, system, ns, "tp", steps, TP_RUNS)
    done = st.wait(lambda: all(st.runs.get(n, {}).get("terminal_at") for n in names), 300)
    c1 = ctl.cpu()
    if not done:
        raise SystemExit(f"peers.py: {system} throughput: runs not all terminal after 300 s")
    t1 = max(st.runs[n]["terminal_at"] for n in names)
    ok = sum(1 for n in names if st.runs[n]["phase"] == "Succeeded")
    return {"tp_runs_s": TP_RUNS / (t1 - t0), "tp_cpu_s": c1 - c0, "tp_ok": ok}


def sc_memory(kube, system, ns, st, ctl):
    time.sleep(10)
    idle_anon, idle_rss = ctl.mem()
    steps = [(f"s{i}", ann("1h")) for i in range(MEM_STEPS)]
    start_runs(kube, system, ns, "mem", steps, MEM_RUNS)
    n = MEM_RUNS * MEM_STEPS
    if not st.wait(lambda: sum(1 for p in st.pods.values() if p["phase"] == "Running") >= n, 300):
        raise SystemExit(f"peers.py: {system} memory: the {n} pods never all ran")
    time.sleep(10)
    anon, rss = ctl.mem()
    return {"mem_idle_anon": idle_anon, "mem_idle_rss": idle_rss, "mem_anon": anon, "mem_rss": rss,
            "mem_per_step_kib": (anon - idle_anon) * 1024 / n}


SCENARIOS = {"failfast": sc_failfast, "cancel": sc_cancel, "throughput": sc_throughput, "memory": sc_memory}


def argo_signals(logpath, t_cancel_wall):
    """Argo's Terminate signals each running container through pods/exec
    ('signaled container' in its log): how many, with an error, and when the
    first and last were done, in seconds after the cancel (log wall clock)."""
    import datetime
    try:
        lines = open(logpath, errors="replace").read().splitlines()
    except OSError:
        return {}
    sig = [l for l in lines if 'msg="signaled container"' in l]
    # GetExecutorOutput returns nil buffers only when the exec stream failed,
    # and the log line's error field can print empty even then: count both.
    errs = sum(1 for l in sig if 'error=""' not in l or "stdout=<nil>" in l)
    ts = []
    for l in sig:
        m = re.match(r'time=(\S+)', l)
        if m:
            ts.append(datetime.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp() - t_cancel_wall)
    return {"cx_terminating_logged": sum(1 for l in lines if "Terminating pod as part of workflow shutdown" in l),
            "cx_signals": len(sig), "cx_signal_errors": errs,
            "cx_signal_first_s": min(ts) if ts else None, "cx_signal_last_s": max(ts) if ts else None}


def trial(args, kube, system, scenario, rnd):
    ns = f"peers-{system}-{scenario}-{rnd}"
    logpath = os.path.join(args.workdir, f"{ns}.log")
    kube.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
             ok=(201,))
    # The default ServiceAccount (Argo's pods name it; the controller manager makes it).
    end = time.monotonic() + 30
    while kube.req("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] != 200 and time.monotonic() < end:
        time.sleep(0.2)
    st = State(kube, ns, system)
    ctl = Controller(args, kube, system, ns, logpath)
    try:
        res = SCENARIOS[scenario](kube, system, ns, st, ctl)
    finally:
        ctl.stop()
        st.stop()
    if system != "runbook" and scenario == "cancel":
        res.update(argo_signals(logpath, res["cx_t_wall"]))
    delete_ns(kube, ns)
    return res


# --- the table -------------------------------------------------------------------
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, unit):
    if v is None:
        return "never"
    if unit == "s":
        return f"{v:.2f} s"
    if unit == "runs/s":
        return f"{v:.2f}"
    if unit == "cpu":
        return f"{v:.2f} s"
    if unit == "MiB":
        return f"{v:.1f} MiB"
    if unit == "KiB":
        return f"{v:.1f} KiB"
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def print_table(results, systems, scen, trials, elapsed, stopped_early):
    rows = [("failfast", "ff_stopped", "50 parallel 60 s steps, one fails: siblings stopped while running (of running at failure)", "str"),
            ("failfast", "ff_terminal_s", "same: failure -> workflow terminal", "s"),
            ("failfast", "ff_present", "same: sibling pods still present when marked terminal", "n"),
            ("cancel", "cx_all_deleting_s", "cancel (Argo: shutdown Terminate) of 50 running steps -> every pod has a deletionTimestamp", "s"),
            ("cancel", "cx_terminal_s", "cancel: -> marked terminal", "s"),
            ("cancel", "cx_present", "cancel: pods still present when marked terminal", "n"),
            ("cancel", "cx_gone_s", "cancel: -> last pod gone", "s"),
            ("throughput", "tp_runs_s", "100 runs x 5 one-second steps: runs/s", "runs/s"),
            ("throughput", "tp_cpu_s", "same: controller CPU (user+sys)", "cpu"),
            ("memory", "mem_idle_anon", "idle RssAnon", "MiB"),
            ("memory", "mem_idle_rss", "idle VmRSS", "MiB"),
            ("memory", "mem_per_step_kib", "RssAnon growth per tracked running step (100 x 10)", "KiB"),
            ("memory", "mem_anon", "RssAnon at 100 x 10 running", "MiB")]
    print()
    n_by = {sy: {sc: len(v) for sc, v in results[sy].items()} for sy in systems}
    print(f"peers: medians of {trials} alternating trial(s) per system (memory: 1); "
          f"{os.cpu_count()} CPUs; {elapsed:.0f} s"
          + (" (stopped early at the deadline)" if stopped_early else ""))
    print(f"trials done: {json.dumps(n_by)}")
    hdr = ["scenario"] + systems + [f"{sy}/runbook" for sy in systems if sy != "runbook"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + " --- |" * len(hdr))
    for sc, key, label, unit in rows:
        if sc not in scen:
            continue
        cells, vals = [], {}
        for sy in systems:
            rs = results[sy].get(sc, [])
            if not rs:
                cells.append("—")
                continue
            if unit == "str":
                xs = sorted(set(r[key] for r in rs))
                cells.append(" / ".join(xs))  # one entry when every trial agrees
                vals[sy] = med([r["ff_stopped_n"] for r in rs])
            else:
                xs = [r.get(key) for r in rs]
                v = med(xs)
                vals[sy] = v
                never = sum(1 for x in xs if x is None)
                cells.append(fmt(v, unit) + (f" ({never} never)" if never and v is not None else ""))
        ratios = []
        for sy in systems:
            if sy == "runbook":
                continue
            b, x = vals.get("runbook"), vals.get(sy)
            if b is None or x is None or unit in ("str", "n"):
                ratios.append("—")
            elif b == 0:
                ratios.append("∞")
            else:
                ratios.append(f"{x / b:.2f}x")
        print("| " + " | ".join([label] + cells + ratios) + " |")
    for sy in systems:
        rs = [r for r in results[sy].get("cancel", []) if "cx_signals" in r]
        if rs:
            print(f"{sy} cancel: pods/exec signals sent (log 'signaled container'), median per trial "
                  f"{med([r['cx_signals'] for r in rs]):g} ({med([r['cx_signal_errors'] for r in rs]):g} failed), "
                  f"first {fmt(med([r['cx_signal_first_s'] for r in rs]), 's')} / last "
                  f"{fmt(med([r['cx_signal_last_s'] for r in rs]), 's')} after the cancel; the podGC deletes: every "
                  f"pod deleting {fmt(med([r['cx_all_deleting_s'] for r in rs]), 's')}; run phase {rs[0]['cx_phase']}")
    for sy in systems:
        for r in results[sy].get("failfast", []):
            print(f"{sy} failfast: run phase {r['ff_phase']}")
            break
        for r in results[sy].get("throughput", []):
            print(f"{sy} throughput: {r['tp_ok']} of {TP_RUNS} runs Succeeded")
            break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig")
    ap.add_argument("--runbook")
    ap.add_argument("--argo")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--scenarios", default="failfast,cancel,throughput,memory")
    ap.add_argument("--systems", default="runbook,argo,argo-tuned")
    ap.add_argument("--deadline", type=float, default=0, help="unix time: start no trial after it")
    ap.add_argument("--table", action="store_true", help="print the table of WORKDIR/results.json again, no cluster")
    a = ap.parse_args()
    if a.table:
        d = json.load(open(os.path.join(a.workdir, "results.json")))
        for sy, by in d["results"].items():   # the Argo logs again (the signal counts as of now)
            for i, r in enumerate(by.get("cancel", [])):
                if "cx_t_wall" in r and sy != "runbook":
                    r.update(argo_signals(os.path.join(a.workdir, f"peers-{sy}-cancel-{i}.log"), r["cx_t_wall"]))
        print_table(d["results"], d["systems"], d["scenarios"], d["trials"], d["elapsed"], d["stopped_early"])
        return
    if not (a.kubeconfig and a.runbook and a.argo):
        ap.error("--kubeconfig, --runbook and --argo are needed")
    kube = Kube(a.kubeconfig)
    systems = a.systems.split(",")
    scen = [s for s in a.scenarios.split(",") if s]
    results = {s: {} for s in systems}   # system -> scenario -> [res]
    t_start = time.monotonic()
    stopped_early = False
    plan = []
    for rnd in range(a.trials):
        order = systems[rnd % len(systems):] + systems[:rnd % len(systems)]
        for sc in scen:
            if sc == "memory" and rnd > 0:
                continue
            for sy in order:
                if sc == "memory" and sy == "argo-tuned":
                    continue
                plan.append((rnd, sc, sy))
    for rnd, sc, sy in plan:
        if a.deadline and time.time() > a.deadline:
            stopped_early = True
            log(f"peers.py: deadline reached; skipping the rest from round {rnd} {sc}")
            break
        t = time.monotonic()
        r = trial(a, kube, sy, sc, rnd)
        log(f"[{time.monotonic() - t_start:6.0f}s] round {rnd} {sc:10s} {sy:10s} ({time.monotonic() - t:4.0f}s): "
            + json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}))
        results[sy].setdefault(sc, []).append(r)
    elapsed = time.monotonic() - t_start
    json.dump({"results": results, "systems": systems, "scenarios": scen, "trials": a.trials,
               "elapsed": elapsed, "stopped_early": stopped_early},
              open(os.path.join(a.workdir, "results.json"), "w"), indent=1)
    print_table(results, systems, scen, a.trials, elapsed, stopped_early)


if __name__ == "__main__":
    main()
