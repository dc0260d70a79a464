// f. Strings from the cluster are text, never markup: a parameter value, a
//    step's message (its container's termination message: the last thing
//    it wrote) and an Event's message that hold <img src=x onerror=alert(1)>
//    are shown as those characters; no <img> element is made and no dialog
//    opens. (Step and run names cannot hold markup: the CRD allows DNS
//    labels only.)
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, withPage, signIn, apply, kubectl, workflowYaml, runYaml, screenshot, sleep } from './lib.mjs';

const ns = env.ns;
const XSS = '<img src=x onerror=alert(1)>';
let browser;

before(async () => {
  apply(
    workflowYaml(ns, 'xss', [
      '  - {name: ok, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms}}}}',
      `  - {name: boom, image: busybox:1.36, dependsOn: [ok], podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 300ms, runbook.dev/test-exit-code: "3", runbook.dev/test-message: ${JSON.stringify(`log: ${XSS}`)}}}}}`,
    ].join('\n'), `  params: [{name: note, default: "x"}]\n`) + runYaml(ns, 'x1', 'xss', { note: XSS }),
  );
  // An Event about the run, as any controller could write one.
  const uid = kubectl('-n', ns, 'get', 'wfr', 'x1', '-o', 'jsonpath={.metadata.uid}');
  apply(`apiVersion: v1
kind: Event
metadata: {name: x1.xss, namespace: ${ns}}
involvedObject: {apiVersion: runbook.dev/v1alpha1, kind: WorkflowRun, name: x1, namespace: ${ns}, uid: ${uid}}
type: Warning
reason: Injected
message: ${JSON.stringify(`event: ${XSS}`)}
firstTimestamp: "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"
lastTimestamp: "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"
count: 1
source: {component: ui-test}
`);
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

test('f. markup in a parameter, a step message and an event is shown as text', { timeout: 180000 }, async () => {
  await withPage(browser, 'xss', async (page, seen) => {
    await page.addInitScript(() => {
      window.__alerts = 0;
      const a = window.alert;
      window.alert = (...x) => {
        window.__alerts++;
        return a.apply(window, x);
      };
    });
    await signIn(page, env.reader);
    await page.goto(`${env.url}/#/runs/${ns}/x1`);
    await page.waitForSelector('#run-phase.phase-Failed', { timeout: 90000 });
    await page.waitForSelector('#steps-body tr[data-step=boom] td.message');
    // Shown, character for character, as text.
    assert.equal(await page.textContent('#params-body tr[data-param=note] td'), XSS);
    assert.equal(await page.textContent('#steps-body tr[data-step=boom] td.message'), `log: ${XSS}`);
    assert.ok((await page.textContent('#failed-step')).includes(`log: ${XSS}`), 'the failure box quotes the step message');
    // The run's message, as the cluster has it (it quotes the step's).
    const message = kubectl('-n', ns, 'get', 'wfr', 'x1', '-o', 'jsonpath={.status.conditions[?(@.type=="Succeeded")].message}');
    assert.equal(await page.textContent('#run-message'), message);
    const events = await page.textContent('#events');
    if (events.includes('event: ')) assert.ok(events.includes(`event: ${XSS}`), events);
    else console.log(`# the run's events do not include the injected Event (events shown: ${JSON.stringify(events)})`);
    await sleep(1000); // an onerror would have run by now
    await screenshot(page, 'xss');

    // The runs list shows the same run; back there, still nothing ran.
    await page.click('#back');
    await page.waitForSelector(`#runs-body tr[data-key="${ns}/x1"]`);
    await sleep(500);

    assert.equal(await page.$$eval('img', (x) => x.length), 0, 'no <img> element anywhere');
    assert.equal(await page.evaluate(() => document.querySelectorAll('[onerror]').length), 0, 'no onerror attribute anywhere');
    assert.equal(await page.evaluate(() => window.__alerts), 0, 'alert() never called');
    assert.deepEqual(seen.dialogs, [], 'no dialog opened');
  });
});
