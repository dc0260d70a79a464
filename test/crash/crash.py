#!/usr/bin/env python3
"""Crash at every write (issue 10): for each scenario, count the writes and
watch events of an undisturbed run, then run the scenario again once per
crash point, with the operator SIGKILLed right before the N-th write it
sends, right after the API server answered it, or right after it applied
the N-th watch event to its caches (every --event-stride-th event; the test
builds' hook, src/ctrl/ctrl_crash.c), and started again without the hook. After convergence every point must show:

  - the invariant recorder's I1-I7 (test/recorder: no two Jobs for a step, no
    pod running when its run went terminal, nothing created after, terminal
    phases never change, Jobs owned by their run, DELETEs with
    preconditions), watched from before the first write;
  - the same outcome as the undisturbed run: every run's phase and every
    step's phase (a run the scenario prunes is gone in both);
  - every finally step that ran, ran exactly once (one Job);
  - the operator's log free of sanitizer reports, and the restarted operator
    exiting 0 on SIGTERM.

Each point runs in its own namespace with its own operator (--namespace),
so points run in parallel (--jobs); nothing else may reconcile those
namespaces (test/e2e/crash_sweep_serial.sh stops the fixture's operator).

usage: crash.py --cluster DIR --bindir DIR [--stride K] [--event-stride E] [--jobs J]
                [--scenarios a,b] [--modes before,after,event] [--seed S]
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "recorder"))
import recorder  # noqa: E402

TERMINAL = ("Succeeded", "Failed", "Cancelled")
LONG = {"runbook.dev/test-duration": "1h", "runbook.dev/test-sigterm-exit": "100ms"}


def ann(duration, code=None):
    a = {"runbook.dev/test-duration": duration}
    if code is not None:
        a["runbook.dev/test-exit-code"] = str(code)
    return a


def step(name, annotations, deps=None):
    s = {"name": name, "image": "busybox", "podTemplate": {"metadata": {"annotations": annotations}}}
    if deps:
        s["dependsOn"] = deps
    return s


def wf(name, steps, final=(), **spec):
    spec.update({"terminationGracePeriodSeconds": 2, "steps": steps})
    if final:
        spec["finally"] = list(final)
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "Workflow", "metadata": {"name": name}, "spec": spec}


def run(name, workflow):
    return {"apiVersion": "runbook.dev/v1alpha1", "kind": "WorkflowRun", "metadata": {"name": name},
            "spec": {"workflowRef": {"name": workflow}}}


# A scenario: the objects applied first, the stimuli (when COND holds, do
# ACT once, in order), and the runs whose outcome is compared. COND and ACT
# take the Point; conditions read the cluster.
SCENARIOS = {
    "diamond": dict(
        objects=[wf("w", [step("a", ann("300ms")), step("b", ann("300ms"), ["a"]), step("c", ann("300ms"), ["a"]),
                          step("d", ann("300ms"), ["a"]), step("e", ann("300ms"), ["b", "c", "d"])]), run("r", "w")],
        stimuli=[], runs=["r"]),
    "failfast": dict(
        objects=[wf("w", [step("boom", ann("1s", 3)), step("s1", LONG), step("s2", LONG), step("after", ann("300ms"), ["boom"])],
                    final=[step("cleanup", ann("300ms"))]), run("r", "w")],
        stimuli=[], runs=["r"]),
    "continue": dict(
        objects=[wf("w", [step("a", ann("500ms", 2)), step("b", ann("300ms")), step("c", ann("300ms"), ["a"]),
                          step("d", ann("300ms"), ["b"])], final=[step("f", ann("300ms"))],
                    failurePolicy="Continue"), run("r", "w")],
        stimuli=[], runs=["r"]),
    "retries": dict(
        objects=[wf("w", [dict(step("a", ann("300ms", 1)), retries=2), step("b", ann("300ms"))]), run("r", "w")],
        stimuli=[], runs=["r"]),
    "cancel-dag": dict(
        objects=[wf("w", [step("a", LONG), step("b", LONG), step("c", ann("300ms"), ["a"])],
                    final=[step("f", ann("300ms"))]), run("r", "w")],
        stimuli=[(lambda p: p.step_phase("r", "a") == "Running" and p.step_phase("r", "b") == "Running",
                  lambda p: p.cancel("r"))],
        runs=["r"]),
    "cancel-finally": dict(
        objects=[wf("w", [step("m", ann("300ms"))], final=[step("f", ann("2s"))]), run("r", "w")],
        stimuli=[(lambda p: p.step_phase("r", "f") == "Running", lambda p: p.cancel("r"))],
        runs=["r"]),
    "replace": dict(
        objects=[wf("w", [step("a", ann("8s"))], concurrencyPolicy="Replace"), run("r1", "w")],
        # r1 must still run when r2 replaces it, crash and restart included: 8 s.
        stimuli=[(lambda p: p.step_phase("r1", "a") == "Running", lambda p: p.apply([run("r2", "w")]))],
        runs=["r1", "r2"]),
    "wf-deleted": dict(
        objects=[wf("w", [step("a", ann("1s")), step("b", ann("500ms"), ["a"])]), run("r", "w")],
        stimuli=[(lambda p: p.step_phase("r", "a") == "Running", lambda p: p.kubectl("delete", "workflow", "w"))],
        runs=["r"]),
    # Results (issue 14): read from the pod, recorded, then used by a
    # dependent and a finally step; a crash between reading and recording
    # must read the same value again, and never make a second Job.
    "results": dict(
        objects=[wf("w", [dict(step("build", dict(ann("300ms"), **{"runbook.dev/test-termination-message": '{"d":"v1"}'})),
                               results=[{"name": "d"}]),
                          dict(step("deploy", ann("300ms"), ["build"]), args=["$(steps.build.results.d)"])],
                    final=[dict(step("f", ann("300ms")), args=["$(run.status) $(steps.deploy.phase)"])]), run("r", "w")],
        stimuli=[], runs=["r"]),
    # A 2x2 matrix whose combination 2 fails after 1 s while the others run
    # for an hour: fail-fast across the fan-out, crash and restart included.
    "matrix": dict(
        objects=[wf("w", [dict(step("t", dict(LONG, **{"runbook.dev/test-exit-code": "3",
                                                        "runbook.dev/test-matrix-index": "2",
                                                        "runbook.dev/test-fail-after": "1s"})),
                               matrix={"params": [{"name": "os", "values": ["a", "b"]},
                                                  {"name": "v", "values": ["1", "2"]}]}),
                          step("after", ann("300ms"), ["t"])],
                    final=[step("f", ann("300ms"))]), run("r", "w")],
        stimuli=[], runs=["r"]),
    "history": dict(
        objects=[wf("w", [step("a", ann("300ms"))], successfulRunsHistoryLimit=1), run("r1", "w")],
        stimuli=[(lambda p: p.phase("r1") == "Succeeded", lambda p: p.apply([run("r2", "w")]))],
        until=lambda p: "r1" not in p.runs(), runs=["r1", "r2"]),
}


class Point:
    """One scenario run in its own namespace, with an operator that may be
    armed to crash at a write; restarted unarmed whenever it dies."""

    def __init__(self, a, scenario, mode=None, k=0):
        self.a, self.name, self.mode, self.k = a, scenario, mode, k
        self.sc = SCENARIOS[scenario]
        tag = f"{mode[0]}{k}" if mode else "count"
        self.ns = f"crash-{scenario}-{tag}-{random.randrange(16**6):06x}"
        self.dir = os.path.join(a.out, self.ns)
        os.makedirs(self.dir, exist_ok=True)
        self.kc = os.path.join(a.cluster, "kubeconfig")
        self.op_kc = a.op_kubeconfig
        self.crashes = 0
        self.reached = False
        self.problems = []

    def kubectl(self, *args, inp=None, check=True):
        r = subprocess.run(["kubectl", "--kubeconfig", self.kc, "-n", self.ns, *args], input=inp,
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def apply(self, objs):
        self.kubectl("apply", "-f", "-", inp=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))

    def cancel(self, r):
        self.kubectl("patch", "wfr", r, "--type", "merge", "-p", '{"spec":{"cancel":true}}')

    def runs(self):
        out = self.kubectl("get", "wfr", "-o", "json", check=False)
        return {i["metadata"]["name"]: i for i in json.loads(out or '{"items": []}')["items"]}

    def phase(self, r):
        return ((self.runs().get(r) or {}).get("status") or {}).get("phase", "")

    def step_phase(self, r, s):
        for e in ((self.runs().get(r) or {}).get("status") or {}).get("steps", []):
            if e.get("name") == s:
                return e.get("phase", "")
        return ""

    def start_operator(self, armed):
        env = dict(os.environ, RUNBOOK_CRASH_LOG=os.path.join(self.dir, "writes.log"))
        env.pop("RUNBOOK_CRASH_AT", None)
        if armed and self.mode == "event":
            env["RUNBOOK_CRASH_AT"] = f"event:{self.k}"
        elif armed and self.mode:
            env["RUNBOOK_CRASH_AT"] = f"write:{self.k}:{self.mode}"
        log = open(os.path.join(self.dir, "operator.log"), "a")
        log.write(f"--- start armed={armed and bool(self.mode)}\n")
        log.flush()
        self.op = subprocess.Popen([os.path.join(self.a.bindir, "runbook-operator"), "--kubeconfig", self.op_kc,
                                    "--namespace", self.ns, "--health-addr", "127.0.0.1:0",
                                    "--metrics-addr", "127.0.0.1:0", "--webhook-addr", "127.0.0.1:0", "--ui-addr", "127.0.0.1:0"],
                                   env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def done(self):
        runs = self.runs()
        for r in self.sc["runs"]:
            ph = ((runs.get(r) or {}).get("status") or {}).get("phase", "")
            if r in runs and ph not in TERMINAL:
                return False
            if r not in runs and not self.pruned_ok(r):
                return False
        until = self.sc.get("until")
        return self.next_stimulus >= len(self.sc["stimuli"]) and (not until or until(self))

    def pruned_ok(self, r):
        # Absent: pruned by history, or not created yet (its stimulus is still to come).
        return self.name == "history" and r == "r1" and self.next_stimulus >= 1

    def outcome(self):
        out = {}
        for r, o in sorted(self.runs().items()):
            st = o.get("status") or {}
            # a matrix step's combinations by their index too
            out[r] = (st.get("phase", ""), tuple(sorted((s["name"] + (f"[{s['index']}]" if "index" in s else ""),
                                                         s.get("phase", "")) for s in st.get("steps", []))))
        for r in self.sc["runs"]:
            out.setdefault(r, ("absent", ()))
        return out

    def go(self, timeout=90):
        self.kubectl("create", "namespace", self.ns)
        end = time.monotonic() + 30
        while not self.kubectl("get", "sa", "default", "-o", "name", check=False) and time.monotonic() < end:
            time.sleep(0.1)
        self.events = os.path.join(self.dir, "events.jsonl")
        rec = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "recorder", "recorder.py"), "watch",
                                "--kubeconfig", self.kc, "--namespace", self.ns, "--out", self.events,
                                "--parent", str(os.getpid())], stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while not os.path.exists(self.events + ".ready") and time.monotonic() < end:
            time.sleep(0.05)
        self.start_operator(armed=True)
        self.next_stimulus = 0
        try:
            self.apply(self.sc["objects"])
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if self.op.poll() is not None:
                    self.crashes += 1
                    if self.crashes > 1:
                        self.problems.append(f"the unarmed operator exited ({self.op.returncode})")
                        break
                    self.start_operator(armed=False)
                if self.next_stimulus < len(self.sc["stimuli"]):
                    cond, act = self.sc["stimuli"][self.next_stimulus]
                    if cond(self):
                        act(self)
                        self.next_stimulus += 1
                if self.done():
                    break
                time.sleep(0.1)
            else:
                self.problems.append(f"not converged within {timeout} s: {self.outcome()}")
            time.sleep(1.0)  # settle: late events, and anything wrongly done after "done"
            self.result = self.outcome()
        finally:
            if self.op.poll() is None:
                self.op.terminate()
                try:
                    rc = self.op.wait(20)
                except subprocess.TimeoutExpired:
                    self.op.kill()
                    rc = "timeout"
                if rc != 0:
                    self.problems.append(f"the operator exited {rc} on SIGTERM")
            rec.terminate()
            rec.wait()
        with open(os.path.join(self.dir, "operator.log")) as f:
            text = f.read()
        if "ERROR: AddressSanitizer" in text or "ERROR: LeakSanitizer" in text or "runtime error:" in text:
            self.problems.append("sanitizer report in " + os.path.join(self.dir, "operator.log"))
        # Write counts vary a little between runs (coalesced status writes,
        # Events): a point past this run's last write is not reached; it is
        # counted apart, and its run still checked.
        self.reached = not self.mode or self.crashes > 0
        events, notes = recorder.load_events(self.events)
        lines, ok = recorder.check(events, notes)
        if not ok:
            self.problems += [l for l in lines if l.startswith("FAIL")]
        self.check_finally(events)
        self.kubectl("delete", "namespace", self.ns, "--wait=false", check=False)
        return self

    def check_finally(self, events):
        jobs = {}
        for e in events:
            lab = e.get("labels") or {}
            if e.get("kind") == "Job" and lab.get("runbook.dev/finally") == "true":
                jobs.setdefault((lab.get("runbook.dev/run"), lab.get("runbook.dev/step")), set()).add(e["uid"])
        for (r, s), uids in jobs.items():
            if len(uids) != 1:
                self.problems.append(f"finally step {s} of {r} had {len(uids)} Jobs")

    def log_lines(self):
        try:
            with open(os.path.join(self.dir, "writes.log")) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def writes(self):
        return [l for l in self.log_lines() if not l.startswith("event ")]

    def events_applied(self):
        return [l for l in self.log_lines() if l.startswith("event ")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--stride", type=int, default=1, help="every K-th write (1: all)")
    ap.add_argument("--jobs", type=int, default=3)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--event-stride", type=int, default=5,
                    help="every E-th watch event, times --stride (mode event)")
    ap.add_argument("--modes", default="before,after,event")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    random.seed(a.seed)
    a.cluster = os.path.abspath(a.cluster)
    a.out = a.out or os.path.join(a.cluster, "crash")
    a.op_kubeconfig = os.path.join(a.cluster, "operator.kubeconfig")
    if not os.path.exists(a.op_kubeconfig):
        a.op_kubeconfig = os.path.join(a.cluster, "kubeconfig")
    print(f"# crash sweep: seed {a.seed}, stride {a.stride}, jobs {a.jobs}, out {a.out}", flush=True)
    t0 = time.monotonic()
    total, bad = 0, 0  # points where the operator died, points with violations
    for name in a.scenarios.split(","):
        base = Point(a, name).go()
        w, ev = len(base.writes()), len(base.events_applied())
        if base.problems or w == 0:
            print(f"FAIL - {name}: the undisturbed run: {base.problems or 'no writes'}", flush=True)
            bad += 1
            continue
        modes = a.modes.split(",")
        points = [(m, k) for k in range(1, w + 1, a.stride) for m in modes if m != "event"]
        if "event" in modes:
            points += [("event", k) for k in range(1, ev + 1, a.event_stride * a.stride)]
        results, lock = [], threading.Lock()

        def worker(queue):
            while True:
                with lock:
                    if not queue:
                        return
                    m, k = queue.pop(0)
                p = Point(a, name, m, k)
                try:
                    p.go()
                except Exception as e:  # a harness failure is a failure too
                    p.problems.append(f"harness: {e}")
                    p.result = None
                if p.problems == [] and p.result != base.result:
                    p.problems.append(f"outcome {p.result} differs from the undisturbed {base.result}")
                with lock:
                    results.append(p)

        queue = list(points)
        threads = [threading.Thread(target=worker, args=(queue,)) for _ in range(a.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        failed = [p for p in results if p.problems]
        reached = sum(1 for p in results if p.reached)
        total += reached
        bad += len(failed)
        at_events = sum(1 for p in results if p.reached and p.mode == "event")
        print(f"{'ok  ' if not failed else 'FAIL'} - {name}: {reached} crash points over {w} writes and {ev} events "
              f"({reached - at_events} at writes, {at_events} at events; "
              f"{len(results) - reached} not reached this time, {len(failed)} with violations)", flush=True)
        for p in sorted(failed, key=lambda p: (p.mode == "event", p.k, p.mode)):
            where = f"event {p.k}" if p.mode == "event" else f"write {p.k} {p.mode}"
            print(f"    {where}: ns {p.ns} (kept in {p.dir})")
            for pr in p.problems[:5]:
                print(f"      {pr}")
    print(f"# {total} crash points, {bad} with violations, {time.monotonic() - t0:.0f} s; "
          f"replay: {' '.join(sys.argv)} --seed {a.seed}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
