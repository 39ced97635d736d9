// The support console (/console) in Chromium (lib/chromium.mjs): an agent
// asks for access, the user answers on /account in a browser of her own, and
// the agent's console follows without a reload.
//
// Alice (with an email), dave (a user), bob (an agent of the Support team),
// the support console and "Example Shop" (an app open to delegated sign-in
// with an initiate_login_uri) are set up through the CLI. Bob signs in in
// Chromium and lands on /console. He sends "Ask for access" without a
// reason: the page comes back with status 400, the message beside "Why",
// the focus on it and his other choices kept. He adds the reason and asks
// alice by her email for `read` and the shop, for 1 hour: 303 to
// /console?done=asked, the focused role="status" notice, and the request
// under "Waiting for an answer". Alice, signed in in a second browser
// context, approves it on /account: bob's console, never reloaded, moves it
// to "Your access" with the time left and a link "Open Example Shop as
// alice" to the shop's initiate_login_uri with iss and login_hint. He asks
// dave too, without a ticket: every button in the accessibility tree
// (Playwright's and Chromium's own) names its request or grant. He ends his
// access: the notice, and the grant under "Ended", "Ended by you". Last, he
// asks alice again and she denies it: his console shows "Denied by alice"
// without a reload.
//
// Screenshots land in artifacts/ (30-console.png … 35-console-denied.png,
// each also -phone.png), each page checked with axe-core; the screen
// reader's view in artifacts/33-console.aria.yml.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';

import { startServer } from '../lib/server.mjs';
import { addConsole, CONSOLE } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const ALICE = { username: 'alice', password: 'alice-password-1', email: 'alice@example.com' };
const DAVE = { username: 'dave', password: 'dave-password-1' };
const BOB = { username: 'bob', password: 'bob-password-1', team: 'Support' };
const SHOP = {
  clientId: 'shop',
  name: 'Example Shop',
  redirectUri: 'http://127.0.0.1:9/shop-cb',
  initiateLoginUri: 'https://shop.example/login',
};
const REASON = 'Invoices from March are missing from the download page';
const TICKET = 'SUP-7001';
const TIME_ZONE = 'Europe/Berlin';
const LOCALE = 'en-GB';
const ASK = '/console/requests';
const UPDATE_MS = 10_000; // the script polls every 3 s

let server;
let browser;
let bob; // bob's page (his own browser context)
let alice; // alice's page (another context)

// ---------------------------------------------------------------------------
// The console

const askForm = () => bob.getByRole('form', { name: 'Ask for access' });
const field = (label) => askForm().getByLabel(label, { exact: true });
const subjectInput = () => field('Whose account (username or email)');
const reasonInput = () => field('Why (they read this before answering)');
const ticketInput = () => field('Ticket (optional)');
const durationSelect = () => field('For how long');
const scopeGroup = () => askForm().getByRole('group', { name: /^What you need to do/ });
const appGroup = () => askForm().getByRole('group', { name: /^Apps to sign in to as them/ });
const list = (name) => bob.locator(`[data-list="${name}"]`);

/** Signs in at /login (where `path` sent the page) and waits for `path` again. */
async function signIn(page, path, { username, password }) {
  const first = await page.goto(`${server.baseUrl}${path}`);
  assert.equal(new URL(first.url()).pathname, '/login', `${path} without a session leads to ${first.url()}`);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  const landed = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === path);
  await form.locator('button[type="submit"]').click();
  const res = await landed;
  await page.waitForLoadState('load');
  await chromium.assertSafePage(page, res, `${username} signed in`, { path });
}

/** Presses "Ask for access" and follows the post/redirect/get; returns the console's URL after it. */
async function askAndReturn(what) {
  const posted = bob.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === ASK);
  const reloaded = bob.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/console');
  await askForm().getByRole('button', { name: 'Ask for access' }).click();
  const post = await posted;
  assert.equal(post.status(), 303, `${what}: POST ${ASK} answered ${post.status()}`);
  const get = await reloaded;
  await bob.waitForLoadState('load');
  await chromium.assertSafePage(bob, get, what, { path: '/console' });
  return new URL(get.url());
}

/** The id of the element that has the focus, once the page has settled it (autofocus, behalf.js). */
async function focusedId(expected) {
  await bob.waitForFunction((id) => document.activeElement?.id === id, expected, { timeout: 2_000 }).catch(() => {});
  return bob.evaluate(() => document.activeElement?.id ?? null);
}

