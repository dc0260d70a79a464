// --ui-anonymous-read, on a second replica that serves only reads: a
// follower (it can never win its lease: the test holds it for another
// identity), which is also what every replica of a real Deployment does.
//   - a tab without a token sees the runs of every namespace the replica
//     caches, with no sign-in form, and "Sign in" as a link;
//   - it can write nothing: the Cancel button is disabled, and a cancel,
//     a run again and a start sent over the socket anyway are refused
//     ("sign in to act", 401) with spec.cancel still unset; logs need a
//     person ("sign in to read logs");
//   - signing in from the link turns the same tab into the writer: the
//     other namespace's run goes, Cancel is enabled and works.
// Run through test/ui/run.sh (which makes the namespaces and tokens).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { env, launch, withPage, apply, kubectl, eventually, workflowYaml, runYaml, screenshot, sleep } from './lib.mjs';

const ns = env.ns;
const other = env.nsOther;
const LEASE = 'runbook-anon-test';
let browser;
let replica;
let url;
const logFile = path.join(env.out, 'anon-replica.log');
const row = (ns_, name) => `#runs-body tr[data-key="${ns_}/${name}"]`;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// A MicroTime the API server takes: six digits of fraction.
const microNow = () => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

before(async () => {
  const opDir = process.env.RUNBOOK_OPERATOR_DIR;
  assert.ok(opDir, 'RUNBOOK_OPERATOR_DIR is not set (run through CTest or set it)');
  apply(
    workflowYaml(ns, 'anon-wf', `  - {name: wait, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}`) +
      runYaml(ns, 'anon-1', 'anon-wf'),
  );
  apply(
    workflowYaml(other, 'anon-other', `  - {name: wait, image: busybox:1.36, podTemplate: {metadata: {annotations: {runbook.dev/test-duration: 1h}}}}`) +
      runYaml(other, 'anon-2', 'anon-other'),
  );
  // Held by someone else for an hour: the replica stays a follower.
  apply(`apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: ${LEASE}, namespace: ${ns}}
spec: {holderIdentity: somebody-else, leaseDurationSeconds: 3600, acquireTime: "${microNow()}", renewTime: "${microNow()}"}
`);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const out = fs.openSync(logFile, 'a');
  replica = spawn(path.join(opDir, 'runbook-operator'), [
    '--kubeconfig', process.env.KUBECONFIG, '--leader-elect', '--leader-elect-namespace', ns,
    '--leader-elect-lease-name', LEASE, '--health-addr', '0', '--metrics-addr', '0', '--webhook-addr', '0',
    '--ui-addr', `127.0.0.1:${port}`, '--ui-anonymous-read',
  ], { stdio: ['ignore', out, out], env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
  await eventually('the replica serves the UI', async () => (await fetch(`${url}/`)).ok, 60000);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (replica && replica.exitCode === null) {
    const exited = new Promise((r) => replica.once('exit', (code) => r(code)));
    replica.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(15000).then(() => 'timeout')]);
    const log = fs.readFileSync(logFile, 'utf8');
    if (code !== 0 || /ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/.test(log)) {
      console.log(log.split('\n').slice(-40).join('\n'));
      throw new Error(`the anonymous-read replica exited with ${code} or its sanitizers reported`);
    }
  }
});

// Sends msgs on a socket of the page's own (same origin) and returns the
// first answer matching want.
function rawAsk(page, msgs, want) {
  return page.evaluate(
    ({ msgs, want }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws', 'runbook.v1');
        const t = setTimeout(() => reject(new Error('no answer')), 20000);
        ws.onopen = () => msgs.forEach((m) => ws.send(JSON.stringify(m)));
        ws.onmessage = (ev) => {
          const m = JSON.parse(ev.data);
          if (m.type === want) {
            clearTimeout(t);
            ws.close();
            resolve(m);
          }
        };
      }),
    { msgs, want },
  );
}

test('anonymous read: every namespace, no writes, no logs; signing in makes the same tab the writer', { timeout: 240000 }, async () => {
  await eventually('the runs are Running', () => kubectl('-n', ns, 'get', 'wfr', 'anon-1', '-o', 'jsonpath={.status.phase}') === 'Running', 60000);
  await withPage(browser, 'anon', async (page) => {
    await page.goto(`${url}/#/`);
    await page.waitForSelector('body[data-conn=live]');
    await page.waitForSelector(row(ns, 'anon-1'));
    await page.waitForSelector(row(other, 'anon-2'));
    assert.equal(await page.isVisible('#signin-view'), false, 'no sign-in form for an anonymous reader');
    assert.equal(await page.isVisible('#sign-in'), true, '"Sign in" is a link');
    await screenshot(page, 'anon-runs');

    await page.goto(`${url}/#/runs/${ns}/anon-1`);
    await page.waitForSelector('#cancel');
    assert.equal(await page.isDisabled('#cancel'), true, 'Cancel is disabled for an anonymous reader');

    // Sent anyway, over a socket of the same origin: refused, nothing written.
    for (const [msg, what] of [
      [{ type: 'cancel', namespace: ns, name: 'anon-1', id: 1 }, 'cancel'],
      [{ type: 'run_again', namespace: ns, name: 'anon-1', id: 2 }, 'run again'],
      [{ type: 'start', namespace: ns, workflow: 'anon-wf', id: 3, params: {} }, 'start'],
    ]) {
      const r = await rawAsk(page, [{ type: 'watch_runs' }, msg], 'result');
      assert.equal(r.ok, false, `${what} is refused`);
      assert.equal(r.code, 401, `${what}: 401`);
      assert.match(r.message, /sign in to act/);
    }
    // What the server itself says (not only the page): nothing may be done.
    const detail = await rawAsk(page, [{ type: 'watch_run', namespace: ns, name: 'anon-1' }], 'run_detail');
    assert.equal(detail.item.canCancel, false, 'run_detail.canCancel is false for an anonymous reader');
    const wf = await rawAsk(page, [{ type: 'watch_workflow', namespace: ns, name: 'anon-wf' }], 'workflow_detail');
    assert.equal(wf.item.canStart, false, 'workflow_detail.canStart is false for an anonymous reader');
    const logs = await rawAsk(page, [{ type: 'watch_runs' }, { type: 'logs', namespace: ns, name: 'anon-1', step: 'wait' }], 'logs_end');
    assert.match(logs.message, /sign in to read logs/);
    await sleep(1000);
    assert.notEqual(kubectl('-n', ns, 'get', 'wfr', 'anon-1', '-o', 'jsonpath={.spec.cancel}'), 'true', 'spec.cancel was not set');
    assert.equal(kubectl('-n', ns, 'get', 'wfr', '-o', 'name').trim().split('\n').length, 1, 'no run was created');

    // Signed in from the link: the writer, in the same tab.
    await page.click('#sign-in');
    await page.fill('#token', env.writer);
    await page.click('#signin-submit');
    await page.waitForSelector('#sign-in', { state: 'hidden' });
    await eventually('Cancel is enabled for the writer', async () => !(await page.isDisabled('#cancel')), 30000);
    await page.goto(`${url}/#/`);
    await page.waitForSelector(row(ns, 'anon-1'));
    await page.waitForSelector(row(other, 'anon-2'), { state: 'detached' });
  });
});
