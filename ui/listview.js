// A live table of namespaced objects (the Workflows page, the Triggers
// page): a Map keyed "ns/name" kept up to date from a full list message
// ({items}), changes ({item}) and deletions ({namespace, name}); sorted by
// namespace then name, filtered by namespace and name, drawn once per
// frame. A row is made again only when its object changed; columns marked
// tick (an age) are refreshed every 10 s.
//
// createListView({id, noun, title, types: [list, item, deleted], columns})
// columns: [{key, label, cell(obj, now) -> text | Node | [..], title?(obj), tick?}]
// Element ids: #ID-view, #ID (the table), #ID-body (rows: tr[data-key="ns/name"],
// cells td.c-KEY), #ID-namespace, #ID-name, #ID-count, #ID-empty.
import { h, setText } from './dom.js';

const keyOf = (ns, name) => `${ns}/${name}`;
const byName = (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

function fillCell(td, v) {
  if (v instanceof Node || Array.isArray(v)) td.replaceChildren(...[v].flat().filter((x) => x !== null && x !== undefined && x !== ''));
  else setText(td, v);
}

export function createListView({ id, noun, title, types, columns }) {
  const [listType, itemType, deletedType] = types;
  const items = new Map();
  const rows = new Map(); // key -> {tr, obj, cells}
  let loaded = false;
  let visible = false;
  let frame = 0;
  let unavailable = '';
  const filter = { namespace: '', text: '' };

  const nsSelect = h('select', { id: `${id}-namespace`, 'aria-label': 'Namespace', on: { change: () => { filter.namespace = nsSelect.value; schedule(); } } },
    h('option', { value: '', text: 'Namespace: all' }));
  const text = h('input', { id: `${id}-name`, type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter by name', autocomplete: 'off',
    on: { input: () => { filter.text = text.value.trim().toLowerCase(); schedule(); } } });
  const count = h('span', { class: 'count', id: `${id}-count`, 'aria-live': 'polite' });
  const tbody = h('tbody', { id: `${id}-body` });
  const table = h('table', { class: `list ${id}`, id },
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col', text: c.label })))), tbody);
  const empty = h('p', { class: 'empty', id: `${id}-empty`, text: `Loading ${noun}…` });
  const el = h('section', { class: `view list-view ${id}-view`, id: `${id}-view`, hidden: true },
    h('h1', { class: 'page-title', text: title }),
    h('div', { class: 'toolbar' }, h('label', { class: 'filter' }, nsSelect), text, count),
    h('div', { class: 'table-wrap' }, table),
    empty);

  function schedule() {
    if (!visible || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }

  function makeRow(key, obj, now) {
    const cells = {};
    const tr = h('tr', { dataset: { key } }, ...columns.map((c) => (cells[c.key] = h('td', { class: `c-${c.key}` }))));
    for (const c of columns) fillColumn(cells[c.key], c, obj, now);
    const row = { tr, obj, cells };
    rows.set(key, row);
    return row;
  }

  function fillColumn(td, c, obj, now) {
    fillCell(td, c.cell(obj, now));
    const t = c.title ? c.title(obj) : '';
    if (t) td.setAttribute('title', t);
    else td.removeAttribute('title');
  }

  function rebuildOptions() {
    const want = [...new Set([...items.values()].map((o) => o.namespace).concat(filter.namespace ? [filter.namespace] : []))].sort();
    const have = [...nsSelect.options].slice(1).map((o) => o.value);
    if (have.length === want.length && have.every((v, i) => v === want[i])) return;
    nsSelect.replaceChildren(nsSelect.options[0], ...want.map((v) => h('option', { value: v, text: v })));
    nsSelect.value = filter.namespace;
  }

  function render() {
    rebuildOptions();
    const now = Date.now();
    const all = [...items.values()].sort(byName);
    const list = all.filter((o) => (!filter.namespace || o.namespace === filter.namespace) && (!filter.text || o.name.toLowerCase().includes(filter.text)));
    const trs = list.map((o) => {
      const key = keyOf(o.namespace, o.name);
      let row = rows.get(key);
      if (!row || row.obj !== o) {
        rows.delete(key);
        row = makeRow(key, o, now);
      }
      return row.tr;
    });
    const kids = tbody.children;
    if (kids.length !== trs.length || trs.some((tr, i) => kids[i] !== tr)) tbody.replaceChildren(...trs);
    for (const k of rows.keys()) if (!items.has(k)) rows.delete(k);
    table.hidden = !list.length || !!unavailable;
    empty.hidden = !!list.length && !unavailable;
    setText(empty, unavailable || (!loaded ? `Loading ${noun}…` : items.size ? `No ${noun} match these filters.` : `No ${noun} to show.`));
    setText(count, loaded && !unavailable ? (list.length === items.size ? `${items.size} ${noun}` : `${list.length} of ${items.size} ${noun}`) : '');
  }

  setInterval(() => {
    if (!visible) return;
    const now = Date.now();
    for (const row of rows.values()) for (const c of columns) if (c.tick) fillColumn(row.cells[c.key], c, row.obj, now);
  }, 10000);

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
      items.clear();
      rows.clear();
      loaded = false;
      schedule();
    },
    // unavailable(text): shown instead of the table ("" for the table).
    unavailable(t) {
      unavailable = t || '';
      schedule();
    },
    // apply(msg) -> whether the message was this list's.
    apply(msg) {
      if (msg.type === listType) {
        items.clear();
        for (const o of msg.items || []) if (o && o.name) items.set(keyOf(o.namespace, o.name), o);
        loaded = true;
      } else if (msg.type === itemType && msg.item && msg.item.name) {
        items.set(keyOf(msg.item.namespace, msg.item.name), msg.item);
      } else if (msg.type === deletedType) {
        if (!items.delete(keyOf(msg.namespace, msg.name))) return true;
      } else return false;
      schedule();
      return true;
    },
  };
}
