// g. ui/dag.js's layout, in node (no browser, no cluster):
//   node --test test/ui/layout.unit.mjs (CTest: unit.ui_layout)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layout, edgePath, fit, nodeWidth, NODE_H } from '../../ui/dag.js';

const step = (name, dependsOn = [], fin = false) => ({ name, dependsOn, finally: fin });

function overlap(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// The checks every layout must pass.
function checkLayout(steps, lay) {
  const names = new Set(steps.map((s) => s.name));
  assert.equal(lay.nodes.length, names.size, 'one node per step');
  const byName = new Map(lay.nodes.map((n) => [n.name, n]));
  for (const n of lay.nodes) {
    assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y) && n.w > 0 && n.h === NODE_H, `node ${n.name} has a box`);
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.w <= lay.width && n.y + n.h <= lay.height, `node ${n.name} inside ${lay.width}x${lay.height}`);
  }
  for (let i = 0; i < lay.nodes.length; i++) {
    for (let j = i + 1; j < lay.nodes.length; j++) {
      assert.ok(!overlap(lay.nodes[i], lay.nodes[j]), `nodes ${lay.nodes[i].name} and ${lay.nodes[j].name} overlap`);
    }
  }
  // An edge for every dependsOn (within the same part), and no other.
  const want = [];
  for (const s of steps) {
    for (const d of new Set(s.dependsOn)) {
      const dep = steps.find((x) => x.name === d);
      if (dep && d !== s.name && !!dep.finally === !!s.finally) want.push(`${d}->${s.name}`);
    }
  }
  const got = lay.edges.map((e) => `${e.from}->${e.to}`);
  assert.deepEqual([...got].sort(), [...want].sort(), 'edges are the dependsOn entries');
  for (const e of lay.edges) {
    const a = byName.get(e.from);
    const b = byName.get(e.to);
    assert.ok(a.layer < b.layer, `${e.from} is in a column left of ${e.to}`);
    assert.deepEqual(e.points[0], [a.x + a.w, a.y + NODE_H / 2], `edge ${e.from}->${e.to} leaves ${e.from}'s right side`);
    assert.deepEqual(e.points.at(-1), [b.x, b.y + NODE_H / 2], `edge ${e.from}->${e.to} enters ${e.to}'s left side`);
    for (let i = 1; i < e.points.length; i++) assert.ok(e.points[i][0] > e.points[i - 1][0], 'edges run left to right');
    // Every level segment of a long edge is clear of every node.
    for (let i = 1; i + 2 < e.points.length; i += 2) {
      const [[x0, y], [x1]] = [e.points[i], e.points[i + 1]];
      for (const n of lay.nodes) assert.ok(!(x0 < n.x + n.w && x1 > n.x && y >= n.y && y <= n.y + n.h), `edge ${e.from}->${e.to} crosses ${n.name}`);
    }
  }
}

// Longest-path layers, computed independently.
function longestPath(steps) {
  const deps = new Map(steps.map((s) => [s.name, s.dependsOn]));
  const memo = new Map();
  const depth = (n) => {
    if (!memo.has(n)) memo.set(n, Math.max(0, ...deps.get(n).map((d) => depth(d) + 1)));
    return memo.get(n);
  };
  return new Map(steps.map((s) => [s.name, depth(s.name)]));
}

// A seeded generator, so a failure can be replayed.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomDag(seed, n, maxDeps) {
  const r = rng(seed);
  const steps = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set();
    const k = i ? Math.floor(r() * (maxDeps + 1)) : 0;
    for (let j = 0; j < k; j++) deps.add(`s${Math.floor(r() * i)}`);
    steps.push(step(`s${i}${'x'.repeat(Math.floor(r() * 30))}`.replace(/x+$/, (m) => `-${m}`), []));
    steps[i].deps = [...deps];
  }
  // Names got suffixes: map the dependencies to them.
  const real = steps.map((s) => s.name);
  for (const s of steps) {
    s.dependsOn = s.deps.map((d) => real[Number(d.slice(1))]);
    delete s.deps;
  }
  // Shuffle: order in the list must not matter.
  for (let i = steps.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [steps[i], steps[j]] = [steps[j], steps[i]];
  }
  return steps;
}

