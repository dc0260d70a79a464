// The pages of the protocol's second part (docs/ui.md; the Workflows,
// the Workflow page and Start run, the Triggers, a step's logs, sign_in
// and anonymous read) in Chromium against a stand-in operator
// (test/ui/mock.mjs: ui/ served from the tree, the WebSocket played by
// Playwright): what the page sends and shows for each message. No cluster:
// run.sh runs *.mock.test.mjs without KUBECONFIG.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, screenshot, eventually, sleep } from './lib.mjs';
import { serveUi, mockOperator } from './mock.mjs';

const XSS = '<img src=x onerror=alert(1)>';
let browser;
let srv;
before(async () => {
  srv = await serveUi();
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

const NOW = Date.now();
const iso = (msAgo) => new Date(NOW - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
const TOKENS = { writer: { user: 'system:serviceaccount:team:writer', namespaces: ['team'], canStart: true, canCancel: true },
  reader: { user: 'system:serviceaccount:team:reader', namespaces: ['team'] } };

function fixtures() {
  const runs = [];
  for (let i = 0; i < 25; i++) {
    runs.push({ namespace: 'team', name: `build-${String(i).padStart(2, '0')}`, uid: `u${i}`, workflow: 'build', phase: i ? 'Succeeded' : 'Running',
      progress: '3/3', currentStep: '', created: iso(i * 60000), started: iso(i * 60000 - 1000), completed: i ? iso(i * 60000 - 30000) : undefined, cancelRequested: false });
  }
  runs.push({ namespace: 'other', name: 'build-x', uid: 'ux', workflow: 'build', phase: 'Succeeded', progress: '1/1', created: iso(0), cancelRequested: false });
  runs.push({ namespace: 'team', name: 'deploy-1', uid: 'ud', workflow: 'deploy', phase: 'Failed', progress: '1/2', created: iso(1000), cancelRequested: false });
  const wfSteps = [
    { name: 'fetch', finally: false, dependsOn: [], image: 'alpine/git:2' },
    { name: 'compile', finally: false, dependsOn: ['fetch'], image: 'gcc:14' },
    { name: 'test', finally: false, dependsOn: ['compile'], image: 'gcc:14' },
    { name: 'notify', finally: true, dependsOn: [], image: 'curlimages/curl:8' },
  ];
  const buildSpec = { params: [{ name: 'sha' }, { name: 'target', default: 'linux', description: 'what to build for' }, { name: 'note', default: 'x' }],
    steps: wfSteps.filter((s) => !s.finally).map(({ name, dependsOn, image }) => ({ name, dependsOn, image })), finally: [{ name: 'notify', image: 'curlimages/curl:8' }] };
  return {
    runs,
    workflows: [
      { namespace: 'team', name: 'build', uid: 'w1', created: iso(3 * 86400000), steps: 3, finally: 1, params: 3 },
      { namespace: 'team', name: 'deploy', uid: 'w2', created: iso(7200000), steps: 2, finally: 0, params: 0 },
      { namespace: 'other', name: 'lint', uid: 'w3', created: iso(90000), steps: 1, finally: 0, params: 0 },
    ],
    workflowDetails: {
      'team/build': { namespace: 'team', name: 'build', uid: 'w1', created: iso(3 * 86400000), params: buildSpec.params, steps: wfSteps, spec: buildSpec },
    },
    triggers: [
      { namespace: 'team', name: 'nightly', workflow: 'build', webhook: false, schedule: '0 3 * * *', timeZone: 'Europe/Madrid', suspend: false, ready: true, readyReason: 'Ready',
        lastScheduleTime: iso(86400000), nextScheduleTime: iso(-3600000), lastFired: iso(86400000), lastResult: 'created' },
      { namespace: 'team', name: 'on-push', workflow: 'build', webhook: true, hookPath: '/hooks/team/on-push', suspend: false, ready: false, readyReason: 'SecretNotFound',
        readyMessage: `secret "hook" not found ${XSS}` },
      { namespace: 'team', name: 'both', workflow: 'deploy', webhook: true, hookPath: '/hooks/team/both', schedule: '@daily', suspend: true, ready: true, readyReason: 'Suspended' },
    ],
    details: {
      'team/deploy-1': { namespace: 'team', name: 'deploy-1', uid: 'ud', workflow: 'deploy', phase: 'Failed', progress: '1/2', created: iso(1000), params: {},
        steps: [
          { name: 'plan', finally: false, dependsOn: [], phase: 'Succeeded', attempts: 1, started: iso(9000), completed: iso(5000) },
          { name: 'apply', finally: false, dependsOn: ['plan'], phase: 'Failed', attempts: 1, exitCode: 2, started: iso(5000), completed: iso(1000), message: 'boom' },
        ], events: [] },
      'team/build-00': { namespace: 'team', name: 'build-00', uid: 'u0', workflow: 'build', phase: 'Running', progress: '0/3', created: iso(0), params: { sha: 'abc' },
        steps: [
          { name: 'fetch', finally: false, dependsOn: [], phase: 'Running', attempts: 1, started: iso(1000) },
          { name: 'compile', finally: false, dependsOn: ['fetch'], phase: 'Pending' },
          { name: 'test', finally: false, dependsOn: ['compile'], phase: 'Pending' },
        ], events: [] },
    },
  };
}

// openAs(page, token, hash, opts): the mock, a token in the tab, the page.
async function openAs(page, token, hash, opts = {}) {
  const m = await mockOperator(page, { tokens: TOKENS, data: fixtures(), ...opts });
  if (token) await page.addInitScript((t) => sessionStorage.setItem('runbook.token', t), token);
  await page.goto(`${srv.url}/${hash}`);
  if (opts.mode !== 'anonymous' && token) await page.waitForSelector('body[data-conn=live]');
  return m;
}
const keys = (page, sel) => page.$$eval(`${sel} tr`, (trs) => trs.map((tr) => tr.dataset.key || tr.dataset.param || tr.dataset.step));

test('sign_in: the form shows at once; a tab with a token ignores it', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-signin', async (page) => {
    const m = await mockOperator(page, { tokens: TOKENS, data: fixtures() });
    await page.goto(`${srv.url}/#/`);
    await page.waitForSelector('#signin-view:not([hidden])', { timeout: 5000 });
    assert.equal(await page.textContent('#status'), 'not signed in');
    assert.ok(await page.isHidden('#sign-in'), 'no "Sign in" link: the form is there');
    await page.fill('#token', 'writer');
    await page.click('#signin-submit');
    await page.waitForSelector('body[data-conn=live]');
    assert.equal(await page.textContent('#who'), TOKENS.writer.user);
    assert.equal(m.sockets.length, 2, 'signed in on a new socket');
    // Reloaded with the token in the tab: sign_in still comes first (no
    // Authorization header), and the form never shows.
    await page.evaluate(() => {
      sessionStorage.setItem('runbook.formSeen', '0');
    });
    await page.addInitScript(() => {
      new MutationObserver(() => {
        const f = document.getElementById('signin-view');
        if (f && !f.hidden) sessionStorage.setItem('runbook.formSeen', '1');
      }).observe(document, { subtree: true, attributes: true, childList: true });
    });
    await page.reload();
    await page.waitForSelector('body[data-conn=live]');
    await sleep(300);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('runbook.formSeen')), '0', 'the form never showed');
    const last = m.sent.slice(m.sent.findLastIndex((x) => x.type === 'auth'));
    assert.equal(last[0].token, 'writer');
  });
  // The form comes from sign_in, not from a timer: a server that says
  // nothing gets no form (the page used to give up waiting after 1.5 s).
  await withPage(browser, 'mock-signin-silent', async (page) => {
    await mockOperator(page, { tokens: TOKENS, data: fixtures(), signIn: false });
    await page.goto(`${srv.url}/#/`);
    await page.waitForSelector('body[data-conn=connecting]');
    await sleep(3000);
    assert.ok(await page.isHidden('#signin-view'), 'no form without sign_in');
  });
});

