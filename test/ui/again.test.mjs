// The run page's Events and its "Run again" button, with each person's own
// token:
//   - the Events the operator recorded about the run are listed (read with
//     the person's token: RBAC decides whether they may list Events);
//   - Run again with the writer's token creates a new run of the same
//     Workflow with the same params (the API server names it
//     <old name>-<random>, labelled runbook.dev/rerun-of), and the page
//     moves to it; the audit log names the writer as its creator;
//   - the reader's Run again is refused with the API server's 403 and no
//     run is created.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { env, launch, withPage, signIn, apply, kubectl, workflowYaml, runYaml, screenshot, eventually } from './lib.mjs';

const ns = env.ns;
let browser;
const ann = (d) => `podTemplate: {metadata: {annotations: {runbook.dev/test-duration: ${d}}}}`;

before(async () => {
  apply(workflowYaml(ns, 'twice', [`  - {name: a, image: busybox:1.36, ${ann('500ms')}}`].join('\n'),
    '  params: [{name: who, default: nobody}]\n'));
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

const runsOf = () => JSON.parse(kubectl('-n', ns, 'get', 'wfr', '-o', 'json')).items;

test('Events listed; Run again with the writer token starts the same run', { timeout: 180000 }, async () => {
  apply(runYaml(ns, 'ra-w', 'twice', { who: 'writer' }));
  await withPage(browser, 'again-writer', async (page) => {
    await signIn(page, env.writer, `#/runs/${ns}/ra-w`);
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 60000 });
    // The operator's Events about the run (at least the phase changes).
    await page.waitForSelector('#events li', { timeout: 30000 });
    const reasons = await page.$$eval('#events .ev-reason', (els) => els.map((e) => e.textContent));
    assert.ok(reasons.length > 0, 'some Events');
    await page.click('#run-again');
    await page.waitForFunction((old) => /^#\/runs\/[^/]+\/ra-w-[a-z0-9]+$/.test(location.hash) && !location.hash.endsWith(old), '/ra-w', { timeout: 30000 });
    const newName = decodeURIComponent((await page.evaluate(() => location.hash)).split('/').pop());
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 60000 });
    assert.equal(await page.textContent('#run-title'), `${ns} / ${newName}`);
    await screenshot(page, 'again-new');
    const run = runsOf().find((r) => r.metadata.name === newName);
    assert.ok(run, `run ${newName} exists`);
    assert.equal(run.spec.workflowRef.name, 'twice');
    assert.deepEqual(run.spec.params, [{ name: 'who', value: 'writer' }]);
    assert.equal(run.metadata.labels['runbook.dev/rerun-of'], 'ra-w');
    assert.ok(!run.spec.cancel);
    // The create was the writer's own: the audit log (level Request: the
    // body, with its generateName) names the user.
    const dir = process.env.RUNBOOK_CLUSTER_DIR;
    const creates = await eventually('the audit entry of the create', () => {
      const found = fs.readFileSync(`${dir}/logs/audit.log`, 'utf8').split('\n').filter((l) => l.includes('"ra-w-"')).map((l) => JSON.parse(l))
        .filter((e) => e.verb === 'create' && e.objectRef && e.objectRef.resource === 'workflowruns' && e.objectRef.namespace === ns &&
          e.requestObject && e.requestObject.metadata && e.requestObject.metadata.generateName === 'ra-w-' && e.responseStatus.code === 201);
      return found.length ? found : null;
    }, 10000);
    assert.equal(creates.length, 1, 'one create');
    assert.equal(creates[0].user.username, env.writerUser);
    assert.ok(!creates[0].impersonatedUser, 'no impersonation');
  });
});

test('Run again with the reader token: refused with the API server\'s 403', { timeout: 120000 }, async () => {
  apply(runYaml(ns, 'ra-r', 'twice'));
  await withPage(browser, 'again-reader', async (page) => {
    await signIn(page, env.reader, `#/runs/${ns}/ra-r`);
    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 60000 });
    const before = runsOf().length;
    await page.click('#run-again');
    await page.waitForSelector('#notice.error', { timeout: 30000 });
    const notice = await page.textContent('#notice');
    assert.match(notice, /403/, notice);
    assert.match(notice, /forbidden/i, notice);
    assert.ok(notice.includes(env.readerUser), notice);
    assert.equal(runsOf().length, before, 'no run created');
    assert.ok((await page.evaluate(() => location.hash)).endsWith('/ra-r'), 'still on the same run');
  });
});
