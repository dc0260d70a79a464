// The one WebSocket to the operator (subprotocol runbook.v1, ui-protocol.md):
// sign-in, the watches, cancel requests, and reconnection with backoff.
//
// new Conn({onMessage, onState}) ; conn.start() ; conn.watchRun(ns, name)
// onState({state, ...}): state is "connecting", "live" (hello received),
// "retrying" (with at: the time of the next try, and why), "auth_needed"
// (no token, and the server asks for one: it said nothing within
// SIGNIN_WAIT_MS; the socket stays open, a hello may still come from an
// auth proxy's header), or "auth_failed" (with message; no retry until
// start() is called again).
export const TOKEN_KEY = 'runbook.token';
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const SIGNIN_WAIT_MS = 1500;

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
    clearTimeout(this.signinTimer);
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
        // header (an auth proxy) or anonymous access, and says which in
        // its hello (or auth_failed). A server that waits for a token says
        // nothing: then the page asks for one.
        this.watchAll();
        clearTimeout(this.signinTimer);
        this.signinTimer = setTimeout(() => {
          if (this.ws === ws && !this.live && this.authFailed === null) this.onState({ state: 'auth_needed' });
        }, SIGNIN_WAIT_MS);
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
        this.live = true;
        if (token) this.watchAll();
        this.onState({ state: 'live', hello: msg });
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
      clearTimeout(this.signinTimer);
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

  watchAll() {
    this.raw({ type: 'watch_runs' });
    if (this.run) this.raw({ type: 'watch_run', namespace: this.run[0], name: this.run[1] });
  }

  // watchRun(ns, name): the run view's run (sent again after a reconnect);
  // watchRun(null) forgets it (its details are then ignored).
  watchRun(ns, name) {
    this.run = ns ? [ns, name] : null;
    // With a token, watches wait for the hello (watchAll sends them).
    if (this.run && (this.live || !this.token)) this.raw({ type: 'watch_run', namespace: ns, name });
  }

  // cancel(ns, name) -> Promise of the server's result message.
  cancel(ns, name) {
    return this.request('cancel', ns, name);
  }

  // runAgain(ns, name) -> Promise of the result; ok results name the new run.
  runAgain(ns, name) {
    return this.request('run_again', ns, name);
  }

  request(type, ns, name) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (!this.raw({ type, namespace: ns, name, id })) {
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
