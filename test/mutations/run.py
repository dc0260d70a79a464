#!/usr/bin/env python3
"""Mutation check (issue 17): apply one-line mutations to a private copy of
the product, one at a time, rebuild, run the tests meant to kill each, and
report KILLED (by which tests) or SURVIVED. See test/mutations/README.md.

The working tree is never modified: it is copied (tracked and untracked,
not ignored, files; no build/, no .git) into build/mutations/tree once per
run, so the baseline and every mutation see the same product even while
others edit. Mutations are applied to that copy one at a time and undone
after each; one CMake build directory (build/mutations/build) is reused, so
a mutation costs one object and the relinks, not a full build.

Exit status: 0 when every selected mutation was killed; 1 when one survived,
is stale (its text does not occur exactly once), does not build, or its run
failed for a reason that is not the product (the test cluster did not come
up); 2 on usage errors or when the unmutated baseline fails.
"""
import argparse
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEYS = ("id", "file", "find", "replace", "tests", "why")
# Fixture tests that are not the product: their failure is no kill.
INFRA = re.compile(r"^cluster\.(up|down)$")
FIXTURES = re.compile(r"^(cluster|operator)\.(up|down)$")


def die(msg, code=2):
    print(f"test-mutations: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_list(path):
    muts, cur, lineno0 = [], {}, 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines + [""], 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                missing = [k for k in KEYS if k not in cur]
                if missing:
                    die(f"{path}:{lineno0}: block lacks {', '.join(missing)}")
                cur["line"] = lineno0
                muts.append(cur)
                cur = {}
            continue
        m = re.match(r"^([a-z]+): ?(.*)$", line)
        if not m or m.group(1) not in KEYS:
            die(f"{path}:{n}: expected one of {', '.join(KEYS)}: got {line!r}")
        if not cur:
            lineno0 = n
        if m.group(1) in cur:
            die(f"{path}:{n}: {m.group(1)} given twice")
        cur[m.group(1)] = m.group(2)
    seen = set()
    for m in muts:
        if m["id"] in seen:
            die(f"{path}:{m['line']}: duplicate id {m['id']}")
        seen.add(m["id"])
        if not m["find"] or m["find"] == m["replace"]:
            die(f"{path}:{m['line']}: {m['id']}: empty find, or replace equal to find")
        try:
            re.compile(m["tests"])
        except re.error as e:
            die(f"{path}:{m['line']}: {m['id']}: tests is not a regex: {e}")
    return muts


def sh(cmd, log=None, cwd=None, env=None):
    """Runs cmd; output to the log file (appended) or captured. Returns (rc, output)."""
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"$ {' '.join(cmd)}\n")
            f.flush()
            p = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT)
        return p.returncode, None
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return p.returncode, p.stdout


def source_files(source):
    """{path: (bytes, executable)} of the product: the working tree (tracked
    and untracked files that git does not ignore) or HEAD."""
    out = {}
    if source == "head":
        p = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", "HEAD"],
                           stdout=subprocess.PIPE, check=False)
        if p.returncode:
            die("git archive HEAD failed")
        with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
            for m in t.getmembers():
                if m.isfile():
                    out[m.name] = (t.extractfile(m).read(), bool(m.mode & 0o111))
        return out
    rc, names = sh(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                    "--exclude-standard"])
    if rc:
        die(f"git ls-files failed: {names}")
    for f in names.split("\0"):
        path = os.path.join(ROOT, f)
        if not f or f.startswith("build/") or not os.path.isfile(path):
            continue
        with open(path, "rb") as fh:
            out[f] = (fh.read(), os.access(path, os.X_OK))
    return out


def snapshot(tree, source):
    """Makes `tree` a copy of the source: only changed files are written
    (with a new mtime, so the build sees them), files gone are removed."""
    files = source_files(source)
    os.makedirs(tree, exist_ok=True)
    for f, (data, exe) in files.items():
        dst = os.path.join(tree, f)
        try:
            with open(dst, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if not same:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "wb") as fh:
                fh.write(data)
        os.chmod(dst, 0o755 if exe else 0o644)
    for d, _, names in os.walk(tree):
        for n in names:
            if os.path.relpath(os.path.join(d, n), tree) not in files:
                os.unlink(os.path.join(d, n))


def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