test('navigation: Runs, Workflows, Triggers; Triggers hidden when not served', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-nav', async (page) => {
    await openAs(page, 'reader', '#/');
    assert.ok(await page.isVisible('#nav-triggers'));
    assert.equal(await page.getAttribute('#nav-runs', 'aria-current'), 'page');
    await page.click('#nav-workflows');
    await page.waitForSelector('#workflows-view:not([hidden])');
    assert.equal(await page.getAttribute('#nav-workflows', 'aria-current'), 'page');
    assert.ok(await page.isHidden('#runs-view'));
    await page.click('#nav-triggers');
    await page.waitForSelector('#triggers-body tr');
    await page.click('#nav-runs');
    await page.waitForSelector('#runs-view:not([hidden])');
    await page.waitForSelector('#runs-body tr[data-key="team/deploy-1"]');
    assert.equal(await page.getAttribute('#runs-body tr[data-key="team/deploy-1"] td.c-workflow a', 'href'), '#/workflows/team/deploy');
    assert.equal(await page.textContent('#runs-body tr[data-key="team/deploy-1"] td.c-workflow'), 'deploy');
  });
  await withPage(browser, 'mock-nav-notriggers', async (page) => {
    const m = await openAs(page, 'reader', '#/triggers', { triggers: false });
    assert.ok(await page.isHidden('#nav-triggers'));
    await page.waitForSelector('#triggers-empty:not([hidden])');
    assert.match(await page.textContent('#triggers-empty'), /does not serve Triggers/);
    assert.ok(!m.sent.some((x) => x.type === 'watch_triggers'), 'no watch_triggers sent');
  });
});

