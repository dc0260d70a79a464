#!/usr/bin/env python3
"""The webhook benchmark's load generator (bench/webhook.sh starts the
cluster and the operator; bench/README.md, "The webhook (bench/webhook.sh)").
Python 3 standard library only.

  webhook.py throughput --hook URL --api URL --pki DIR --ns NS --trigger T
             --secret S [-n 2000] [-c 16] [--tag TAG]
      N deliveries (distinct Idempotency-Key, generic signature) with C
      keep-alive connections to the webhook, each until its 201; and, as the
      reference, the same N WorkflowRuns POSTed straight to the API server
      (admin client certificate) with the same C connections. The phases run
      as A B B A, N/2 each (direct, webhook, webhook, direct), so the
      operator's work on the runs of one phase weighs on both kinds alike.
      Prints both rates and webhook/direct.

  webhook.py latency --hook URL --ns NS --trigger T --secret S
             [--rate 50] [--seconds 30] [--tag TAG]
      Open loop: delivery i is due at start + i/rate whatever the answers
      do; latency is its 201 minus the time it was due (so a generator
      that falls behind shows up as latency, not as a slower rate).
      Prints p50/p90/p99/max.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import queue
import ssl
import sys
import threading
import time
import urllib.parse


def hostport(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port


class Hook:
    """One keep-alive connection to the webhook listener."""

    def __init__(self, url, ns, trigger, secret):
        self.host, self.port = hostport(url)
        self.path = "/hooks/%s/%s" % (ns, trigger)
        self.secret = secret.encode()
        self.conn = None

    def send(self, key):
        body = json.dumps({"sha": key, "ref": "refs/heads/main"}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(self.secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-Runbook-Timestamp": ts,
            "X-Runbook-Signature": "sha256=" + sig,
            "Idempotency-Key": key,
        }
        return post(self, self.path, body, headers)


class Direct:
    """One keep-alive TLS connection to the API server, admin certificate."""

    def __init__(self, url, pki, ns, trigger):
        self.host, self.port = hostport(url)
        self.ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
        self.ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
        self.path = "/apis/runbook.dev/v1alpha1/namespaces/%s/workflowruns" % ns
        self.ns, self.trigger = ns, trigger
        self.conn = None

    def send(self, key):
        # What the operator creates for a delivery (trig_run_new): labels,
        # the delivery annotation, the workflowRef and the params.
        run = {
            "apiVersion": "runbook.dev/v1alpha1",
            "kind": "WorkflowRun",
            "metadata": {
                "name": "direct-" + key,
                "namespace": self.ns,
                "labels": {"runbook.dev/trigger": self.trigger + "-direct"},
                "annotations": {"runbook.dev/delivery": key},
            },
            "spec": {
                "workflowRef": {"name": "bench"},
                "params": [{"name": "sha", "value": key}, {"name": "ref", "value": "refs/heads/main"}],
            },
        }
        body = json.dumps(run).encode()
        return post(self, self.path, body, {"Content-Type": "application/json"})


def post(c, path, body, headers):
    """POSTs on c's connection (reopened when the server closed it); the
    status and the answer's bytes."""
    for attempt in (0, 1):
        if c.conn is None:
            if isinstance(c, Direct):
                c.conn = http.client.HTTPSConnection(c.host, c.port, context=c.ctx, timeout=60)
            else:
                c.conn = http.client.HTTPConnection(c.host, c.port, timeout=60)
        try:
            c.conn.request("POST", path, body=body, headers=headers)
            r = c.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                c.conn.close()
                c.conn = None
            return r.status, data
        except (http.client.HTTPException, OSError):
            c.conn.close()
            c.conn = None
            if attempt:
                raise
    raise AssertionError


def burst(make, keys, conc):
    """Sends every key with conc clients at once (each one connection, one
    request at a time), each until it is created (201; a 429 or 503 is
    retried after 50 ms and counted). Returns (seconds, retries, other):
    other counts answers that were neither."""
    q = queue.Queue()
    for k in keys:
        q.put(k)
    stats = {"retry": 0, "other": {}}
    lock = threading.Lock()
    clients = [make() for _ in range(conc)]
    # Open the connections before the clock starts (TLS handshakes).
    for c in clients:
        if isinstance(c, Direct):
            c.conn = http.client.HTTPSConnection(c.host, c.port, context=c.ctx, timeout=60)
        else:
            c.conn = http.client.HTTPConnection(c.host, c.port, timeout=60)
        c.conn.connect()

    def work(c):
        while True:
            try:
                k = q.get_nowait()
            except queue.Empty:
                return
            while True:
                st, data = c.send(k)
                if st == 201:
                    break
                if st in (429, 503):
                    with lock:
                        stats["retry"] += 1
                    time.sleep(0.05)
                    continue
                with lock:
                    stats["other"][st] = stats["other"].get(st, 0) + 1
                    if sum(stats["other"].values()) <= 3:
                        print("  unexpected %d: %s" % (st, data[:200].decode(errors="replace")), file=sys.stderr)
                break

    ts = [threading.Thread(target=work, args=(c,)) for c in clients]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.monotonic() - t0
    for c in clients:
        if c.conn:
            c.conn.close()
    return dt, stats["retry"], stats["other"]