class Run:
    def __init__(self, args):
        self.a = args
        self.base = os.path.join(ROOT, "build", "mutations")
        self.tree = os.path.join(self.base, "tree")
        self.build = os.path.join(self.base, "build")
        self.logs = os.path.join(self.base, "logs")

    def log(self, name):
        p = os.path.join(self.logs, name)
        open(p, "w", encoding="utf-8").close()
        return p

    def configure(self):
        log = self.log("configure.log")
        rc, _ = sh(["cmake", "--preset", self.a.preset, "-B", self.build], log=log, cwd=self.tree)
        if rc:
            die(f"cmake configure failed, see {log}")

    def compile(self, log):
        t0 = time.monotonic()
        rc, _ = sh(["cmake", "--build", self.build, "-j", str(self.a.jobs)], log=log)
        return rc, time.monotonic() - t0

    def selected(self, regex):
        rc, out = sh(["ctest", "--test-dir", self.build, "-N", "-R", regex])
        if rc:
            return None
        names = re.findall(r"^\s*Test\s+#\d+: (\S+)", out, re.M)
        return [n for n in names if not FIXTURES.match(n)]

    def ctest(self, regex, log):
        """Runs the tests; returns (elapsed, failed test names with their reason)."""
        # A fresh cluster directory each time: the operator fixture greps its
        # log for sanitizer reports, and a report of the last mutation must
        # not fail the next one.
        self.stop_cluster()
        shutil.rmtree(os.path.join(self.build, "cluster"), ignore_errors=True)
        t0 = time.monotonic()
        cmd = ["ctest", "--test-dir", self.build, "-R", regex, "-j", str(self.a.test_jobs),
               "--output-on-failure"]
        if self.a.timeout:
            cmd += ["--timeout", str(self.a.timeout)]
        try:
            sh(cmd, log=log)
        except KeyboardInterrupt:
            self.stop_cluster()  # the fixtures' cleanup may not have run
            raise
        elapsed = time.monotonic() - t0
        with open(log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        failed = re.findall(r"^\s+\d+ - (\S+) \(([^)]*)\)\s*$", text.split("tests FAILED:")[-1],
                            re.M) if "tests FAILED:" in text else []
        ran = re.search(r"tests passed, (\d+) tests failed out of (\d+)", text)
        if not ran:
            failed.append(("ctest", "no summary: see " + log))
        return elapsed, failed

    def stop_cluster(self):
        """Stops, by the PIDs they recorded, an operator and a control plane
        a CTest run left in the build's cluster directory (interrupted)."""
        d = os.path.join(self.build, "cluster")
        pids = os.path.join(d, "pids")
        if not os.path.isdir(pids) or not os.listdir(pids):
            return
        sh(["bash", os.path.join(self.tree, "test", "operator.sh"), "kill", d, self.build])
        sh(["bash", os.path.join(self.tree, "test", "cluster", "down.sh"), d])

    def apply(self, m):
        path = os.path.join(self.tree, m["file"])
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(m["find"], m["replace"], 1))
        return text

    def restore(self, m, text, want):
        path = os.path.join(self.tree, m["file"])
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if digest(path) != want:
            die(f"could not restore {path} after {m['id']}", 1)


def stale(tree, m):
    path = os.path.join(tree, m["file"])
    try:
        with open(path, encoding="utf-8") as f:
            n = f.read().count(m["find"])
    except OSError as e:
        return f"{m['file']}: {e.strerror}"
    if n != 1:
        return f"the text occurs {n} times in {m['file']} (must be once): {m['find']}"
    return None