test('Workflows: listed live, filtered by namespace, linking to their pages', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-workflows', async (page) => {
    const m = await openAs(page, 'reader', '#/workflows');
    await page.waitForSelector('#workflows-body tr');
    assert.deepEqual(await keys(page, '#workflows-body'), ['other/lint', 'team/build', 'team/deploy']);
    assert.equal(m.sent.filter((x) => x.type === 'watch_workflows').length, 1);
    const row = '#workflows-body tr[data-key="team/build"]';
    assert.equal(await page.textContent(`${row} td.c-steps`), '3 + 1 finally');
    assert.equal(await page.textContent(`${row} td.c-params`), '3');
    assert.equal(await page.textContent(`${row} td.c-age`), '3d');
    assert.equal(await page.getAttribute(`${row} td.c-name a`, 'href'), '#/workflows/team/build');
    await page.selectOption('#workflows-namespace', 'team');
    await eventually('filtered', async () => JSON.stringify(await keys(page, '#workflows-body')) === '["team/build","team/deploy"]', 5000);
    // Live: added, changed, deleted.
    m.last().send({ type: 'workflow', item: { namespace: 'team', name: 'aaa', uid: 'w9', created: iso(5000), steps: 1, finally: 0, params: 0 } });
    await page.waitForSelector('#workflows-body tr[data-key="team/aaa"]');
    m.last().send({ type: 'workflow', item: { namespace: 'team', name: 'deploy', uid: 'w2', created: iso(7200000), steps: 5, finally: 0, params: 1 } });
    await eventually('changed', async () => (await page.textContent('#workflows-body tr[data-key="team/deploy"] td.c-steps')) === '5', 5000);
    m.last().send({ type: 'workflow_deleted', namespace: 'team', name: 'aaa' });
    await page.waitForSelector('#workflows-body tr[data-key="team/aaa"]', { state: 'detached' });
    assert.equal(await page.textContent('#workflows-count'), '2 of 3 workflows');
    await page.click(`${row} td.c-name a`);
    await page.waitForSelector('#workflow-view:not([hidden])');
    assert.equal(await page.evaluate(() => location.hash), '#/workflows/team/build');
  });
});