def cpu_of(pids):
    """CPU seconds (user + system) so far: each named pid's, and this
    generator's own ("gen")."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, pid in pids:
        try:
            f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            out[name] = (int(f[11]) + int(f[12])) / tck
        except (OSError, IndexError, ValueError):
            out[name] = float("nan")
    t = os.times()
    out["gen"] = t.user + t.system
    return out


def throughput(a):
    half = a.n // 2
    plan = [("direct", 0), ("webhook", 0), ("webhook", 1), ("direct", 1)]
    total = {"direct": [0, 0.0], "webhook": [0, 0.0]}
    pids = [p.split("=", 1) for p in a.pids.split(",") if "=" in p]
    names = [n for n, _ in pids] + ["gen"]
    cpu_total = {"direct": dict.fromkeys(names, 0.0), "webhook": dict.fromkeys(names, 0.0)}
    print("%-8s %6s %8s %10s %8s  %s" % ("phase", "runs", "s", "runs/s", "retries", "other answers"))
    for kind, part in plan:
        keys = ["%s-%s-%d-%05d" % (a.tag, kind[0], part, i) for i in range(half)]
        if kind == "direct":
            make = lambda: Direct(a.api, a.pki, a.ns, a.trigger)  # noqa: E731
        else:
            make = lambda: Hook(a.hook, a.ns, a.trigger, a.secret)  # noqa: E731
        c0 = cpu_of(pids)
        dt, retries, other = burst(make, keys, a.c)
        c1 = cpu_of(pids)
        for k in names:
            cpu_total[kind][k] += c1[k] - c0[k]
        ok = half - sum(other.values())
        total[kind][0] += ok
        total[kind][1] += dt
        print("%-8s %6d %8.2f %10.1f %8d  %s" % (kind, ok, dt, ok / dt, retries, other or "-"))
        sys.stdout.flush()
        time.sleep(a.pause)
    d = total["direct"][0] / total["direct"][1]
    w = total["webhook"][0] / total["webhook"][1]
    print()
    print("direct WorkflowRun creates/s (API server, %d connections): %8.1f" % (a.c, d))
    print("webhook deliveries/s, POST -> 201 (%d connections):       %8.1f" % (a.c, w))
    print("ratio webhook/direct: %.2f (target >= 0.8)" % (w / d))
    print()
    print("CPU ms (user+sys) spent during the phases, per run created; all work, the\n"
          "operator's on earlier runs too; gen is this generator:")
    print("%-8s" % "" + "".join("%10s" % k for k in names) + "%10s" % "all")
    for kind in ("direct", "webhook"):
        v = [cpu_total[kind][k] * 1000 / total[kind][0] for k in names]
        print("%-8s" % kind + "".join("%10.2f" % x for x in v) + "%10.2f" % sum(v))


def latency(a):
    n = int(a.rate * a.seconds)
    due = queue.Queue()
    lat, lock = [], threading.Lock()
    bad = {}
    late = [0.0]

    def work():
        c = Hook(a.hook, a.ns, a.trigger, a.secret)
        while True:
            item = due.get()
            if item is None:
                return
            i, t_due = item
            late_by = time.monotonic() - t_due
            st, _ = c.send("%s-l-%05d" % (a.tag, i))
            t = time.monotonic()
            with lock:
                late[0] = max(late[0], late_by)
                if st == 201:
                    lat.append((t - t_due, t_due))
                else:
                    bad[st] = bad.get(st, 0) + 1

    ws = [threading.Thread(target=work) for _ in range(a.workers)]
    for w in ws:
        w.start()
    t0 = time.monotonic() + 0.2
    for i in range(n):
        t_due = t0 + i / a.rate
        d = t_due - time.monotonic()
        if d > 0:
            time.sleep(d)
        due.put((i, t_due))
    for _ in ws:
        due.put(None)
    for w in ws:
        w.join()
    slow = sorted(lat, reverse=True)[:5]
    lat = sorted(x for x, _ in lat)

    def p(q):
        return lat[min(len(lat) - 1, max(0, int(q * len(lat) + 0.999999) - 1))] * 1000

    print("open loop: %d deliveries at %g/s for %g s, %d workers; %d answered 201, other: %s"
          % (n, a.rate, a.seconds, a.workers, len(lat), bad or "-"))
    print("latest start of a send after its due time: %.1f ms" % (late[0] * 1000))
    if lat:
        print("delivery -> 201 ms:  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f"
              % (p(0.50), p(0.90), p(0.99), lat[-1] * 1000))
        print("slowest: " + ", ".join("%.0f ms (due at %.2f s)" % (x * 1000, d - t0) for x, d in slow))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["throughput", "latency"])
    ap.add_argument("--hook", required=True, help="http://127.0.0.1:PORT of --webhook-addr")
    ap.add_argument("--api", help="https://... of the API server (throughput)")
    ap.add_argument("--pki", help="the cluster's pki dir: ca.crt, admin.crt, admin.key (throughput)")
    ap.add_argument("--ns", required=True)
    ap.add_argument("--trigger", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("-n", type=int, default=2000, help="deliveries (and direct creates), default 2000")
    ap.add_argument("-c", type=int, default=16, help="concurrent connections, default 16")
    ap.add_argument("--pids", default="", help="throughput: NAME=PID,... whose CPU time to report per phase")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds between throughput phases")
    ap.add_argument("--rate", type=float, default=50.0, help="latency: deliveries/s, default 50")
    ap.add_argument("--seconds", type=float, default=30.0, help="latency: duration, default 30")
    ap.add_argument("--workers", type=int, default=32, help="latency: sending threads, default 32")
    ap.add_argument("--tag", default="b%d" % (int(time.time()) % 100000), help="prefix of delivery ids")
    a = ap.parse_args()
    if a.mode == "throughput":
        if not a.api or not a.pki:
            ap.error("throughput needs --api and --pki")
        throughput(a)
    else:
        latency(a)


if __name__ == "__main__":
    main()
