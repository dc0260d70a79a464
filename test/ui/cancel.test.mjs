// The Cancel button, with each person's own token.
//   c. writer: confirmation dialog, then Cancelling, then Cancelled on
//      screen; spec.cancel is true, and the API server's audit log names
//      the writer's ServiceAccount as the user who patched it;
//   d. reader: the button is disabled; sent anyway (a page whose rights
//      were taken away since it loaded), the API server's 403 is shown in
//      #notice, and the run keeps running.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { env, launch, withPage, signIn, apply, kubectl, jp, workflowYaml, runYaml, screenshot, watchText, seenTexts, sleep, eventually } from './lib.mjs';

const ns = env.ns;
let browser;

before(async () => {
  // Step a ignores SIGTERM: its pod stays for the 4 s grace period after a
  // cancel, so the run is Cancelling for that long. Then the finally step.
  apply(workflowYaml(ns, 'long', [
    '  - {name: a, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}',
    '  - {name: b, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h, runbook.dev/test-sigterm-exit: 100ms}}}}',
    '  - {name: c, image: busybox:1.36, dependsOn: [a]}',
    '  finally:',
    '  - {name: report, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 500ms}}}}',
  ].join('\n'), '  terminationGracePeriodSeconds: 4\n'));
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

// openRunning(page, name): the run view once both steps run.
async function openRunning(page, name) {
  await page.goto(`${env.url}/#/runs/${ns}/${name}`);
  await page.waitForSelector('#run-phase.phase-Running', { timeout: 60000 });
  await page.waitForSelector('#dag g.node[data-step=a].phase-Running', { timeout: 60000 });
  await page.waitForSelector('#dag g.node[data-step=b].phase-Running', { timeout: 60000 });
}

// The audit log's entries (docs/testing.md: patches of workflowruns, with
// their request bodies) for one run.
function auditPatches(name) {
  const dir = process.env.RUNBOOK_CLUSTER_DIR;
  assert.ok(dir, 'RUNBOOK_CLUSTER_DIR is set (the audit log is in its logs/)');
  const out = [];
  for (const f of [`${dir}/logs/audit.log`]) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
      if (!line.includes(`"${name}"`) || !line.includes('workflowruns')) continue;
      let e;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      const o = e.objectRef || {};
      if (e.verb === 'patch' && o.resource === 'workflowruns' && !o.subresource && o.namespace === ns && o.name === name) out.push(e);
    }
  }
  return out;
}