/** Every button's accessible name, from Chromium's own tree (DevTools protocol). */
async function chromiumButtons(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes.filter((n) => !n.ignored && n.role?.value === 'button').map((n) => String(n.name?.value ?? '').trim());
  } finally {
    await cdp.detach();
  }
}

/** Every button of Playwright's accessibility snapshot of `main`. */
function buttonsOf(node, out = []) {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    node.forEach((n) => buttonsOf(n, out));
    return out;
  }
  if (node.role === 'button') out.push((node.name ?? '').trim());
  (node.children ?? []).forEach((n) => buttonsOf(n, out));
  return out;
}

/** Marks the page so that a reload (a new document) is seen: the mark is gone. */
async function markDocument(page) {
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
}

async function notReloaded(page) {
  return page.evaluate(() => window.__notReloaded === true);
}

// ---------------------------------------------------------------------------
// Set-up

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'support_console.browser' });
  await server.cli(['user', 'add', ALICE.username, '--email', ALICE.email, '--password-stdin'], { stdin: `${ALICE.password}\n` });
  await server.cli(['user', 'add', DAVE.username, '--password-stdin'], { stdin: `${DAVE.password}\n` });
  await server.cli(['user', 'add', BOB.username, '--agent', '--team', BOB.team, '--password-stdin'], { stdin: `${BOB.password}\n` });
  await addConsole(server);
  await server.cli([
    'client', 'add', SHOP.clientId,
    '--generate-secret',
    '--redirect-uri', SHOP.redirectUri,
    '--grant-type', 'authorization_code',
    '--scope', 'openid',
    '--scope', 'profile',
    '--name', SHOP.name,
    '--delegated-sign-in',
    '--initiate-login-uri', SHOP.initiateLoginUri,
  ]);
  ({ page: bob } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
  ({ page: alice } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------

describe('the support console in Chromium: ask, refused, approved elsewhere, followed live, ended', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('bob signs in and lands on the console: the form in words, three empty lists', async () => {
    await signIn(bob, '/console', BOB);
    assert.equal(await bob.getByRole('heading', { level: 1, name: 'Support console' }).count(), 1);
    assert.equal((await bob.locator('header.top p').innerText()).trim(), 'Signed in as bob (Support team) · Your account');
    assert.equal(await askForm().getAttribute('action'), ASK);
    const scopes = await scopeGroup().getByRole('checkbox').evaluateAll((els) =>
      els.map((e) => [e.value, e.checked, [...e.labels].map((l) => l.textContent.trim()).join('')]),
    );
    assert.deepEqual(scopes.map(([v]) => v).sort(), ['read', 'write'], JSON.stringify(scopes));
    for (const [value, checked, label] of scopes) {
      assert.equal(checked, false, `${value} is ticked to begin with`);
      assert.ok(label && label !== value, `the checkbox for ${value} is labelled "${label}", not in words`);
    }
    state.readLabel = scopes.find(([v]) => v === 'read')[2];
    assert.equal(await appGroup().getByRole('checkbox', { name: `Sign in to ${SHOP.name} as them` }).count(), 1);
    assert.deepEqual(
      await field('Through which support tool').locator('option').evaluateAll((els) => els.map((o) => [o.value, o.textContent.trim(), o.selected])),
      [[CONSOLE.clientId, CONSOLE.name, true]],
    );
    assert.equal(await durationSelect().inputValue(), '3600', 'a fresh form offers 1 hour');
    for (const [name, words] of [
      ['waiting', 'None of your requests is waiting for an answer.'],
      ['access', "You cannot act in anyone's account right now."],
      ['ended', 'Nothing has ended yet.'],
    ]) {
      assert.equal((await list(name).innerText()).trim(), words, `the ${name} list`);
    }
    await chromium.photograph(bob, '30-console.png');
    state.signedIn = true;
  });

  it('no reason: 400, the message beside "Why", the focus on it, his choices kept', async () => {
    need('signedIn', 'readLabel');
    await subjectInput().fill(ALICE.email);
    await scopeGroup().getByRole('checkbox', { name: state.readLabel, exact: true }).check();
    await appGroup().getByRole('checkbox', { name: `Sign in to ${SHOP.name} as them` }).check();
    await ticketInput().fill(TICKET);
    const posted = bob.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === ASK);
    await askForm().getByRole('button', { name: 'Ask for access' }).click();
    const res = await posted;
    await bob.waitForLoadState('load');
    await chromium.assertSafePage(bob, res, 'no reason', { status: 400, path: ASK });
    assert.equal(await bob.title(), 'Check the form · Support console · behalf');
    const errors = await askForm().locator('.field-error').evaluateAll((els) => els.map((e) => [e.id, e.getAttribute('role'), e.textContent.trim()]));
    assert.deepEqual(errors, [['ask-reason-error', 'alert', 'Say why you need access: the person reads it before answering.']]);
    assert.equal(await reasonInput().getAttribute('aria-invalid'), 'true');
    assert.equal(await reasonInput().getAttribute('aria-describedby'), 'ask-reason-error');
    assert.equal(await focusedId('ask-reason'), 'ask-reason', 'the focus is not on "Why"');
    assert.equal(await subjectInput().inputValue(), ALICE.email);
    assert.equal(await ticketInput().inputValue(), TICKET);
    assert.deepEqual(await askForm().locator('input[type="checkbox"]:checked').evaluateAll((els) => els.map((e) => e.value)), ['read', SHOP.clientId]);
    assert.equal((await list('waiting').innerText()).trim(), 'None of your requests is waiting for an answer.', 'something was filed');
    await chromium.photograph(bob, '31-console-refused.png');
    state.refused = true;
  });

  it('with the reason, asked by email: the notice, and the request under "Waiting for an answer"', async () => {
    need('refused');
    await reasonInput().fill(REASON);
    const at = await askAndReturn('ask');
    assert.equal(at.searchParams.get('done'), 'asked', `redirected to ${at}`);
    const id = at.searchParams.get('request');
    assert.match(id ?? '', /^[A-Za-z0-9_-]+$/, `redirected to ${at}`);
    const notice = bob.getByRole('status');
    assert.equal((await notice.innerText()).trim(), `You asked alice for access (${TICKET}). Their answer will show on this page.`);
    assert.equal(await notice.evaluate((el) => el === document.activeElement), true, 'the notice does not have the focus');
    const card = list('waiting').locator(`[data-request-id="${id}"]`);
    assert.equal(await card.count(), 1, 'the request is not waiting');
    assert.equal(await card.getAttribute('data-status'), 'pending');
    assert.equal((await card.getByRole('heading', { level: 3 }).innerText()).trim(), `Your request to alice (${TICKET})`);
    const text = await card.innerText();
    for (const words of [REASON, SHOP.name, '1 hour', CONSOLE.name]) assert.ok(text.includes(words), `${words} in ${text}`);
    await chromium.photograph(bob, '32-console-waiting.png');
    state.requestId = id;
  });

  it('alice approves it on /account; bob\'s console, never reloaded, moves it to "Your access"', async () => {
    need('requestId');
    await markDocument(bob);
    await signIn(alice, '/account', ALICE);
    const request = alice.locator(`[data-request-id="${state.requestId}"]`);
    assert.equal(await request.count(), 1, 'alice does not see the request');
    const approve = request.getByRole('button', { name: /^Approve/ });
    await chromium.submitAndReturn(alice, approve, `/account/requests/${state.requestId}/approve`, 'approve');

    const grant = list('access').locator('[data-grant-id]');
    await grant.first().waitFor({ timeout: UPDATE_MS });
    assert.equal(await notReloaded(bob), true, 'bob\'s console was reloaded');
    assert.equal(await grant.count(), 1);
    await list('waiting').getByText('None of your requests is waiting for an answer.').waitFor({ timeout: UPDATE_MS });
    assert.equal(await grant.getAttribute('data-status'), 'active');
    state.grantId = await grant.getAttribute('data-grant-id');
    assert.equal((await grant.getByRole('heading', { level: 3 }).innerText()).trim(), `You can act in alice's account (${TICKET})`);
    assert.match(await grant.locator('[data-countdown-to]').innerText(), /^(59 minutes( \d+ seconds)?|1 hour) left$/);
    const link = grant.getByRole('link', { name: `Open ${SHOP.name} as alice`, exact: true });
    assert.equal(await link.count(), 1, 'no "Open Example Shop as alice"');
    const href = new URL(await link.getAttribute('href'));
    assert.equal(`${href.origin}${href.pathname}`, SHOP.initiateLoginUri);
    assert.equal(href.searchParams.get('iss'), server.issuer);
    assert.equal(href.searchParams.get('login_hint'), 'alice');
    assert.ok((await link.getAttribute('href')).includes(`iss=${encodeURIComponent(server.issuer)}`), 'iss is not URL-encoded');
    // The times the script drew are local, as on a loaded page.
    const times = await grant.locator('time[datetime]').allInnerTexts();
    assert.ok(times.length >= 2 && times.every((t) => !/UTC$/.test(t) && !/\dT\d/.test(t)), `times: ${times}`);
    assert.match(await bob.locator('[data-console-news]').innerText(), /^Updated\./);
    await chromium.photograph(bob, '33-console-access.png');
  });

  it('every button names its request or grant (asked dave too, without a ticket)', async () => {
    need('grantId');
    await chromium.assertSafePage(bob, await bob.goto(`${server.baseUrl}/console`), 'GET /console', { path: '/console' });
    await subjectInput().fill(DAVE.username);
    await scopeGroup().getByRole('checkbox', { name: state.readLabel, exact: true }).check();
    await reasonInput().fill('The customer asked for a call back');
    const at = await askAndReturn('ask dave');
    state.daveRequest = at.searchParams.get('request');
    const main = bob.locator('main');
    await writeFile(`${chromium.ARTIFACTS_DIR}33-console.aria.yml`, await main.ariaSnapshot());
    const buttons = buttonsOf(await main.ariaSnapshotJSON());
    const cancel = buttons.find((b) => b.startsWith('Cancel'));
    const end = buttons.find((b) => b.startsWith('End access'));
    assert.equal(end, `End access to alice's account (${TICKET})`);
    assert.match(cancel ?? '', /^Cancel your request to dave of \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$/);
    assert.deepEqual([...buttons].sort(), ['Ask for access', cancel, end, 'Sign out'].sort(), buttons.join(' | '));
    assert.equal(new Set(buttons).size, buttons.length, `buttons named alike: ${buttons.join(' | ')}`);
    assert.deepEqual((await chromiumButtons(bob)).sort(), [...buttons].sort(), 'Chromium names the buttons otherwise');
    await chromium.photograph(bob, '34-console-two.png');
  });

  it('bob presses "End access": the notice, and the grant under "Ended", ended by him', async () => {
    need('grantId');
    const end = list('access').getByRole('button', { name: `End access to alice's account (${TICKET})` });
    const posted = bob.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/console/grants/${state.grantId}/end`);
    const reloaded = bob.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/console');
    await end.click();
    assert.equal((await posted).status(), 303);
    await chromium.assertSafePage(bob, await reloaded, 'end access', { path: '/console' });
    const notice = bob.getByRole('status');
    assert.equal((await notice.innerText()).trim(), `You ended the access to alice's account (${TICKET}).`);
    const ended = list('ended').locator(`[data-grant-id="${state.grantId}"]`);
    assert.equal(await ended.getAttribute('data-status'), 'revoked');
    assert.equal((await ended.getByRole('heading', { level: 3 }).innerText()).trim(), `Access to alice's account (${TICKET}): Ended by you`);
    assert.equal(await ended.getByRole('link').count(), 0, 'a way in under an ended grant');
    assert.equal(await ended.getByRole('button').count(), 0);
    assert.equal((await list('access').innerText()).trim(), "You cannot act in anyone's account right now.");
    state.ended = true;
  });

  it('he asks alice again and she denies it: "Denied by alice", without a reload', async () => {
    need('ended');
    await subjectInput().fill(ALICE.username);
    await scopeGroup().getByRole('checkbox', { name: state.readLabel, exact: true }).check();
    await reasonInput().fill('One more look at the March invoices');
    await ticketInput().fill('SUP-7002');
    const at = await askAndReturn('ask again');
    const id = at.searchParams.get('request');
    await markDocument(bob);
    await chromium.assertSafePage(alice, await alice.goto(`${server.baseUrl}/account`), 'GET /account');
    const deny = alice.locator(`[data-request-id="${id}"]`).getByRole('button', { name: /^Deny/ });
    await chromium.submitAndReturn(alice, deny, `/account/requests/${id}/deny`, 'deny');
    const denied = list('ended').locator(`[data-request-id="${id}"]`);
    await denied.waitFor({ timeout: UPDATE_MS });
    assert.equal(await notReloaded(bob), true, 'bob\'s console was reloaded');
    assert.equal(await denied.getAttribute('data-status'), 'denied');
    assert.equal((await denied.getByRole('heading', { level: 3 }).innerText()).trim(), 'Your request to alice (SUP-7002): Denied by alice');
    assert.equal(await list('waiting').locator(`[data-request-id="${id}"]`).count(), 0);
    await chromium.photograph(bob, '35-console-denied.png');
  });
});
