// The runs list (#/) in Chromium against the operator under test.
//   a. it shows the runs of the namespace the person may list, and a run's
//      phase goes Running -> Succeeded on screen without a reload; runs
//      created and deleted after the page loaded come and go the same way;
//   e. the runs of a namespace the person may not list are not shown;
//   a token that may list runs everywhere (a ClusterRole) sees both;
//   and the list at 1,000 runs: first paint under 1 s, and a change to one
//   run touches only that run's row (the operator's `runs` message is
//   swapped in the browser for 1,000 made-up runs: Playwright's
//   routeWebSocket, between the page and the real server).
// Run through test/ui/run.sh (which makes the namespaces and tokens).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, withPage, signIn, apply, kubectl, eventually, workflowYaml, runYaml, screenshot, sleep } from './lib.mjs';

const ns = env.ns;
const other = env.nsOther;
let browser;
const row = (ns_, name) => `#runs-body tr[data-key="${ns_}/${name}"]`;

before(async () => {
  // quick: one step of 300 ms; slow: one step of 8 s (long enough to be
  // seen Running, short enough to end during the test).
  apply(
    workflowYaml(ns, 'quick', `  - {name: only, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}}`) +
      runYaml(ns, 'quick-1', 'quick') +
      runYaml(ns, 'quick-2', 'quick') +
      '---\n' +
      workflowYaml(ns, 'slow', `  - {name: wait, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 8s}}}}`),
  );
  // The other namespace: a Workflow and a run nobody here may see.
  apply(
    workflowYaml(other, 'hidden', `  - {name: secret, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}`) +
      runYaml(other, 'hidden-1', 'hidden'),
  );
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

test('a. the runs of the namespace are listed, and a run goes Running -> Succeeded on screen with no reload', { timeout: 180000 }, async () => {
  await withPage(browser, 'runs-live', async (page) => {
    await signIn(page, env.writer);
    await page.waitForSelector(row(ns, 'quick-1'));
    await page.waitForSelector(row(ns, 'quick-2'));
    // Every row is a run that exists, in this namespace.
    const keys = await page.$$eval('#runs-body tr', (trs) => trs.map((tr) => tr.dataset.key));
    const names = kubectl('-n', ns, 'get', 'wfr', '-o', 'jsonpath={.items[*].metadata.name}').split(/\s+/).filter(Boolean);
    assert.deepEqual(keys.sort(), names.map((n) => `${ns}/${n}`).sort(), 'the rows are the runs of the namespace');
    // The link of a row leads to the run.
    assert.equal(await page.getAttribute(`${row(ns, 'quick-1')} td.c-name a`, 'href'), `#/runs/${ns}/quick-1`);
    assert.equal(await page.textContent(`${row(ns, 'quick-1')} td.c-workflow`), 'quick');

    // A marker that a reload would wipe.
    await page.evaluate(() => (window.__sameDocument = true));
    const navigations = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));

    // A run started now appears, goes Running, then Succeeded.
    apply(runYaml(ns, 'live-1', 'slow'));
    await page.waitForSelector(row(ns, 'live-1'), { timeout: 30000 });
    await page.waitForSelector(`${row(ns, 'live-1')}[data-phase=Running] .phase.phase-Running`, { timeout: 60000 });
    assert.equal(await page.textContent(`${row(ns, 'live-1')} td.c-phase`), 'Running');
    // Newest first: the run just made is the first row.
    assert.equal(await page.$eval('#runs-body tr', (tr) => tr.dataset.key), `${ns}/live-1`);
    await screenshot(page, 'runs-running');
    await page.waitForSelector(`${row(ns, 'live-1')}[data-phase=Succeeded] .phase.phase-Succeeded`, { timeout: 60000 });
    assert.equal(await page.textContent(`${row(ns, 'live-1')} td.c-progress .progress-text`), '1/1');
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    assert.deepEqual(navigations.filter((u) => !u.includes('#')), [], 'no navigation');
    await screenshot(page, 'runs-succeeded');

    // A deleted run goes away.
    kubectl('-n', ns, 'delete', 'wfr', 'quick-2', '--wait=false');
    await page.waitForSelector(row(ns, 'quick-2'), { state: 'detached', timeout: 30000 });

    // The filters are built from the data and filter.
    const wfOptions = await page.$$eval('#f-workflow option', (os) => os.map((o) => o.value));
    assert.deepEqual(wfOptions.filter(Boolean).sort(), ['quick', 'slow']);
    await page.selectOption('#f-workflow', 'slow');
    await eventually('only the slow run listed', async () =>
      JSON.stringify(await page.$$eval('#runs-body tr', (trs) => trs.map((tr) => tr.dataset.key))) === JSON.stringify([`${ns}/live-1`]), 10000);
    await page.selectOption('#f-workflow', '');
    await page.fill('#f-name', 'quick-1');
    await eventually('the text filter', async () =>
      JSON.stringify(await page.$$eval('#runs-body tr', (trs) => trs.map((tr) => tr.dataset.key))) === JSON.stringify([`${ns}/quick-1`]), 10000);
  });
});