test('a Workflow: params, DAG, spec, recent runs; Start sends the params typed and moves to the new run', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-workflow', async (page, seen) => {
    const m = await openAs(page, 'writer', '#/workflows/team/build', {
      on: { start: (msg, sock) => setTimeout(() => sock.send({ type: 'result', id: msg.id, ok: true, name: 'build-new' }), 100) },
    });
    await page.waitForSelector('#workflow-body:not([hidden])');
    assert.ok(m.sent.some((x) => x.type === 'watch_workflow' && x.namespace === 'team' && x.name === 'build'));
    assert.equal(await page.textContent('#workflow-title'), 'team / build');
    assert.deepEqual(await keys(page, '#wf-params-body'), ['sha', 'target', 'note']);
    assert.equal(await page.textContent('#wf-params-body tr[data-param=target] td.default'), 'linux');
    assert.equal(await page.textContent('#wf-params-body tr[data-param=target] td.description'), 'what to build for');
    assert.equal(await page.inputValue('input[data-param=target]'), 'linux');
    assert.equal(await page.inputValue('input[data-param=sha]'), '');
    assert.equal(await page.$eval('input[data-param=sha]', (i) => i.required), true);
    assert.equal(await page.$eval('input[data-param=target]', (i) => i.required), false);
    // The DAG: no phases.
    assert.deepEqual((await page.$$eval('#wf-dag g.node', (gs) => gs.map((g) => g.dataset.step))).sort(), ['compile', 'fetch', 'notify', 'test']);
    assert.deepEqual((await page.$$eval('#wf-dag path.edge', (ps) => ps.map((p) => `${p.dataset.from}->${p.dataset.to}`))).sort(), ['compile->test', 'fetch->compile']);
    assert.equal(await page.$$eval('#wf-dag g.node[class*=phase-]', (x) => x.length), 0);
    assert.equal(await page.textContent('#wf-dag g.node[data-step=compile] .sub'), 'gcc:14');
    await page.focus('#wf-dag g.node[data-step=compile]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#wf-dag g.node.selected[data-step=compile]');
    assert.deepEqual(JSON.parse(await page.textContent('#wf-spec')), fixtures().workflowDetails['team/build'].spec);
    // Recent runs: this namespace's runs of this Workflow, newest first, 20.
    const recent = await keys(page, '#wf-runs-body');
    assert.equal(recent.length, 20);
    assert.equal(recent[0], 'team/build-00');
    assert.equal(recent[19], 'team/build-19');
    assert.ok(!recent.includes('other/build-x') && !recent.includes('team/deploy-1'));
    m.last().send({ type: 'run', item: { namespace: 'team', name: 'build-zz', uid: 'uz', workflow: 'build', phase: 'Pending', progress: '0/3', created: iso(-1000) } });
    await eventually('a new run listed first', async () => (await keys(page, '#wf-runs-body'))[0] === 'team/build-zz', 5000);
    assert.ok(await page.isEnabled('#start'));

    // Start: a required param left empty stops at the browser's check.
    await page.click('#start');
    await sleep(200);
    assert.ok(!m.sent.some((x) => x.type === 'start'), 'nothing sent without the required param');
    await page.fill('input[data-param=sha]', 'abc123');
    await page.fill('input[data-param=note]', XSS);
    await screenshot(page, 'mock-workflow');
    await page.click('#start');
    await page.waitForFunction(() => location.hash === '#/runs/team/build-new');
    const start = await m.waitFor('start');
    assert.deepEqual({ ...start, id: 0 }, { type: 'start', id: 0, namespace: 'team', workflow: 'build', params: { sha: 'abc123', note: XSS } });
    assert.deepEqual(seen.dialogs, []);
  });
});

test('Start refused: the API server\'s message as text; disabled without the right, with its reason', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-start-refused', async (page, seen) => {
    const msg = `workflowruns.runbook.dev is forbidden: User "system:serviceaccount:team:reader" cannot create resource "workflowruns" ${XSS}`;
    const m = await openAs(page, 'reader', '#/workflows/team/build', {
      on: { start: (x, sock) => sock.send({ type: 'result', id: x.id, ok: false, code: 403, message: msg }) },
    });
    await page.waitForSelector('#workflow-body:not([hidden])');
    assert.ok(await page.isDisabled('#start'));
    assert.equal(await page.getAttribute('#start', 'title'), 'you may not create runs here');
    await page.$eval('#start', (b) => (b.disabled = false));
    await page.fill('input[data-param=sha]', 'abc');
    await page.click('#start');
    await page.waitForSelector('#notice.error');
    assert.equal(await page.textContent('#notice'), `Start refused (HTTP 403): ${msg}`);
    assert.equal(await page.$$eval('#notice img', (x) => x.length), 0);
    assert.ok(await page.isDisabled('#start'), 'disabled again');
    assert.equal(await page.evaluate(() => location.hash), '#/workflows/team/build');
    assert.deepEqual(seen.dialogs, []);
    // The Workflow changes: what was typed stays, a new param comes, a
    // value left at its default follows the new default.
    const d = fixtures().workflowDetails['team/build'];
    const params = [...d.params.map((x) => (x.name === 'target' ? { ...x, default: 'arm64' } : x)), { name: 'extra', default: 'e' }];
    m.last().send({ type: 'workflow_detail', item: { ...d, params, canStart: false } });
    await page.waitForSelector('input[data-param=extra]');
    assert.equal(await page.inputValue('input[data-param=sha]'), 'abc');
    assert.equal(await page.inputValue('input[data-param=target]'), 'arm64');
    assert.equal(await page.inputValue('input[data-param=extra]'), 'e');
  });
});

