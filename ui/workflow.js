// One Workflow (#/workflows/NS/NAME): its params, its DAG (no phases), its
// spec, its recent runs, and the Start run form (a `start` sent with the
// person's own token: the API server decides, and its refusal is shown as
// it is). Updated in place from workflow_detail messages; the recent runs
// come from the runs list (watch_runs), filtered.
import { h, s, setText, setPhase, runHref } from './dom.js';
import { fmtTime, fmtDuration, runDuration } from './format.js';
import { renderDag, selectNode } from './dagview.js';
import { showNotice, placeNotice, refusal, SIGN_IN_TO_ACT } from './notice.js';

export const RECENT_RUNS = 20;
const newer = (a, b) => (b.created || '').localeCompare(a.created || '') || a.name.localeCompare(b.name);

// runsOf(): every run summary the page has (the runs list's).
export function createWorkflowView(conn, runsOf) {
  let cur = null; // {ns, name}
  let detail = null;
  let visible = false;
  let busy = false;
  let frame = 0;
  const inputs = new Map(); // param name -> {input, def}

  const title = h('h1', { id: 'workflow-title' });
  const gone = h('p', { id: 'workflow-gone', class: 'empty', hidden: true });
  const noticeSlot = h('div', { class: 'notice-slot' });
  const fields = {};
  const field = (key, label) => {
    fields[key] = h('dd', { dataset: { field: key } });
    return [h('dt', { text: label }), fields[key]];
  };
  const summary = h('dl', { class: 'summary' }, field('created', 'Created'), field('steps', 'Steps'), field('params', 'Parameters'), field('uid', 'UID'));
  const paramsBody = h('tbody', { id: 'wf-params-body' });
  const noParams = h('p', { class: 'muted', id: 'wf-no-params', text: 'This Workflow has no parameters.' });
  const paramsTable = h('table', { class: 'params wf-params', id: 'wf-params' },
    h('thead', {}, h('tr', {}, ...['Name', 'Value', 'Default', 'Description'].map((t) => h('th', { scope: 'col', text: t })))), paramsBody);
  const startBtn = h('button', { type: 'submit', id: 'start', class: 'primary', text: 'Start run', disabled: true });
  const form = h('form', { id: 'start-form', class: 'start-form', 'aria-labelledby': 'start-title' },
    h('h2', { id: 'start-title', text: 'Start a run' }), noParams, h('div', { class: 'table-wrap' }, paramsTable),
    h('div', { class: 'buttons start-buttons' }, startBtn));
  const svg = s('svg', { id: 'wf-dag', class: 'dag', xmlns: 'http://www.w3.org/2000/svg' });
  const stepsBody = h('tbody', { id: 'wf-steps-body' });
  const runsBody = h('tbody', { id: 'wf-runs-body' });
  const runsTable = h('table', { class: 'runs wf-runs', id: 'wf-runs' },
    h('thead', {}, h('tr', {}, ...['Name', 'Phase', 'Progress', 'Started', 'Duration', 'Trigger'].map((t) => h('th', { scope: 'col', text: t })))), runsBody);
  const noRuns = h('p', { class: 'muted', id: 'wf-no-runs', text: 'No runs of this Workflow.' });
  const spec = h('pre', { id: 'wf-spec', class: 'spec' });

  const body = h('div', { id: 'workflow-body', hidden: true },
    noticeSlot, summary,
    h('section', { class: 'panel' }, form),
    h('section', { class: 'panel' }, h('h2', { text: 'Steps' }), h('div', { class: 'dag-wrap' }, svg),
      h('div', { class: 'table-wrap' }, h('table', { class: 'steps wf-steps' },
        h('thead', {}, h('tr', {}, ...['Step', 'Image', 'Depends on'].map((t) => h('th', { scope: 'col', text: t })))), stepsBody))),
    h('section', { class: 'panel' }, h('h2', { text: `Recent runs` }), noRuns, h('div', { class: 'table-wrap' }, runsTable)),
    h('section', { class: 'panel' }, h('h2', { text: 'Spec' }), spec));
  const el = h('section', { class: 'view workflow-view', id: 'workflow-view', hidden: true },
    h('p', { class: 'back' }, h('a', { href: '#/workflows', id: 'wf-back', text: '← Back to workflows' })),
    title, gone, body);

  const anonymous = () => !!(conn.hello && conn.hello.anonymous);

  function selectStep(name) {
    selectNode(svg, name);
    for (const tr of stepsBody.children) tr.classList.toggle('selected', tr.dataset.step === name);
  }
  stepsBody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr');
    if (tr && tr.dataset.step) selectStep(tr.dataset.step);
  });

  // The form's rows: an input per param, kept (with what was typed) while
  // the Workflow changes; a value still at the old default follows the new.
  function renderParams(params) {
    const seen = new Set();
    const trs = params.map((p) => {
      const name = String(p.name);
      seen.add(name);
      const def = p.default === undefined || p.default === null ? null : String(p.default);
      let it = inputs.get(name);
      if (!it) {
        const input = h('input', { type: 'text', name, id: `param-${inputs.size}`, class: 'param-input', autocomplete: 'off', spellcheck: 'false', dataset: { param: name } });
        input.value = def ?? '';
        it = { input, def };
        inputs.set(name, it);
      } else if (it.def !== def) {
        if (it.input.value === (it.def ?? '')) it.input.value = def ?? '';
        it.def = def;
      }
      it.input.required = def === null;
      it.input.setAttribute('aria-label', `Parameter ${name}`);
      it.input.placeholder = def === null ? 'required' : '';
      return h('tr', { dataset: { param: name } },
        h('th', { scope: 'row' }, h('label', { for: it.input.id, text: name })),
        h('td', { class: 'input' }, it.input),
        h('td', { class: 'default value' }, def === null ? h('span', { class: 'muted', text: '(required)' }) : def),
        h('td', { class: 'description', text: p.description || '' }));
    });
    for (const k of [...inputs.keys()]) if (!seen.has(k)) inputs.delete(k);
    paramsBody.replaceChildren(...trs);
    noParams.hidden = !!params.length;
    paramsTable.hidden = !params.length;
  }

  function renderButton() {
    const anon = anonymous();
    const may = !!(detail && detail.canStart);
    startBtn.disabled = busy || anon || !may;
    const why = anon ? SIGN_IN_TO_ACT : may ? '' : 'you may not create runs here';
    if (why) startBtn.title = why;
    else startBtn.removeAttribute('title');
  }

  function render() {
    const d = detail;
    setText(fields.created, d.created ? fmtTime(d.created) : '—');
    if (d.created) fields.created.setAttribute('title', d.created);
    const steps = Array.isArray(d.steps) ? d.steps : [];
    const nFinally = steps.filter((st) => st.finally).length;
    setText(fields.steps, nFinally ? `${steps.length - nFinally} + ${nFinally} finally` : String(steps.length));
    const params = Array.isArray(d.params) ? d.params.filter((p) => p && p.name !== undefined && p.name !== null) : [];
    setText(fields.params, String(params.length));
    setText(fields.uid, d.uid || '');
    renderParams(params);
    renderButton();
    const sel = [...stepsBody.children].find((tr) => tr.classList.contains('selected'));
    renderDag(svg, steps, selectStep, { phases: false, line: (st) => st.image || '' });
    stepsBody.replaceChildren(...steps.map((st) => h('tr', { dataset: { step: st.name }, class: st.finally ? 'finally' : undefined },
      h('td', { class: 'name' }, st.name, st.finally ? h('span', { class: 'tag', text: 'finally' }) : null),
      h('td', { class: 'image', text: st.image || '' }),
      h('td', { class: 'deps', text: Array.isArray(st.dependsOn) ? st.dependsOn.join(', ') : '' }))));
    if (sel) selectStep(sel.dataset.step);
    setText(spec, d.spec === undefined ? '' : JSON.stringify(d.spec, null, 2));
    renderRuns();
  }

  function runRow(r, now) {
    const phase = h('span', { class: 'phase' });
    setPhase(phase, r.phase || '');
    return h('tr', { dataset: { key: `${r.namespace}/${r.name}`, phase: r.phase || '' } },
      h('td', { class: 'c-name' }, h('a', { href: runHref(r.namespace, r.name), text: r.name })),
      h('td', { class: 'c-phase' }, phase),
      h('td', { class: 'c-progress', text: r.progress || '' }),
      h('td', { class: 'c-started', text: fmtTime(r.started), title: r.started || undefined }),
      h('td', { class: 'c-duration num', text: fmtDuration(runDuration(r, now)) }),
      h('td', { class: 'c-trigger', text: r.trigger || '' }));
  }

  function renderRuns() {
    if (!cur) return;
    const now = Date.now();
    const list = [];
    for (const r of runsOf()) if (r.namespace === cur.ns && r.workflow === cur.name) list.push(r);
    list.sort(newer);
    const shown = list.slice(0, RECENT_RUNS);
    runsBody.replaceChildren(...shown.map((r) => runRow(r, now)));
    runsTable.hidden = !shown.length;
    noRuns.hidden = !!shown.length;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!cur || !detail || startBtn.disabled) return;
    const { ns, name } = cur;
    // Every value that is not the default (an omitted param takes it).
    const params = {};
    for (const [k, it] of inputs) if (it.input.value !== (it.def ?? '') || it.def === null) params[k] = it.input.value;
    busy = true;
    renderButton();
    showNotice('Starting a run…', 'info');
    const res = await conn.startRun(ns, name, params);
    busy = false;
    renderButton();
    if (!cur || cur.ns !== ns || cur.name !== name) return;
    if (res.ok && res.name) {
      showNotice('');
      location.hash = runHref(ns, res.name);
    } else {
      showNotice(refusal('Start', res), 'error');
    }
  });

  return {
    el,
    open(ns, name) {
      const same = cur && cur.ns === ns && cur.name === name;
      visible = true;
      el.hidden = false;
      if (same) {
        renderRuns();
        return;
      }
      cur = { ns, name };
      detail = null;
      busy = false;
      inputs.clear();
      paramsBody.replaceChildren();
      setText(title, `${ns} / ${name}`);
      document.title = `${name} · Workflow · Runbook`;
      placeNotice(noticeSlot);
      body.hidden = true;
      setText(gone, 'Loading…');
      gone.hidden = false;
      svg.replaceChildren();
      conn.watchWorkflow(ns, name);
    },
    close() {
      visible = false;
      el.hidden = true;
      cur = null;
      detail = null;
      conn.watchWorkflow(null);
    },
    refresh() {
      if (detail) renderButton();
    },
    // runsChanged(): the runs list changed; the recent runs follow (once a frame).
    runsChanged() {
      if (!visible || !detail || frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (visible && detail) renderRuns();
      });
    },
    apply(msg) {
      if (msg.type !== 'workflow_detail' || !cur) return;
      const item = msg.item;
      const ns = item ? item.namespace : msg.namespace;
      const name = item ? item.name : msg.name;
      if (ns !== cur.ns || name !== cur.name) return;
      if (msg.gone || !item) {
        detail = null;
        body.hidden = true;
        gone.hidden = false;
        setText(gone, 'This Workflow does not exist (it was deleted, or you may not see it).');
        return;
      }
      detail = item;
      gone.hidden = true;
      body.hidden = false;
      render();
    },
  };
}