test('e. runs of a namespace the token may not list are not shown', { timeout: 120000 }, async () => {
  // The run there exists (the admin sees it).
  assert.equal(kubectl('-n', other, 'get', 'wfr', 'hidden-1', '-o', 'name').trim(), 'workflowrun.runbook.dev/hidden-1');
  for (const [who, token] of [['writer', env.writer], ['reader', env.reader]]) {
    await withPage(browser, `runs-forbidden-${who}`, async (page) => {
      await signIn(page, token);
      await page.waitForSelector(row(ns, 'quick-1'));
      // Give the list time to hold everything it will ever hold.
      await sleep(1500);
      const keys = await page.$$eval('#runs-body tr', (trs) => trs.map((tr) => tr.dataset.key));
      assert.ok(keys.length > 0);
      assert.deepEqual(keys.filter((k) => !k.startsWith(`${ns}/`)), [], `only runs of ${ns} are listed`);
      const nsOptions = await page.$$eval('#f-namespace option', (os) => os.map((o) => o.value));
      assert.ok(!nsOptions.includes(other), `${other} is not a namespace filter`);
      assert.ok(!(await page.getAttribute('#who', 'title')).includes(other), 'the hello does not list the namespace');
      const text = await page.textContent('body');
      assert.ok(!text.includes('hidden-1'), 'the hidden run is nowhere on the page');

      // Asking for the run directly shows nothing of it.
      await page.goto(`${env.url}/#/runs/${other}/hidden-1`);
      await page.waitForSelector('body[data-conn=live]');
      await sleep(2000);
      assert.equal(await page.$$eval('#dag g.node', (n) => n.length), 0, 'no step of the hidden run is drawn');
      assert.ok(await page.isHidden('#run-body'), 'no detail of the hidden run is shown');
      assert.ok(!(await page.textContent('#run-view')).includes('secret'), 'its step name is not shown');
    });
  }
});

test('a token that may list workflowruns in every namespace sees both namespaces, live', { timeout: 120000 }, async () => {
  await withPage(browser, 'runs-viewer', async (page) => {
    await signIn(page, env.viewer);
    await page.waitForSelector(row(ns, 'quick-1'));
    await page.waitForSelector(row(other, 'hidden-1'));
    // And changes keep coming: a run created now appears.
    apply(runYaml(other, 'late-1', 'hidden'));
    await page.waitForSelector(row(other, 'late-1'), { timeout: 30000 });
    kubectl('-n', other, 'delete', 'wfr', 'late-1', '--wait=false');
    await page.waitForSelector(row(other, 'late-1'), { state: 'detached', timeout: 30000 });
    // Its page is shown too.
    await page.goto(`${env.url}/#/runs/${other}/hidden-1`);
    await page.waitForSelector('#dag g.node[data-step=secret]', { timeout: 30000 });
  });
});

