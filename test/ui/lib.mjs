// Helpers of the browser tests (test/ui/*.test.mjs, run by test/ui/run.sh,
// which sets the environment read here).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// playwright-core from run.sh's cache (NODE_PATH: require() honours it,
// import does not).
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests through test/ui/run.sh`);
  return v;
};
export const env = {
  get url() { return need('RB_UI_URL').replace(/\/$/, ''); },
  get ns() { return need('RB_NS'); },
  get nsOther() { return need('RB_NS_OTHER'); },
  get writer() { return need('RB_TOKEN_WRITER'); },
  get reader() { return need('RB_TOKEN_READER'); },
  get viewer() { return need('RB_TOKEN_VIEWER'); }, // lists workflowruns everywhere
  get webhook() { return need('RB_WEBHOOK_URL').replace(/\/$/, ''); }, // the operator's --webhook-addr
  realNode: process.env.RB_REAL_NODE || '', // the cluster's real node (test/cluster/node.sh), or ""
  get writerUser() { return `system:serviceaccount:${need('RB_NS')}:writer`; },
  get readerUser() { return `system:serviceaccount:${need('RB_NS')}:reader`; },
  out: process.env.RB_TMP || '/tmp',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// kubectl(...args, {input}) as the cluster's admin (KUBECONFIG); stdout.
export function kubectl(...args) {
  let input;
  if (args.length && typeof args[args.length - 1] === 'object') input = args.pop().input;
  return execFileSync('kubectl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000 });
}
export const apply = (yaml) => kubectl('apply', '-f', '-', { input: yaml });
export const jp = (ns, obj, p) => kubectl('-n', ns, 'get', obj, '-o', `jsonpath=${p}`);

// eventually(what, fn, timeoutMs): polls fn until it returns a truthy value.
export async function eventually(what, fn, timeoutMs = 60000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

// The browser: Debian's chromium, headless, nothing fetched from outside.
// playwright's launch() gives it a fresh temporary profile (user-data dir)
// and deletes it on close.
export const CHROMIUM = process.env.RB_CHROMIUM || '/usr/bin/chromium';
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// withPage(browser, name, fn): a fresh context and page for one test; page
// errors, console errors and dialogs are recorded (and returned to fn as
// `seen`; an error thrown in the page or a CSP violation fails the test);
// when fn throws, a screenshot goes to
// $RB_TMP/ui-NAME.png (or /tmp) and the error names it.
export async function withPage(browser, name, fn) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const seen = { dialogs: [], errors: [], console: [] };
  page.on('dialog', (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => seen.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.console.push(`${m.type()}: ${m.text()}`);
  });
  page.setDefaultTimeout(30000);
  try {
    await fn(page, seen);
    if (seen.errors.length) throw new Error(`errors in the page: ${seen.errors.join('; ')}`);
    const csp = seen.console.filter((m) => /Content Security Policy/i.test(m));
    if (csp.length) throw new Error(`the page broke its CSP: ${csp.join('; ')}`);
  } catch (e) {
    // node's reporter prints the stack, made when the error was: the notes
    // go on both.
    const note = (s) => {
      e.message += `\n    ${s}`;
      if (typeof e.stack === 'string') e.stack += `\n    ${s}`;
    };
    const file = path.join(env.out, `ui-${name}.png`);
    try {
      fs.mkdirSync(env.out, { recursive: true });
      await page.screenshot({ path: file, fullPage: true });
      // Kept past run.sh's cleanup of RB_TMP when it says where.
      const keep = process.env.RB_KEEP_DIR ? path.join(process.env.RB_KEEP_DIR, path.basename(file)) : file;
      if (keep !== file) fs.copyFileSync(file, keep);
      note(`screenshot: ${keep}`);
    } catch (se) {
      note(`(no screenshot: ${se.message})`);
    }
    note(`page: ${page.url()}; connection: ${await page.evaluate(() => document.body.dataset.conn + ' / ' + document.getElementById('status').textContent).catch(() => '?')}`);
    if (seen.console.length) note(`console: ${seen.console.slice(-10).join(' | ')}`);
    if (seen.errors.length) note(`page errors: ${seen.errors.join(' | ')}`);
    throw e;
  } finally {
    await ctx.close();
  }
}

// signIn(page, token, hash): opens the UI, signs in through the form with
// the token, and waits until the socket is live.
export async function signIn(page, token, hash = '#/') {
  await page.goto(`${env.url}/${hash}`);
  // Without a token the server either refuses (the form shows) or lets an
  // auth proxy's header or anonymous read in (then "sign in" is a link).
  await page.waitForSelector('#signin-view:not([hidden]), body[data-conn=live]');
  if (!(await page.isVisible('#signin-view'))) await page.click('#sign-in');
  await page.fill('#token', token);
  await page.click('#signin-submit');
  await page.waitForSelector('body[data-conn=live]');
  await page.waitForSelector('#signin-view', { state: 'hidden' });
}

// screenshot(page, name): a screenshot kept for a person to look at.
export async function screenshot(page, name) {
  const file = path.join(env.out, `ui-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.RB_KEEP_DIR) fs.copyFileSync(file, path.join(process.env.RB_KEEP_DIR, path.basename(file)));
  return file;
}

