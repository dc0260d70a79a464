// The run's DAG: a small layered layout, pure (unit-tested in node by
// test/ui/layout.unit.mjs); ui/dagview.js draws it as inline SVG.
//
// layout(steps) -> {nodes: [{name, x, y, w, h, layer, finally}],
//                   edges: [{from, to, points: [[x, y], ...]}],
//                   groups: [{label, x, y, w, h}], width, height}
// Layers run left to right: longest-path layering (a step sits one column
// right of its deepest dependency), edges longer than one column get a
// virtual node (a level slot) in each column they cross, and the order within a column
// follows the barycenter of the neighbours in the previous (then the next)
// column, over a few sweeps. Finally steps are laid out the same way in a
// group of their own below, labelled "finally", with no edges from the
// main steps.

export const NODE_H = 46;
export const CHAR_W = 7.2; // 12px monospace
export const CHAR_W_SMALL = 6.6; // 11px monospace
const PAD = 24;
const MIN_W = 150;
const MAX_W = 270;
const COL_GAP = 56;
const ROW_GAP = 16;
const DUMMY_SLOT = 14;
const MARGIN = 12;
const GROUP_GAP = 48;
const GROUP_PAD = 14;
const LABEL_H = 26;
const SWEEPS = 4;
const MAX_DUMMIES = 4000; // beyond this, long edges are drawn straight

export function nodeWidth(name) {
  const w = Math.max(String(name).length * CHAR_W, 28 * CHAR_W_SMALL) + PAD;
  return Math.min(MAX_W, Math.max(MIN_W, Math.ceil(w)));
}