test('Triggers: kind, ready and why, last delivery with its run, next schedule, suspended; live', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-triggers', async (page) => {
    const m = await openAs(page, 'reader', '#/triggers');
    await page.waitForSelector('#triggers-body tr');
    assert.deepEqual(await keys(page, '#triggers-body'), ['team/both', 'team/nightly', 'team/on-push']);
    const cell = (name, c) => page.textContent(`#triggers-body tr[data-key="team/${name}"] td.c-${c}`);
    assert.equal(await cell('nightly', 'kind'), 'schedule');
    assert.equal(await cell('on-push', 'kind'), 'webhook');
    assert.equal(await cell('both', 'kind'), 'both');
    assert.equal(await cell('nightly', 'workflow'), 'build');
    assert.equal(await cell('nightly', 'schedule'), '0 3 * * * (Europe/Madrid)');
    assert.equal(await cell('nightly', 'ready'), 'Ready');
    assert.equal(await cell('on-push', 'ready'), 'SecretNotFound');
    assert.equal(await page.getAttribute('#triggers-body tr[data-key="team/on-push"] td.c-ready', 'title'), `SecretNotFound: secret "hook" not found ${XSS}`);
    assert.equal(await cell('both', 'suspended'), 'yes');
    assert.equal(await cell('nightly', 'suspended'), '');
    const next = fixtures().triggers[0].nextScheduleTime;
    assert.equal(await page.getAttribute('#triggers-body tr[data-key="team/nightly"] td.c-next time', 'datetime'), next);
    assert.notEqual(await cell('nightly', 'next'), '');
    assert.equal(await cell('on-push', 'delivery'), '');
    // A delivery arrives.
    const t = { ...fixtures().triggers[1], ready: true, readyReason: 'Ready', readyMessage: undefined,
      lastDelivery: { id: 'd-1', time: iso(0), result: 'created', code: 201, run: 'on-push-0123456789' }, lastFired: iso(0), lastResult: 'created' };
    m.last().send({ type: 'trigger', item: t });
    await page.waitForSelector('#triggers-body tr[data-key="team/on-push"] td.c-delivery a');
    assert.equal(await page.getAttribute('#triggers-body tr[data-key="team/on-push"] td.c-delivery a', 'href'), '#/runs/team/on-push-0123456789');
    assert.match(await cell('on-push', 'delivery'), /created 201/);
    assert.equal(await cell('on-push', 'ready'), 'Ready');
    m.last().send({ type: 'trigger_deleted', namespace: 'team', name: 'both' });
    await page.waitForSelector('#triggers-body tr[data-key="team/both"]', { state: 'detached' });
    await screenshot(page, 'mock-triggers');
  });
});

