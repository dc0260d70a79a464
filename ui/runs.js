// The runs list (#/): a Map of runs keyed by "ns/name", kept up to date from
// runs / run / run_deleted messages. Filters and paging happen here; only
// the rows of the page on screen exist in the DOM, and a row is touched
// only when its run changed. Renders are batched to one per frame.
import { h, setText, setPhase, runHref } from './dom.js';
import { fmtDuration, fmtTime, runDuration, isTicking } from './format.js';
import { workflowHref } from './workflows.js';

export const PAGE = 50;
const FILTERS = [
  ['namespace', 'Namespace', (r) => r.namespace],
  ['workflow', 'Workflow', (r) => r.workflow],
  ['phase', 'Phase', (r) => r.phase || 'New'],
  ['trigger', 'Trigger', (r) => r.trigger || '(none)'],
];
const keyOf = (ns, name) => `${ns}/${name}`;
// Newest first: by creation time, then name (created is RFC 3339 UTC, so
// strings compare as times).
const newer = (a, b) =>
  (b.created || '').localeCompare(a.created || '') || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

export function createRunsView() {
  const runs = new Map();
  const rows = new Map(); // key -> {tr, cells, shown: last rendered values}
  let sorted = null; // the runs, newest first (null: to sort again)
  let loaded = false;
  let visible = false;
  let page = 0;
  let frame = 0;
  let optionsDirty = true;
  const filter = { namespace: '', workflow: '', phase: '', trigger: '', text: '' };

  const selects = {};
  const filterEls = FILTERS.map(([key, label]) => {
    const sel = h('select', { id: `f-${key}`, 'aria-label': label, on: { change: () => { filter[key] = sel.value; page = 0; schedule(); } } },
      h('option', { value: '', text: `${label}: all` }));
    selects[key] = sel;
    return h('label', { class: 'filter' }, sel);
  });
  const text = h('input', { id: 'f-name', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter by name', autocomplete: 'off',
    on: { input: () => { filter.text = text.value.trim().toLowerCase(); page = 0; schedule(); } } });
  const count = h('span', { class: 'count', id: 'runs-count', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', id: 'page-prev', text: '‹ Newer', on: { click: () => { page--; schedule(); } } });
  const next = h('button', { type: 'button', id: 'page-next', text: 'Older ›', on: { click: () => { page++; schedule(); } } });
  const pageInfo = h('span', { class: 'page-info', id: 'page-info' });
  const tbody = h('tbody', { id: 'runs-body' });
  const empty = h('p', { class: 'empty', id: 'runs-empty', text: 'Loading runs…' });
  const table = h('table', { class: 'runs', id: 'runs' },
    h('thead', {}, h('tr', {}, ...['Namespace', 'Workflow', 'Name', 'Phase', 'Progress', 'Current step', 'Started', 'Duration', 'Trigger']
      .map((t) => h('th', { scope: 'col', text: t })))),
    tbody);
  const el = h('section', { class: 'view runs-view', id: 'runs-view', hidden: true },
    h('div', { class: 'toolbar' }, ...filterEls, text, count),
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, pageInfo, next));

  function schedule() {
    if (!visible || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }

  function makeRow(key) {
    const cells = {};
    const td = (name, cls) => (cells[name] = h('td', { class: `c-${name}${cls ? ` ${cls}` : ''}` }));
    const link = h('a');
    const wfLink = h('a');
    const phase = h('span', { class: 'phase' });
    const bar = h('progress', { max: '1', value: '0' });
    const prog = h('span', { class: 'progress-text' });
    const tr = h('tr', { dataset: { key } },
      td('namespace'), td('workflow'), td('name'), td('phase'), td('progress'), td('current'), td('started'), td('duration', 'num'), td('trigger'));
    cells.name.append(link);
    cells.workflow.append(wfLink);
    cells.phase.append(phase);
    cells.progress.append(bar, prog);
    const row = { tr, cells, link, wfLink, phase, bar, prog, shown: {} };
    rows.set(key, row);
    return row;
  }

  function fillRow(row, r, now) {
    const sh = row.shown;
    const put = (k, v, fn) => {
      if (sh[k] !== v) {
        sh[k] = v;
        fn(v);
      }
    };
    put('namespace', r.namespace, (v) => setText(row.cells.namespace, v));
    put('workflow', r.workflow || '', (v) => {
      setText(row.wfLink, v);
      if (v) row.wfLink.setAttribute('href', workflowHref(r.namespace, v));
      else row.wfLink.removeAttribute('href');
    });
    put('name', r.name, (v) => {
      setText(row.link, v);
      row.link.setAttribute('href', runHref(r.namespace, r.name));
    });
    put('phase', r.phase || '', (v) => {
      setPhase(row.phase, v);
      row.tr.dataset.phase = v;
    });
    put('cancel', !!r.cancelRequested, (v) => row.tr.classList.toggle('cancel-requested', v));
    put('progress', r.progress || '', (v) => {
      setText(row.prog, v);
      const m = /^(\d+)\/(\d+)$/.exec(v);
      row.bar.hidden = !m;
      if (m) {
        row.bar.max = Math.max(1, Number(m[2]));
        row.bar.value = Number(m[1]);
        row.bar.setAttribute('aria-label', `${m[1]} of ${m[2]} steps done`);
      }
    });
    put('current', r.currentStep || '', (v) => setText(row.cells.current, v));
    put('started', r.started || '', (v) => {
      setText(row.cells.started, fmtTime(v));
      if (v) row.cells.started.setAttribute('title', v);
      else row.cells.started.removeAttribute('title');
    });
    setText(row.cells.duration, fmtDuration(runDuration(r, now)));
    put('trigger', r.trigger || '', (v) => setText(row.cells.trigger, v));
  }

  function rebuildOptions() {
    optionsDirty = false;
    for (const [key, , get] of FILTERS) {
      const values = new Set();
      for (const r of runs.values()) values.add(get(r));
      if (filter[key]) values.add(filter[key]); // keep the chosen one even if it is gone
      const want = [...values].sort();
      const sel = selects[key];
      const have = [...sel.options].slice(1).map((o) => o.value);
      if (have.length === want.length && have.every((v, i) => v === want[i])) continue;
      sel.replaceChildren(sel.options[0], ...want.map((v) => h('option', { value: v, text: v })));
      sel.value = filter[key];
    }
  }

  function matches(r) {
    for (const [key, , get] of FILTERS) if (filter[key] && get(r) !== filter[key]) return false;
    return !filter.text || r.name.toLowerCase().includes(filter.text);
  }

  function render() {
    if (optionsDirty) rebuildOptions();
    if (!sorted) sorted = [...runs.values()].sort(newer);
    const list = sorted.filter(matches);
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    page = Math.min(Math.max(0, page), pages - 1);
    const slice = list.slice(page * PAGE, page * PAGE + PAGE);
    const now = Date.now();
    const trs = slice.map((r) => {
      const key = keyOf(r.namespace, r.name);
      const row = rows.get(key) || makeRow(key);
      fillRow(row, r, now);
      return row.tr;
    });
    const kids = tbody.children;
    if (kids.length !== trs.length || trs.some((tr, i) => kids[i] !== tr)) tbody.replaceChildren(...trs);
    // Rows off the page are dropped; they are made again when shown.
    if (rows.size > 4 * PAGE) {
      const keep = new Set(slice.map((r) => keyOf(r.namespace, r.name)));
      for (const k of rows.keys()) if (!keep.has(k)) rows.delete(k);
    }
    table.hidden = !list.length;
    empty.hidden = !!list.length;
    setText(empty, !loaded ? 'Loading runs…' : runs.size ? 'No run matches these filters.' : 'No runs to show.');
    setText(count, loaded ? (list.length === runs.size ? `${runs.size} runs` : `${list.length} of ${runs.size} runs`) : '');
    setText(pageInfo, list.length ? `${page * PAGE + 1}–${page * PAGE + slice.length} of ${list.length}` : '');
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    if (loaded && !performance.getEntriesByName('runbook:runs-painted').length) performance.mark('runbook:runs-painted');
  }

  // The duration of running runs on screen, every second.
  function tick() {
    if (!visible || !sorted) return;
    const now = Date.now();
    for (const tr of tbody.children) {
      const r = runs.get(tr.dataset.key);
      if (r && isTicking(r)) setText(rows.get(tr.dataset.key).cells.duration, fmtDuration(runDuration(r, now)));
    }
  }
  setInterval(tick, 1000);

  const knownValue = (r) => FILTERS.every(([key, , get]) => [...selects[key].options].some((o) => o.value === get(r)));

  return {
    el,
    show() {
      visible = true;
      el.hidden = false;
      schedule();
    },
    hide() {
      visible = false;
      el.hidden = true;
    },
    reset() {
      runs.clear();
      rows.clear();
      sorted = null;
      loaded = false;
      optionsDirty = true;
      schedule();
    },
    // Messages from the operator.
    apply(msg) {
      if (msg.type === 'runs') {
        // For the tests (test/ui/scale.test.mjs): when the list arrived and
        // when it was first on screen.
        if (!loaded) performance.mark('runbook:runs-received');
        runs.clear();
        for (const r of msg.items || []) if (r && r.name) runs.set(keyOf(r.namespace, r.name), r);
        sorted = null;
        loaded = true;
        optionsDirty = true;
      } else if (msg.type === 'run' && msg.item && msg.item.name) {
        const r = msg.item;
        const key = keyOf(r.namespace, r.name);
        const old = runs.get(key);
        runs.set(key, r);
        if (!old || old.created !== r.created) sorted = null;
        else if (sorted) sorted[sorted.indexOf(old)] = r;
        if (!optionsDirty && !knownValue(r)) optionsDirty = true;
      } else if (msg.type === 'run_deleted') {
        const key = keyOf(msg.namespace, msg.name);
        if (!runs.delete(key)) return;
        rows.delete(key);
        sorted = null;
        optionsDirty = true;
      } else return;
      schedule();
    },
    get(ns, name) {
      return runs.get(keyOf(ns, name));
    },
    // items(): every run summary held (for the Workflow page's recent runs).
    items() {
      return runs.values();
    },
  };
}