def fmt_s(s):
    return "-" if s is None else f"{s:.0f}s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", default=os.path.join(ROOT, "test", "mutations", "mutations.txt"))
    ap.add_argument("--only", default="", help="comma-separated mutation ids")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every mutation even after one survived or failed to apply")
    ap.add_argument("--source", default="worktree", choices=("worktree", "head"),
                    help="mutate a copy of the working tree (default) or of HEAD")
    ap.add_argument("--preset", default="debug", choices=("debug", "asan"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="build parallelism")
    ap.add_argument("--test-jobs", type=int, default=2, help="ctest -j")
    ap.add_argument("--timeout", type=int, default=0, help="ctest --timeout per test (0: the tests' own)")
    ap.add_argument("--show", action="store_true", help="print the mutations and exit")
    a = ap.parse_args()

    muts = parse_list(a.list)
    if a.only:
        want = [x for x in re.split(r"[,\s]+", a.only) if x]
        unknown = [x for x in want if x not in {m["id"] for m in muts}]
        if unknown:
            die(f"no mutation with id {', '.join(unknown)} in {a.list}")
        muts = [m for m in muts if m["id"] in want]
    if a.show:
        for m in muts:
            print(f"{m['id']:28} {m['file']:28} {m['tests']}")
        return 0

    r = Run(a)
    os.makedirs(r.logs, exist_ok=True)
    lock = open(os.path.join(r.base, "lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        die("another test-mutations run holds build/mutations/lock")

    t_all = time.monotonic()
    rc, head = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    rc2, dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    what = f"HEAD {head.strip()}"
    if a.source == "worktree":
        what = f"the working tree ({what}{' + uncommitted changes' if dirty.strip() else ''})"
    print(f"== copy of {what} -> {os.path.relpath(r.tree, ROOT)}", flush=True)
    snapshot(r.tree, a.source)

    results = {}  # id -> (verdict, detail, build_s, test_s)
    bad = [(m, stale(r.tree, m)) for m in muts]
    for m, why in bad:
        if why:
            results[m["id"]] = ("STALE", why, None, None)
            print(f"STALE  {m['id']}: {why}", flush=True)
    if results and not a.keep_going:
        return report(muts, results, t_all, a)
    runnable = [m for m in muts if m["id"] not in results]
    if not runnable:
        return report(muts, results, t_all, a)

    print(f"== configure ({a.preset}) and build the unmutated tree -> "
          f"{os.path.relpath(r.build, ROOT)}", flush=True)
    r.configure()
    log = r.log("baseline.build.log")
    rc, bt = r.compile(log)
    if rc:
        die(f"the unmutated tree does not build ({bt:.0f}s), see {log}")
    for m in runnable:
        sel = r.selected(m["tests"])
        if not sel:
            results[m["id"]] = ("STALE", f"tests {m['tests']} select no test", None, None)
            print(f"STALE  {m['id']}: tests {m['tests']} select no test", flush=True)
    if any(v[0] == "STALE" for v in results.values()) and not a.keep_going:
        return report(muts, results, t_all, a)
    runnable = [m for m in runnable if m["id"] not in results]
    # One regex naming every selected test: CTest's regexes allow at most
    # nine groups, so the mutations' own regexes cannot simply be joined.
    names = sorted({n for m in runnable for n in r.selected(m["tests"])})
    union = "^(" + "|".join(re.escape(n) for n in names) + ")$"
    print(f"== baseline: {', '.join(names)} (built in {bt:.0f}s)", flush=True)
    log = r.log("baseline.test.log")
    tt, failed = r.ctest(union, log)
    if failed:
        print(f"baseline FAILED in {tt:.0f}s: {', '.join(f'{n} ({w})' for n, w in failed)}\n"
              f"   the unmutated tree fails its own tests; no mutation can be judged. See {log}",
              flush=True)
        return 2
    print(f"   passed in {tt:.0f}s", flush=True)

    for i, m in enumerate(runnable, 1):
        print(f"== [{i}/{len(runnable)}] {m['id']}: {m['file']}\n"
              f"   - {m['find']}\n   + {m['replace']}", flush=True)
        path = os.path.join(r.tree, m["file"])
        want = digest(path)
        blog, tlog = r.log(f"{m['id']}.build.log"), r.log(f"{m['id']}.test.log")
        text = r.apply(m)
        try:
            rc, bt = r.compile(blog)
            if rc:
                res = ("NOBUILD", f"the mutated tree does not build, see {blog}", bt, None)
            else:
                tt, failed = r.ctest(m["tests"], tlog)
                infra = [n for n, _ in failed if INFRA.match(n) or n == "ctest"]
                killers = [n for n, _ in failed if not INFRA.match(n) and n != "ctest"]
                if infra:
                    res = ("ERROR", f"{', '.join(infra)} failed (not the product), see {tlog}",
                           bt, tt)
                elif killers:
                    res = ("KILLED", ", ".join(killers), bt, tt)
                else:
                    res = ("SURVIVED", m["why"], bt, tt)
        finally:
            r.restore(m, text, want)
        results[m["id"]] = res
        print(f"   {res[0]}{' by ' if res[0] == 'KILLED' else ': '}{res[1]}"
              f"  (build {fmt_s(res[2])}, tests {fmt_s(res[3])})", flush=True)
        if res[0] != "KILLED" and not a.keep_going and i < len(runnable):
            print("   stopping (KEEP_GOING=1 runs the rest)", flush=True)
            break
    # Leave the build matching the unmutated tree for the next run.
    r.compile(r.log("restore.build.log"))
    return report(muts, results, t_all, a)


def report(muts, results, t_all, a):
    print(f"\n== mutations ({time.monotonic() - t_all:.0f}s in all)")
    print(f"{'id':28} {'result':9} {'build':>6} {'tests':>6}  killed by / why it matters")
    bad = 0
    for m in muts:
        v, detail, bt, tt = results.get(m["id"], ("NOT RUN", "", None, None))
        bad += v != "KILLED"
        print(f"{m['id']:28} {v:9} {fmt_s(bt):>6} {fmt_s(tt):>6}  {detail}")
    n_k = sum(1 for v in results.values() if v[0] == "KILLED")
    print(f"{n_k} of {len(muts)} killed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
