#!/usr/bin/env python3
"""Chaos soak (issue 10, "Soak"): two operator replicas with --leader-elect,
a generator creating runs at a steady rate, a chaos loop at seeded random
intervals, and the invariant recorder watching every soak namespace the whole
time. See test/soak/README.md.

  soak.py --cluster DIR --bindir DIR [--duration 5m] [--rate 0.5] [--seed S]
          [--namespaces 4] [--chaos kind,kind] [--chaos-every 20-50]
          [--drain 240] [--warmup 60] [--out DIR]

The cluster is test/cluster/up.sh's; DIR/operator.kubeconfig (made by
test/operator.sh start+stop) is the operator's ServiceAccount. Replica A
talks to the API server directly, replica B through test/proxy (so 429s and
cut watches can be injected into its traffic). Exit 0 when every run created
reached a terminal phase within the drain period with the outcome its
Workflow implies, the recorder's I1-I7 hold in every namespace, no replica
exited uninvited or uncleanly or with a sanitizer report, and the RSS of the
longest-lived replica grew by at most 10 % after warm-up; exit 1 otherwise,
printing the seed and the command that replays it.

Python 3 standard library only.
"""
import argparse
import bisect
import collections
import heapq
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "recorder"))
import recorder  # noqa: E402

TERMINAL = ("Succeeded", "Failed", "Cancelled")
OPERATOR_USER = "system:serviceaccount:runbook-e2e:runbook-operator-e2e"
# test/operator.sh renames the manifests' objects (runbook-operator ->
# runbook-operator-e2e), the Lease's resourceNames in the Role included.
LEASE_NAME = "runbook-operator-e2e"
CHAOS_KINDS = ("kill-leader", "term-replica", "restart-apiserver", "restart-etcd", "compact-etcd",
               "pause-kcm", "proxy-429", "proxy-drop-watches")
LONG = {"runbook.dev/test-duration": "1h", "runbook.dev/test-sigterm-exit": "100ms"}
# A sibling that ignores SIGTERM: goes at the end of its grace period.
STUBBORN = {"runbook.dev/test-duration": "1h"}


def ann(duration, code=None):
    a = {"runbook.dev/test-duration": duration}
    if code is not None:
        a["runbook.dev/test-exit-code"] = str(code)
    return a


def step(name, annotations, deps=None, **extra):
    s = {"name": name, "image": "busybox", "podTemplate": {"metadata": {"annotations": annotations}}}
    if deps:
        s["dependsOn"] = deps
    s.update(extra)
    return s


def wf(name, steps, final=(), **spec):
    # Runs are deleted a while after they end (the operator's TTL), so the
    # cluster and the caches reach a steady state and RSS can be compared.
    spec = dict({"terminationGracePeriodSeconds": 2, "ttlSecondsAfterFinished": 60}, **spec, steps=steps)
    if final:
        spec["finally"] = list(final)
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name}, "spec": spec}


# kind -> (Workflow, weight, expected run phase, expected step phases ("A|B":
# either; None: any))
WORKFLOWS = {
    "succeed": (wf("succeed", [step("a", ann("300ms")), step("b", ann("500ms"), ["a"]), step("c", ann("300ms"), ["a"]),
                               step("d", ann("200ms"), ["b", "c"])]),
                3, "Succeeded", {"a": "Succeeded", "b": "Succeeded", "c": "Succeeded", "d": "Succeeded"}),
    # A sibling whose Job was not created yet when the failure was seen (the
    # leader killed in between) is Skipped rather than Cancelled.
    "failfast": (wf("failfast", [step("boom", ann("1s", 3)), step("s1", LONG), step("s2", STUBBORN),
                                 step("after", ann("300ms"), ["boom"])], final=[step("cleanup", ann("300ms"))]),
                 3, "Failed", {"boom": "Failed", "s1": "Cancelled|Skipped", "s2": "Cancelled|Skipped",
                               "after": "Skipped", "cleanup": "Succeeded"}),
    # Cancelled a few seconds after creation; when the cancel lands before
    # the first Job the steps are Skipped, so only the run's phase is fixed.
    "cancel": (wf("cancel", [step("a", LONG), step("b", LONG), step("c", ann("300ms"), ["a"])],
                  final=[step("f", ann("300ms"))]),
               2, "Cancelled", None),
    "continue": (wf("continue", [step("a", ann("500ms", 2)), step("b", ann("300ms")), step("c", ann("300ms"), ["a"]),
                                 step("d", ann("300ms"), ["b"])], final=[step("f", ann("300ms"))],
                    failurePolicy="Continue"),
                 2, "Failed", {"a": "Failed", "b": "Succeeded", "c": "Skipped", "d": "Succeeded", "f": "Succeeded"}),
    # One retry inside the Job (backoffLimit 1): the Job controller's
    # backoff makes this run last ~10 s. b normally ends long before a fails,
    # unless kube-controller-manager was paused over both.
    "retries": (wf("retries", [step("a", ann("300ms", 1), retries=1), step("b", ann("300ms"))]),
                1, "Failed", {"a": "Failed", "b": "Succeeded|Cancelled"}),
    # The deadline may pass before a Job (or its pod) exists when the chaos
    # delays them: then a step is Skipped or Cancelled.
    "deadline": (wf("deadline", [step("a", LONG), step("b", ann("300ms"))], activeDeadlineSeconds=4),
                 1, "Failed", {"a": "Cancelled|Skipped", "b": "Succeeded|Cancelled|Skipped"}),
}


def parse_duration(s):
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(s))
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {s!r} (e.g. 90s, 5m, 1h)")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))]


class Log:
    """Timestamped lines to stdout and to OUT/soak.log."""

    def __init__(self, path):
        self.t0 = time.monotonic()
        self.f = open(path, "a")
        self.lock = threading.Lock()

    def __call__(self, msg, quiet=False):
        line = f"[{time.monotonic() - self.t0:7.1f}s] {msg}"
        with self.lock:
            self.f.write(line + "\n")
            self.f.flush()
            if not quiet:
                print(line, flush=True)