// A log stream the test drives: every logs request is recorded; the test
// answers.
test('logs: the failed step is selected and followed; text as text; skipped, capped, ended; logs_stop on leaving', { timeout: 90000 }, async () => {
  await withPage(browser, 'mock-logs', async (page, seen) => {
    const m = await openAs(page, 'writer', '#/runs/team/deploy-1', { on: { logs() {} } });
    await page.waitForSelector('#run-body:not([hidden])');
    let req = await m.waitFor('logs');
    assert.deepEqual(req, { type: 'logs', namespace: 'team', name: 'deploy-1', step: 'apply' }, 'the failed step first');
    await page.waitForSelector('#dag g.node.selected[data-step=apply]');
    assert.equal(await page.getAttribute('#dag g.node[data-step=apply]', 'aria-pressed'), 'true');
    assert.match(await page.textContent('#log-step'), /apply/);
    const send = (o) => m.last().send(o);
    send({ type: 'logs_start', namespace: 'team', name: 'deploy-1', step: 'apply', pod: 'deploy-1-apply-x7k2p', container: 'step' });
    await page.waitForSelector('#log-head:not([hidden])');
    assert.equal(await page.textContent('#log-head'), 'pod deploy-1-apply-x7k2p · container step');
    send({ type: 'log', step: 'apply', data: 'line one\nline t' });
    send({ type: 'log', step: 'apply', data: `wo\n${XSS}\nbad byte: \uFFFD\n` });
    send({ type: 'log', step: 'apply', skipped: 65536 });
    send({ type: 'log', step: 'apply', data: 'after the gap\n' });
    send({ type: 'log', step: 'other', data: 'not this step\n' });
    await eventually('the log shown', async () => (await page.textContent('#log')).includes('after the gap'), 5000);
    assert.equal(await page.textContent('#log'), `line one\nline two\n${XSS}\nbad byte: \uFFFD\n[… 65536 bytes skipped]\nafter the gap\n`);
    assert.equal(await page.$$eval('#log img', (x) => x.length), 0);
    send({ type: 'logs_end', step: 'apply' });
    await eventually('ended', async () => (await page.textContent('#log-status')) === 'container finished', 5000);
    await screenshot(page, 'mock-logs');

    // Another step, by keyboard.
    await page.focus('#dag g.node[data-step=plan]');
    await page.keyboard.press('Enter');
    req = await m.waitFor('logs', (x) => x.step === 'plan');
    await page.waitForSelector('#dag g.node.selected[data-step=plan]');
    assert.equal(await page.$$eval('#dag g.node.selected', (x) => x.length), 1);
    assert.equal(await page.textContent('#log'), '', 'the pane starts over');
    send({ type: 'logs_end', step: 'plan', code: 403, message: `pods "x" is forbidden: User "u" cannot get resource "pods/log" ${XSS}` });
    await eventually('refused shown', async () => (await page.textContent('#log-status')).includes('forbidden'), 5000);
    assert.equal(await page.textContent('#log-status'), `pods "x" is forbidden: User "u" cannot get resource "pods/log" ${XSS} (HTTP 403)`);

    // At most 5,000 lines; scrolled to the bottom.
    await page.click('#dag g.node[data-step=apply]');
    await m.waitFor('logs', (x) => x.step === 'apply' && m.sent.filter((y) => y.type === 'logs').length >= 3);
    send({ type: 'logs_start', namespace: 'team', name: 'deploy-1', step: 'apply', pod: 'p2', container: 'step' });
    for (let i = 0; i < 6; i++) {
      let chunk = '';
      for (let j = 0; j < 1000; j++) chunk += `line ${i * 1000 + j}\n`;
      send({ type: 'log', step: 'apply', data: chunk });
    }
    await eventually('6,000 lines received', async () => (await page.textContent('#log')).endsWith('line 5999\n'), 10000);
    const atBottom = () => page.$eval('#log', (p) => p.scrollHeight > p.clientHeight && p.scrollTop + p.clientHeight >= p.scrollHeight - 8);
    await eventually('scrolled to the bottom', atBottom, 5000);
    const st = await page.$eval('#log', (p) => ({ first: p.textContent.split('\n')[0], n: p.textContent.split('\n').length - 1 }));
    assert.deepEqual(st, { first: 'line 1000', n: 5000 });
    // Scrolled up by the person: stays there.
    await page.$eval('#log', (p) => (p.scrollTop = 0));
    await sleep(100);
    send({ type: 'log', step: 'apply', data: 'one more\n' });
    await eventually('appended', async () => (await page.textContent('#log')).endsWith('one more\n'), 5000);
    await sleep(100);
    assert.equal(await page.$eval('#log', (p) => p.scrollTop), 0, 'not pulled down');
    // Back at the bottom: followed again.
    await page.$eval('#log', (p) => (p.scrollTop = p.scrollHeight));
    await sleep(100);
    send({ type: 'log', step: 'apply', data: 'and more\n' });
    await eventually('appended', async () => (await page.textContent('#log')).endsWith('and more\n'), 5000);
    await eventually('followed', atBottom, 5000);

    // Leaving the run page ends the stream.
    await page.click('#back');
    await m.waitFor('logs_stop');
    assert.deepEqual(seen.dialogs, []);
  });
});

