// A step's logs on the run page, from a container on the cluster's real
// node (kwok's pods have no logs), with the reader's token (get pods/log):
//   - a step printing a line every 0.3 s for ~24 s: the pane shows the
//     lines live (one printed after the pane opened appears, no reload),
//     in order, each once; <img src=x onerror=alert(1)> is shown as text,
//     an invalid byte (printf '\377') as U+FFFD; at the end, "container
//     finished";
//   - a failed run: its failed step is selected by itself, its log shown
//     (the screenshot for docs/img/ui-failed-run.png).
// Without a real node the tests are skipped (test/lib.sh's need_real_node),
// except under CI=true, where that fails.
// Run through test/ui/run.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { env, launch, withPage, signIn, apply, jp, workflowYaml, runYaml, realStep, needRealNode, screenshot, eventually } from './lib.mjs';

const ns = env.ns;
const XSS = '<img src=x onerror=alert(1)>';
const N = 80; // lines, 0.3 s apart
let browser;
const ann = (d) => `podTemplate: {metadata: {annotations: {runbook.dev/test-duration: ${d}}}}`;

before(async () => {
  if (!env.realNode) return;
  apply(
    workflowYaml(ns, 'talk', realStep('talk',
      `i=0; while [ $i -lt ${N} ]; do echo "line $i"; if [ $i = 3 ]; then echo '${XSS}'; printf 'bad \\377 byte\\n'; fi; i=$((i+1)); sleep 0.3; done`)) +
    '---\n' +
    workflowYaml(ns, 'release', [
      `  - {name: checkout, image: busybox:1.36, ${ann('300ms')}}`,
      realStep('build', 'echo "compiling 42 files"; echo "main.c:7: error: expected \';\' before \'}\' token" >&2; echo "make: *** [all] Error 1"; exit 2', 'dependsOn: [checkout]'),
      `  - {name: publish, image: busybox:1.36, dependsOn: [build], ${ann('300ms')}}`,
      '  finally:',
      `  - {name: notify, image: busybox:1.36, ${ann('300ms')}}`,
    ].join('\n')),
  );
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

const logText = (page) => page.textContent('#log');
const numbers = (text) => text.split('\n').map((l) => /^line (\d+)$/.exec(l)).filter(Boolean).map((m) => Number(m[1]));

test('a step\'s log, live from the real node: text as text, U+FFFD for a bad byte', { timeout: 240000 }, async (t) => {
  if (!needRealNode(t)) return;
  apply(runYaml(ns, 'talk-1', 'talk'));
  await withPage(browser, 'logs-live', async (page, seen) => {
    await page.addInitScript(() => {
      window.__alerts = 0;
      window.alert = () => window.__alerts++;
    });
    await signIn(page, env.reader, `#/runs/${ns}/talk-1`);
    await page.waitForSelector('#dag g.node[data-step=talk].phase-Running', { timeout: 90000 });
    await page.evaluate(() => (window.__sameDocument = true));
    await page.click('#dag g.node[data-step=talk]');
    await page.waitForSelector('#dag g.node.selected[data-step=talk]');
    assert.match(await page.textContent('#log-step'), /talk/);
    // The stream starts: its pod and container, then lines.
    await page.waitForSelector('#log-head:not([hidden])', { timeout: 60000 });
    const pod = jp(ns, 'pods', '{.items[?(@.metadata.labels.runbook\\.dev/step=="talk")].metadata.name}').trim().split(/\s+/).pop();
    assert.equal(await page.textContent('#log-head'), `pod ${pod} · container ${jp(ns, `pod/${pod}`, '{.spec.containers[0].name}')}`);
    const first = await eventually('a line', async () => {
      const ns_ = numbers(await logText(page));
      return ns_.length ? ns_[ns_.length - 1] : null;
    }, 30000);
    assert.ok(first < N - 10, `the pane opened while the step still talks (at line ${first})`);
    // A line printed after the pane opened appears, without a reload.
    await eventually(`line ${first + 3}, printed later`, async () => numbers(await logText(page)).includes(first + 3), 15000, 100);
    assert.equal(await page.evaluate(() => window.__sameDocument), true);
    assert.equal(jp(ns, 'wfr/talk-1', '{.status.phase}'), 'Running', 'while the run still runs');
    const text = await logText(page);
    assert.ok(text.includes(`\n${XSS}\n`), 'the markup line, as text');
    assert.ok(text.includes('\nbad \uFFFD byte\n'), `the invalid byte as U+FFFD: ${JSON.stringify(text.slice(0, 200))}`);
    await screenshot(page, 'logs-live');

    await page.waitForSelector('#run-phase.phase-Succeeded', { timeout: 90000 });
    await eventually('the end of the stream', async () => (await page.textContent('#log-status')) === 'container finished', 30000);
    const all = numbers(await logText(page));
    assert.deepEqual(all, Array.from({ length: N }, (_, i) => i), 'every line, in order, once');
    assert.equal(await page.$$eval('#log *:not(.marker)', (x) => x.length), 0, 'nothing but text in the pane');
    assert.equal(await page.$$eval('img', (x) => x.length), 0, 'no <img> anywhere');
    assert.equal(await page.evaluate(() => window.__alerts), 0, 'alert() never called');
    assert.deepEqual(seen.dialogs, []);
  });
});

test('a failed run: its failed step selected, its log shown', { timeout: 240000 }, async (t) => {
  if (!needRealNode(t)) return;
  apply(runYaml(ns, 'release-1', 'release'));
  await withPage(browser, 'logs-failed', async (page) => {
    await signIn(page, env.reader, `#/runs/${ns}/release-1`);
    await page.waitForSelector('#run-phase.phase-Failed', { timeout: 120000 });
    await page.waitForSelector('#dag g.node.selected[data-step=build].phase-Failed', { timeout: 30000 });
    assert.equal(await page.getAttribute('#dag g.node[data-step=build]', 'aria-pressed'), 'true');
    assert.match(await page.textContent('#log-step'), /build/);
    await eventually('the failed step\'s log', async () => (await logText(page)).includes('make: *** [all] Error 1'), 60000);
    const text = await logText(page);
    assert.ok(text.includes('compiling 42 files\n'), text);
    assert.ok(text.includes("main.c:7: error: expected ';' before '}' token"), `stderr too: ${text}`);
    await eventually('the end of the stream', async () => (await page.textContent('#log-status')) === 'container finished', 30000);
    await page.waitForSelector('#dag g.node[data-step=publish].phase-Skipped');
    await page.waitForSelector('#dag g.node[data-step=notify].phase-Succeeded', { timeout: 60000 });
    await screenshot(page, 'failed-run');
    // Keyboard: another step, by Tab and Enter.
    await page.focus('#dag g.node[data-step=checkout]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dag g.node.selected[data-step=checkout]');
    assert.equal(await page.$$eval('#dag g.node.selected', (x) => x.length), 1);
  });
});
