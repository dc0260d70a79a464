// Runbook's web UI: the entry module. Wires the socket (conn.js) to the
// views, the sign-in form and the hash routes:
//   #/                      the runs (runs.js)
//   #/runs/NS/NAME          one run (run.js, with logs.js)
//   #/workflows             the Workflows (workflows.js)
//   #/workflows/NS/NAME     one Workflow, and Start run (workflow.js)
//   #/triggers              the Triggers (triggers.js), when the operator serves them
import { h, setText } from './dom.js';
import { Conn, getToken, setToken } from './conn.js';
import { createRunsView } from './runs.js';
import { createRunView } from './run.js';
import { createWorkflowsView } from './workflows.js';
import { createWorkflowView } from './workflow.js';
import { createTriggersView } from './triggers.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
const status = $('status');
const who = $('who');
const signOut = $('sign-out');
const signInLink = $('sign-in');
const nav = { runs: $('nav-runs'), workflows: $('nav-workflows'), triggers: $('nav-triggers') };

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
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'signin-cancel', text: 'Go on without signing in', hidden: true }),
      h('button', { type: 'submit', class: 'primary', id: 'signin-submit', text: 'Sign in' }))));
const signinCancel = signin.querySelector('#signin-cancel');

let signinShown = false;
function showSignin(message) {
  signinShown = true;
  // An anonymous (read-only) tab may go back to reading.
  signinCancel.hidden = !(conn.live && conn.hello && conn.hello.anonymous);
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
  resetLists();
  conn.start();
  route();
});
signinCancel.addEventListener('click', () => {
  signinShown = false;
  route();
});

// --- the socket and the views ----------------------------------------------------
let retryTimer = 0;
const conn = new Conn({
  onMessage(msg) {
    if (msg.type === 'runs' || msg.type === 'run' || msg.type === 'run_deleted') {
      runs.apply(msg);
      workflow.runsChanged();
    } else if (msg.type === 'run_detail') run.apply(msg);
    else if (msg.type === 'logs_start' || msg.type === 'log' || msg.type === 'logs_end') run.applyLogs(msg);
    else if (msg.type === 'workflow_detail') workflow.apply(msg);
    else if (workflows.apply(msg) || triggers.apply(msg)) return;
    else if (msg.type === 'error') console.warn('operator:', msg.message);
  },
  onState(st) {
    clearInterval(retryTimer);
    document.body.dataset.conn = st.state;
    if (st.state === 'live') {
      const hello = st.hello;
      if (signinShown && !getToken() && !hello.anonymous) {
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
      triggersServed = !!hello.triggers;
      nav.triggers.hidden = !triggersServed;
      run.refresh();
      workflow.refresh();
      route();
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
const workflows = createWorkflowsView();
const workflow = createWorkflowView(conn, () => runs.items());
const triggers = createTriggersView();
let triggersServed = false;
main.append(signin, runs.el, run.el, workflows.el, workflow.el, triggers.el);
function resetLists() {
  runs.reset();
  workflows.reset();
  triggers.reset();
}
status.addEventListener('click', () => conn.retryNow());

signOut.addEventListener('click', (ev) => {
  ev.preventDefault();
  setToken('');
  conn.stop();
  resetLists();
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
const views = { runs, run, workflows, workflow, triggers };
function parse(hash) {
  const dec = (x) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return null;
    }
  };
  let m = /^#\/(runs|workflows)\/([^/]+)\/([^/]+)$/.exec(hash);
  if (m) {
    const [ns, name] = [dec(m[2]), dec(m[3])];
    if (ns !== null && name !== null) return { view: m[1] === 'runs' ? 'run' : 'workflow', ns, name };
  }
  m = /^#\/(workflows|triggers)\/?$/.exec(hash);
  if (m) return { view: m[1] };
  return { view: 'runs' };
}
let shown = '';
function route() {
  if (signinShown) {
    signin.hidden = false;
    for (const [k, v] of Object.entries(views)) (k === 'run' || k === 'workflow' ? v.close : v.hide)();
    shown = '';
    return;
  }
  signin.hidden = true;
  const r = parse(location.hash);
  for (const [k, v] of Object.entries(views)) if (k !== r.view) (k === 'run' || k === 'workflow' ? v.close : v.hide)();
  const section = r.view === 'run' ? 'runs' : r.view === 'workflow' ? 'workflows' : r.view;
  for (const [k, a] of Object.entries(nav)) {
    if (k === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (r.view === 'run' || r.view === 'workflow') views[r.view].open(r.ns, r.name);
  else {
    if (r.view === 'workflows') conn.watchList('watch_workflows');
    if (r.view === 'triggers') {
      if (triggersServed) conn.watchList('watch_triggers');
      triggers.unavailable(triggersServed || !conn.live ? '' : 'This operator does not serve Triggers.');
    }
    document.title = `${r.view[0].toUpperCase()}${r.view.slice(1)} · Runbook`;
    views[r.view].show();
  }
  const now = `${r.view}/${r.ns || ''}/${r.name || ''}`;
  if (now !== shown) window.scrollTo(0, 0);
  shown = now;
}
window.addEventListener('hashchange', route);
route();
conn.start();