test('a. 1,000 runs: first paint under 1 s; a change to one run re-renders only its row', { timeout: 120000 }, async () => {
  const N = 1000;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const phases = ['Succeeded', 'Failed', 'Cancelled'];
  const synthetic = [];
  for (let i = 0; i < N; i++) {
    const created = t0 - i * 60000;
    synthetic.push({ namespace: ns, name: `syn-${String(i).padStart(4, '0')}`, uid: `u${i}`, workflow: `wf-${i % 7}`,
      phase: phases[i % 3], progress: '3/3', currentStep: '', created: iso(created), started: iso(created + 1000),
      completed: iso(created + 30000), trigger: i % 2 ? 'github-push' : undefined, cancelRequested: false });
  }
  await withPage(browser, 'runs-1000', async (page) => {
    let route = null;
    await page.routeWebSocket(/\/ws$/, (ws) => {
      route = ws;
      const server = ws.connectToServer();
      server.onMessage((m) => {
        const msg = JSON.parse(m);
        // The real list, replaced by the made-up one; later changes of
        // real runs are dropped (they would not be in that list).
        if (msg.type === 'runs') ws.send(JSON.stringify({ ...msg, items: synthetic }));
        else if (msg.type !== 'run' && msg.type !== 'run_deleted') ws.send(m);
      });
    });
    await page.addInitScript((token) => sessionStorage.setItem('runbook.token', token), env.writer);
    const loads = [];
    for (let i = 0; i < 3; i++) {
      if (i === 0) await page.goto(`${env.url}/#/`);
      else await page.reload();
      await page.waitForSelector('#runs-body tr');
      loads.push(await page.evaluate(() => {
        const at = (n) => performance.getEntriesByName(n)[0].startTime;
        return { painted: Math.round(at('runbook:runs-painted')), render: Math.round(at('runbook:runs-painted') - at('runbook:runs-received')) };
      }));
    }
    console.log(`# 1,000 runs, three loads: first paint ${loads.map((l) => l.painted).join(', ')} ms after navigation; list drawn in ${loads.map((l) => l.render).join(', ')} ms`);
    assert.equal(await page.textContent('#runs-count'), `${N} runs`);
    assert.equal(await page.$$eval('#runs-body tr', (trs) => trs.length), 50, 'one page of 50 rows');
    assert.equal(await page.textContent('#page-info'), `1–50 of ${N}`);
    assert.equal(await page.$eval('#runs-body tr', (tr) => tr.dataset.key), `${ns}/syn-0000`, 'newest first');
    assert.ok(Math.min(...loads.map((l) => l.painted)) < 1000, `first paint under 1 s: ${JSON.stringify(loads)}`);
    assert.ok(Math.max(...loads.map((l) => l.render)) < 500, `the list is drawn in under 0.5 s: ${JSON.stringify(loads)}`);

    // One run changes: only its row is touched.
    await page.evaluate(() => {
      window.__mut = [];
      new MutationObserver((ms) => {
        for (const m of ms) {
          const tr = (m.target.nodeType === 1 ? m.target : m.target.parentElement).closest('tr');
          window.__mut.push(tr ? tr.dataset.key : `(${m.type} on ${m.target.nodeName})`);
        }
      }).observe(document.getElementById('runs-body'), { subtree: true, childList: true, characterData: true, attributes: true });
    });
    const changed = { ...synthetic[3], phase: 'Cancelled', progress: '2/3' };
    assert.notEqual(synthetic[3].phase, 'Cancelled');
    route.send(JSON.stringify({ type: 'run', item: changed }));
    await page.waitForSelector(`${row(ns, 'syn-0003')}[data-phase=Cancelled]`);
    await sleep(1200); // a ticking second, too
    const touched = [...new Set(await page.evaluate(() => window.__mut))];
    assert.deepEqual(touched, [`${ns}/syn-0003`], 'only the changed run\'s row was touched');

    // Paging: the last page, then a run added at the top moves nothing
    // on it but the counts.
    await page.fill('#f-name', 'syn-099');
    await eventually('the text filter over 1,000 runs', async () => (await page.textContent('#runs-count')) === `10 of ${N} runs`, 5000);
    await page.fill('#f-name', '');
    await eventually('all runs again', async () => (await page.textContent('#page-info')) === `1–50 of ${N}`, 5000);
    for (let p = 1; p < N / 50; p++) {
      await page.click('#page-next');
      await eventually(`page ${p + 1}`, async () => (await page.textContent('#page-info')) === `${p * 50 + 1}–${p * 50 + 50} of ${N}`, 5000, 20);
    }
    assert.equal(await page.$eval('#runs-body tr:last-child', (tr) => tr.dataset.key), `${ns}/syn-0999`);
    assert.ok(await page.isDisabled('#page-next'));
    await screenshot(page, 'runs-1000');
  });
});

test('the page reconnects when its socket drops: signs in again and watches again', { timeout: 120000 }, async () => {
  apply(runYaml(ns, 'live-2', 'slow'));
  await withPage(browser, 'runs-reconnect', async (page) => {
    const sockets = [];
    const sent = [];
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      sockets.push({ ws, server });
      ws.onMessage((m) => {
        sent.push(JSON.parse(m));
        server.send(m);
      });
    });
    await signIn(page, env.writer, `#/runs/${ns}/live-2`);
    await page.waitForSelector('#run-phase.phase-Running', { timeout: 60000 });
    const before = sockets.length;
    // The connection drops (both ends closed, as a proxy restart would).
    const { ws, server } = sockets[sockets.length - 1];
    await server.close({ code: 1001, reason: 'going away' });
    await ws.close({ code: 1001, reason: 'going away' });
    await page.waitForSelector('body[data-conn=retrying]');
    assert.match(await page.textContent('#status'), /retrying in \d+ s/);
    await page.waitForSelector('body[data-conn=live]', { timeout: 20000 });
    assert.equal(sockets.length, before + 1, 'one new socket');
    // On the new socket: the token, then both watches again.
    const last = sent.slice(sent.findLastIndex((m) => m.type === 'auth'));
    assert.equal(last[0].token, env.writer);
    assert.ok(last.some((m) => m.type === 'watch_runs'), JSON.stringify(last.map((m) => m.type)));
    assert.ok(last.some((m) => m.type === 'watch_run' && m.namespace === ns && m.name === 'live-2'), JSON.stringify(last));
    // And the run view goes on following the run.
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 60000 });
    await page.click('#back');
    await page.waitForSelector(`${row(ns, 'live-2')}[data-phase=Succeeded]`);
  });
});