test('diamond: a; b and c after a; d after b and c', () => {
  const steps = [step('a'), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c'])];
  const lay = layout(steps);
  checkLayout(steps, lay);
  const n = Object.fromEntries(lay.nodes.map((x) => [x.name, x]));
  assert.deepEqual([n.a.layer, n.b.layer, n.c.layer, n.d.layer], [0, 1, 1, 2]);
  assert.ok(n.a.x < n.b.x && n.b.x === n.c.x && n.c.x < n.d.x, 'columns left to right');
  assert.notEqual(n.b.y, n.c.y, 'b and c stacked');
  // a and d centred on b and c.
  const mid = (n.b.y + n.c.y) / 2;
  assert.ok(Math.abs(n.a.y - mid) < 1 && Math.abs(n.d.y - mid) < 1, 'a and d centred between b and c');
  assert.equal(lay.edges.length, 4);
  assert.deepEqual(lay.groups, []);
});

test('layers are longest paths; a long edge bends around the columns it crosses', () => {
  // e depends on a directly and through b -> c -> d: e is in column 4.
  const steps = [step('a'), step('b', ['a']), step('c', ['b']), step('d', ['c']), step('e', ['a', 'd']), step('x')];
  const lay = layout(steps);
  checkLayout(steps, lay);
  const want = longestPath(steps);
  for (const node of lay.nodes) assert.equal(node.layer, want.get(node.name), `layer of ${node.name}`);
  const long = lay.edges.find((e) => e.from === 'a' && e.to === 'e');
  assert.equal(long.points.length, 2 + 2 * 3, 'a level segment across each of the 3 columns between');
  // Those segments are clear of the nodes of their columns.
  const mid = long.points.slice(1, -1);
  for (let i = 0; i < mid.length; i += 2) {
    const [[x0, y], [x1, y1]] = [mid[i], mid[i + 1]];
    assert.equal(y, y1, 'level');
    for (const node of lay.nodes) {
      const crosses = x0 < node.x + node.w && x1 > node.x && y >= node.y && y <= node.y + node.h;
      assert.ok(!crosses, `edge a->e crosses ${node.name}`);
    }
  }
});

test('finally steps: a group of their own, below the DAG, labelled "finally"', () => {
  const steps = [step('build'), step('test', ['build']), step('report', [], true), step('notify', ['report'], true)];
  const lay = layout(steps);
  checkLayout(steps, lay);
  const main = lay.nodes.filter((x) => !x.finally);
  const fin = lay.nodes.filter((x) => x.finally);
  assert.deepEqual(fin.map((x) => x.name).sort(), ['notify', 'report']);
  const bottom = Math.max(...main.map((x) => x.y + x.h));
  for (const f of fin) assert.ok(f.y > bottom, `${f.name} below the main steps`);
  assert.equal(lay.groups.length, 1);
  const g = lay.groups[0];
  assert.equal(g.label, 'finally');
  assert.ok(g.y > bottom, 'the group is below the main steps');
  for (const f of fin) assert.ok(f.x >= g.x && f.x + f.w <= g.x + g.w && f.y >= g.y && f.y + f.h <= g.y + g.h, `${f.name} inside the group`);
  assert.ok(g.x + g.w <= lay.width && g.y + g.h <= lay.height, 'the group is inside the picture');
  const n = Object.fromEntries(fin.map((x) => [x.name, x]));
  assert.ok(n.report.x < n.notify.x, 'finally steps are layered too');
  assert.ok(!lay.edges.some((e) => main.some((m) => m.name === e.from) && fin.some((f) => f.name === e.to)), 'no edge from a main step to a finally step');
});

test('only finally steps, or no steps', () => {
  const only = [step('cleanup', [], true)];
  checkLayout(only, layout(only));
  const none = layout([]);
  assert.deepEqual([none.nodes, none.edges, none.groups], [[], [], []]);
  assert.ok(none.width >= 0 && none.height >= 0);
  assert.deepEqual(layout(undefined).nodes, []);
});

test('what the controller would reject still draws: unknown, self and cyclic dependencies, duplicates', () => {
  const steps = [step('a', ['ghost']), step('b', ['b', 'a']), step('c', ['d']), step('d', ['c']), step('a', ['b'])];
  const lay = layout(steps);
  assert.deepEqual(lay.nodes.map((x) => x.name).sort(), ['a', 'b', 'c', 'd']);
  const names = lay.edges.map((e) => `${e.from}->${e.to}`);
  assert.ok(names.includes('a->b'));
  assert.ok(!names.some((x) => x.includes('ghost')) && !names.includes('b->b'));
  assert.equal(names.filter((x) => x === 'c->d' || x === 'd->c').length, 1, 'one edge of the 2-cycle is dropped');
  for (let i = 0; i < lay.nodes.length; i++) for (let j = i + 1; j < lay.nodes.length; j++) assert.ok(!overlap(lay.nodes[i], lay.nodes[j]));
});

test('random DAGs: layers, no overlapping nodes, an edge for every dependsOn', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const steps = randomDag(seed, 5 + (seed % 40) * 2, 1 + (seed % 5));
    if (seed % 3 === 0) steps.push(step('final-a', [], true), step('final-b', ['final-a'], true));
    const lay = layout(steps);
    try {
      checkLayout(steps, lay);
      const want = longestPath(steps.filter((s) => !s.finally));
      for (const node of lay.nodes.filter((x) => !x.finally)) assert.equal(node.layer, want.get(node.name));
    } catch (e) {
      e.message = `seed ${seed}: ${e.message}`;
      throw e;
    }
  }
});

test('the largest Workflow (100 steps, 50 dependsOn each) lays out quickly', () => {
  const steps = [];
  for (let i = 0; i < 100; i++) {
    const deps = [];
    for (let j = Math.max(0, i - 50); j < i; j++) deps.push(`step-${j}`);
    steps.push(step(`step-${i}`, deps));
  }
  for (let i = 0; i < 50; i++) steps.push(step(`final-${i}`, i ? [`final-${i - 1}`] : [], true));
  const t0 = performance.now();
  const lay = layout(steps);
  const ms = performance.now() - t0;
  checkLayout(steps, lay);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  for (const e of lay.edges) assert.ok(edgePath(e.points).startsWith('M'));
});

test('names: long ones are cut to fit their box, widths are bounded', () => {
  const long = 'a'.repeat(50);
  const w = nodeWidth(long);
  assert.ok(w >= nodeWidth('a') && w <= 270);
  const shown = fit(long, w, 7.2);
  assert.ok(shown.endsWith('…') && shown.length < long.length);
  assert.equal(fit('short', w, 7.2), 'short');
  assert.equal(edgePath([[0, 0], [10, 20]]), 'M0,0 C5,0 5,20 10,20');
});
