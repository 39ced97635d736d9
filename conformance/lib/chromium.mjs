// Chromium for the consent-screen tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), and what every step checks
// on a page: screenshots at 1280×800 and 390×844 with axe-core (WCAG 2.1 A
// and AA) finding nothing, the HTML security headers and the one
// same-origin script on each /account load, no JavaScript dialog, and the
// role="status" notice that has the focus after an action.

import assert from 'node:assert/strict';
import { access, constants, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.BEHALF_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];
export const ARTIFACTS_DIR = new URL('../artifacts/', import.meta.url).pathname;
export const STEP_TIMEOUT_MS = 15_000;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Launches Chromium (failing with the install hint when it is missing); artifacts/ exists afterwards. */
export async function launchChromium() {
  try {
    await access(CHROMIUM, constants.X_OK);
  } catch {
    assert.fail(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set BEHALF_CHROMIUM)`);
  }
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

const DIALOGS = new WeakMap(); // page -> every JavaScript dialog that opened there

/** A page at 1280×800 in its own context, its JavaScript dialogs recorded (and dismissed). */
export async function openPage(browser, { timezoneId, locale }) {
  const context = await browser.newContext({ viewport: DESKTOP, timezoneId, locale });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const dialogs = [];
  DIALOGS.set(page, dialogs);
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return { context, page, dialogs };
}

/** What axe-core (WCAG 2.1 A and AA rules) finds wrong with the page, one line per rule. */
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol: the page's CSP stays as served.
  await page.evaluate(await AXE_SOURCE);
  const { violations } = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }),
  );
  return violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`);
}

/**
 * The page as a person sees it on a laptop (artifacts/NAME) and on a phone
 * (artifacts/NAME-phone.png), both full page, and what axe-core finds wrong
 * with it: nothing, or the step fails. Returns the two paths.
 */
export async function photograph(page, name) {
  const desktop = `${ARTIFACTS_DIR}${name}`;
  const phone = `${ARTIFACTS_DIR}${name.replace('.png', '-phone.png')}`;
  await page.screenshot({ path: desktop, fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: phone, fullPage: true });
  await page.setViewportSize(DESKTOP);
  assert.deepEqual(await axeViolations(page), [], `${name}: axe-core finds accessibility violations`);
  return { desktop, phone };
}

/**
 * What every load of /account must satisfy: only the same-origin script, no
 * dialog, HTML security headers. A refused form comes back as the page itself
 * with another status at its own address: `{status: 400, path: '/account/grants'}`.
 */
export async function assertSafePage(page, response, what, { status = 200, path = '/account' } = {}) {
  assert.ok(response, `${what}: no navigation response`);
  assert.equal(response.status(), status, `${what}: status ${response.status()} at ${response.url()}`);
  assert.equal(new URL(response.url()).pathname, path, `${what}: at ${response.url()}`);
  const h = response.headers();
  assert.match(h['content-type'] ?? '', /^text\/html\b/i, `${what}: content-type`);
  assert.match(h['content-security-policy'] ?? '', /frame-ancestors\s+'none'/i, `${what}: content-security-policy`);
  assert.equal((h['x-frame-options'] ?? '').toUpperCase(), 'DENY', `${what}: x-frame-options`);
  assert.match(h['cache-control'] ?? '', /\bno-store\b/i, `${what}: cache-control`);
  assert.equal((h['referrer-policy'] ?? '').toLowerCase(), 'no-referrer', `${what}: referrer-policy`);
  const csp = h['content-security-policy'] ?? '';
  assert.match(csp, /script-src 'self'/, `${what}: content-security-policy has no script-src 'self'`);
  assert.ok(!/unsafe-inline|unsafe-eval/.test(csp), `${what}: content-security-policy allows unsafe script: ${csp}`);
  const scripts = await page.locator('script').evaluateAll((els) => els.map((e) => [e.getAttribute('src'), e.textContent]));
  assert.deepEqual(scripts, [['/static/behalf.js', '']], `${what}: a script other than /static/behalf.js, or an inline one`);
  assert.deepEqual(DIALOGS.get(page) ?? [], [], `${what}: a JavaScript dialog opened`);
}

/** The notice after an action: its words, role="status", and the focus on it. */
export async function assertNotice(page, expected, what) {
  const notice = page.getByRole('status');
  assert.equal(await notice.count(), 1, `${what}: no single role="status" notice`);
  assert.equal((await notice.innerText()).trim(), expected, `${what}: the notice`);
  assert.equal(await notice.evaluate((el) => el === document.activeElement), true, `${what}: the notice does not have the focus`);
}

/**
 * Clicks a submit button of a consent-screen form and follows the
 * post/redirect/get: the POST must answer 303 to /account, and the GET
 * /account that follows must be a safe page. Returns that GET's response.
 */
export async function submitAndReturn(page, button, actionPath, what) {
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === actionPath,
  );
  const reloaded = page.waitForResponse(
    (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/account',
  );
  await button.click();
  const post = await posted;
  assert.equal(post.status(), 303, `${what}: POST ${actionPath} answered ${post.status()}`);
  const location = new URL(post.headers().location ?? '', post.url());
  assert.equal(location.pathname, '/account', `${what}: POST ${actionPath} redirects to ${post.headers().location}`);
  const get = await reloaded;
  await page.waitForLoadState('load');
  await assertSafePage(page, get, what);
  return get;
}