test('logs: a pending step is asked again when it gets a pod, a retry\'s new pod follows the old', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-logs-phases', async (page) => {
    const m = await openAs(page, 'writer', '#/runs/team/build-00', { on: { logs() {} } });
    await page.waitForSelector('#run-body:not([hidden])');
    const nLogs = () => m.sent.filter((x) => x.type === 'logs').length;
    await m.waitFor('logs', (x) => x.step === 'fetch');
    const send = (o) => m.last().send(o);
    // A step with no pod yet: 404, then its pod comes with a new phase.
    await page.click('#dag g.node[data-step=compile]');
    await m.waitFor('logs', (x) => x.step === 'compile');
    send({ type: 'logs_end', step: 'compile', code: 404, message: 'the step has no pod yet' });
    await eventually('404 shown', async () => (await page.textContent('#log-status')).includes('no pod yet'), 5000);
    const before = nLogs();
    const d = fixtures().details['team/build-00'];
    const steps = d.steps.map((s) => ({ ...s }));
    steps[0] = { ...steps[0], phase: 'Succeeded', completed: iso(0) };
    steps[1] = { ...steps[1], phase: 'Running', attempts: 1, started: iso(0) };
    send({ type: 'run_detail', item: { ...d, steps } });
    await eventually('asked again', async () => nLogs() > before, 5000);
    send({ type: 'logs_start', namespace: 'team', name: 'build-00', step: 'compile', pod: 'pod-a', container: 'step' });
    send({ type: 'log', step: 'compile', data: 'attempt 1\n' });
    send({ type: 'logs_end', step: 'compile' });
    await eventually('ended', async () => (await page.textContent('#log-status')) === 'container finished', 5000);
    // A retry: a second attempt, a new pod.
    const n2 = nLogs();
    steps[1] = { ...steps[1], attempts: 2 };
    send({ type: 'run_detail', item: { ...d, steps } });
    await eventually('asked again for the new pod', async () => nLogs() > n2, 5000);
    send({ type: 'logs_start', namespace: 'team', name: 'build-00', step: 'compile', pod: 'pod-b', container: 'step' });
    send({ type: 'log', step: 'compile', data: 'attempt 2\n' });
    await eventually('both attempts', async () => (await page.textContent('#log')) === 'attempt 1\n── pod pod-b ──\nattempt 2\n', 5000);
    // The step ends: nothing asked again (the stream showed it all).
    send({ type: 'logs_end', step: 'compile' });
    const n3 = nLogs();
    steps[1] = { ...steps[1], phase: 'Succeeded', completed: iso(0) };
    send({ type: 'run_detail', item: { ...d, steps } });
    await sleep(500);
    assert.equal(nLogs(), n3);
    // The socket drops while a stream runs: asked again on the new one.
    await page.click('#dag g.node[data-step=test]');
    await m.waitFor('logs', (x) => x.step === 'test');
    send({ type: 'logs_start', namespace: 'team', name: 'build-00', step: 'test', pod: 'pod-t', container: 'step' });
    send({ type: 'log', step: 'test', data: 'before\n' });
    await eventually('shown', async () => (await page.textContent('#log')) === 'before\n', 5000);
    const sockets = m.sockets.length;
    m.last().close();
    await eventually('a new socket', async () => m.sockets.length > sockets, 15000);
    await page.waitForSelector('body[data-conn=live]');
    const again = m.sent.slice(m.sent.findLastIndex((x) => x.type === 'auth'));
    assert.ok(again.some((x) => x.type === 'logs' && x.step === 'test'), JSON.stringify(again));
    send({ type: 'logs_start', namespace: 'team', name: 'build-00', step: 'test', pod: 'pod-t', container: 'step' });
    send({ type: 'log', step: 'test', data: 'before\nafter\n' });
    await eventually('the same pod\'s lines once', async () => (await page.textContent('#log')) === 'before\nafter\n', 5000);
  });
});

