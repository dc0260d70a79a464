// The one WebSocket to the operator (subprotocol runbook.v1, docs/ui.md):
// sign-in, the watches, writes (cancel, run again, start), the log stream,
// and reconnection with backoff.
//
// new Conn({onMessage, onState}) ; conn.start() ; conn.watchRun(ns, name)
// onState({state, ...}): state is "connecting", "live" (hello received; with
// hello), "retrying" (with at: the time of the next try, and why),
// "auth_needed" (no token, and the server said sign_in: the socket stays
// open, nothing else comes until a token is sent), or "auth_failed" (with
// message; no retry until start() is called again).
//
// Watches are remembered and sent again on every new socket (after the
// hello when the page has a token; at once without one: an auth proxy's
// header or anonymous read may let the socket in).
export const TOKEN_KEY = 'runbook.token';
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}
export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives as long as the socket */
  }
}

export class Conn {
  constructor({ onMessage, onState }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.failures = 0;
    this.timer = 0;
    this.run = null; // [ns, name] of the watched run
    this.workflow = null; // [ns, name] of the watched Workflow
    this.lists = new Set(['watch_runs']); // watch_runs, watch_workflows, watch_triggers
    this.logsWant = null; // the logs message of the stream followed, until it ends
    this.hello = null; // the last hello
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve}
    this.stopped = true;
  }

  start() {
    this.stop();
    this.stopped = false;
    this.failures = 0;
    this.connect();
  }

  // stop(): closes the socket and stops retrying (sign-out).
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.hello = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'bye');
    }
    this.failPending('not connected');
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    const token = getToken();
    this.token = token;
    this.authFailed = null;
    this.live = false;
    this.onState({ state: 'connecting' });
    let ws;
    try {
      ws = new WebSocket(url, 'runbook.v1');
    } catch (e) {
      this.retry(String(e && e.message ? e.message : e));
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      if (token) {
        // Watches follow the hello: the server answers in order anyway,
        // but nothing is asked before the token is known to work.
        this.raw({ type: 'auth', token });
      } else {
        // No token: the server uses the upgrade request's Authorization
        // header (an auth proxy) or anonymous read, and says which in its
        // hello; or it says sign_in at once, and the page asks for a token.
        // (Logs wait for the hello: they need a person.)
        this.watchAll(false);
      }
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'hello') {
        this.failures = 0;
        const first = !this.live;
        this.live = true;
        this.hello = msg;
        // A second hello on the same socket (signed in after anonymous
        // read) comes with the watches re-sent by the server.
        if (token && first) this.watchAll(true);
        else if (first && this.logsWant) this.raw(this.logsWant);
        this.onState({ state: 'live', hello: msg });
      } else if (msg.type === 'sign_in') {
        // Sent at once to every socket without an Authorization header:
        // a page with a token has sent it already and waits for its hello.
        if (!token && !this.live) this.onState({ state: 'auth_needed' });
        return;
      } else if (msg.type === 'logs_end' && this.logsWant && this.logsWant.step === msg.step) {
        this.logsWant = null; // not asked again on a new socket
      } else if (msg.type === 'auth_failed') {
        this.authFailed = String(msg.message || 'sign-in failed');
      } else if (msg.type === 'result' && this.pending.has(msg.id)) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p.resolve(msg);
        return;
      }
      this.onMessage(msg);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending('the connection was lost before the operator answered');
      if (this.authFailed !== null || ev.code === 4401) {
        this.stopped = true;
        this.onState({ state: 'auth_failed', message: this.authFailed || ev.reason || 'sign-in failed', hadToken: !!token });
        return;
      }
      this.retry(ev.reason || (ev.code === 1006 ? 'connection lost' : `closed (${ev.code})`));
    });
  }

  retry(why) {
    if (this.stopped) return;
    const base = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
    this.failures++;
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), wait);
    this.onState({ state: 'retrying', at: Date.now() + wait, why });
  }

  // retryNow(): skips the rest of a backoff wait.
  retryNow() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }

  raw(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }

  // Sends msg now if the socket may ask (with a token: after the hello).
  want(msg) {
    if (this.live || !this.token) this.raw(msg);
  }

  watchAll(logs) {
    for (const type of this.lists) this.raw({ type });
    if (this.run) this.raw({ type: 'watch_run', namespace: this.run[0], name: this.run[1] });
    if (this.workflow) this.raw({ type: 'watch_workflow', namespace: this.workflow[0], name: this.workflow[1] });
    if (logs && this.logsWant) this.raw(this.logsWant);
  }

  // watchList('watch_workflows' | 'watch_triggers'): from now on, and on
  // every new socket (the server has no "unwatch": once is enough).
  watchList(type) {
    if (this.lists.has(type)) return;
    this.lists.add(type);
    this.want({ type });
  }

  // watchRun(ns, name): the run view's run (sent again after a reconnect);
  // watchRun(null) forgets it (its details are then ignored).
  watchRun(ns, name) {
    this.run = ns ? [ns, name] : null;
    if (this.run) this.want({ type: 'watch_run', namespace: ns, name });
  }

  // watchWorkflow(ns, name): the Workflow page's Workflow, the same way.
  watchWorkflow(ns, name) {
    this.workflow = ns ? [ns, name] : null;
    if (this.workflow) this.want({ type: 'watch_workflow', namespace: ns, name });
  }

  // logs(ns, run, step): follow a step's logs (one stream per tab; asked
  // again on a new socket until the server says logs_end);
  // logsStop(): the end of it.
  logs(ns, name, step) {
    this.logsWant = { type: 'logs', namespace: ns, name, step };
    if (this.live) this.raw(this.logsWant);
  }
  logsStop() {
    this.logsWant = null;
    if (this.live) this.raw({ type: 'logs_stop' });
  }

  // cancel(ns, name) -> Promise of the server's result message.
  cancel(ns, name) {
    return this.request({ type: 'cancel', namespace: ns, name });
  }

  // runAgain(ns, name) -> Promise of the result; ok results name the new run.
  runAgain(ns, name) {
    return this.request({ type: 'run_again', namespace: ns, name });
  }

  // startRun(ns, workflow, params) -> Promise of the result; ok results
  // name the new run. params: {NAME: "value"}.
  startRun(ns, workflow, params) {
    return this.request({ type: 'start', namespace: ns, workflow, params });
  }

  request(msg) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.raw({ ...msg, id })) {
        resolve({ type: 'result', id, ok: false, message: 'not connected to the operator; try again when the page is live' });
        return;
      }
      this.pending.set(id, { resolve });
    });
  }

  failPending(message) {
    for (const [id, p] of this.pending) p.resolve({ type: 'result', id, ok: false, message });
    this.pending.clear();
  }
}
