// Draws a run's (or a Workflow's) steps as inline SVG, built with
// createElementNS: one <g class="node phase-X" data-step=NAME> (a <rect>, a
// <text>, a <title>) per step (a Workflow's: class "node spec", no phase), one <path class="edge" data-from data-to> per dependsOn edge,
// finally steps in a labelled group of their own. The layout is redone only
// when the shape (names, dependsOn, finally) changes; otherwise only the
// phases and texts are updated.
import { layout, edgePath, fit, NODE_H, CHAR_W, CHAR_W_SMALL } from './dag.js';
import { s, setText, setPhase, phaseLabel } from './dom.js';
import { duration, fmtDuration } from './format.js';

const state = new WeakMap();

const shapeOf = (steps) => JSON.stringify(steps.map((st) => [st.name, !!st.finally, st.dependsOn || []]));

export function stepLine(st, now = Date.now()) {
  const parts = [phaseLabel(st.phase || 'Pending')];
  const d = duration(st.started, st.completed, now);
  if (Number.isFinite(d)) parts.push(fmtDuration(d));
  const n = Number(st.attempts) || 0;
  if (n > 0) parts.push(n === 1 ? '1 attempt' : `${n} attempts`);
  return parts.join(' · ');
}

// renderDag(svg, steps, onSelect, opts): onSelect(name) when a node is
// clicked (or activated with Enter/Space). opts.line(step): the node's
// second line (default: phase, duration, attempts); opts.phases false: the
// steps have no phase (a Workflow's spec).
export function renderDag(svg, steps, onSelect, opts = {}) {
  const shape = shapeOf(steps);
  let st = state.get(svg);
  if (!st || st.shape !== shape) {
    st = build(svg, steps, onSelect, opts.phases !== false);
    st.shape = shape;
    st.selected = null;
    state.set(svg, st);
  }
  st.line = opts.line || stepLine;
  st.phases = opts.phases !== false;
  updateDag(svg, steps);
}

// selectNode(svg, name): marks one node selected (class "selected",
// aria-pressed), the others not.
export function selectNode(svg, name) {
  const st = state.get(svg);
  if (!st) return;
  st.selected = name;
  for (const [n, node] of st.nodes) {
    const on = n === name;
    if (node.g.classList.contains('selected') !== on) node.g.classList.toggle('selected', on);
    if (node.g.getAttribute('aria-pressed') !== String(on)) node.g.setAttribute('aria-pressed', String(on));
  }
}

// updateDag(svg, steps): phases and the ticking second line only.
export function updateDag(svg, steps, now = Date.now()) {
  const st = state.get(svg);
  if (!st) return;
  const line = st.line || stepLine;
  for (const step of steps) {
    const n = st.nodes.get(step.name);
    if (!n) continue;
    if (st.phases !== false) setPhase(n.g, step.phase || 'Pending', false);
    const text = line(step, now);
    setText(n.line2, fit(text, n.w, CHAR_W_SMALL));
    setText(n.title, `${step.name}: ${text}`);
  }
}

function build(svg, steps, onSelect, phases) {
  const lay = layout(steps);
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${lay.width} ${lay.height}`);
  svg.setAttribute('width', lay.width);
  svg.setAttribute('height', lay.height);
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', `${steps.length} steps`);
  svg.append(
    s('defs', {},
      s('marker', { id: 'rb-arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }))));
  for (const g of lay.groups) {
    svg.append(s('g', { class: 'group' },
      s('rect', { x: g.x, y: g.y, width: g.w, height: g.h, rx: 8 }),
      s('text', { x: g.x + 12, y: g.y + 17, class: 'group-label', text: g.label })));
  }
  const edges = s('g', { class: 'edges' });
  for (const e of lay.edges) {
    edges.append(s('path', { class: 'edge', d: edgePath(e.points), 'data-from': e.from, 'data-to': e.to, 'marker-end': 'url(#rb-arrow)' }));
  }
  svg.append(edges);
  const nodes = new Map();
  const layer = s('g', { class: 'nodes' });
  const byName = new Map(steps.map((step) => [step.name, step]));
  for (const n of lay.nodes) {
    const step = byName.get(n.name) || {};
    const title = s('title');
    const line2 = s('tspan', { x: n.x + 12, y: n.y + 34, class: 'sub' });
    const g = s('g', { class: `node${n.finally ? ' finally' : ''}${phases ? '' : ' spec'}`, 'data-step': n.name, tabindex: '0', role: 'button', 'aria-pressed': 'false' },
      title,
      s('rect', { x: n.x, y: n.y, width: n.w, height: NODE_H, rx: 6 }),
      s('text', {},
        s('tspan', { x: n.x + 12, y: n.y + 18, class: 'name', text: fit(n.name, n.w, CHAR_W) }),
        line2));
    if (phases) setPhase(g, step.phase || 'Pending', false);
    if (onSelect) {
      g.addEventListener('click', () => onSelect(n.name));
      g.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          onSelect(n.name);
        }
      });
    }
    layer.append(g);
    nodes.set(n.name, { g, line2, title, w: n.w });
  }
  svg.append(layer);
  return { nodes };
}
