// The Triggers page against the operator under test: a schedule Trigger,
// a webhook Trigger (generic signature, its Secret) and one with both,
// suspended, appear with their kind, Workflow, schedule and next
// scheduled time as the cluster has them; NS_OTHER's Trigger does not; a
// delivery POSTed to the operator's webhook (OPERATOR_WEBHOOK) shows up as
// the webhook Trigger's last delivery, live, with a link to its run.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { env, launch, withPage, signIn, apply, jp, workflowYaml, screenshot, eventually, sleep } from './lib.mjs';

const ns = env.ns;
const other = env.nsOther;
const SECRET = "It's a Secret to Everybody";
let browser;
const row = (name) => `#triggers-body tr[data-key="${ns}/${name}"]`;
const cell = (page, name, c) => page.textContent(`${row(name)} td.c-${c}`);

before(async () => {
  apply(
    workflowYaml(ns, 'build', `  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}}`,
      '  params: [{name: sha, default: HEAD}]\n') +
    `---
apiVersion: v1
kind: Secret
metadata: {name: hook, namespace: ${ns}}
stringData: {token: ${JSON.stringify(SECRET)}}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: on-push, namespace: ${ns}}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: hook, key: token}
    params: [{name: sha, pointer: /sha}]
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: nightly, namespace: ${ns}}
spec:
  workflowRef: {name: build}
  schedule: {cron: "0 3 * * *"}
---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: both, namespace: ${ns}}
spec:
  workflowRef: {name: build}
  webhook:
    secretRef: {name: hook, key: token}
  schedule: {cron: "30 4 * * 1-5", suspend: true}
`);
  apply(workflowYaml(other, 'build', '  - {name: a, image: busybox:1.36}') + `---
apiVersion: runbook.dev/v1alpha1
kind: Trigger
metadata: {name: hidden-trigger, namespace: ${other}}
spec:
  workflowRef: {name: build}
  schedule: {cron: "@daily"}
`);
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

// deliver(trigger, body): a delivery signed the generic way (docs/triggers.md); the answer.
async function deliver(trigger, body) {
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
  const res = await fetch(`${env.webhook}/hooks/${ns}/${trigger}`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Runbook-Timestamp': ts, 'X-Runbook-Signature': `sha256=${sig}`, 'Idempotency-Key': `ui-${crypto.randomUUID()}` },
  });
  return { status: res.status, answer: await res.json() };
}

test('the Triggers: kind, Workflow, schedule, next scheduled time; a delivery shows up live', { timeout: 180000 }, async () => {
  await withPage(browser, 'triggers', async (page) => {
    await signIn(page, env.reader, '#/');
    await page.waitForSelector('#nav-triggers:not([hidden])');
    await page.click('#nav-triggers');
    for (const n of ['on-push', 'nightly', 'both']) await page.waitForSelector(row(n), { timeout: 30000 });
    await sleep(1000);
    const keys = await page.$$eval('#triggers-body tr', (trs) => trs.map((tr) => tr.dataset.key));
    assert.deepEqual(keys, [`${ns}/both`, `${ns}/nightly`, `${ns}/on-push`], 'the namespace\'s Triggers, sorted');
    assert.ok(!(await page.textContent('body')).includes('hidden-trigger'), `${other}'s Trigger is nowhere on the page`);

    assert.equal(await cell(page, 'on-push', 'kind'), 'webhook');
    assert.equal(await cell(page, 'nightly', 'kind'), 'schedule');
    assert.equal(await cell(page, 'both', 'kind'), 'both');
    for (const n of ['on-push', 'nightly', 'both']) assert.equal(await cell(page, n, 'workflow'), 'build');
    assert.equal(await page.getAttribute(`${row('nightly')} td.c-workflow a`, 'href'), `#/workflows/${ns}/build`);
    assert.equal(await cell(page, 'nightly', 'schedule'), '0 3 * * *');
    assert.equal(await cell(page, 'both', 'suspended'), 'yes');
    assert.equal(await cell(page, 'nightly', 'suspended'), '');
    assert.equal(await cell(page, 'on-push', 'schedule'), '');
    // Ready, with the reason as the title, as the cluster says.
    await eventually('the Triggers Ready on screen', async () => (await cell(page, 'on-push', 'ready')) === 'Ready' && (await cell(page, 'nightly', 'ready')) === 'Ready', 60000);
    assert.equal(await page.getAttribute(`${row('nightly')} td.c-ready`, 'title'), jp(ns, 'rtr/nightly', '{.status.conditions[?(@.type=="Ready")].reason}') +
      (jp(ns, 'rtr/nightly', '{.status.conditions[?(@.type=="Ready")].message}') ? `: ${jp(ns, 'rtr/nightly', '{.status.conditions[?(@.type=="Ready")].message}')}` : ''));
    // The next scheduled time, the one in the Trigger's status.
    const next = await eventually('nextScheduleTime in the status', () => jp(ns, 'rtr/nightly', '{.status.nextScheduleTime}'), 60000);
    await page.waitForSelector(`${row('nightly')} td.c-next time[datetime="${next}"]`, { timeout: 30000 });
    assert.match(next, /T03:00:00Z$/);
    assert.notEqual((await cell(page, 'nightly', 'next')).trim(), '');
    assert.equal(await cell(page, 'on-push', 'delivery'), '', 'no delivery yet');

    // A delivery: shown as the last one, with its run, without a reload.
    await page.evaluate(() => (window.__sameDocument = true));
    const { status, answer } = await deliver('on-push', JSON.stringify({ sha: 'c0ffee' }));
    assert.equal(status, 201, JSON.stringify(answer));
    const run = answer.run.name;
    await page.waitForSelector(`${row('on-push')} td.c-delivery a[href="#/runs/${ns}/${run}"]`, { timeout: 60000 });
    const text = await cell(page, 'on-push', 'delivery');
    assert.ok(text.includes(jp(ns, 'rtr/on-push', '{.status.lastDelivery.result}')), text);
    assert.ok(text.includes('201'), text);
    assert.ok(text.includes(run), text);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
    await eventually('last fired', async () => (await cell(page, 'on-push', 'fired')).trim() !== '', 30000);
    await screenshot(page, 'triggers');
    // The run link leads to the run.
    await page.click(`${row('on-push')} td.c-delivery a`);
    await page.waitForSelector('#run-body:not([hidden])', { timeout: 30000 });
    assert.equal(await page.textContent('#run-title'), `${ns} / ${run}`);
  });
});