// watchText(page, selector): records every text the element shows from now
// on (a MutationObserver in the page), so a phase shown for a moment is not
// missed; read with seenTexts(page, selector).
export async function watchText(page, selector) {
  await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    window.__seen = window.__seen || {};
    const list = (window.__seen[sel] = [el.textContent]);
    new MutationObserver(() => {
      if (list[list.length - 1] !== el.textContent) list.push(el.textContent);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  }, selector);
}
export const seenTexts = (page, selector) => page.evaluate((sel) => (window.__seen || {})[sel] || [], selector);

// A Workflow and runs, as YAML (kwok simulates the pods: the
// runbook.dev/test-* annotations set how long a step runs and how it ends).
export function workflowYaml(ns, name, steps, extra = '') {
  return `apiVersion: runbook.dev/v1alpha1
kind: Workflow
metadata: {name: ${name}, namespace: ${ns}}
spec:
${extra}  steps:
${steps}
`;
}
export function runYaml(ns, name, workflow, params) {
  const p = params ? `\n  params: ${JSON.stringify(Object.entries(params).map(([n, value]) => ({ name: n, value })))}` : '';
  return `---
apiVersion: runbook.dev/v1alpha1
kind: WorkflowRun
metadata: {name: ${name}, namespace: ${ns}}
spec:
  workflowRef: {name: ${workflow}}${p}
`;
}

// needRealNode(t): whether the cluster has a real node (test/lib.sh's
// need_real_node): without one the test is skipped, except under CI=true
// where that is a failure (CI must not pass without these tests).
export function needRealNode(t) {
  if (env.realNode) return true;
  if (process.env.CI === 'true') throw new Error('the test cluster has no real node (test/cluster/up.sh said why)');
  t.skip('the test cluster has no real node (RUNBOOK_REAL_NODE=auto found this machine unable)');
  return false;
}

// realStep(name, script, extra): a step (extra: more fields, e.g. "dependsOn: [a]") (YAML flow mapping, for steps: or
// finally:) running script in busybox sh on the real node, as test/lib.sh's
// real_step does (without its /out volume).
export function realStep(name, script, extra = '') {
  return `  - {name: ${name}, image: "runbook.test/busybox:1", command: [sh, -c, ${JSON.stringify(script)}], ${extra ? `${extra.replace(/,\s*$/, '')},` : ''}
     podTemplate: {spec: {nodeSelector: {runbook.dev/real-node: "true"},
       tolerations: [{key: runbook.dev/real-node, operator: Exists, effect: NoSchedule}]}}}`;
}
