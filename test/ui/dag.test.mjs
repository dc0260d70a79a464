// b. The run view draws test/e2e/diamond.sh's Workflow (a; b and c after a;
//    d after b and c) as 4 nodes and 4 edges whose phase classes follow the
//    run, and finally steps apart from the DAG.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, withPage, signIn, apply, eventually, workflowYaml, runYaml, screenshot, jp } from './lib.mjs';

const ns = env.ns;
let browser;
const ann = (d) => `podTemplate: {metadata: {annotations: {runbook.dev/test-duration: ${d}}}}`;

before(async () => {
  apply(
    workflowYaml(ns, 'diamond', [
      `  - {name: a, image: busybox:1.36, ${ann('2s')}}`,
      `  - {name: b, image: busybox:1.36, dependsOn: [a], ${ann('2s')}}`,
      `  - {name: c, image: busybox:1.36, dependsOn: [a], ${ann('3s')}}`,
      `  - {name: d, image: busybox:1.36, dependsOn: [b, c], ${ann('1s')}}`,
    ].join('\n'), '  params: [{name: target, default: linux}]\n') +
      '---\n' +
      workflowYaml(ns, 'with-finally', [
        `  - {name: build, image: busybox:1.36, ${ann('500ms')}}`,
        `  - {name: test, image: busybox:1.36, dependsOn: [build], ${ann('500ms')}}`,
        '  finally:',
        `  - {name: report, image: busybox:1.36, ${ann('500ms')}}`,
        `  - {name: notify, image: busybox:1.36, dependsOn: [report], ${ann('500ms')}}`,
      ].join('\n')),
  );
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

// The node classes, edges and layout on screen.
const dagState = (page) => page.evaluate(() => ({
  nodes: [...document.querySelectorAll('#dag g.node')].map((g) => {
    const r = g.querySelector('rect');
    return { step: g.dataset.step, cls: g.getAttribute('class'), text: g.querySelector('text').textContent,
      x: Number(r.getAttribute('x')), y: Number(r.getAttribute('y')), w: Number(r.getAttribute('width')), h: Number(r.getAttribute('height')) };
  }),
  edges: [...document.querySelectorAll('#dag path.edge')].map((p) => `${p.dataset.from}->${p.dataset.to}`),
}));

test('b. the diamond: 4 nodes, 4 edges, phase classes that follow the run', { timeout: 180000 }, async () => {
  await withPage(browser, 'dag-diamond', async (page) => {
    await signIn(page, env.reader);
    apply(runYaml(ns, 'r1', 'diamond', { target: 'arm64' }));
    await page.goto(`${env.url}/#/runs/${ns}/r1`);
    await page.waitForSelector('#dag g.node');
    // Every class each node shows, from now on.
    await page.evaluate(() => {
      window.__classes = {};
      const note = (g) => {
        const set = (window.__classes[g.dataset.step] = window.__classes[g.dataset.step] || []);
        const c = [...g.classList].find((x) => x.startsWith('phase-'));
        if (set[set.length - 1] !== c) set.push(c);
      };
      document.querySelectorAll('#dag g.node').forEach(note);
      new MutationObserver((ms) => ms.forEach((m) => m.target.matches && m.target.matches('g.node') && note(m.target)))
        .observe(document.getElementById('dag'), { attributes: true, attributeFilter: ['class'], subtree: true });
    });
    let st = await dagState(page);
    assert.equal(st.nodes.length, 4, 'four nodes');
    assert.deepEqual(st.nodes.map((n) => n.step).sort(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(st.edges.sort(), ['a->b', 'a->c', 'b->d', 'c->d'], 'four edges, one per dependsOn');
    for (const n of st.nodes) {
      assert.match(n.cls, /\bnode\b/);
      assert.match(n.cls, /\bphase-(Pending|Running|Succeeded)\b/, `${n.step}: ${n.cls}`);
      assert.doesNotMatch(n.cls, /\bfinally\b/);
    }
    // Layered left to right: a, then b and c in one column, then d.
    const at = Object.fromEntries(st.nodes.map((n) => [n.step, n]));
    assert.ok(at.a.x < at.b.x && at.b.x === at.c.x && at.c.x < at.d.x, JSON.stringify(at));
    assert.notEqual(at.b.y, at.c.y);

    await page.waitForSelector('#dag g.node[data-step=b].phase-Running', { timeout: 60000 });
    await screenshot(page, 'dag-running');
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 90000 });
    st = await dagState(page);
    for (const n of st.nodes) {
      assert.match(n.cls, /\bphase-Succeeded\b/, `${n.step} ends Succeeded`);
      assert.match(n.text, /Succeeded · \S+ · 1 attempt/, `${n.step} shows its duration and attempts: ${n.text}`);
    }
    const classes = await page.evaluate(() => window.__classes);
    for (const s of ['a', 'b', 'c', 'd']) {
      assert.equal(classes[s].at(-1), 'phase-Succeeded', `${s}: ${classes[s]}`);
      assert.ok(!classes[s].includes('phase-Failed'), `${s}: ${classes[s]}`);
    }
    assert.ok(['b', 'c', 'd'].some((s) => classes[s].includes('phase-Running')), `a step was seen Running: ${JSON.stringify(classes)}`);
    // The run's own fields match the cluster.
    assert.equal(await page.textContent('#run-phase'), jp(ns, 'wfr/r1', '{.status.phase}'));
    assert.equal(await page.textContent('#params-body tr[data-param=target] td'), 'arm64');
    assert.equal(await page.textContent('#run-view dd[data-field=progress]'), '4/4');
    for (const s of ['a', 'b', 'c', 'd']) {
      assert.equal(await page.textContent(`#steps-body tr[data-step=${s}] td.job`), jp(ns, 'wfr/r1', `{.status.steps[?(@.name=="${s}")].job}`));
    }
    await screenshot(page, 'dag-succeeded');
  });
});

test('b. finally steps are drawn apart, in a group labelled "finally"', { timeout: 120000 }, async () => {
  await withPage(browser, 'dag-finally', async (page) => {
    await signIn(page, env.reader);
    apply(runYaml(ns, 'f1', 'with-finally'));
    await page.goto(`${env.url}/#/runs/${ns}/f1`);
    await page.waitForSelector('#dag g.node.finally[data-step=report]');
    const st = await dagState(page);
    const fin = st.nodes.filter((n) => /\bfinally\b/.test(n.cls)).map((n) => n.step).sort();
    assert.deepEqual(fin, ['notify', 'report']);
    assert.ok(!st.edges.some((e) => /->(report|notify)$/.test(e) && !e.startsWith('report')), `no edge from a main step to a finally step: ${st.edges}`);
    assert.deepEqual(st.edges.sort(), ['build->test', 'report->notify']);
    const bottom = Math.max(...st.nodes.filter((n) => !fin.includes(n.step)).map((n) => n.y + n.h));
    for (const n of st.nodes.filter((x) => fin.includes(x.step))) assert.ok(n.y > bottom, `${n.step} below the DAG`);
    assert.equal(await page.textContent('#dag .group-label'), 'finally');
    await eventually('the run succeeds', async () => (await page.textContent('#run-phase')) === 'Succeeded', 60000);
    await page.waitForSelector('#dag g.node.finally[data-step=notify].phase-Succeeded');
    await screenshot(page, 'dag-finally');
  });
});