test('c. cancel with the writer token: confirm, Cancelling, Cancelled; the patch was the writer\'s', { timeout: 180000 }, async () => {
  await withPage(browser, 'cancel-writer', async (page) => {
    await signIn(page, env.writer);
    apply(runYaml(ns, 'rc-w', 'long'));
    await openRunning(page, 'rc-w');
    await watchText(page, '#run-phase');
    assert.ok(await page.isEnabled('#cancel'), 'the writer may cancel');
    assert.equal(await page.isVisible('#confirm'), false);

    // The first click only asks; "keep it running" sends nothing.
    await page.click('#cancel');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    await page.waitForSelector('#confirm', { state: 'hidden' });
    await sleep(1000);
    assert.equal(jp(ns, 'wfr/rc-w', '{.spec.cancel}'), '', 'no cancel without confirmation');

    await page.click('#cancel');
    await page.waitForSelector('#confirm[open]');
    assert.match(await page.textContent('#confirm-text'), new RegExp(`${ns}/rc-w`));
    await screenshot(page, 'cancel-confirm');
    await page.click('#confirm-yes');
    await page.waitForSelector('#run-phase.phase-Cancelled', { timeout: 60000 });
    const phases = await seenTexts(page, '#run-phase');
    const i = phases.indexOf('Cancelling');
    assert.ok(i >= 0 && phases.indexOf('Cancelled') > i, `the phase went Cancelling, then Cancelled: ${phases.join(' -> ')}`);
    assert.ok(phases.slice(i).every((p) => p === 'Cancelling' || p === 'Cancelled'), phases.join(' -> '));
    assert.ok(await page.isDisabled('#cancel'), 'nothing left to cancel');
    assert.ok(await page.isHidden('#notice.error'), 'no refusal shown');
    await screenshot(page, 'cancel-cancelled');
  });

  // The cluster's side: spec.cancel is true...
  assert.equal(jp(ns, 'wfr/rc-w', '{.spec.cancel}'), 'true');
  // ... managedFields has the field, under the manager the operator's UI
  // client gives (its User-Agent) ...
  const obj = JSON.parse(kubectl('-n', ns, 'get', 'wfr', 'rc-w', '--show-managed-fields', '-o', 'json'));
  const mf = (obj.metadata.managedFields || []).filter((m) => !m.subresource && m.fieldsV1 && m.fieldsV1['f:spec'] && 'f:cancel' in m.fieldsV1['f:spec']);
  assert.equal(mf.length, 1, `one manager owns spec.cancel: ${JSON.stringify(obj.metadata.managedFields)}`);
  assert.equal(mf[0].operation, 'Update', 'a merge patch is an Update');
  // ... and the API server's audit log says whose token made the patch:
  // managedFields never names a user, the audit entry does.
  const patches = await eventually('the audit entry of the patch', () => auditPatches('rc-w').filter((e) => e.requestObject && e.requestObject.spec && e.requestObject.spec.cancel === true), 10000);
  assert.equal(patches.length, 1, `one cancel patch: ${JSON.stringify(patches.map((e) => e.user))}`);
  const p = patches[0];
  assert.equal(p.user.username, env.writerUser, 'the patch was made with the writer\'s token');
  assert.ok(p.responseStatus.code >= 200 && p.responseStatus.code < 300, `accepted: ${p.responseStatus.code}`);
  assert.deepEqual(p.requestObject, { spec: { cancel: true } }, 'the body is the documented merge patch');
  assert.ok(!p.impersonatedUser, 'no impersonation');
  // The manager in managedFields is that request's client.
  assert.ok(p.userAgent && p.userAgent.startsWith(mf[0].manager), `manager ${mf[0].manager} is the client of the audited patch (${p.userAgent})`);
  // Nobody else patched spec.cancel of this run.
  const others = auditPatches('rc-w').filter((e) => e.user.username !== env.writerUser && JSON.stringify(e.requestObject || {}).includes('cancel'));
  assert.deepEqual(others.map((e) => e.user.username), []);
});

test('d. cancel with the reader token: refused with the API server\'s 403, the run keeps running', { timeout: 180000 }, async () => {
  await withPage(browser, 'cancel-reader', async (page) => {
    await signIn(page, env.reader);
    apply(runYaml(ns, 'rc-r', 'long'));
    await openRunning(page, 'rc-r');
    assert.ok(await page.isDisabled('#cancel'), 'the reader may not cancel: the button is disabled');
    // A page whose rights were taken away after it loaded still has the
    // button: enable it, as such a page would be, and press it.
    await page.$eval('#cancel', (b) => (b.disabled = false));
    await page.click('#cancel');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#notice.error', { timeout: 30000 });
    const notice = await page.textContent('#notice');
    assert.match(notice, /forbidden/i, notice);
    assert.ok(notice.includes(env.readerUser), `the API server's message names the user: ${notice}`);
    assert.match(notice, /403/, notice);
    assert.ok(await page.isDisabled('#cancel'), 'the button is disabled again');
    await screenshot(page, 'cancel-refused');
    // The run keeps running.
    await sleep(3000);
    assert.equal(jp(ns, 'wfr/rc-r', '{.spec.cancel}'), '');
    assert.equal(jp(ns, 'wfr/rc-r', '{.status.phase}'), 'Running');
    assert.equal(await page.textContent('#run-phase'), 'Running');
  });
  // The refused request was the reader's own: the API server audited it
  // (the policy logs every patch of workflowruns, refused ones too) as the
  // reader, with its 403, and nobody else patched the run.
  const tried = await eventually('the audit entry of the refused patch', () => (auditPatches('rc-r').length ? auditPatches('rc-r') : null), 10000);
  for (const e of tried) {
    assert.equal(e.user.username, env.readerUser, 'only the reader tried');
    assert.equal(e.responseStatus.code, 403);
  }
  kubectl('-n', ns, 'patch', 'wfr', 'rc-r', '--type=merge', '-p', '{"spec":{"cancel":true}}');
});
