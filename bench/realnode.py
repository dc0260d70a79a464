#!/usr/bin/env python3
"""Real-node figures (bench/realnode.sh runs this against a cluster with a
real node and the operator running):

  teardown  a step fails while N siblings run, as real processes on the real
            node (each exits at once on SIGTERM) and as kwok pods (exit 0.01
            s after the delete), ROUNDS times each: failure -> last sibling
            process gone (from /proc, polled every 2 ms), and on both node
            kinds failure -> last sibling pod object gone (watch arrival).
  startup   the operator's pods as deployed (test/realnode/overlay): process
            start (/proc, every 5 ms) -> /readyz 200 (every 10 ms) ->
            kubelet Ready (kubectl, about every 60 ms), against a busybox
            pod's process start -> kubelet Ready measured the same way; RSS
            of each container as the kubelet reports it (stats/summary).

Times are from this host's monotonic clock; pod events are stamped when the
watch delivers them. Prints one table per phase.
"""
import argparse
import json
import os
import statistics
import subprocess
import threading
import time
import urllib.request

NODE_SPEC = {"nodeSelector": {"runbook.dev/real-node": "true"},
             "tolerations": [{"key": "runbook.dev/real-node", "operator": "Exists", "effect": "NoSchedule"}]}


def kubectl(*args, inp=None, check=True):
    r = subprocess.run(["kubectl", *args], input=inp, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def marks():
    """{mark: [pid]} for every process with a BENCH_MARK in its environment."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            env = open(f"/proc/{p}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        for e in env:
            if e.startswith(b"BENCH_MARK="):
                out.setdefault(e[11:].decode(), []).append(int(p))
    return out


class PodWatch:
    """Stamps pod events of a namespace on arrival: (t, type, name, step, phase)."""

    def __init__(self, ns):
        tmpl = '{.type} {.object.metadata.name} {.object.metadata.labels.runbook\\.dev/step} {.object.status.phase}{"\\n"}'
        self.p = subprocess.Popen(["kubectl", "-n", ns, "get", "pods", "-w", "--output-watch-events",
                                   "-o", "jsonpath=" + tmpl], stdout=subprocess.PIPE, text=True)
        self.events = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            f = line.split()
            if len(f) >= 3:
                self.events.append((time.monotonic(), f[0], f[1], f[2], f[3] if len(f) > 3 else ""))

    def stop(self):
        self.p.terminate()
        self.p.wait()


def workflow(ns, name, n, real, grace):
    def step(sname, script, kwok_ann):
        s = {"name": sname}
        if real:
            s.update({"image": "runbook.test/busybox:1", "command": ["sh", "-c", script],
                      "env": [{"name": "BENCH_MARK", "value": f"{ns}/{name}/{sname}"}],
                      "volumeMounts": [{"name": "go", "mountPath": "/go"}],
                      "podTemplate": {"spec": dict(NODE_SPEC, volumes=[
                          {"name": "go", "hostPath": {"path": f"/run/runbook-bench/{ns}", "type": "DirectoryOrCreate"}}])}})
        else:
            s.update({"image": "busybox", "podTemplate": {"metadata": {"annotations": kwok_ann}}})
        return s
    steps = [step("boom", "while [ ! -f /go/go ]; do sleep 0.01; done; exit 3",
                  {"runbook.dev/test-duration": "3s", "runbook.dev/test-exit-code": "3"})]
    for i in range(n):
        steps.append(step(f"s{i:02d}", "trap 'exit 0' TERM; while :; do sleep 0.05; done",
                          {"runbook.dev/test-duration": "1h", "runbook.dev/test-sigterm-exit": "10ms"}))
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "namespace": ns},
            "spec": {"terminationGracePeriodSeconds": grace, "steps": steps}}


def wait(cond, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"realnode.py: timed out waiting for {what}")


def teardown_round(ns, name, n, real):
    wf = workflow(ns, name, n, real, 30)
    run = {"apiVersion": "runbook.dev/v1alpha1", "kind": "WorkflowRun",
           "metadata": {"name": name, "namespace": ns}, "spec": {"workflowRef": {"name": name}}}
    w = PodWatch(ns)
    kubectl("apply", "-f", "-", inp=json.dumps({"apiVersion": "v1", "kind": "List", "items": [wf, run]}))
    res = {}
    if real:
        prefix = f"{ns}/{name}/"
        wait(lambda: sum(1 for m in marks() if m.startswith(prefix)) == n + 1, 120, "all steps running")
        open(f"/run/runbook-bench/{ns}/go", "w").close()
        t_fail = t_last = None
        while t_last is None:
            m = {k for k in marks() if k.startswith(prefix)}
            now = time.monotonic()
            if t_fail is None and prefix + "boom" not in m:
                t_fail = now
            if t_fail is not None and not m:
                t_last = now
            time.sleep(0.002)
        res["procs"] = (t_last - t_fail) * 1000
    phase = lambda: kubectl("-n", ns, "get", "wfr", name, "-o", "jsonpath={.status.phase}", check=False)
    wait(lambda: phase() == "Failed", 180, f"run {name} Failed")
    time.sleep(0.5)
    w.stop()
    failed = [e[0] for e in w.events if e[3] == "boom" and e[4] == "Failed"]
    gone = [e[0] for e in w.events if e[1] == "DELETED" and e[3] != "boom"]
    if failed and len(gone) >= n:
        res["pods"] = (max(gone) - failed[0]) * 1000
    return res


def phase_teardown(a):
    rows = []
    for real in (True, False):
        got = []
        for r in range(a.rounds):
            ns = f"bench-rn-{'real' if real else 'kwok'}-{r}"
            kubectl("create", "namespace", ns)
            wait(lambda: kubectl("-n", ns, "get", "sa", "default", check=False), 30, "default ServiceAccount")
            os.makedirs(f"/run/runbook-bench/{ns}", exist_ok=True)
            got.append(teardown_round(ns, "t", a.siblings, real))
            kubectl("delete", "namespace", ns, "--wait=false")
        rows.append((real, got))
    print(f"\nteardown: a step fails while {a.siblings} siblings run (exit at once on SIGTERM), {a.rounds} rounds")
    print(f"{'node':<6} {'figure':<48} {'median ms':>10} {'max ms':>10}")
    med = {}
    for real, got in rows:
        kind = "real" if real else "kwok"
        for key, what in (("procs", "failure -> last sibling process gone (/proc)"),
                          ("pods", "failure -> last sibling pod object gone (watch)")):
            v = [g[key] for g in got if key in g]
            if v:
                med[(kind, key)] = statistics.median(v)
                print(f"{kind:<6} {what:<48} {statistics.median(v):>10.0f} {max(v):>10.0f}")
    if ("real", "pods") in med and ("kwok", "pods") in med:
        print(f"ratio real/kwok, pod object gone (median): {med[('real', 'pods')] / med[('kwok', 'pods')]:.2f}")


def watch_procs(match, starts, done):
    """Stamps into starts the first sighting of each process match() names,
    every 5 ms, until done is set."""
    while not done.is_set():
        now = time.monotonic()
        for _, name in match():
            starts.setdefault(name, now)
        time.sleep(0.005)


def sample(ns, selector, starts, ready, ips):
    """One look at the pods (about 50 ms a kubectl): IPs, and the first time
    each is seen Ready, stamped into ready (monotonic)."""
    args = ["-n", ns, "get", "pods", "-o", "json"] + (["-l", selector] if selector else [])
    out = kubectl(*args, check=False)
    now = time.monotonic()
    for p in json.loads(out or '{"items": []}')["items"]:
        name = p["metadata"]["name"]
        if p["status"].get("podIP"):
            ips[name] = p["status"]["podIP"]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])):
            ready.setdefault(name, now)


def phase_startup(a):
    ns = "runbook-system"

    def op_procs():
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                if open(f"/proc/{p}/comm").read().strip() != "runbook-operato":
                    continue
                host = [e for e in open(f"/proc/{p}/environ", "rb").read().split(b"\0") if e.startswith(b"HOSTNAME=")]
            except OSError:
                continue
            if host:
                out.append((int(p), host[0][9:].decode()))
        return out

    # readyz is polled from a thread per pod IP as soon as the IP is known.
    readyz = {}

    def poll_readyz(name, addr):
        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                with urllib.request.urlopen(f"http://{addr}:8081/readyz", timeout=0.5) as r:
                    if r.status == 200:
                        readyz[name] = time.monotonic()
                        return
            except Exception:
                pass
            time.sleep(0.01)

    polled = set()
    starts, ready, ips = {}, {}, {}
    done = threading.Event()
    threading.Thread(target=watch_procs, args=(op_procs, starts, done), daemon=True).start()
    kubectl("apply", "-k", a.overlay)
    end = time.monotonic() + 180
    while time.monotonic() < end and len(ready) < 2:
        sample(ns, "app.kubernetes.io/component=operator", starts, ready, ips)
        for k, v in ips.items():
            if k not in polled:
                polled.add(k)
                threading.Thread(target=poll_readyz, args=(k, v), daemon=True).start()
        time.sleep(0.01)
    # The reference: a busybox pod, Ready as soon as it runs (no probe).
    ref_ns = "bench-rn-startup"
    kubectl("create", "namespace", ref_ns, check=False)
    wait(lambda: kubectl("-n", ref_ns, "get", "sa", "default", check=False), 30, "default ServiceAccount")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ref", "namespace": ref_ns},
           "spec": dict(NODE_SPEC, containers=[{"name": "c", "image": "runbook.test/busybox:1",
                                                "command": ["sh", "-c", "exec sleep 3600"],
                                                "env": [{"name": "BENCH_MARK", "value": "startup-ref"}]}])}
    rs, rr, rip = {}, {}, {}
    threading.Thread(target=watch_procs, args=(lambda: [(p[0], "ref") for m, p in marks().items()
                                                         if m == "startup-ref"], rs, done), daemon=True).start()
    kubectl("apply", "-f", "-", inp=json.dumps(pod))
    end = time.monotonic() + 120
    while time.monotonic() < end and "ref" not in rr:
        sample(ref_ns, "", rs, rr, rip)
        time.sleep(0.01)
    done.set()
    time.sleep(3)
    summary = json.loads(kubectl("get", "--raw", f"/api/v1/nodes/{a.node}/proxy/stats/summary"))
    rss = {}
    for p in summary.get("pods", []):
        for c in p.get("containers", []):
            rss[(p["podRef"]["namespace"], p["podRef"]["name"])] = (c["memory"].get("rssBytes", 0),
                                                                     c["memory"].get("workingSetBytes", 0))
    print("\nstartup: the operator's pods as deployed (2 replicas), process start on the host ->")
    print(f"{'pod':<36} {'/readyz 200 ms':>15} {'kubelet Ready ms':>17} {'RSS MiB':>8} {'working set MiB':>16}")
    for name in sorted(starts):
        rz = readyz.get(name)
        rd = ready.get(name)
        r = rss.get((ns, name), (0, 0))
        print(f"{name:<36} {((rz - starts[name]) * 1000 if rz else float('nan')):>15.0f} "
              f"{((rd - starts[name]) * 1000 if rd else float('nan')):>17.0f} {r[0] / 2**20:>8.1f} {r[1] / 2**20:>16.1f}")
    r = rss.get((ref_ns, "ref"), (0, 0))
    if "ref" in rs and "ref" in rr:
        print(f"{'reference: busybox pod, no probe':<36} {'-':>15} {(rr['ref'] - rs['ref']) * 1000:>17.0f} "
              f"{r[0] / 2**20:>8.1f} {r[1] / 2**20:>16.1f}")
    kubectl("delete", "namespace", ref_ns, "--wait=false")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("phase", choices=["teardown", "startup"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--siblings", type=int, default=10)
    ap.add_argument("--overlay", default=os.path.join(os.path.dirname(__file__), "..", "test", "realnode", "overlay"))
    ap.add_argument("--node", default="runbook-real-node")
    a = ap.parse_args()
    {"teardown": phase_teardown, "startup": phase_startup}[a.phase](a)


if __name__ == "__main__":
    main()
