// The run page's log pane: the logs of one step, followed live (logs,
// logs_start, log, logs_end, logs_stop). Text is appended with Text nodes,
// one per line, at most MAX_LINES kept (the oldest dropped); the pane stays
// scrolled to the bottom unless the person scrolled up.
//
// createLogPane(conn) -> {el, select(ns, run, step, stepObj), update(stepObj),
//                         signedIn(), stop(), apply(msg)}
import { h, setText } from './dom.js';
import { TERMINAL } from './format.js';

export const MAX_LINES = 5000;
const DONE = new Set([...TERMINAL, 'Skipped']);
const RETRY_MS = [1000, 2000, 4000, 8000];

export function createLogPane(conn) {
  let cur = null; // {ns, run, step}
  let state = 'idle'; // idle | asking | live | ended
  let asked = false; // a logs request not yet followed by logs_stop
  let pod = ''; // of the stream shown
  let askedAt = null; // {key, attempts}: the step when last asked
  let lastEnd = null; // {code}: how the last stream ended
  let stepNow = null; // the selected step, as the run's detail has it
  let retries = 0;
  let retryTimer = 0;
  let lines = 0; // complete lines in the pre
  let tail = null; // the Text node of the line being written
  let stick = true;
  let scrollFrame = 0;

  const stepName = h('span', { id: 'log-step', class: 'log-step' });
  const head = h('p', { id: 'log-head', class: 'log-head muted', hidden: true });
  const status = h('p', { id: 'log-status', class: 'log-status', role: 'status' });
  const pre = h('pre', { id: 'log', class: 'log', tabindex: '0', 'aria-label': 'Log of the selected step', hidden: true });
  const el = h('section', { class: 'panel logs', id: 'logs' },
    h('h2', {}, 'Logs', stepName), head, pre, status);

  // A scroll event comes a frame later: by then more lines may have come,
  // so the pane's own scroll is known by where it left the pane, not by
  // being at the bottom.
  let ownTop = -1;
  pre.addEventListener('scroll', () => {
    if (pre.scrollTop === ownTop) return;
    stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
  });
  const toBottom = () => {
    if (!stick || scrollFrame) return;
    scrollFrame = requestAnimationFrame(() => {
      scrollFrame = 0;
      if (!stick) return;
      pre.scrollTop = pre.scrollHeight;
      ownTop = pre.scrollTop;
    });
  };

  function clear() {
    pre.replaceChildren();
    lines = 0;
    tail = null;
    stick = true;
    ownTop = -1;
  }
  function newTail() {
    tail = document.createTextNode('');
    pre.append(tail);
  }
  function trim() {
    while (lines > MAX_LINES && pre.firstChild) {
      pre.firstChild.remove();
      lines--;
    }
  }
  function addText(data) {
    const parts = String(data).split('\n');
    if (!tail) newTail();
    tail.appendData(parts[0]);
    for (let i = 1; i < parts.length; i++) {
      tail.appendData('\n');
      lines++;
      newTail();
      tail.appendData(parts[i]);
    }
    trim();
    toBottom();
  }
  // A line of the page's own (a marker), never mixed with the log's text.
  function addMarker(text, cls) {
    if (tail && tail.length) {
      tail.appendData('\n');
      lines++;
    } else if (tail) tail.remove();
    pre.append(h('span', { class: `marker ${cls}`, text: `${text}\n` }));
    lines++;
    newTail();
    trim();
    toBottom();
  }

  function setStatus(text, kind) {
    setText(status, text);
    status.className = `log-status ${kind || ''}`;
  }

  function keyOf(st) {
    return st ? `${st.phase || 'Pending'}/${st.attempts ?? ''}` : '';
  }

  function ask() {
    clearTimeout(retryTimer);
    if (!cur) return;
    askedAt = { key: keyOf(stepNow), attempts: stepNow ? stepNow.attempts ?? '' : '' };
    state = 'asking';
    asked = true;
    setStatus('Asking for the logs…', 'info');
    conn.logs(cur.ns, cur.run, cur.step);
  }

  function stop() {
    clearTimeout(retryTimer);
    if (asked) conn.logsStop();
    asked = false;
    state = 'idle';
  }

  function ended(msg) {
    state = 'ended';
    const code = msg.code === undefined || msg.code === null ? null : msg.code;
    const running = !!(stepNow && !DONE.has(stepNow.phase));
    lastEnd = { code };
    if (code === null) {
      // A message without a code: the operator could not go on.
      setStatus(msg.message || 'container finished', msg.message ? 'error' : 'done');
    } else {
      const text = msg.message || (code === 404 ? 'the step has no pod yet' : 'the logs cannot be read');
      if (code === 404 && stepNow && stepNow.phase === 'Skipped') setStatus('This step was skipped: it never ran, it has no logs.', 'muted');
      else setStatus(code ? `${text} (HTTP ${code})` : text, code === 404 ? 'info' : 'error');
    }
    if (reask()) return;
    // Not there yet (no pod, a container waiting to start, the API server
    // busy): asked again a little later while the step has not ended. A
    // refusal (403) or an anonymous tab (0) is not asked again.
    if (code !== null && code !== 0 && code !== 403 && running) {
      const { ns, run, step } = cur;
      retryTimer = setTimeout(() => {
        if (cur && cur.ns === ns && cur.run === run && cur.step === step && state === 'ended') ask();
      }, RETRY_MS[Math.min(retries++, RETRY_MS.length - 1)]);
    }
  }

  // After a stream ended: a new phase or attempt of the step (a pending
  // step got a pod, a retry made a new one) is asked for again. A stream
  // that ended on its own (the container finished) showed all its pod
  // had: asked again only for a new attempt (a new pod). Clicking the step
  // asks again anyway.
  function reask() {
    if (state !== 'ended' || !cur || !stepNow || !askedAt || !lastEnd) return false;
    if (keyOf(stepNow) === askedAt.key || lastEnd.code === 0 || lastEnd.code === 403) return false;
    const newPod = (stepNow.attempts ?? '') !== askedAt.attempts;
    if (!newPod && lastEnd.code === null) return false;
    retries = 0;
    ask();
    return true;
  }

  return {
    el,
    // select(ns, run, step, stepObj): follow that step (step null: none).
    select(ns, run, step, stepObj) {
      if (cur && step && cur.ns === ns && cur.run === run && cur.step === step) {
        // The same step again: asked again if its stream had ended.
        stepNow = stepObj || stepNow;
        if (state === 'ended') ask();
        return;
      }
      stop();
      clear();
      pod = '';
      retries = 0;
      lastEnd = null;
      head.hidden = true;
      pre.hidden = true;
      stepNow = stepObj || null;
      cur = step ? { ns, run, step } : null;
      setText(stepName, step ? ` · step ${step}` : '');
      if (!cur) {
        setStatus('Select a step in the graph to see its logs.', 'muted');
        return;
      }
      ask();
    },
    // update(stepObj): the selected step as the run's detail now has it.
    update(stepObj) {
      stepNow = stepObj || null;
      reask();
    },
    // signedIn(): a new hello; a stream refused for want of a person
    // (code 0: "sign in to read logs") is asked for again.
    signedIn() {
      if (cur && state === 'ended' && lastEnd && lastEnd.code === 0 && !(conn.hello && conn.hello.anonymous)) ask();
    },
    // stop(): leaving the run page.
    stop() {
      stop();
      cur = null;
    },
    apply(msg) {
      if (!cur) return;
      if (msg.type === 'logs_start') {
        if (msg.namespace !== cur.ns || msg.name !== cur.run || msg.step !== cur.step || state === 'idle') return;
        // The same pod again (asked again after the stream ended, or a new
        // socket): its last lines come again, so start over. Another pod
        // (a retry) follows the one before.
        if (pod && msg.pod === pod) clear();
        else if (pod) addMarker(`── pod ${msg.pod || '?'} ──`, 'pod');
        pod = msg.pod || '';
        retries = 0;
        state = 'live';
        head.hidden = false;
        pre.hidden = false;
        setText(head, `pod ${msg.pod || '?'} · container ${msg.container || '?'}`);
        setStatus('Following the container’s output…', 'live');
      } else if (msg.type === 'log') {
        if (msg.step !== cur.step || state !== 'live') return;
        if (msg.skipped !== undefined) addMarker(`[… ${Number(msg.skipped) || 0} bytes skipped]`, 'skipped');
        if (typeof msg.data === 'string' && msg.data) addText(msg.data);
      } else if (msg.type === 'logs_end') {
        if (msg.step !== cur.step || (state !== 'asking' && state !== 'live')) return;
        ended(msg);
      }
    },
    lines: () => lines,
  };
}
