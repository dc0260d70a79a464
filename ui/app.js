// Runbook's web UI: the entry module. Wires the socket (conn.js) to the
// views (runs.js, run.js), the sign-in form and the hash routes:
//   #/                 the runs
//   #/runs/NS/NAME     one run
import { h, setText } from './dom.js';
import { Conn, getToken, setToken } from './conn.js';
import { createRunsView } from './runs.js';
import { createRunView } from './run.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
const status = $('status');
const who = $('who');
const signOut = $('sign-out');
const signInLink = $('sign-in');

// --- sign-in -----------------------------------------------------------------
const tokenInput = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
const signinMsg = h('p', { id: 'signin-message', class: 'notice error', role: 'alert', hidden: true });
const signin = h('section', { class: 'view signin', id: 'signin-view', hidden: true },
  h('form', { id: 'signin', method: 'dialog' },
    h('h1', { text: 'Sign in' }),
    h('p', { class: 'muted', text: 'Paste a Kubernetes bearer token (for example from kubectl create token). It is kept in this tab only, and what you see and may do is what that token may do.' }),
    signinMsg,
    h('label', { for: 'token', text: 'Token' }),
    tokenInput,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'signin-submit', text: 'Sign in' }))));

let signinShown = false;
function showSignin(message) {
  signinShown = true;
  setText(signinMsg, message || '');
  signinMsg.hidden = !message;
  route();
  tokenInput.focus();
}
signin.querySelector('form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = tokenInput.value.trim();
  if (!t) return;
  setToken(t);
  tokenInput.value = '';
  signinShown = false;
  runs.reset();
  conn.start();
  route();
});

// --- the socket and the views ----------------------------------------------------
let retryTimer = 0;
const conn = new Conn({
  onMessage(msg) {
    if (msg.type === 'runs' || msg.type === 'run' || msg.type === 'run_deleted') runs.apply(msg);
    else if (msg.type === 'run_detail') run.apply(msg);
    else if (msg.type === 'error') console.warn('operator:', msg.message);
  },
  onState(st) {
    clearInterval(retryTimer);
    document.body.dataset.conn = st.state;
    if (st.state === 'live') {
      const hello = st.hello;
      if (signinShown && !getToken()) {
        // An auth proxy's header signed this socket in after all.
        signinShown = false;
        route();
      }
      setText(status, 'live');
      status.className = 'status live';
      setText(who, hello.anonymous ? 'anonymous' : hello.user || '');
      who.title = hello.allNamespaces ? 'may see all namespaces' : `may see: ${(hello.namespaces || []).join(', ') || 'no namespace'}`;
      signOut.hidden = !getToken();
      signInLink.hidden = !hello.anonymous;
    } else if (st.state === 'connecting') {
      setText(status, 'connecting…');
      status.className = 'status';
    } else if (st.state === 'retrying') {
      status.className = 'status down';
      const show = () => setText(status, `offline (${st.why}); retrying in ${Math.max(0, Math.ceil((st.at - Date.now()) / 1000))} s`);
      show();
      retryTimer = setInterval(show, 1000);
    } else if (st.state === 'auth_needed') {
      setText(status, 'not signed in');
      status.className = 'status';
      showSignin('');
    } else if (st.state === 'auth_failed') {
      status.className = 'status down';
      setText(status, 'signed out');
      setText(who, '');
      signOut.hidden = true;
      signInLink.hidden = true;
      if (st.hadToken) setToken('');
      showSignin(st.hadToken ? `Sign-in failed: ${st.message}` : st.message);
    }
  },
});
const runs = createRunsView();
const run = createRunView(conn);
main.append(signin, runs.el, run.el);
status.addEventListener('click', () => conn.retryNow());

signOut.addEventListener('click', (ev) => {
  ev.preventDefault();
  setToken('');
  conn.stop();
  runs.reset();
  setText(who, '');
  signOut.hidden = true;
  setText(status, 'signed out');
  status.className = 'status down';
  showSignin('Signed out.');
});
signInLink.addEventListener('click', (ev) => {
  ev.preventDefault();
  showSignin('');
});

// --- routes ------------------------------------------------------------------------
function route() {
  if (signinShown) {
    signin.hidden = false;
    runs.hide();
    run.close();
    return;
  }
  signin.hidden = true;
  const m = /^#\/runs\/([^/]+)\/([^/]+)$/.exec(location.hash);
  let parts = null;
  if (m) {
    try {
      parts = [decodeURIComponent(m[1]), decodeURIComponent(m[2])];
    } catch {
      parts = null;
    }
  }
  if (parts) {
    runs.hide();
    run.open(parts[0], parts[1]);
  } else {
    run.close();
    document.title = 'Runs · Runbook';
    runs.show();
  }
  window.scrollTo(0, 0);
}
window.addEventListener('hashchange', route);
route();
conn.start();
