#!/usr/bin/env python3
"""Unit tests of the recorder's checker, on synthetic event streams: one
clean run, then one stream per invariant that breaks it.
Run: python3 test/recorder/test_recorder.py (or python3 -m unittest)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recorder  # noqa: E402

RUN_UID = "run-uid-1"


class Stream:
    """Builds events the way the recorder writes them, one rv each."""

    def __init__(self):
        self.events, self.rv = [], 100

    def add(self, typ, kind, name, uid, **fields):
        self.rv += 1
        e = {"type": typ, "kind": kind, "name": name, "uid": uid, "rv": self.rv, "labels": {}, "owners": [],
             "deleting": False, "finalizers": []}
        e.update(fields)
        self.events.append(e)
        return self

    def run(self, phase, typ="MODIFIED", steps=(), name="r", uid=RUN_UID):
        return self.add(typ, "WorkflowRun", name, uid, phase=phase, cancel=False,
                        steps=[{"name": s, "phase": p, "job": f"{name}-{s}"} for s, p in steps])

    def job(self, step, uid, typ="ADDED", fin=False, owner=RUN_UID, run="r", index=None):
        labels = {"runbook.dev/run": run, "runbook.dev/step": step}
        if fin:
            labels["runbook.dev/finally"] = "true"
        name = f"{run}-{step}"
        if index is not None:
            labels["runbook.dev/matrix-index"] = str(index)
            name += f"-{index}"
        owners = [{"uid": owner, "kind": "WorkflowRun", "controller": True}] if owner else []
        return self.add(typ, "Job", name, uid, labels=labels, owners=owners, conditions=[])

    def pod(self, name, uid, job_uid, phase, typ="MODIFIED", deleting=False, run="r"):
        labels = {"runbook.dev/run": run, "batch.kubernetes.io/controller-uid": job_uid}
        owners = [{"uid": job_uid, "kind": "Job", "controller": True}]
        return self.add(typ, "Pod", name, uid, labels=labels, owners=owners, phase=phase, deleting=deleting,
                        exit_codes=[])


def clean():
    """A fail-fast run done right: a fails, b is torn down and gone, then
    finally runs, then the run is Failed."""
    s = Stream()
    s.run("", typ="ADDED").run("Running", steps=[("a", "Running"), ("b", "Running"), ("fin", "Pending")])
    s.job("a", "ja").job("b", "jb")
    s.pod("pa", "pa", "ja", "Pending", typ="ADDED").pod("pb", "pb", "jb", "Pending", typ="ADDED")
    s.pod("pa", "pa", "ja", "Running").pod("pb", "pb", "jb", "Running")
    s.pod("pa", "pa", "ja", "Failed")
    s.run("Failing", steps=[("a", "Failed"), ("b", "Running"), ("fin", "Pending")])
    s.pod("pb", "pb", "jb", "Running", deleting=True).pod("pb", "pb", "jb", "Running", typ="DELETED", deleting=True)
    s.run("Failing", steps=[("a", "Failed"), ("b", "Cancelled"), ("fin", "Pending")])
    s.job("fin", "jf", fin=True).pod("pf", "pf", "jf", "Running", typ="ADDED").pod("pf", "pf", "jf", "Succeeded")
    s.run("Failed", steps=[("a", "Failed"), ("b", "Cancelled"), ("fin", "Succeeded")])
    # A foreign pod carrying the run's label but no Job of the run: ignored.
    s.add("ADDED", "Pod", "foreign", "px", labels={"runbook.dev/run": "r"}, phase="Running", exit_codes=[])
    return s


def fails(lines):
    return [l for l in lines if l.startswith("FAIL")]


class CheckerTest(unittest.TestCase):
    def check(self, s, **kw):
        lines, ok = recorder.check(s.events, **kw)
        return lines, ok

    def assertViolates(self, s, inv, *needles, **kw):
        lines, ok = self.check(s, **kw)
        self.assertFalse(ok, "\n".join(lines))
        bad = fails(lines)
        self.assertEqual(len(bad), 1, "\n".join(lines))
        self.assertIn(f" {inv} ", bad[0])
        for n in needles:
            self.assertIn(n, bad[0])

    def test_clean_run_passes(self):
        lines, ok = self.check(clean())
        self.assertTrue(ok, "\n".join(lines))
        self.assertEqual(sum(l.startswith("ok   - ") for l in lines), 6)
        self.assertIn("# run r (uid run-uid-1): Failed at rv", "\n".join(lines))
        self.assertIn("3 Jobs, 3 pods", "\n".join(lines))

    def test_i1_terminal_while_pod_runs(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Running", typ="ADDED")
        s.run("Failed")
        self.assertViolates(s, "I1", "pod pa Running", f"rv {s.rv}")

    def test_i1_terminating_pod_counts_as_running(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Running", typ="ADDED", deleting=True)
        s.run("Cancelled")
        self.assertViolates(s, "I1", "(terminating)")

    def test_i2_finally_while_main_pod_runs(self):
        s = Stream()
        s.run("Failing", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Running", typ="ADDED")
        s.job("fin", "jf", fin=True)
        self.assertViolates(s, "I2", "finally Job r-fin", "pod pa Running")

    def test_i2_finally_pods_do_not_block_finally(self):
        s = Stream()
        s.run("Failing", typ="ADDED").job("f1", "j1", fin=True).pod("p1", "p1", "j1", "Running", typ="ADDED")
        s.job("f2", "j2", fin=True)
        self.assertTrue(self.check(s)[1])

    def test_i3_two_jobs_for_a_step(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja1").job("a", "ja1", typ="DELETED").job("a", "ja2")
        self.assertViolates(s, "I3", "uid ja2", "uid ja1")

    def test_i3_combinations_of_a_matrix_step_are_steps_of_their_own(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("t", "j0", index=0).job("t", "j1", index=1)
        self.assertTrue(self.check(s)[1])
        s.job("t", "j1b", index=1)
        self.assertViolates(s, "I3", "step t[1]", "uid j1b")

    def test_matrix_entries_are_keyed_by_index(self):
        rec = recorder.project("WorkflowRun", {"metadata": {"name": "r", "uid": "u", "resourceVersion": "5"},
                                               "status": {"steps": [{"name": "t", "phase": "Failed"},
                                                                    {"name": "t", "index": 0, "phase": "Cancelled"},
                                                                    {"name": "t", "index": 1, "phase": "Failed"}]}})
        self.assertEqual([x["name"] for x in rec["steps"]], ["t", "t[0]", "t[1]"])

    def test_i3_same_step_name_in_a_new_run_is_fine(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja1").run("Running", typ="DELETED")
        s.run("Running", typ="ADDED", uid="run-uid-2").job("a", "ja2", owner="run-uid-2")
        self.assertTrue(self.check(s)[1])

    def test_i4_job_after_terminal(self):
        s = Stream()
        s.run("Succeeded", typ="ADDED").job("late", "jl")
        self.assertViolates(s, "I4", "Job r-late created")

    def test_i4_pod_running_after_terminal(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Succeeded", typ="ADDED")
        s.run("Succeeded").pod("pa2", "pa2", "ja", "Pending", typ="ADDED")
        self.assertViolates(s, "I4", "pod pa2 Pending")

    def test_i5_terminal_phase_changes(self):
        s = Stream()
        s.run("Failed", typ="ADDED").run("Running")
        self.assertViolates(s, "I5", "changed to 'Running'")

    def test_i5_relist_deletion_is_not_a_phase_change(self):
        # A relist after a 410 finds a finished run deleted (its TTL): the
        # recorder writes a synthetic DELETED with no phase. Not a change.
        s = Stream()
        s.run("Failed", typ="ADDED", steps=[("a", "Failed")])
        s.add("DELETED", "WorkflowRun", "r", RUN_UID, synthetic=True, deleting=True)
        lines, ok = self.check(s)
        self.assertTrue(ok, "\n".join(lines))

    def test_i5_terminal_step_phase_changes(self):
        s = Stream()
        s.run("Running", typ="ADDED", steps=[("a", "Skipped")]).run("Running", steps=[("a", "Running")])
        self.assertViolates(s, "I5", "step a Skipped changed to 'Running'")

    def test_i6_job_without_owner(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja", owner=None)
        self.assertViolates(s, "I6", "Job r-a")

    def test_not_terminal_runs_skip_i1_i4(self):
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Running", typ="ADDED")
        s.run("Running", typ="DELETED")
        lines, ok = self.check(s)
        self.assertTrue(ok, "\n".join(lines))
        self.assertFalse(any(" I1 " in l or " I4 " in l for l in lines))
        self.assertIn("never terminal", "\n".join(lines))


def audit_entry(verb, resource, name, body, user="op", ns="ns", group=None, code=200, n=0):
    ref = {"resource": resource, "namespace": ns, "name": name}
    if group:
        ref["apiGroup"] = group
    return {"auditID": f"{verb}-{resource}-{name}-{json.dumps(body)}-{n}", "verb": verb,
            "user": {"username": user}, "objectRef": ref, "requestObject": body,
            "responseStatus": {"code": code}}


class AuditTest(unittest.TestCase):
    KW = {"namespace": "ns", "operator_user": "op"}

    def good(self):
        return [audit_entry("delete", "jobs", "r-b", {"propagationPolicy": "Foreground",
                                                      "preconditions": {"uid": "jb"}}, group="batch"),
                audit_entry("delete", "pods", "pb", {"preconditions": {"uid": "pb"}}),
                # Others' deletes and other namespaces are not the operator's.
                audit_entry("delete", "pods", "px", {}, user="admin"),
                audit_entry("delete", "pods", "px", {}, ns="other")]

    def test_good_deletes_pass(self):
        lines, ok = recorder.check(clean().events, audit=self.good(), **self.KW)
        self.assertTrue(ok, "\n".join(lines))
        self.assertTrue(any(l.startswith("ok   - recorder: I7 the operator's 2 ") for l in lines))

    def expect_i7(self, entry, needle):
        lines, ok = recorder.check(clean().events, audit=self.good() + [entry], **self.KW)
        self.assertFalse(ok)
        self.assertEqual(len(fails(lines)), 1, "\n".join(lines))
        self.assertIn(" I7 ", fails(lines)[0])
        self.assertIn(needle, fails(lines)[0])

    def test_job_delete_in_background(self):
        self.expect_i7(audit_entry("delete", "jobs", "r-a", {"propagationPolicy": "Background",
                                                             "preconditions": {"uid": "ja"}}, group="batch"),
                       "propagationPolicy 'Background'")

    def test_pod_delete_without_precondition(self):
        self.expect_i7(audit_entry("delete", "pods", "pa", {}), "DELETE pod pa at ? without preconditions.uid")

    def test_accepted_delete_repeated(self):
        self.expect_i7(audit_entry("delete", "jobs", "r-b", {"propagationPolicy": "Foreground",
                                                             "preconditions": {"uid": "jb"}}, group="batch", n=1),
                       "second accepted DELETE")

    def test_refused_delete_repeated_is_fine(self):
        again = audit_entry("delete", "jobs", "r-b", {"propagationPolicy": "Foreground",
                                                      "preconditions": {"uid": "jb"}}, group="batch", code=429, n=1)
        lines, ok = recorder.check(clean().events, audit=self.good() + [again], **self.KW)
        self.assertTrue(ok, "\n".join(lines))

    def test_foreign_pod_deleted(self):
        self.expect_i7(audit_entry("delete", "pods", "foreign", {"preconditions": {"uid": "px"}}),
                       "not a child of a run")


class DeletesTest(unittest.TestCase):
    def test_first_accepted_delete_per_object(self):
        def at(e, ts):
            e["requestReceivedTimestamp"] = ts
            return e
        entries = [at(audit_entry("delete", "pods", "pa", {"preconditions": {"uid": "u1"}}, code=409, n=0),
                      "2026-12-01T00:00:00Z"),
                   at(audit_entry("delete", "pods", "pa", {"preconditions": {"uid": "u1"}}, n=1),
                      "2026-12-01T00:00:01.5Z"),
                   at(audit_entry("delete", "pods", "pa", {}, n=2), "2026-12-01T00:00:09Z"),
                   at(audit_entry("delete", "pods", "pb", {}, user="admin"), "2026-12-01T00:00:02Z"),
                   at(audit_entry("delete", "jobs", "r-a", {"propagationPolicy": "Foreground"}, group="batch"),
                      "2026-12-01T00:00:03Z")]
        rows = recorder.accepted_deletes(entries, "ns", "op", "pods")
        self.assertEqual(rows, [("pa", 1796083201.5, "-", "u1")])
        rows = recorder.accepted_deletes(entries, "ns", "op", "jobs", "r-a")
        self.assertEqual(rows, [("r-a", 1796083203.0, "Foreground", "-")])


class CommandLineTest(unittest.TestCase):
    """The check command: exit status, and a partial last line is skipped."""

    def run_check(self, events, tail=""):
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("".join(json.dumps(e) + "\n" for e in events) + tail)
        try:
            return subprocess.run([sys.executable, recorder.__file__, "check", "--events", f.name],
                                  capture_output=True, text=True)
        finally:
            os.unlink(f.name)

    def test_exit_status(self):
        ok = self.run_check(clean().events, tail='{"type":"ADDED","kind":"Job"')
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        s = Stream()
        s.run("Running", typ="ADDED").job("a", "ja").pod("pa", "pa", "ja", "Running", typ="ADDED").run("Failed")
        bad = self.run_check(list(reversed(s.events)))  # the checker orders by rv itself
        self.assertEqual(bad.returncode, 1)
        self.assertIn("FAIL - recorder: run r: I1", bad.stdout)

    def test_audit_log_with_invalid_utf8(self):
        """A request body of raw non-UTF-8 bytes is logged as sent, and one
        nested deeper than Python's json recurses: the entries around them
        are still read."""
        good = audit_entry("delete", "pods", "pb", {"preconditions": {"uid": "pb"}}, user="op")
        good["requestReceivedTimestamp"] = "2026-11-25T10:00:00.5Z"
        with tempfile.NamedTemporaryFile("wb", suffix=".log", delete=False) as f:
            f.write(b'{"auditID":"x","verb":"patch","requestObject":{"m":"\xff\xfe"}}\n')
            f.write(b'{"auditID":"y","requestObject":' + b'{"n":' * 2000 + b'1' + b'}' * 2001 + b"\n")
            f.write(json.dumps(good).encode() + b"\n")
        try:
            out = subprocess.run([sys.executable, recorder.__file__, "deletes", "--audit", f.name,
                                  "--namespace", "ns", "--user", "op", "--resource", "pods"],
                                 capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertTrue(out.stdout.startswith("pb "), out.stdout)


if __name__ == "__main__":
    unittest.main()