// Assigns each step a layer: 0 without dependencies, else one more than
// its deepest dependency. Unknown, self and cycle-closing dependencies are
// ignored (the controller reports those; the picture must still draw).
function layers(names, deps) {
  const layer = new Map();
  const state = new Map(); // 1 visiting, 2 done
  const kept = new Map(names.map((n) => [n, []]));
  const visit = (root) => {
    const stack = [[root, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      const ds = deps.get(n);
      if (i < ds.length) {
        top[1]++;
        const d = ds[i];
        if (!deps.has(d) || d === n || state.get(d) === 1) continue;
        kept.get(n).push(d);
        if (!state.has(d)) {
          state.set(d, 1);
          stack.push([d, 0]);
        }
        continue;
      }
      let l = 0;
      for (const d of kept.get(n)) l = Math.max(l, layer.get(d) + 1);
      layer.set(n, l);
      state.set(n, 2);
      stack.pop();
    }
  };
  for (const n of names) if (!state.has(n)) visit(n);
  return { layer, kept };
}

// Lays out one part (the main steps, or the finally steps) at the origin.
function layoutPart(steps) {
  const names = [];
  const deps = new Map();
  for (const st of steps) {
    if (deps.has(st.name)) continue; // a duplicate name: drawn once
    names.push(st.name);
    deps.set(st.name, [...new Set(Array.isArray(st.dependsOn) ? st.dependsOn.map(String) : [])]);
  }
  if (!names.length) return { nodes: [], edges: [], width: 0, height: 0 };
  const { layer, kept } = layers(names, deps);
  const nLayers = Math.max(...layer.values()) + 1;

  // Vertices: the steps, then virtual points of long edges. v.pred/v.succ
  // are indexes into verts.
  const verts = [];
  const byName = new Map();
  for (const n of names) {
    byName.set(n, verts.length);
    verts.push({ name: n, layer: layer.get(n), w: nodeWidth(n), dummy: false, pred: [], succ: [] });
  }
  let dummies = 0;
  for (const n of names) for (const d of kept.get(n)) dummies += layer.get(n) - layer.get(d) - 1;
  const useDummies = dummies <= MAX_DUMMIES;
  const chains = []; // per edge: [from, to, [vertex indexes from..to]]
  for (const n of names) {
    for (const d of kept.get(n)) {
      const chain = [byName.get(d)];
      if (useDummies) {
        for (let l = layer.get(d) + 1; l < layer.get(n); l++) {
          chain.push(verts.length);
          verts.push({ name: null, layer: l, w: 0, dummy: true, pred: [], succ: [] });
        }
      }
      chain.push(byName.get(n));
      for (let i = 1; i < chain.length; i++) {
        verts[chain[i - 1]].succ.push(chain[i]);
        verts[chain[i]].pred.push(chain[i - 1]);
      }
      chains.push([d, n, chain]);
    }
  }

  // Order within layers: input order, then barycenter sweeps.
  const cols = Array.from({ length: nLayers }, () => []);
  verts.forEach((v, i) => cols[v.layer].push(i));
  const pos = new Float64Array(verts.length);
  const setPos = (col) => col.forEach((v, i) => (pos[v] = i));
  cols.forEach(setPos);
  const sweep = (col, side) => {
    const bary = new Map();
    for (const v of col) {
      const nb = verts[v][side];
      bary.set(v, nb.length ? nb.reduce((a, u) => a + pos[u], 0) / nb.length : pos[v]);
    }
    col.sort((a, b) => bary.get(a) - bary.get(b) || pos[a] - pos[b]);
    setPos(col);
  };
  for (let k = 0; k < SWEEPS; k++) {
    for (let l = 1; l < nLayers; l++) sweep(cols[l], 'pred');
    for (let l = nLayers - 2; l >= 0; l--) sweep(cols[l], 'succ');
  }

  // Coordinates: columns left to right, each column's width its widest
  // node; the slots of a column stacked and centred on the tallest column.
  const colW = cols.map((col) => Math.max(0, ...col.map((v) => verts[v].w)) || COL_GAP / 2);
  const slot = (v) => (verts[v].dummy ? DUMMY_SLOT : NODE_H + ROW_GAP);
  const colH = cols.map((col) => col.reduce((a, v) => a + slot(v), 0) - (col.length ? ROW_GAP : 0));
  const height = Math.max(...colH);
  let x = 0;
  const colX = [];
  const cy = new Float64Array(verts.length);
  cols.forEach((col, l) => {
    colX.push(x);
    let y = (height - colH[l]) / 2;
    for (const v of col) {
      const vert = verts[v];
      vert.x = x + (colW[l] - vert.w) / 2;
      vert.y = vert.dummy ? y + (DUMMY_SLOT - ROW_GAP) / 2 : y;
      cy[v] = vert.dummy ? y + (DUMMY_SLOT - ROW_GAP) / 2 : y + NODE_H / 2;
      y += slot(v);
    }
    x += colW[l] + COL_GAP;
  });
  const width = x - COL_GAP;

  const nodes = names.map((n) => {
    const v = verts[byName.get(n)];
    return { name: n, x: v.x, y: v.y, w: v.w, h: NODE_H, layer: v.layer };
  });
  const edges = chains.map(([from, to, chain]) => {
    const a = verts[chain[0]];
    const b = verts[chain[chain.length - 1]];
    const points = [[a.x + a.w, a.y + NODE_H / 2]];
    // Across a column it crosses, the edge runs level in its own slot, so
    // it bends only in the gaps between columns, never over a node.
    for (const v of chain.slice(1, -1)) {
      const l = verts[v].layer;
      points.push([colX[l], cy[v]], [colX[l] + colW[l], cy[v]]);
    }
    points.push([b.x, b.y + NODE_H / 2]);
    return { from, to, points };
  });
  return { nodes, edges, width, height };
}

function shift(part, dx, dy) {
  for (const n of part.nodes) {
    n.x += dx;
    n.y += dy;
  }
  for (const e of part.edges) e.points = e.points.map(([x, y]) => [x + dx, y + dy]);
}

export function layout(steps) {
  const list = Array.isArray(steps) ? steps.filter((st) => st && st.name !== undefined && st.name !== null) : [];
  const main = layoutPart(list.filter((st) => !st.finally));
  const fin = layoutPart(list.filter((st) => st.finally));
  const groups = [];
  let width = main.width;
  let height = main.height;
  shift(main, MARGIN, MARGIN);
  for (const n of main.nodes) n.finally = false;
  if (fin.nodes.length) {
    // Below the DAG: it runs after it, and the page stays one screen wide.
    const gy = main.nodes.length ? MARGIN + main.height + GROUP_GAP : MARGIN;
    shift(fin, MARGIN + GROUP_PAD, gy + LABEL_H);
    for (const n of fin.nodes) n.finally = true;
    const g = { label: 'finally', x: MARGIN, y: gy, w: fin.width + 2 * GROUP_PAD, h: fin.height + LABEL_H + GROUP_PAD };
    groups.push(g);
    width = Math.max(width, g.w);
    height = g.y + g.h - MARGIN;
  }
  return {
    nodes: [...main.nodes, ...fin.nodes],
    edges: [...main.edges, ...fin.edges],
    groups,
    width: Math.ceil(width + 2 * MARGIN),
    height: Math.ceil(height + 2 * MARGIN),
  };
}

// An SVG path through the points: a horizontal S-curve between each pair.
export function edgePath(points) {
  const f = (v) => Math.round(v * 10) / 10;
  let d = `M${f(points[0][0])},${f(points[0][1])}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x1, y1] = points[i];
    const mx = (x1 - x0) / 2;
    d += ` C${f(x0 + mx)},${f(y0)} ${f(x1 - mx)},${f(y1)} ${f(x1)},${f(y1)}`;
  }
  return d;
}

// fit(text, width, charW): the text, cut with an ellipsis to fit.
export function fit(text, width, charW) {
  const max = Math.max(1, Math.floor((width - PAD) / charW));
  const t = String(text);
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
}
