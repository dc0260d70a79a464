// The Workflows page, a Workflow's page and Start run, against the
// operator under test:
//   - the Workflows list holds exactly the namespace's Workflows (not
//     NS_OTHER's, which neither person may list), live;
//   - a Workflow's page shows its params (name, default, description) and
//     its DAG (no phases), its spec, its recent runs;
//   - Start with the writer's token creates a WorkflowRun with exactly the
//     params typed (a param left at its default is not sent), created with
//     the writer's own token (the audit log), and the page moves to it; a
//     value <img src=x onerror=alert(1)> goes there and back as text;
//   - Start with the reader's token: the button is disabled ("you may not
//     create runs here"); pressed anyway, the API server's 403 is shown as
//     text in #notice and no run is created.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { env, launch, withPage, signIn, apply, kubectl, workflowYaml, runYaml, screenshot, eventually, sleep } from './lib.mjs';

const ns = env.ns;
const other = env.nsOther;
const XSS = '<img src=x onerror=alert(1)>';
let browser;
const ann = (d) => `podTemplate: {metadata: {annotations: {runbook.dev/test-duration: ${d}}}}`;
const row = (ns_, name) => `#workflows-body tr[data-key="${ns_}/${name}"]`;

before(async () => {
  apply(
    workflowYaml(ns, 'build', [
      `  - {name: fetch, image: busybox:1.36, ${ann('300ms')}}`,
      `  - {name: compile, image: busybox:1.36, dependsOn: [fetch], ${ann('300ms')}}`,
      `  - {name: test, image: "busybox:1.36", dependsOn: [compile], ${ann('300ms')}}`,
      `  - {name: lint, image: busybox:1.36, dependsOn: [fetch], ${ann('300ms')}}`,
      '  finally:',
      `  - {name: report, image: busybox:1.36, ${ann('300ms')}}`,
    ].join('\n'), [
      '  params:',
      '  - {name: who, description: "who asked for it"}',
      '  - {name: target, default: linux, description: "the platform to build for"}',
      '  - {name: note, default: "none"}',
    ].join('\n') + '\n') +
      '---\n' +
      workflowYaml(ns, 'deploy', `  - {name: only, image: busybox:1.36, ${ann('300ms')}}`) +
      runYaml(ns, 'build-old', 'build', { who: 'kubectl' }),
  );
  apply(workflowYaml(other, 'hidden-wf', `  - {name: secret, image: busybox:1.36, ${ann('300ms')}}`));
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

const runsOf = (wf) => JSON.parse(kubectl('-n', ns, 'get', 'wfr', '-o', 'json')).items.filter((r) => r.spec.workflowRef.name === wf);
const sorted = (ps) => [...(ps || [])].sort((a, b) => a.name.localeCompare(b.name));

test('the Workflows list holds the namespace\'s Workflows only, live', { timeout: 120000 }, async () => {
  for (const [who, token] of [['writer', env.writer], ['reader', env.reader]]) {
    await withPage(browser, `workflows-list-${who}`, async (page) => {
      await signIn(page, token, '#/workflows');
      await page.waitForSelector(row(ns, 'build'));
      await page.waitForSelector(row(ns, 'deploy'));
      await sleep(1000); // all it will ever hold
      const keys = await page.$$eval('#workflows-body tr', (trs) => trs.map((tr) => tr.dataset.key));
      const names = kubectl('-n', ns, 'get', 'workflows.runbook.dev', '-o', 'jsonpath={.items[*].metadata.name}').split(/\s+/).filter(Boolean);
      assert.deepEqual(keys, names.map((n) => `${ns}/${n}`).sort(), 'the rows are the Workflows of the namespace, sorted');
      assert.ok(!(await page.textContent('body')).includes('hidden-wf'), `${other}'s Workflow is nowhere on the page`);
      const nsOptions = await page.$$eval('#workflows-namespace option', (os) => os.map((o) => o.value));
      assert.ok(!nsOptions.includes(other));
      assert.equal(await page.textContent(`${row(ns, 'build')} td.c-steps`), '4 + 1 finally');
      assert.equal(await page.textContent(`${row(ns, 'build')} td.c-params`), '3');
      assert.match(await page.textContent(`${row(ns, 'build')} td.c-age`), /^\d+[smhd]$/);
      assert.equal(await page.getAttribute(`${row(ns, 'build')} td.c-name a`, 'href'), `#/workflows/${ns}/build`);
      if (who !== 'writer') return;
      // Live: a Workflow made now appears, and goes when deleted.
      apply(workflowYaml(ns, 'late', `  - {name: only, image: busybox:1.36, ${ann('300ms')}}`));
      await page.waitForSelector(row(ns, 'late'), { timeout: 30000 });
      kubectl('-n', ns, 'delete', 'workflows.runbook.dev', 'late', '--wait=false');
      await page.waitForSelector(row(ns, 'late'), { state: 'detached', timeout: 30000 });
      await screenshot(page, 'workflows');
    });
  }
});

test('a Workflow\'s page: params, DAG, spec, recent runs; Start with the writer\'s token', { timeout: 180000 }, async () => {
  await withPage(browser, 'workflow-start', async (page, seen) => {
    await page.addInitScript(() => {
      window.__alerts = 0;
      window.alert = () => window.__alerts++;
    });
    await signIn(page, env.writer, '#/workflows');
    await page.click(`${row(ns, 'build')} td.c-name a`);
    await page.waitForSelector('#workflow-body:not([hidden])', { timeout: 30000 });
    assert.equal(await page.textContent('#workflow-title'), `${ns} / build`);
    // Params: name, default, description, an input each.
    assert.deepEqual(await page.$$eval('#wf-params-body tr', (trs) => trs.map((tr) => tr.dataset.param)), ['who', 'target', 'note']);
    assert.equal(await page.textContent('#wf-params-body tr[data-param=target] td.default'), 'linux');
    assert.equal(await page.textContent('#wf-params-body tr[data-param=target] td.description'), 'the platform to build for');
    assert.equal(await page.textContent('#wf-params-body tr[data-param=who] td.description'), 'who asked for it');
    assert.equal(await page.inputValue('input[data-param=target]'), 'linux');
    assert.equal(await page.inputValue('input[data-param=who]'), '');
    assert.ok(await page.$eval('input[data-param=who]', (i) => i.required), 'a param without default is required');
    // The DAG: every step, an edge per dependsOn, the finally step apart, no phase.
    const nodes = await page.$$eval('#wf-dag g.node', (gs) => gs.map((g) => g.dataset.step));
    assert.deepEqual(nodes.sort(), ['compile', 'fetch', 'lint', 'report', 'test']);
    const edges = await page.$$eval('#wf-dag path.edge', (ps) => ps.map((p) => `${p.dataset.from}->${p.dataset.to}`));
    assert.deepEqual(edges.sort(), ['compile->test', 'fetch->compile', 'fetch->lint']);
    assert.equal(await page.$$eval('#wf-dag g.node.finally', (gs) => gs.map((g) => g.dataset.step).join()), 'report');
    assert.equal(await page.$$eval('#wf-dag g.node[class*="phase-"]', (gs) => gs.length), 0);
    // The spec, as the cluster has it.
    const spec = JSON.parse(kubectl('-n', ns, 'get', 'workflows.runbook.dev', 'build', '-o', 'json')).spec;
    assert.deepEqual(JSON.parse(await page.textContent('#wf-spec')), spec);
    // Its runs: the one made with kubectl.
    await page.waitForSelector(`#wf-runs-body tr[data-key="${ns}/build-old"]`, { timeout: 30000 });
    assert.equal(await page.getAttribute(`#wf-runs-body tr[data-key="${ns}/build-old"] a`, 'href'), `#/runs/${ns}/build-old`);

    assert.ok(await page.isEnabled('#start'), 'the writer may start');
    const before = runsOf('build').map((r) => r.metadata.name);
    await page.fill('input[data-param=who]', 'alice');
    await screenshot(page, 'workflow');
    await page.fill('input[data-param=note]', XSS);
    await page.click('#start');
    await page.waitForFunction((old) => /^#\/runs\/[^/]+\/[^/]+$/.test(location.hash) && !old.includes(decodeURIComponent(location.hash.split('/').pop())), before, { timeout: 30000 });
    const name = decodeURIComponent((await page.evaluate(() => location.hash)).split('/').pop());
    assert.equal(await page.evaluate(() => location.hash), `#/runs/${ns}/${name}`);
    await page.waitForSelector('#run-body:not([hidden])', { timeout: 30000 });
    assert.equal(await page.textContent('#run-title'), `${ns} / ${name}`);
    const made = runsOf('build').filter((r) => !before.includes(r.metadata.name));
    assert.deepEqual(made.map((r) => r.metadata.name), [name], 'one run created, the one shown');
    assert.deepEqual(sorted(made[0].spec.params), [{ name: 'note', value: XSS }, { name: 'who', value: 'alice' }], 'exactly the params typed');
    assert.ok(!made[0].spec.cancel);
    // The value comes back as text.
    await page.waitForSelector('#params-body tr[data-param=note] td');
    assert.equal(await page.textContent('#params-body tr[data-param=note] td'), XSS);
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 90000 });
    // The create was the writer's own: the audit log (level Request: the
    // body) names the user of the one create with these params.
    const dir = process.env.RUNBOOK_CLUSTER_DIR;
    assert.ok(dir, 'RUNBOOK_CLUSTER_DIR is set (the audit log is in its logs/)');
    const creates = await eventually('the audit entry of the create', () => {
      const found = fs.readFileSync(`${dir}/logs/audit.log`, 'utf8').split('\n').filter((l) => l.includes('"alice"') && l.includes(ns)).map((l) => JSON.parse(l))
        .filter((e) => e.verb === 'create' && e.objectRef && e.objectRef.resource === 'workflowruns' && !e.objectRef.subresource && e.objectRef.namespace === ns &&
          e.requestObject && e.requestObject.spec && (e.requestObject.spec.params || []).some((p) => p.name === 'who' && p.value === 'alice'));
      return found.length ? found : null;
    }, 10000);
    assert.equal(creates.length, 1, 'one create');
    assert.equal(creates[0].responseStatus.code, 201);
    assert.equal(creates[0].user.username, env.writerUser);
    assert.ok(!creates[0].impersonatedUser, 'no impersonation');
    // Back on the Workflow's page, the run is its newest.
    await page.goto(`${env.url}/#/workflows/${ns}/build`);
    await page.waitForSelector(`#wf-runs-body tr[data-key="${ns}/${name}"]`, { timeout: 30000 });
    assert.equal(await page.$eval('#wf-runs-body tr', (tr) => tr.dataset.key), `${ns}/${name}`, 'newest first');
    assert.equal(await page.$$eval('img', (x) => x.length), 0, 'no <img> anywhere');
    assert.equal(await page.evaluate(() => window.__alerts), 0, 'alert() never called');
    assert.deepEqual(seen.dialogs, []);
  });
});

test('Start with the reader\'s token: disabled; pressed anyway, the API server\'s 403 as text, no run', { timeout: 120000 }, async () => {
  await withPage(browser, 'workflow-start-reader', async (page) => {
    await signIn(page, env.reader, `#/workflows/${ns}/build`);
    await page.waitForSelector('#workflow-body:not([hidden])', { timeout: 30000 });
    assert.ok(await page.isDisabled('#start'), 'the reader may not create runs');
    assert.equal(await page.getAttribute('#start', 'title'), 'you may not create runs here');
    const before = runsOf('build').length;
    await page.fill('input[data-param=who]', XSS);
    await page.$eval('#start', (b) => (b.disabled = false));
    await page.click('#start');
    await page.waitForSelector('#notice.error', { timeout: 30000 });
    const notice = await page.textContent('#notice');
    assert.match(notice, /403/, notice);
    assert.match(notice, /forbidden/i, notice);
    assert.ok(notice.includes(env.readerUser), `the API server's message names the reader: ${notice}`);
    assert.ok(await page.isDisabled('#start'), 'disabled again');
    await screenshot(page, 'workflow-refused');
    await sleep(1000);
    assert.equal(runsOf('build').length, before, 'no run created');
    assert.equal(await page.evaluate(() => location.hash), `#/workflows/${ns}/build`, 'still on the Workflow');
  });
});
