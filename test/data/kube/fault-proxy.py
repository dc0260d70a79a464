#!/usr/bin/env python3
"""A TLS reverse proxy in front of the real API server that injects faults.

Used by test/integration/it_kube_faults.c to exercise the client's retry
policy (429/503 + Retry-After, 5xx, dropped connections, slow answers)
against real API semantics: everything not matched by a rule is forwarded
to the API server and its answer relayed unchanged.

  fault-proxy.py --upstream https://127.0.0.1:PORT --ca CA --cert C --key K \
                 --serve-cert SC --serve-key SK --rules FILE

Prints "port N" on stdout once listening (N chosen by the kernel), then
serves until killed. Speaks HTTP/1.1 only (no ALPN h2).

FILE holds a JSON list of rules, re-read whenever its content changes
(counts then start afresh):
  {"method": "GET", "path": "/configmaps/cm-0",   substring of the path+query
   "count": 2,                                     matches left; -1: forever
   "action": "status" | "reset" | "forward-reset" | "delay",
   "status": 429, "retry_after": "1",             for "status"
   "seconds": 3}                                   for "delay" (then forward)
"reset" closes the connection without answering (the server did NOT act);
"forward-reset" forwards first, then closes without answering (it DID act).
Every request is logged to stderr as "METHOD PATH -> outcome".
"""
import argparse
import http.client
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
rules = []
rules_text = None


def load_rules(path):
    global rules, rules_text
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        text = "[]"
    with lock:
        if text != rules_text:
            rules_text = text
            rules = json.loads(text or "[]")


def match(method, path):
    with lock:
        for r in rules:
            if r.get("count", 1) == 0:
                continue
            if r.get("method", method) != method or r.get("path", "") not in path:
                continue
            if r.get("count", 1) > 0:
                r["count"] = r.get("count", 1) - 1
            return dict(r)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self, outcome):
        sys.stderr.write("%s %s -> %s\n" % (self.command, self.path, outcome))
        sys.stderr.flush()

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def forward(self, body):
        up = self.server.upstream
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=self.server.up_ctx,
                                           timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("content-type", "accept", "user-agent")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, resp.getheader("Content-Type", "application/json"), data

    def handle_any(self):
        load_rules(self.server.rules_path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        rule = match(self.command, self.path)
        action = rule.get("action", "status") if rule else None
        if action == "reset":
            self.note("reset")
            return self.drop()
        if action == "delay":
            time.sleep(float(rule.get("seconds", 1)))
        if action == "status":
            code = int(rule.get("status", 503))
            msg = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {},
                              "status": "Failure", "message": "injected by fault-proxy",
                              "reason": "TooManyRequests" if code == 429 else "ServiceUnavailable",
                              "code": code}).encode()
            self.send_response(code)
            if "retry_after" in rule:
                self.send_header("Retry-After", str(rule["retry_after"]))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            self.note("injected %d" % code)
            return
        try:
            status, ctype, data = self.forward(body)
        except Exception as e:  # upstream trouble: a 502, as a real proxy would
            status, ctype, data = 502, "text/plain", str(e).encode()
        if action == "forward-reset":
            self.note("forwarded (%d), then reset" % status)
            return self.drop()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.note("forwarded %d%s" % (status, " after delay" if action == "delay" else ""))

    def handle_guarded(self):
        try:
            self.handle_any()
        except (ConnectionError, ssl.SSLError, OSError):
            # The client gave up first (a timeout test): nothing to answer.
            self.close_connection = True
            self.note("client went away")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_guarded


def main():
    ap = argparse.ArgumentParser()
    for a in ("--upstream", "--ca", "--cert", "--key", "--serve-cert", "--serve-key", "--rules"):
        ap.add_argument(a, required=True)
    args = ap.parse_args()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.serve_cert, args.serve_key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.upstream = urllib.parse.urlparse(args.upstream)
    up_ctx = ssl.create_default_context(cafile=args.ca)
    up_ctx.load_cert_chain(args.cert, args.key)
    srv.up_ctx = up_ctx
    srv.rules_path = args.rules
    print("port %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
