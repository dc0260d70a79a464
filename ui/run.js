// One run (#/runs/NS/NAME): phase, failure, DAG, steps, the selected
// step's logs (logs.js), params, events and the Cancel button with its
// confirmation dialog. Built once per run shown, then updated in place from
// run_detail messages.
import { h, s, setText, setPhase, phaseLabel, phaseClass, runHref } from './dom.js';
import { fmtDuration, fmtTime, duration, runDuration, isTicking, TERMINAL } from './format.js';
import { renderDag, updateDag, selectNode } from './dagview.js';
import { createLogPane } from './logs.js';
import { notice, showNotice, placeNotice, refusal, SIGN_IN_TO_ACT } from './notice.js';
import { workflowHref } from './workflows.js';

export function createRunView(conn) {
  let cur = null; // {ns, name}
  let detail = null;
  let visible = false;
  let selected = null; // the step whose logs are shown
  let chosen = false; // selected by the person (not the default)
  let againBusy = false;
  const logs = createLogPane(conn);
  const anonymous = () => !!(conn.hello && conn.hello.anonymous);

  const title = h('h1', { id: 'run-title' });
  const phase = h('span', { class: 'phase phase-Unknown', id: 'run-phase' });
  const cancelTag = h('span', { class: 'tag', id: 'cancel-requested', text: 'cancel requested', hidden: true });
  const cancelBtn = h('button', { type: 'button', id: 'cancel', class: 'danger', text: 'Cancel run', disabled: true });
  const againBtn = h('button', { type: 'button', id: 'run-again', text: 'Run again' });
  const noticeSlot = h('div', { class: 'notice-slot' });
  const gone = h('p', { id: 'run-gone', class: 'empty', hidden: true });
  const fields = {};
  const field = (key, label) => {
    fields[key] = h('dd', { dataset: { field: key } });
    return [h('dt', { text: label }), fields[key]];
  };
  const workflowLink = h('a');
  const summary = h('dl', { class: 'summary' },
    field('workflow', 'Workflow'), field('trigger', 'Trigger'), field('progress', 'Progress'), field('current', 'Current step'),
    field('created', 'Created'), field('started', 'Started'), field('completed', 'Completed'), field('duration', 'Duration'));
  const reason = h('span', { class: 'reason', id: 'run-reason' });
  const message = h('span', { class: 'message', id: 'run-message' });
  const outcome = h('div', { class: 'outcome', id: 'run-outcome' }, reason, message);
  const failure = h('div', { class: 'failure', id: 'failed-step', hidden: true });
  const svg = s('svg', { id: 'dag', class: 'dag', xmlns: 'http://www.w3.org/2000/svg' });
  const stepsBody = h('tbody', { id: 'steps-body' });
  const paramsBody = h('tbody', { id: 'params-body' });
  const noParams = h('p', { class: 'muted', text: 'No parameters.' });
  const eventsList = h('ol', { class: 'events', id: 'events' });
  const noEvents = h('p', { class: 'muted', text: 'No events.' });

  const yes = h('button', { type: 'button', id: 'confirm-yes', class: 'danger', text: 'Cancel the run' });
  const no = h('button', { type: 'button', id: 'confirm-no', text: 'Keep it running' });
  const confirmText = h('p', { id: 'confirm-text' });
  const dialog = h('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title' },
    h('h2', { id: 'confirm-title', text: 'Cancel this run?' }),
    confirmText,
    h('p', { class: 'muted', text: 'Running steps are stopped; finally steps still run. A cancel cannot be undone.' }),
    h('div', { class: 'buttons' }, no, yes));

  const body = h('div', { id: 'run-body' },
    h('div', { class: 'run-head' }, phase, cancelTag, againBtn, cancelBtn),
    noticeSlot, outcome, failure, summary,
    h('section', { class: 'panel' }, h('h2', { text: 'Steps' }), h('div', { class: 'dag-wrap' }, svg),
      h('div', { class: 'table-wrap' }, h('table', { class: 'steps' },
        h('thead', {}, h('tr', {}, ...['Step', 'Phase', 'Attempts', 'Started', 'Duration', 'Exit code', 'Reason', 'Message', 'Job']
          .map((t) => h('th', { scope: 'col', text: t })))),
        stepsBody))),
    logs.el,
    h('section', { class: 'panel' }, h('h2', { text: 'Parameters' }), noParams,
      h('table', { class: 'params', id: 'params' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Name' }), h('th', { scope: 'col', text: 'Value' }))), paramsBody)),
    h('section', { class: 'panel' }, h('h2', { text: 'Events' }), noEvents, eventsList));

  const el = h('section', { class: 'view run-view', id: 'run-view', hidden: true },
    h('p', { class: 'back' }, h('a', { href: '#/', id: 'back', text: '← Back to runs' })),
    title, gone, body, dialog);

  cancelBtn.addEventListener('click', () => {
    if (!cur || cancelBtn.disabled) return;
    setText(confirmText, `${cur.ns}/${cur.name} will be cancelled.`);
    showNotice('');
    dialog.showModal();
    no.focus();
  });
  no.addEventListener('click', () => dialog.close('no'));
  yes.addEventListener('click', async () => {
    dialog.close('yes');
    if (!cur) return;
    const { ns, name } = cur;
    cancelBtn.disabled = true;
    showNotice('Cancelling…', 'info');
    const res = await conn.cancel(ns, name);
    if (!cur || cur.ns !== ns || cur.name !== name) return;
    if (res.ok) {
      showNotice('Cancel requested. The operator is stopping the run.', 'info');
    } else {
      showNotice(refusal('Cancel', res), 'error');
      cancelBtn.disabled = anonymous() || !(detail && detail.canCancel);
    }
  });

  // A new run with the same Workflow and params, created with the person's
  // own token: the API server decides, and its refusal is shown as is.
  againBtn.addEventListener('click', async () => {
    if (!cur) return;
    const { ns, name } = cur;
    againBusy = true;
    againBtn.disabled = true;
    showNotice('Starting a new run…', 'info');
    const res = await conn.runAgain(ns, name);
    againBusy = false;
    againBtn.disabled = anonymous();
    if (!cur || cur.ns !== ns || cur.name !== name) return;
    if (res.ok && res.name) {
      showNotice('');
      location.hash = runHref(ns, res.name);
    } else {
      showNotice(refusal('Run again', res), 'error');
    }
  });

  // A matrix step's combinations follow its row, each with its values;
  // selecting one selects the step.
  function stepRows(st, now) {
    const combos = Array.isArray(st.combinations) ? st.combinations : [];
    return [stepRow(st, now), ...combos.map((c) => stepRow({ ...c, name: st.name, finally: st.finally }, now, c))];
  }

  function stepRow(st, now, combo) {
    const d = duration(st.started, st.completed, now);
    const label = combo ? h('span', { class: 'combo', text: `[${combo.index}] ${combo.values || ''}` }) : st.name;
    return h('tr', { dataset: combo ? { step: st.name, combo: String(combo.index) } : { step: st.name }, class: combo ? 'combination' : st.finally ? 'finally' : undefined },
      h('td', { class: 'name' }, label, st.finally && !combo ? h('span', { class: 'tag', text: 'finally' }) : null),
      h('td', {}, h('span', { class: `phase ${phaseClass(st.phase || 'Pending')}`, text: st.phase || 'Pending' })),
      h('td', { class: 'num', text: st.attempts ?? '' }),
      h('td', { text: fmtTime(st.started), title: st.started || undefined }),
      h('td', { class: 'num duration', text: fmtDuration(d) }),
      h('td', { class: 'num', text: st.exitCode ?? '' }),
      h('td', { text: st.reason || '' }),
      h('td', { class: 'message', text: st.message || '' }),
      h('td', { class: 'job', text: st.job || '' }));
  }

  // The selected step: marked in the DAG and the table, its logs below.
  function markSelected() {
    selectNode(svg, selected);
    for (const tr of stepsBody.children) {
      tr.classList.toggle('selected', tr.dataset.step === selected);
      if (tr.dataset.step === selected) tr.setAttribute('aria-selected', 'true');
      else tr.removeAttribute('aria-selected');
    }
  }
  const stepOf = (name) => (detail && Array.isArray(detail.steps) ? detail.steps.find((st) => st.name === name) : undefined);
  function select(name, byPerson) {
    if (!cur) return;
    if (byPerson) chosen = true;
    selected = name;
    markSelected();
    logs.select(cur.ns, cur.name, name, stepOf(name));
  }
  function selectStep(name) {
    select(name, true);
    const tr = [...stepsBody.children].find((t) => t.dataset.step === name);
    if (tr) tr.scrollIntoView({ block: 'nearest' });
  }
  stepsBody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr && tr.dataset.step) select(tr.dataset.step, true);
  });
  // Until the person picks one: the first failed step, else a running one.
  function autoSelect(steps) {
    if (chosen) return;
    const failed = steps.find((st) => st.phase === 'Failed');
    const cur_ = steps.find((st) => st.name === selected);
    if (failed && (!cur_ || cur_.phase !== 'Failed')) select(failed.name, false);
    else if (!cur_) {
      const running = steps.find((st) => st.phase === 'Running');
      if (running) select(running.name, false);
    }
  }

  function render() {
    const d = detail;
    const now = Date.now();
    setPhase(phase, d.phase || '');
    el.dataset.phase = d.phase || '';
    const anon = anonymous();
    cancelBtn.disabled = anon || !d.canCancel;
    // "Cancel requested" has served its purpose once the run has ended.
    if (TERMINAL.has(d.phase) && notice.classList.contains('info')) showNotice('');
    cancelBtn.title = anon ? SIGN_IN_TO_ACT : d.canCancel ? '' : d.cancelRequested ? 'A cancel was already requested.' : 'You may not cancel this run, or it has ended.';
    againBtn.disabled = anon || againBusy;
    againBtn.title = anon ? SIGN_IN_TO_ACT : '';
    setText(reason, d.reason || '');
    setText(message, d.message || '');
    outcome.hidden = !d.message && (!d.reason || d.reason === d.phase);
    if (d.workflow) {
      setText(workflowLink, d.workflow);
      workflowLink.setAttribute('href', workflowHref(d.namespace || cur.ns, d.workflow));
      if (workflowLink.parentNode !== fields.workflow) fields.workflow.replaceChildren(workflowLink);
    } else fields.workflow.replaceChildren();
    setText(fields.trigger, d.trigger || '—');
    setText(fields.progress, d.progress || '');
    setText(fields.current, d.currentStep || '—');
    for (const k of ['created', 'started', 'completed']) {
      setText(fields[k], d[k] ? fmtTime(d[k]) : '—');
      if (d[k]) fields[k].setAttribute('title', d[k]);
    }
    setText(fields.duration, fmtDuration(runDuration(d, now)) || '—');
    cancelTag.hidden = !d.cancelRequested || d.phase === 'Cancelling' || d.phase === 'Cancelled';

    const steps = Array.isArray(d.steps) ? d.steps : [];
    const failed = steps.filter((st) => st.phase === 'Failed');
    failure.hidden = !failed.length;
    failure.replaceChildren(...failed.map((st) => h('p', {},
      h('strong', { text: `Step ${st.name} failed` }),
      st.exitCode !== undefined && st.exitCode !== null ? ` with exit code ${st.exitCode}` : '',
      st.reason ? ` (${st.reason})` : '',
      st.message ? ': ' : '', st.message ? h('span', { class: 'message', text: st.message }) : '')));
    renderDag(svg, steps, selectStep);
    stepsBody.replaceChildren(...steps.flatMap((st) => stepRows(st, now)));
    if (selected && !steps.some((st) => st.name === selected)) select(null, false);
    markSelected();
    autoSelect(steps);
    if (selected) logs.update(stepOf(selected));

    const params = d.params && typeof d.params === 'object' ? Object.entries(d.params) : [];
    noParams.hidden = !!params.length;
    paramsBody.parentElement.hidden = !params.length;
    paramsBody.replaceChildren(...params.map(([k, v]) => h('tr', { dataset: { param: k } }, h('th', { scope: 'row', text: k }), h('td', { class: 'value', text: v }))));

    const events = Array.isArray(d.events) ? d.events : [];
    noEvents.hidden = !!events.length;
    eventsList.replaceChildren(...events.map((ev) => h('li', { class: ev.type === 'Warning' ? 'warning' : undefined },
      h('time', { text: fmtTime(ev.time), datetime: ev.time || undefined }),
      h('span', { class: 'ev-type', text: ev.type || '' }),
      h('span', { class: 'ev-reason', text: ev.reason || '' }),
      h('span', { class: 'message', text: ev.message || '' }))));
  }

  function tick() {
    if (!visible || !detail) return;
    const now = Date.now();
    if (isTicking(detail)) setText(fields.duration, fmtDuration(runDuration(detail, now)));
    const steps = Array.isArray(detail.steps) ? detail.steps : [];
    if (steps.some((st) => st.started && !st.completed)) {
      updateDag(svg, steps, now);
      for (const tr of stepsBody.children) {
        const top = steps.find((x) => x.name === tr.dataset.step);
        const st = tr.dataset.combo !== undefined && top && Array.isArray(top.combinations)
          ? top.combinations.find((c) => String(c.index) === tr.dataset.combo) : top;
        if (st && st.started && !st.completed) setText(tr.querySelector('.duration'), fmtDuration(duration(st.started, null, now)));
      }
    }
  }
  setInterval(tick, 1000);

  return {
    el,
    open(ns, name) {
      const same = cur && cur.ns === ns && cur.name === name;
      visible = true;
      el.hidden = false;
      if (same) return;
      logs.stop();
      cur = { ns, name };
      detail = null;
      selected = null;
      chosen = false;
      logs.select(ns, name, null);
      if (dialog.open) dialog.close();
      setText(title, `${ns} / ${name}`);
      document.title = `${name} · Runbook`;
      placeNotice(noticeSlot);
      gone.hidden = true;
      body.hidden = true;
      setText(gone, 'Loading…');
      gone.hidden = false;
      svg.replaceChildren();
      conn.watchRun(ns, name);
    },
    close() {
      visible = false;
      el.hidden = true;
      if (dialog.open) dialog.close();
      if (cur) logs.stop();
      cur = null;
      detail = null;
      conn.watchRun(null);
    },
    // refresh(): the hello changed (signed in, or anonymous): the buttons.
    refresh() {
      if (detail && visible) render();
      logs.signedIn();
    },
    applyLogs(msg) {
      if (cur) logs.apply(msg);
    },
    apply(msg) {
      if (msg.type !== 'run_detail' || !cur) return;
      const item = msg.item;
      const ns = item ? item.namespace : msg.namespace;
      const name = item ? item.name : msg.name;
      if (ns !== cur.ns || name !== cur.name) return;
      if (msg.gone || !item) {
        detail = null;
        if (selected) select(null, false);
        body.hidden = true;
        gone.hidden = false;
        if (dialog.open) dialog.close();
        setText(gone, 'This run does not exist (it was deleted, or you may not see it).');
        el.dataset.phase = 'gone';
        return;
      }
      detail = item;
      gone.hidden = true;
      body.hidden = false;
      render();
    },
    phaseOf: () => (detail ? phaseLabel(detail.phase) : ''),
  };
}
