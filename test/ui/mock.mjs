// A stand-in for the operator, for the browser tests that need no cluster
// (test/ui/*.mock.test.mjs, run by run.sh without KUBECONFIG): ui/ served
// from the tree by a small node HTTP server with the operator's security
// headers, and the WebSocket (docs/ui.md and the second part of the
// protocol) played by Playwright's routeWebSocket inside the browser, so
// that no socket server is needed.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ui');
// As src/ui/ui_static.c sends it.
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml', png: 'image/png', json: 'application/json' };

// serveUi() -> {url, close()}: "/" and "/index.html" are ui/index.html,
// "/assets/NAME" is ui/NAME, as the operator serves them.
export async function serveUi() {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    let file = null;
    if (p === '/' || p === '/index.html') file = 'index.html';
    else if (/^\/assets\/[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(p)) file = p.slice('/assets/'.length);
    const ext = file && file.split('.').pop();
    if (!file || !TYPES[ext] || !fs.existsSync(path.join(UI, file))) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[ext], 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-cache' });
    res.end(fs.readFileSync(path.join(UI, file)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

// mockOperator(page, opts) -> the operator's side of every socket the page
// opens. opts:
//   mode: 'token' (no Authorization header: sign_in at once, then a token
//         in `auth`), or 'anonymous' (--ui-anonymous-read: hello at once)
//   tokens: {TOKEN: {user, canStart, canCancel}}
//   signIn: false: no sign_in at all (a server that says nothing)
//   triggers: hello.triggers
//   data: {runs, workflows, triggers, details: {"ns/name": run detail},
//          workflowDetails: {"ns/name": workflow detail}} (changed in place by the tests)
//   on: {TYPE(msg, sock)}: replaces the default answer to a page message
// The returned object: sent (every page message, parsed), sockets, last()
// (the newest socket: {send(obj), close()}), waitFor(type, pred).
export async function mockOperator(page, opts = {}) {
  const data = opts.data || {};
  const m = { sent: [], sockets: [], data };
  m.last = () => m.sockets[m.sockets.length - 1];
  m.waitFor = async (type, pred = () => true, timeoutMs = 10000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = m.sent.find((x) => x.type === type && pred(x));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`the page did not send ${type} within ${timeoutMs} ms (sent: ${m.sent.map((x) => x.type).join(', ')})`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const helloOf = (who) => ({ type: 'hello', user: who ? who.user : '', anonymous: !who, allNamespaces: !who || !!who.all,
    namespaces: who ? who.namespaces || [] : [], triggers: opts.triggers !== false });
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const sock = {
      who: null, live: false,
      send: (o) => ws.send(JSON.stringify(o)),
      close: (code = 1001, reason = 'going away') => ws.close({ code, reason }),
    };
    m.sockets.push(sock);
    const answer = {
      auth(msg) {
        const who = (opts.tokens || {})[msg.token];
        if (!who) {
          sock.send({ type: 'auth_failed', message: 'the API server refused the token: Unauthorized (401)' });
          sock.close(4401, 'unauthorized');
          return;
        }
        sock.who = who;
        sock.live = true;
        sock.send(helloOf(who));
      },
      watch_runs: () => sock.send({ type: 'runs', items: data.runs || [] }),
      watch_workflows: () => sock.send({ type: 'workflows', items: data.workflows || [] }),
      watch_triggers: () => sock.send({ type: 'triggers', items: data.triggers || [] }),
      watch_run(msg) {
        const d = (data.details || {})[`${msg.namespace}/${msg.name}`];
        sock.send(d ? { type: 'run_detail', item: { ...d, canCancel: !!(sock.who && sock.who.canCancel) && !['Succeeded', 'Failed', 'Cancelled'].includes(d.phase) } }
          : { type: 'run_detail', namespace: msg.namespace, name: msg.name, gone: true });
      },
      watch_workflow(msg) {
        const d = (data.workflowDetails || {})[`${msg.namespace}/${msg.name}`];
        sock.send(d ? { type: 'workflow_detail', item: { ...d, canStart: !!(sock.who && sock.who.canStart) } }
          : { type: 'workflow_detail', namespace: msg.namespace, name: msg.name, gone: true });
      },
      logs(msg) {
        sock.send({ type: 'logs_end', step: msg.step, code: 404, message: 'the step has no pod yet' });
      },
      logs_stop() {},
      start(msg) {
        sock.send({ type: 'result', id: msg.id, ok: false, code: 403, message: 'forbidden' });
      },
    };
    ws.onMessage((raw) => {
      const msg = JSON.parse(String(raw));
      m.sent.push(msg);
      // Before the hello only auth is answered (a server waiting for a token).
      if (msg.type !== 'auth' && !sock.live) return;
      const fn = (opts.on || {})[msg.type] || answer[msg.type];
      if (fn) fn(msg, sock);
    });
    if (opts.mode === 'anonymous') {
      sock.live = true;
      sock.send(helloOf(null));
    } else if (opts.signIn !== false) sock.send({ type: 'sign_in', anonymousRead: false });
  });
  return m;
}