test('anonymous read: everything shown, every write disabled "sign in to act", a Sign in link', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-anonymous', async (page) => {
    const m = await openAs(page, null, '#/runs/team/build-00', { mode: 'anonymous', on: { logs: (x, sock) => sock.send(sock.who
      ? { type: 'logs_start', namespace: x.namespace, name: x.name, step: x.step, pod: 'pod-f', container: 'step' }
      : { type: 'logs_end', step: x.step, code: 0, message: 'sign in to read logs' }) } });
    await page.waitForSelector('body[data-conn=live]');
    await page.waitForSelector('#run-body:not([hidden])');
    assert.ok(await page.isHidden('#signin-view'));
    assert.equal(await page.textContent('#who'), 'anonymous');
    assert.ok(await page.isVisible('#sign-in'));
    assert.equal(await page.textContent('#sign-in'), 'Sign in');
    for (const b of ['#cancel', '#run-again']) {
      assert.ok(await page.isDisabled(b), b);
      assert.equal(await page.getAttribute(b, 'title'), 'sign in to act', b);
    }
    await eventually('logs refused', async () => (await page.textContent('#log-status')) === 'sign in to read logs', 5000);
    await page.goto(`${srv.url}/#/workflows/team/build`);
    await page.waitForSelector('#workflow-body:not([hidden])');
    assert.ok(await page.isDisabled('#start'));
    assert.equal(await page.getAttribute('#start', 'title'), 'sign in to act');
    // The link opens the form; going on without signing in returns.
    await page.click('#sign-in');
    await page.waitForSelector('#signin-view:not([hidden])');
    await page.click('#signin-cancel');
    await page.waitForSelector('#workflow-body:not([hidden])');
    // Signed in on the run page: the writes are enabled, the logs asked again.
    await page.goto(`${srv.url}/#/runs/team/build-00`);
    await page.waitForSelector('#run-body:not([hidden])');
    await page.click('#sign-in');
    await page.fill('#token', 'writer');
    await page.click('#signin-submit');
    await page.waitForFunction(() => document.getElementById('who').textContent.includes('writer'));
    await page.waitForSelector('#run-body:not([hidden])');
    await page.waitForSelector('#log-head:not([hidden])');
    assert.equal(await page.textContent('#log-head'), 'pod pod-f · container step');
    await eventually('Cancel enabled', async () => page.isEnabled('#cancel'), 5000);
    assert.ok(await page.isEnabled('#run-again'));
    assert.equal(await page.getAttribute('#run-again', 'title'), '');
    await page.click('#nav-workflows');
    await page.click('#workflows-body tr[data-key="team/build"] a');
    await page.waitForSelector('#workflow-body:not([hidden])');
    await eventually('Start enabled', async () => page.isEnabled('#start'), 5000);
    assert.equal(await page.getAttribute('#start', 'title'), null);
    assert.ok(await page.isHidden('#sign-in'));
    assert.ok(m.sent.some((x) => x.type === 'auth' && x.token === 'writer'));
  });
});

test('a matrix step: its combinations listed under it with their values, phases as text', { timeout: 60000 }, async () => {
  await withPage(browser, 'mock-matrix', async (page) => {
    const m = await openAs(page, 'writer', '#/runs/team/build-00', { on: { logs() {} } });
    await page.waitForSelector('#run-body:not([hidden])');
    const d = fixtures().details['team/build-00'];
    const steps = d.steps.map((s) => ({ ...s }));
    steps[1] = { ...steps[1], phase: 'Failed', reason: 'Error', message: 'compile[1]: boom', combinations: [
      { index: 0, values: 'os=linux, cc=gcc', phase: 'Cancelled', reason: 'StepFailed', job: 'build-00-compile-0', started: iso(3000), completed: iso(0) },
      { index: 1, values: `os=mac, cc=${XSS}`, phase: 'Failed', exitCode: 3, reason: 'Error', job: 'build-00-compile-1', started: iso(3000), completed: iso(1000) },
    ] };
    m.last().send({ type: 'run_detail', item: { ...d, steps } });
    await page.waitForSelector('#steps-body tr.combination[data-combo="1"]');
    const rows = await page.$$eval('#steps-body tr', (trs) => trs.map((t) => [t.dataset.step, t.dataset.combo ?? '', t.querySelector('td.name').textContent, t.querySelector('.phase').textContent]));
    assert.deepEqual(rows, [
      ['fetch', '', 'fetch', 'Running'],
      ['compile', '', 'compile', 'Failed'],
      ['compile', '0', '[0] os=linux, cc=gcc', 'Cancelled'],
      ['compile', '1', `[1] os=mac, cc=${XSS}`, 'Failed'],
      ['test', '', 'test', 'Pending'],
    ]);
    assert.equal(await page.$$eval('#steps-body img', (x) => x.length), 0, 'values are text');
    // a combination's row selects its step
    await page.click('#steps-body tr[data-combo="1"]');
    await m.waitFor('logs', (x) => x.step === 'compile');
    await screenshot(page, 'mock-matrix');
  });
});