class Api(recorder.Api):
    """The recorder's kubeconfig reader, with writes."""

    def call(self, method, path, body=None, ctype="application/json", timeout=10):
        import http.client
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = dict(self.headers)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = ctype
            conn.request(method, self.prefix + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                obj = json.loads(raw) if raw else {}
            except ValueError:
                obj = {"raw": raw[:200].decode(errors="replace")}
            return resp.status, obj
        finally:
            conn.close()


class Replica:
    """One operator process, restarted by the soak; every lifetime is kept."""

    def __init__(self, soak, name, kubeconfig):
        self.s, self.name, self.kc = soak, name, kubeconfig
        self.hport, self.mport = free_port(), free_port()
        self.proc = None
        self.lives = []  # {pid, start, end, rc, why, rss: [(t, kb)], metrics: {}}
        self.expect_exit = False
        self.lock = threading.Lock()

    def start(self):
        with self.lock:
            self.logpath = os.path.join(self.s.out, f"replica-{self.name}.log")
            log = open(self.logpath, "a")
            offset = log.tell()
            log.write(f"--- start {time.strftime('%FT%TZ', time.gmtime())} (soak t={self.s.now():.1f}s)\n")
            log.flush()
            env = dict(os.environ, ASAN_OPTIONS=self.s.asan_options)
            env.pop("RUNBOOK_CRASH_AT", None)
            self.proc = subprocess.Popen(
                [self.s.binary, "--kubeconfig", self.kc, "--leader-elect", "--leader-elect-lease-name", LEASE_NAME,
                 "--health-addr", f"127.0.0.1:{self.hport}", "--metrics-addr", f"127.0.0.1:{self.mport}",
                 "--webhook-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            log.close()
            self.expect_exit = False
            self.lives.append({"pid": self.proc.pid, "start": self.s.now(), "end": None, "rc": None, "why": None,
                               "rss": [], "metrics": {}, "log_offset": offset})

    def log_of_life(self):
        with open(self.logpath, errors="replace") as f:
            f.seek(self.lives[-1]["log_offset"])
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig, why, timeout=20):
        """Signal it and wait; returns its exit status (None: had to SIGKILL)."""
        with self.lock:
            self.expect_exit = True
            p = self.proc
        if p.poll() is None:
            p.send_signal(sig)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
        life = self.lives[-1]
        life.update(end=self.s.now(), rc=rc, why=why)
        return rc

    def metrics(self, timeout=2):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.mport}/metrics", timeout=timeout) as r:
                return r.read().decode()
        except Exception:
            return None

    def is_leader(self):
        m = self.metrics()
        return bool(m and re.search(r"^runbook_leader 1(\.0+)?$", m, re.M))

    def rss_kb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None


class Tracker:
    """Follows the recorder's files: per run its terminal phase and steps,
    and the time from a failing pod to its siblings' deletionTimestamps
    (both as stamped by the recorder when the events arrived)."""

    def __init__(self, files):
        self.files = {ns: [path, 0, b""] for ns, path in files.items()}
        self.runs = {}  # (ns, name) -> {uid, first_t, terminal: (phase, t), steps: {}}
        self.jobs = {}  # job uid -> (ns, run name, step)
        self.fail_t = {}  # (ns, run) -> t of the first failed pod of the failing step
        self.job_fail_t = {}  # (ns, run) -> t of its Job's Failed condition
        self.del_t = {}  # (ns, run) -> {step: t of the first deleting event of its Job}
        self.lock = threading.Lock()

    def poll(self):
        for ns, st in self.files.items():
            try:
                with open(st[0], "rb") as f:
                    f.seek(st[1])
                    data = f.read()
            except OSError:
                continue
            st[1] += len(data)
            data = st[2] + data
            lines = data.split(b"\n")
            st[2] = lines.pop()
            with self.lock:
                for line in lines:
                    try:
                        self.feed(ns, json.loads(line))
                    except ValueError:
                        pass

    def feed(self, ns, e):
        kind, lab = e.get("kind"), e.get("labels") or {}
        if e.get("type") not in ("ADDED", "MODIFIED", "DELETED"):
            return
        if kind == "WorkflowRun":
            r = self.runs.setdefault((ns, e["name"]), {"uid": e["uid"], "first_t": e["t"], "terminal": None,
                                                       "steps": {}, "deleted": False})
            if e.get("synthetic") or r["uid"] != e["uid"]:
                r["deleted"] = r["deleted"] or e["type"] == "DELETED"
                return
            if e["type"] == "DELETED":
                r["deleted"] = True
            if r["terminal"] is None and e.get("phase") in TERMINAL:
                r["terminal"] = (e["phase"], e["t"])
                r["steps"] = {s["name"]: s["phase"] for s in e.get("steps") or []}
        elif kind == "Job":
            run, stp = lab.get(recorder.RUN_LABEL), lab.get(recorder.STEP_LABEL)
            if run and stp:
                self.jobs[e["uid"]] = (ns, run, stp)
                if stp == "boom" and "Failed" in (e.get("conditions") or []):
                    self.job_fail_t.setdefault((ns, run), e["t"])
                if e.get("deleting") and not e.get("synthetic"):
                    self.del_t.setdefault((ns, run), {}).setdefault(stp, e["t"])
        elif kind == "Pod" and e.get("phase") == "Failed" and not e.get("deleting"):
            j = self.jobs.get(recorder.pod_job_uid(e))
            if j and j[2] == "boom":
                self.fail_t.setdefault((j[0], j[1]), e["t"])

    def teardown_latencies(self, runs, siblings=("s1", "s2"), job=False):
        """[(run key, seconds from the failed pod (or its Job's Failed
        condition) to the last sibling's deletionTimestamp, failure time)]."""
        out = []
        with self.lock:
            for key in runs:
                ft, d = (self.job_fail_t if job else self.fail_t).get(key), self.del_t.get(key, {})
                if ft is not None and all(s in d for s in siblings):
                    out.append((key, max(d[s] for s in siblings) - ft, ft))
        return out


class Soak:
    def __init__(self, a):
        self.a = a
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.out = a.out
        self.log = Log(os.path.join(self.out, "soak.log"))
        self.problems = []
        self.plock = threading.Lock()
        self.stop_gen = threading.Event()
        self.stop_all = threading.Event()
        self.env = self.read_env(os.path.join(a.cluster, "env"))
        self.admin = Api(os.path.join(a.cluster, "kubeconfig"))
        self.asan_options = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:quarantine_size_mb=16")
        self.created = {}  # (ns, name) -> {kind, uid, t, cancel_t}
        self.create_errors = 0
        self.chaos = []  # (t, kind, detail, seconds)
        self.handover = []  # seconds from the leader's SIGKILL to a new leader
        self.rss_rows = []

    def now(self):
        return time.monotonic() - self.t0

    def problem(self, msg):
        with self.plock:
            self.problems.append(msg)
        self.log("PROBLEM: " + msg)

    @staticmethod
    def read_env(path):
        env = {}
        with open(path) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.strip().split("=", 1)
                    env[k] = v
        return env

    # --- setup ----------------------------------------------------------------

    def setup(self):
        a = self.a
        # A copy: a concurrent `cmake --build build/asan` must not swap the
        # binary under the soak.
        self.binary = os.path.join(self.out, "runbook-operator")
        shutil.copy2(os.path.join(a.bindir, "runbook-operator"), self.binary)
        op_kc = os.path.join(a.cluster, "operator.kubeconfig")
        if not os.path.exists(op_kc):
            sys.exit(f"soak: no {op_kc}: run test/operator.sh start+stop first (make soak does)")
        tag = f"{random.Random().randrange(16**4):04x}"
        self.namespaces = [f"soak{i}-{tag}" for i in range(a.namespaces)]
        for ns in self.namespaces:
            self.must("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for ns in self.namespaces:
            end = time.monotonic() + 60
            while self.admin.call("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] != 200:
                if time.monotonic() > end:
                    sys.exit(f"soak: no default ServiceAccount in {ns}")
                time.sleep(0.2)
            for kind, (w, *_r) in WORKFLOWS.items():
                self.must("POST", f"/apis/runbook.dev/v1alpha1/namespaces/{ns}/workflows", w)
        # Recorders first, so they see everything.
        self.recorders, files = [], {}
        for ns in self.namespaces:
            path = os.path.join(self.out, "record", f"{ns}.jsonl")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            files[ns] = path
            self.recorders.append(subprocess.Popen(
                [sys.executable, os.path.join(HERE, "..", "recorder", "recorder.py"), "watch",
                 "--kubeconfig", os.path.join(a.cluster, "kubeconfig"), "--namespace", ns, "--out", path,
                 "--parent", str(os.getpid())], stderr=open(path + ".log", "a")))
        for path in files.values():
            end = time.monotonic() + 20
            while not os.path.exists(path + ".ready"):
                if time.monotonic() > end:
                    sys.exit(f"soak: recorder not ready: {path}.log")
                time.sleep(0.1)
        self.tracker = Tracker(files)
        # The fault proxy, without client credentials of its own: it forwards
        # the replica's bearer token, so both replicas are the ServiceAccount.
        pb = subprocess.run([os.path.join(ROOT, "test", "proxy", "build.sh")], capture_output=True, text=True)
        if pb.returncode != 0:
            sys.exit("soak: test/proxy/build.sh failed:\n" + pb.stderr)
        pki = os.path.join(a.cluster, "pki")
        portf = os.path.join(self.out, "proxy.port")
        if os.path.exists(portf):
            os.unlink(portf)
        self.proxy = subprocess.Popen(
            [pb.stdout.strip(), "-upstream", self.env["API_SERVER"], "-upstream-ca", os.path.join(pki, "ca.crt"),
             "-sign-ca-cert", os.path.join(pki, "ca.crt"), "-sign-ca-key", os.path.join(pki, "ca.key"),
             "-port-file", portf, "-seed", str(a.seed), "-exit-with-parent"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.out, "proxy.log"), "a"))
        end = time.monotonic() + 20
        while not (os.path.exists(portf) and open(portf).read().strip()):
            if time.monotonic() > end or self.proxy.poll() is not None:
                sys.exit("soak: the proxy did not start: " + os.path.join(self.out, "proxy.log"))
            time.sleep(0.1)
        self.proxy_url = f"https://127.0.0.1:{open(portf).read().strip()}"
        self.proxy_ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        with open(op_kc) as f:
            text = f.read()
        proxy_kc = os.path.join(self.out, "operator-via-proxy.kubeconfig")
        with open(proxy_kc, "w") as f:
            f.write(re.sub(r'server: "[^"]*"', f'server: "{self.proxy_url}"', text))
        os.chmod(proxy_kc, 0o600)
        self.replicas = [Replica(self, "A", op_kc), Replica(self, "B", proxy_kc)]
        for r in self.replicas:
            r.start()
        self.log(f"replicas: A pid {self.replicas[0].proc.pid} (direct), B pid {self.replicas[1].proc.pid} "
                 f"(via the proxy {self.proxy_url}); namespaces {', '.join(self.namespaces)}")
        if not self.wait_leader(60):
            sys.exit("soak: no leader within 60 s: see " + self.out)

    def must(self, method, path, body):
        code, obj = self.admin.call(method, path, body)
        if code >= 300:
            sys.exit(f"soak: {method} {path}: HTTP {code}: {obj.get('message', obj)}")
        return obj

    def leader(self):
        for r in self.replicas:
            if r.alive() and r.is_leader():
                return r
        return None

    def wait_leader(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            r = self.leader()
            if r:
                return r
            time.sleep(0.2)
        return None

    # --- the generator -------------------------------------------------------

    def generator(self):
        rng = random.Random(self.a.seed)
        kinds = list(WORKFLOWS)
        weights = [WORKFLOWS[k][1] for k in kinds]
        cancels = []  # heap of (due, ns, name)
        nxt, i = time.monotonic(), 0
        while not self.stop_gen.is_set():
            now = time.monotonic()
            while cancels and cancels[0][0] <= now:
                due, ns, name = heapq.heappop(cancels)
                if not self.send_cancel(ns, name):
                    heapq.heappush(cancels, (now + 1.0, ns, name))
                    break
            if now >= nxt:
                ns, kind = rng.choice(self.namespaces), rng.choices(kinds, weights)[0]
                delay = rng.uniform(1.0, 4.0)
                name = f"{kind}-{i:05d}"
                i += 1
                self.create(ns, kind, name)
                if kind == "cancel":
                    heapq.heappush(cancels, (time.monotonic() + delay, ns, name))
                nxt = max(nxt + 1.0 / self.a.rate, time.monotonic() - 1.0 / self.a.rate)
            self.stop_gen.wait(min(0.2, max(0.0, nxt - time.monotonic())))
        # Cancels still due are sent: every cancel run must end Cancelled.
        while cancels and not self.stop_all.is_set():
            due, ns, name = heapq.heappop(cancels)
            time.sleep(max(0.0, due - time.monotonic()))
            while not self.send_cancel(ns, name) and not self.stop_all.is_set():
                time.sleep(1.0)

    def create(self, ns, kind, name):
        body = {"apiVersion": "runbook.dev/v1alpha1", "kind": "WorkflowRun",
                "metadata": {"name": name, "labels": {"soak.runbook.dev/kind": kind}},
                "spec": {"workflowRef": {"name": kind}}}
        path = f"/apis/runbook.dev/v1alpha1/namespaces/{ns}/workflowruns"
        t = self.now()
        while not self.stop_all.is_set():
            try:
                code, obj = self.admin.call("POST", path, body)
                if code == 409:  # a retry of a create that went through
                    code, obj = self.admin.call("GET", f"{path}/{name}")
                if code < 300:
                    self.created[(ns, name)] = {"kind": kind, "uid": obj["metadata"]["uid"], "t": t,
                                                "cancel_t": None}
                    return
                err = f"HTTP {code}: {obj.get('message', '')}"
            except Exception as e:
                err = repr(e)
            self.create_errors += 1
            self.log(f"create {ns}/{name}: {err}; retrying", quiet=True)
            time.sleep(1.0)

    def send_cancel(self, ns, name):
        try:
            code, obj = self.admin.call("PATCH", f"/apis/runbook.dev/v1alpha1/namespaces/{ns}/workflowruns/{name}",
                                        {"spec": {"cancel": True}}, ctype="application/merge-patch+json")
        except Exception as e:
            self.log(f"cancel {ns}/{name}: {e!r}; retrying", quiet=True)
            return False
        if code < 300 or code == 404:  # 404: already deleted by its TTL (ended before the cancel)
            self.created[(ns, name)]["cancel_t"] = self.now()
            return True
        self.log(f"cancel {ns}/{name}: HTTP {code}; retrying", quiet=True)
        return False

    # --- chaos ---------------------------------------------------------------

    def chaos_loop(self):
        rng = random.Random(self.a.seed + 1)
        kinds = self.a.chaos
        deck = []
        lo, hi = self.a.chaos_every
        while not self.stop_gen.wait(rng.uniform(lo, hi)):
            if not deck:  # every kind once per round, in a seeded order
                deck = list(kinds)
                rng.shuffle(deck)
            kind = deck.pop()
            t = self.now()
            try:
                detail = getattr(self, "chaos_" + kind.replace("-", "_"))(rng)
            except Exception as e:  # the harness, not the product
                detail = f"harness error: {e!r}"
                self.problem(f"chaos {kind}: {detail}")
            self.chaos.append((t, kind, detail, self.now() - t))
            self.log(f"chaos {kind}: {detail} ({self.now() - t:.1f} s)")

    def restart_replica(self, r, sig, why):
        rc = r.stop(sig, why)
        if sig == signal.SIGTERM and rc != 0:
            self.problem(f"replica {r.name} pid {r.lives[-1]['pid']} exited {rc} after SIGTERM (want 0)")
        r.start()
        return rc

    def chaos_kill_leader(self, rng):
        ldr = self.wait_leader(30)
        if not ldr:
            self.problem("no leader for 30 s before kill-leader")
            return "no leader to kill"
        t = time.monotonic()
        pid = ldr.proc.pid
        ldr.stop(signal.SIGKILL, "SIGKILL (leader)")
        time.sleep(rng.uniform(0.5, 3.0))  # as a kubelet would restart it
        ldr.start()
        new = self.wait_leader(60)
        if not new:
            self.problem("no new leader within 60 s of the leader's SIGKILL")
            return f"SIGKILLed leader {ldr.name} pid {pid}; no new leader"
        dt = time.monotonic() - t
        self.handover.append(dt)
        return f"SIGKILLed leader {ldr.name} pid {pid}; {new.name} leads after {dt:.1f} s"

    def chaos_term_replica(self, rng):
        r = rng.choice(self.replicas)
        role = "leader" if r.is_leader() else "standby"
        pid = r.proc.pid
        rc = self.restart_replica(r, signal.SIGTERM, f"SIGTERM ({role})")
        return f"SIGTERMed {role} {r.name} pid {pid}: exit {rc}; restarted as pid {r.proc.pid}"

    def ctl(self, verb, comp):
        p = subprocess.run([os.path.join(ROOT, "test", "cluster", "ctl.sh"), self.a.cluster, verb, comp],
                           capture_output=True, text=True)
        if p.returncode != 0:
            self.problem(f"ctl.sh {verb} {comp}: {p.stderr.strip()[-300:]}")
        return p.returncode

    def chaos_restart_apiserver(self, rng):
        rc = self.ctl("restart", "kube-apiserver")
        return "kube-apiserver restarted" + ("" if rc == 0 else f" (ctl.sh exit {rc})")

    def chaos_restart_etcd(self, rng):
        rc = self.ctl("restart", "etcd")
        # The API server answers again once etcd is back.
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                if self.admin.call("GET", "/readyz", timeout=3)[0] == 200:
                    break
            except Exception:
                pass
            time.sleep(0.5)
        return "etcd restarted" + ("" if rc == 0 else f" (ctl.sh exit {rc})")

    def chaos_compact_etcd(self, rng):
        etcdctl = [os.path.join(self.env["RUNBOOK_CLUSTER_BIN"], "etcdctl"), "--endpoints", self.env["ETCD_ENDPOINT"]]
        st = subprocess.run(etcdctl + ["endpoint", "status", "-w", "json"], capture_output=True, text=True)
        m = re.search(r'"revision":(\d+)', st.stdout)
        if not m:
            raise RuntimeError(f"etcd revision unknown: {st.stdout[:200]} {st.stderr[:200]}")
        rev = int(m.group(1))
        # The API server's watch cache keeps its own history, so a compaction
        # alone never reaches a client watching cached kinds. B's watches are
        # cut and held at the proxy, etcd compacted, the API server restarted
        # (its cache now starts after the compaction), and the hold released:
        # B's watches resume from revisions that are gone: 410, relist.
        self.fault("/__fault", {"watches": "hold"})
        killed = self.fault("/__fault/kill-watches").get("killed", "?")
        time.sleep(rng.uniform(1.0, 5.0))  # writes go on meanwhile
        c = subprocess.run(etcdctl + ["compact", str(rev)], capture_output=True, text=True)
        if c.returncode != 0 and "compacted" not in c.stderr:
            self.fault("/__fault", {})
            raise RuntimeError(f"etcdctl compact {rev}: {c.stderr.strip()}")
        self.ctl("restart", "kube-apiserver")
        self.fault("/__fault", {})
        return (f"held B's watches (cut {killed}), compacted etcd at revision {rev}, restarted kube-apiserver, "
                "released the watches")

    def chaos_pause_kcm(self, rng):
        with open(os.path.join(self.a.cluster, "pids", "kube-controller-manager.pid")) as f:
            pid = int(f.read().strip())
        os.kill(pid, signal.SIGSTOP)
        try:
            self.stop_all.wait(30)
        finally:
            os.kill(pid, signal.SIGCONT)
        return f"kube-controller-manager pid {pid} stopped for 30 s"

    def fault(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.proxy_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.proxy_ctx, timeout=10) as r:
            raw = r.read()
        try:
            return json.loads(raw)
        except ValueError:
            return {}

    def via_proxy_leads(self):
        """Make the proxied replica B the leader (A is SIGTERMed and
        restarted: a clean handover), so the faults hit the writer."""
        a, b = self.replicas
        if b.is_leader():
            return ""
        stopped = False
        if a.is_leader():
            pid = a.proc.pid
            rc = a.stop(signal.SIGTERM, "SIGTERM (handover to B)")
            if rc != 0:
                self.problem(f"replica A pid {pid} exited {rc} after SIGTERM (want 0)")
            stopped = True
        end = time.monotonic() + 30
        while time.monotonic() < end and not b.is_leader():
            time.sleep(0.2)
        if stopped:
            a.start()
        return "A SIGTERMed, B leads; " if b.is_leader() else "B did not take the lease; "

    def chaos_proxy_429(self, rng):
        pre = self.via_proxy_leads()
        secs = rng.uniform(10, 25)
        self.fault("/__fault", {"target": "all", "status": {"code": 429, "retry_after": 1, "count": 0}})
        self.stop_all.wait(secs)
        st = self.fault("/__fault", {})
        return f"{pre}every request of B answered 429 for {secs:.0f} s"

    def chaos_proxy_drop_watches(self, rng):
        pre = self.via_proxy_leads()
        n = rng.randint(3, 10)
        self.fault("/__fault", {"target": "watch", "drop_after_events": rng.randint(1, 5), "drop_count": n})
        killed = self.fault("/__fault/kill-watches").get("killed", "?")
        self.stop_all.wait(15)
        self.fault("/__fault", {})
        return f"{pre}cut {killed} watches of B, then {n} more mid-event"

    # --- sampling ------------------------------------------------------------

    def sampler(self):
        path = os.path.join(self.out, "rss.csv")
        with open(path, "w") as f:
            f.write("# seconds, then per replica: RSS MiB, pid, leader (1/0)\n")
            f.write("t,A_rss_mib,A_pid,A_leader,B_rss_mib,B_pid,B_leader\n")
        while not self.stop_all.is_set():
            row = [f"{self.now():.0f}"]
            for r in self.replicas:
                with r.lock:
                    alive, life = r.alive(), r.lives[-1]
                kb = r.rss_kb() if alive else None
                m = r.metrics() if alive else None
                if kb:
                    life["rss"].append((self.now() - life["start"], kb))
                if m:
                    life["metrics"] = self.counters(m)
                leader = 1 if m and re.search(r"^runbook_leader 1", m, re.M) else 0
                row += [f"{kb / 1024:.1f}" if kb else "", str(life["pid"]), str(leader)]
            with open(path, "a") as f:
                f.write(",".join(row) + "\n")
            self.stop_all.wait(10)

    @staticmethod
    def counters(text):
        c = collections.Counter()
        for name, labels, val in re.findall(r"^(runbook_(?:relists|watch_restarts|api_retries|api_responses)_total)"
                                            r"(\{[^}]*\})? ([0-9.e+]+)$", text, re.M):
            key = name if name != "runbook_api_responses_total" else f"{name}{labels}"
            c[key] += float(val)
        return c

    def watchdog(self):
        """A replica that exits uninvited is a failure; it is restarted."""
        while not self.stop_all.wait(1.0):
            for r in self.replicas:
                with r.lock:
                    dead = r.proc.poll() is not None and not r.expect_exit
                if dead:
                    rc = r.proc.returncode
                    # By design (docs/operations.md): a leader that could not
                    # renew its Lease stops writing and exits 1; the kubelet
                    # would restart it.
                    lost = rc == 1 and "lost leadership" in r.log_of_life()
                    why = "exited 1 after losing leadership" if lost else "exited by itself"
                    r.lives[-1].update(end=self.now(), rc=rc, why=why)
                    if lost:
                        self.log(f"replica {r.name} pid {r.proc.pid} lost leadership and exited 1; restarting")
                    else:
                        self.problem(f"replica {r.name} pid {r.proc.pid} exited by itself ({rc}): {r.logpath}")
                    r.start()

    # --- the run -------------------------------------------------------------

    def go(self):
        a = self.a
        self.setup()
        threads = [threading.Thread(target=f, daemon=True, name=f.__name__)
                   for f in (self.sampler, self.watchdog)]
        gen = threading.Thread(target=self.generator, daemon=True)
        chaos = threading.Thread(target=self.chaos_loop, daemon=True)
        for t in threads + [gen, chaos]:
            t.start()
        self.log(f"soak: {a.duration:.0f} s at {a.rate} runs/s, chaos every {a.chaos_every[0]:g}-{a.chaos_every[1]:g} s "
                 f"({', '.join(a.chaos)}), seed {a.seed}")
        end = time.monotonic() + a.duration
        last = 0
        while time.monotonic() < end:
            time.sleep(min(5.0, max(0.0, end - time.monotonic())))
            self.tracker.poll()
            if self.now() - last >= 60:
                last = self.now()
                done = sum(1 for k in list(self.created) if (self.tracker.runs.get(k) or {}).get("terminal"))
                self.log(f"progress: {len(self.created)} runs created, {done} terminal, "
                         f"{len(self.chaos)} chaos events")
        self.stop_gen.set()
        self.log("soak: stopped creating; waiting for the chaos in progress to end")
        chaos.join()
        gen.join(120)
        for r in self.replicas:  # everything up again
            if not r.alive():
                r.start()
        self.fault("/__fault", {})
        t_stop = time.monotonic()
        self.log(f"drain: every run must be terminal within {a.drain:.0f} s")
        pending = []
        while True:
            self.tracker.poll()
            pending = [k for k in self.created if not (self.tracker.runs.get(k) or {}).get("terminal")]
            if not pending or time.monotonic() - t_stop > a.drain:
                break
            time.sleep(2)
        drained = time.monotonic() - t_stop
        time.sleep(3)  # late events: anything wrongly done after the end
        self.tracker.poll()
        self.stop_all.set()
        for r in self.replicas:
            pid = r.proc.pid
            rc = r.stop(signal.SIGTERM, "SIGTERM (end)")
            if rc != 0:
                self.problem(f"replica {r.name} pid {pid} exited {rc} on the final SIGTERM (want 0)")
        for p in self.recorders:
            p.terminate()
        for p in self.recorders:
            p.wait()
        self.proxy.terminate()
        self.proxy.wait()
        return self.report(pending, drained)

    # --- the report ----------------------------------------------------------

    def report(self, pending, drained):
        a = self.a
        P = print
        P("\n=== soak report ===")
        P(f"seed {a.seed}, {a.duration:.0f} s at {a.rate} runs/s, {len(self.namespaces)} namespaces, out {self.out}")
        # Runs and outcomes.
        by_kind = collections.Counter(v["kind"] for v in self.created.values())
        outcomes = collections.defaultdict(collections.Counter)
        wrong, latency = [], []
        for key, c in sorted(self.created.items()):
            tr = self.tracker.runs.get(key)
            if not tr or not tr["terminal"]:
                continue
            phase, t = tr["terminal"]
            outcomes[c["kind"]][phase] += 1
            latency.append(t - (self.wall0 + c["t"]))
            _w, _wt, want, steps = WORKFLOWS[c["kind"]]
            bad = [] if phase == want else [f"phase {phase}, want {want}"]
            for s, ph in (steps or {}).items():
                if phase == want and tr["steps"].get(s) not in ph.split("|"):
                    bad.append(f"step {s} {tr['steps'].get(s) or 'absent'}, want {ph}")
            if bad:
                wrong.append(f"{key[0]}/{key[1]} (uid {c['uid']}): " + "; ".join(bad))
        done = sum(sum(o.values()) for o in outcomes.values())
        P(f"runs created {len(self.created)} ({self.create_errors} create attempts refused or lost and retried), "
          f"completed {done}, not terminal {len(pending)} after the {drained:.0f} s drain (bound {a.drain:.0f} s)")
        for k in WORKFLOWS:
            if by_kind[k]:
                P(f"  {k:9s} {by_kind[k]:5d} created: " + ", ".join(f"{n} {ph}" for ph, n in sorted(outcomes[k].items())))
        if latency:
            P(f"  creation to terminal phase (recorder's clock): p50 {pct(latency, 50):.1f} s, "
              f"p99 {pct(latency, 99):.1f} s, max {max(latency):.1f} s")
        for key in pending[:10]:
            tr = self.tracker.runs.get(key)
            self.problem(f"run {key[0]}/{key[1]} not terminal {drained:.0f} s after the soak stopped creating "
                         f"({'never seen by the recorder' if not tr else 'last seen ' + str(tr)})")
        if len(pending) > 10:
            self.problem(f"... and {len(pending) - 10} more runs not terminal")
        for w in wrong[:10]:
            self.problem("outcome: " + w)
        if len(wrong) > 10:
            self.problem(f"... and {len(wrong) - 10} more wrong outcomes")
        # Chaos.
        kinds = collections.Counter(k for _t, k, _d, _s in self.chaos)
        P(f"chaos events {len(self.chaos)}: " + ", ".join(f"{k} {kinds[k]}" for k in a.chaos))
        if self.handover:
            P(f"  leader SIGKILL to a new leader: p50 {pct(self.handover, 50):.1f} s, max {max(self.handover):.1f} s "
              f"(lease duration 15 s)")
        totals = collections.Counter()
        for r in self.replicas:
            for life in r.lives:
                totals.update(life["metrics"])
        codes = {re.search(r'code="([^"]*)"', k).group(1): int(v) for k, v in totals.items()
                 if k.startswith("runbook_api_responses_total") and 'code="' in k}
        P(f"  seen by the replicas (last scrape of each process): relists {int(totals['runbook_relists_total'])}, "
          f"watch restarts {int(totals['runbook_watch_restarts_total'])}, API retries "
          f"{int(totals['runbook_api_retries_total'])}, responses by code {dict(sorted(codes.items()))}")
        # Teardown latency.
        ff = [k for k, c in self.created.items() if c["kind"] == "failfast"]
        windows = [(self.wall0 + t, self.wall0 + t + s + 20) for t, _k, _d, s in self.chaos]
        P("  failure to the siblings' deletionTimestamp (failfast runs, s1 and s2; recorder arrival times; "
          "'under chaos': a chaos event, or the 20 s after it, overlaps that interval):")
        for src, job in (("the failed pod", False), ("the Job's Failed condition", True)):
            lat = self.tracker.teardown_latencies(ff, job=job)
            hit = [any(lo <= ft + d and ft <= hi for lo, hi in windows) for _k, d, ft in lat]
            under = [d for (_k, d, _f), h in zip(lat, hit) if h]
            calm = [d for (_k, d, _f), h in zip(lat, hit) if not h]
            for what, xs in (("under chaos", under), ("calm", calm)):
                if xs:
                    P(f"    from {src}, {what}: n {len(xs)}, p50 {pct(xs, 50):.2f} s, p99 {pct(xs, 99):.2f} s, "
                      f"max {max(xs):.2f} s")
            if lat:
                worst = max(lat, key=lambda x: x[1])
                P(f"      slowest: {worst[0][0]}/{worst[0][1]} {worst[1]:.2f} s")
        # Invariants.
        audit = os.path.join(a.cluster, "logs", "audit.log")
        entries = recorder.load_audit(audit) if os.path.exists(audit) else None
        viol = 0
        for ns in self.namespaces:
            path = os.path.join(self.out, "record", f"{ns}.jsonl")
            events, notes = recorder.load_events(path)
            # A run deleted (its TTL) while the recorder relisted after a 410
            # gets a made-up DELETED without a phase, which the checker would
            # read as the terminal phase changing to '' (I5). It says nothing
            # else: the runs' Jobs and pods keep their own events.
            n0 = len(events)
            events = [e for e in events if not (e.get("synthetic") and e["kind"] == "WorkflowRun")]
            lines, _ok = recorder.check(events, notes, entries, ns, OPERATOR_USER)
            with open(path + ".check", "w") as f:
                f.write("\n".join(lines) + "\n")
            fails = [l for l in lines if l.startswith("FAIL")]
            oks = sum(1 for l in lines if l.startswith("ok"))
            viol += len(fails)
            P(f"  recorder check {ns}: {oks} ok, {len(fails)} FAIL; {len(notes)} relists by the recorder (410), "
              f"{n0 - len(events)} made-up run deletions set aside" + ("" if entries is not None else "; no audit log"))
            for l in fails[:5]:
                self.problem(f"{ns}: {l}")
        P(f"invariant violations (I1-I7): {viol}")
        # Sanitizers and exits.
        for r in self.replicas:
            with open(os.path.join(self.out, f"replica-{r.name}.log"), errors="replace") as f:
                text = f.read()
            if re.search(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:", text):
                self.problem(f"sanitizer report in replica-{r.name}.log")
            exits = collections.Counter(f"{l['why']}: {l['rc']}" for l in r.lives if l["why"])
            P(f"replica {r.name}: {len(r.lives)} processes; exits " + ", ".join(f"{k} x{n}" for k, n in sorted(exits.items())))
        self.rss_report()
        P(f"problems: {len(self.problems)}")
        for p in self.problems:
            P(f"  {p}")
        replay = (f"make soak DURATION={a.duration_arg} RATE={a.rate} SEED={a.seed}"
                  + (f" CHAOS={','.join(a.chaos)}" if tuple(a.chaos) != CHAOS_KINDS else ""))
        if self.problems:
            P(f"FAIL - soak, seed {a.seed}; replay: {replay}\n"
              f"       or, on a running cluster: {' '.join(self.argv_replay())}")
            return 1
        P(f"ok   - soak, seed {a.seed} ({replay})")
        return 0

    def argv_replay(self):
        clean, skip = [], False
        for x in sys.argv:
            if skip:
                skip = False
            elif x == "--seed":
                skip = True
            elif not x.startswith("--seed="):
                clean.append(x)
        return ["python3"] + clean + ["--seed", str(self.a.seed)]

    def rss_report(self):
        a = self.a
        rows = []
        for r in self.replicas:
            for life in r.lives:
                after = [(t, kb) for t, kb in life["rss"] if t >= a.warmup]
                if len(after) >= 2:
                    rows.append((after[-1][0] - after[0][0], r.name, life, after[0], after[-1]))
        self.plot()
        print(f"RSS (VmRSS every 10 s; ASAN_OPTIONS={self.asan_options}): {os.path.join(self.out, 'rss.csv')}, "
              f"{os.path.join(self.out, 'rss.png')}")
        if not rows:
            print(f"  no process lived {a.warmup:.0f} s of warm-up plus 20 s: RSS not judged")
            return
        rows.sort(key=lambda x: -x[0])
        for span, name, life, w, e in rows[:6]:
            g = (e[1] - w[1]) * 100.0 / w[1]
            print(f"  {name} pid {life['pid']}: {w[1] / 1024:.1f} MiB after {w[0]:.0f} s of warm-up, "
                  f"{e[1] / 1024:.1f} MiB at {e[0]:.0f} s ({g:+.1f} % over {span:.0f} s)")
        span, name, life, w, e = rows[0]
        g = (e[1] - w[1]) * 100.0 / w[1]
        if span < a.rss_min_span:
            print(f"  longest post-warm-up span {span:.0f} s < {a.rss_min_span:.0f} s: growth reported, not judged")
        elif g > 10.0:
            self.problem(f"RSS of {name} pid {life['pid']} grew {g:.1f} % over {span:.0f} s after warm-up (target 10 %)")
        else:
            print(f"  longest-lived: {name} pid {life['pid']}, {g:+.1f} % (target within 10 %)")

    def plot(self):
        ev = os.path.join(self.out, "chaos.csv")
        with open(ev, "w") as f:
            for t, k, _d, _s in self.chaos:
                f.write(f"{t:.0f},{k}\n")
        msg = plot(self.out, f"seed {self.a.seed}, {self.a.rate} runs/s")
        if msg:
            print("  " + msg)


def plot(out, what):
    """OUT/rss.png from OUT/rss.csv and OUT/chaos.csv (also by hand:
    python3 -c 'import soak; soak.plot(OUT, "")')."""
    csv, ev, png = (os.path.join(out, n) for n in ("rss.csv", "chaos.csv", "rss.png"))
    # Restarts: where a replica's pid changes between two samples.
    rs = os.path.join(out, "restarts.csv")
    last = {}
    with open(csv) as f, open(rs, "w") as o:
        for line in f:
            c = line.strip().split(",")
            if len(c) < 7 or not c[0].isdigit():
                continue
            for name, pid in (("A", c[2]), ("B", c[5])):
                if name in last and last[name] != pid:
                    o.write(f"{c[0]},{name}\n")
                last[name] = pid
    if not shutil.which("gnuplot"):
        return "gnuplot not installed (apt-get install gnuplot-nox): no PNG"
    script = f"""
set terminal png size 900,420 font ",9"
set output '{png}'
set datafile separator ','
set title 'runbook-operator VmRSS during the soak ({what}); x: a new process (restart), grey: chaos events'
set xlabel 'seconds'
set ylabel 'VmRSS (MiB)'
set yrange [0:*]
set key center right
set grid
plot '{csv}' every ::2 using 1:2 with linespoints pt 7 ps 0.4 title 'replica A (direct)', \\
     '' every ::2 using 1:5 with linespoints pt 7 ps 0.4 title 'replica B (via the proxy)', \\
     '{rs}' using 1:(3):2 with labels point pt 2 ps 1 offset 0,-0.8 font ",7" notitle, \\
     '{ev}' using 1:(8):2 with labels rotate by 90 left font ",7" textcolor rgb 'gray40' notitle
"""
    p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if p.returncode != 0:
        return f"gnuplot failed: {p.stderr.strip()[-300:]}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--duration", default="5m", help="how long runs are created: 90s, 5m, 1h")
    ap.add_argument("--rate", type=float, default=0.5, help="runs created per second")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--namespaces", type=int, default=4)
    ap.add_argument("--chaos", default=",".join(CHAOS_KINDS), help="kinds of chaos, comma-separated ('' for none)")
    ap.add_argument("--chaos-every", default="20-50", help="seconds between chaos events: MIN-MAX")
    ap.add_argument("--drain", type=parse_duration, default=240.0,
                    help="bound on the time every run needs to end once creating stops")
    ap.add_argument("--warmup", type=parse_duration, default=None,
                    help="per process, the RSS baseline is taken this long after it started (default: "
                         "a fifth of the duration, 60 s to 10 min)")
    ap.add_argument("--rss-min-span", type=parse_duration, default=None,
                    help="judge the RSS growth only over at least this long (default: a third of the duration)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    a.duration_arg = a.duration
    a.duration = parse_duration(a.duration)
    if a.seed is None:
        a.seed = int(time.time()) % 1000000
    a.chaos = [k for k in a.chaos.split(",") if k]
    for k in a.chaos:
        if k not in CHAOS_KINDS:
            ap.error(f"unknown chaos kind {k}: {', '.join(CHAOS_KINDS)}")
    lo, _, hi = a.chaos_every.partition("-")
    a.chaos_every = (float(lo), float(hi or lo))
    if a.warmup is None:
        a.warmup = min(600.0, max(60.0, a.duration / 5))
    if a.rss_min_span is None:
        a.rss_min_span = a.duration / 3
    a.cluster = os.path.abspath(a.cluster)
    a.out = os.path.abspath(a.out or os.path.join(a.cluster, "soak"))
    os.makedirs(a.out, exist_ok=True)
    print(f"# soak: seed {a.seed}, out {a.out}", flush=True)
    s = Soak(a)
    try:
        rc = s.go()
    except BaseException:
        s.stop_gen.set()
        s.stop_all.set()
        for r in getattr(s, "replicas", []):
            if r.proc and r.proc.poll() is None:
                r.proc.kill()
        print(f"soak aborted; seed {a.seed}; replay: {' '.join(s.argv_replay())}", flush=True)
        raise
    return rc


if __name__ == "__main__":
    sys.exit(main())
