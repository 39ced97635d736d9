// The consent screen (/account) in a real browser: Debian's Chromium driven
// by playwright-core (never a downloaded browser). Bob, a support agent, gets
// an agent token from the first-party support console (openid-client, code
// flow) and files an access request over the API; alice signs in, sees it,
// approves it narrowed to 1 hour and one scope, sees the grant active with
// its time left and ends it; bob reads each outcome back over the API.
// The reason carries markup to prove it is shown as text. The one script is
// the same-origin /static/behalf.js (never inline): with it, times read in the
// viewer's time zone (here Pacific/Auckland) and the time left counts down;
// without it, the page still works and shows UTC, marked as such. After each
// action the page says what happened in a role="status" notice that has the
// focus, and each button's accessible name says which request or grant.
//
// Screenshots land in artifacts/ (01-login.png … 07-not-found.png).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../lib/server.mjs';
import { addUser, addConsole, signInForTokens, api, describeApi, timestamp } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const { DESKTOP } = chromium;

const USERS = {
  alice: { password: 'alice-password-1', agent: false },
  bob: { password: 'bob-password-1', agent: true },
};
const HOUR = 3600;
const XSS_REASON = 'Export keeps failing <script>alert(1)</script> please check';
const TICKET = 'SUP-1234';
const TIME_ZONE = 'Pacific/Auckland';
const LOCALE = 'en-GB';
// As behalf.js words a local time.
const LOCAL_TIME = new Intl.DateTimeFormat(LOCALE, {
  year: 'numeric', month: 'long', day: 'numeric',
  hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: TIME_ZONE,
});

let server;
let config;
let browser;
let context;
let page;
const subs = {};
let bobToken;
let dialogs = []; // every JavaScript dialog that opened: there must be none

// lib/chromium.mjs on this file's one page: screenshots at 1280×800 and
// 390×844 with axe-core, the checks on each /account load, the notice, the
// post/redirect/get of a form.
const screenshot = (name) => chromium.photograph(page, name);
const assertSafePage = (response, what) => chromium.assertSafePage(page, response, what);
const assertNotice = (expected, what) => chromium.assertNotice(page, expected, what);
const submitAndReturn = (button, actionPath, what) => chromium.submitAndReturn(page, button, actionPath, what);

const bobCall = (method, path, body) => api(server.baseUrl, bobToken, method, path, body);

function scopeSet(scope) {
  return [...new Set(String(scope ?? '').split(' ').filter(Boolean))].sort();
}

// ---------------------------------------------------------------------------

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'consent_screen.browser' });
  for (const [name, { password, agent }] of Object.entries(USERS)) subs[name] = await addUser(server, name, password, { agent });
  config = await addConsole(server);
  const tokens = await signInForTokens(config, { username: 'bob', password: USERS.bob.password, scope: 'openid agent' });
  bobToken = tokens.access_token;

  ({ context, page, dialogs } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('consent screen in Chromium: approve narrowed, see it active, end it', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('bob files an access request over the API', async () => {
    const res = await bobCall('POST', '/api/access-requests', {
      subject: 'alice',
      scope: 'read write',
      duration: 2 * HOUR,
      reason: XSS_REASON,
      ticket: TICKET,
    });
    assert.equal(res.status, 201, describeApi(res));
    assert.equal(res.json.status, 'pending', describeApi(res));
    assert.equal(res.json.reason, XSS_REASON, 'the API gives the reason back as it was sent');
    state.request = res.json;
  });

  it('alice signs in at /login?return_to=/account and lands on her account page', async () => {
    const login = await page.goto(`${server.baseUrl}/login?return_to=/account`);
    assert.equal(login?.status(), 200, `GET /login: ${login?.status()}`);
    assert.deepEqual(
      await page.locator('script').evaluateAll((els) => els.map((e) => [e.getAttribute('src'), e.textContent])),
      [['/static/behalf.js', '']],
      'the login page has a script other than /static/behalf.js',
    );
    await screenshot('01-login.png');
    const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
    await form.locator('input[name="username"]').fill('alice');
    await form.locator('input[name="password"]').fill(USERS.alice.password);
    const landed = page.waitForResponse(
      (r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/account',
    );
    await form.locator('button[type="submit"], input[type="submit"], button:not([type])').first().click();
    const response = await landed;
    await page.waitForLoadState('load');
    assert.equal(new URL(page.url()).pathname, '/account', `after login the browser is at ${page.url()}`);
    state.signedIn = true;
    await assertSafePage(response, 'after login');
  });

  it('the pending request shows agent, reason (as text), ticket, scopes and duration', async () => {
    need('request', 'signedIn');
    const { id } = state.request;
    // Load once more to see the raw bytes the server sent.
    const res = await page.goto(`${server.baseUrl}/account`);
    await assertSafePage(res, 'GET /account');
    const raw = await res.text();
    assert.ok(!raw.includes('<script>alert'), 'the reason reached the page source unescaped');
    assert.deepEqual(raw.match(/<script[^>]*>/gi), ['<script src="/static/behalf.js" defer>'], 'the page source has a <script tag other than behalf.js');

    const card = page.locator(`[data-request-id="${id}"]`);
    assert.equal(await card.count(), 1, `no single element with data-request-id="${id}"`);
    await card.scrollIntoViewIfNeeded();
    await screenshot('02-pending-request.png');
    const text = await card.innerText();
    assert.ok(text.includes('bob'), `the agent's name (bob) is not shown: ${text}`);
    assert.ok(text.includes(XSS_REASON), `the reason is not shown verbatim as text: ${text}`);
    assert.ok(text.includes(TICKET), `the ticket is not shown: ${text}`);
    assert.match(text, /\b(2\s*hours?|2\s*h|120\s*min(utes?)?)\b/i, `the requested duration (2 hours) is not shown: ${text}`);

    const approve = card.locator(`form[action="/account/requests/${id}/approve"]`);
    assert.equal(await approve.count(), 1, 'approve form');
    assert.equal((await approve.getAttribute('method'))?.toLowerCase(), 'post', 'approve form method');
    const deny = card.locator(`form[action="/account/requests/${id}/deny"]`);
    assert.equal(await deny.count(), 1, 'deny form');
    assert.equal(await deny.getByRole('button', { name: 'Deny' }).count(), 1, 'Deny button');

    for (const scope of ['read', 'write']) {
      const box = approve.locator(`input[type="checkbox"][name="scope"][value="${scope}"]`);
      assert.equal(await box.count(), 1, `checkbox for ${scope}`);
      assert.equal(await box.isChecked(), true, `${scope} is checked to begin with`);
      const labels = await box.evaluate((el) => [...(el.labels ?? [])].map((l) => l.textContent.trim()));
      assert.ok(labels.length > 0 && labels.every(Boolean), `checkbox ${scope} has no <label>`);
    }
    const hourOption = approve.locator('select[name="duration"] option[value="3600"]');
    assert.equal(await hourOption.count(), 1, 'the duration select offers 3600');
    assert.equal((await hourOption.innerText()).trim(), '1 hour', 'option 3600 is labelled "1 hour"');
    // Times in the viewer's zone (the script), from the datetime the server wrote.
    const asked = card.locator('time[data-local]').first();
    const datetime = await asked.getAttribute('datetime');
    assert.match(datetime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, `datetime attribute: ${datetime}`);
    assert.equal((await asked.innerText()).trim(), LOCAL_TIME.format(new Date(datetime)), 'the asked-at time is not in local time');
    // A screen reader's view: each button names the request it acts on.
    for (const name of [`Approve bob's request (${TICKET})`, `Deny bob's request (${TICKET})`]) {
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 1, `no single button named "${name}"`);
    }
    state.approveForm = approve;
  });

  it('alice approves for 1 hour with read only: 303 to /account, and the request is no longer pending', async () => {
    need('approveForm');
    const { id } = state.request;
    const form = state.approveForm;
    await form.locator('select[name="duration"]').selectOption('3600');
    await form.locator('input[type="checkbox"][name="scope"][value="write"]').uncheck();
    assert.equal(await form.locator('input[type="checkbox"][name="scope"][value="read"]').isChecked(), true);
    state.approvedAt = Date.now();
    await submitAndReturn(form.getByRole('button', { name: 'Approve' }), `/account/requests/${id}/approve`, 'approve');
    await assertNotice(`You approved bob's request (${TICKET}). bob can act in your account for 1 hour.`, 'approve');
    assert.equal(
      await page.locator(`form[action="/account/requests/${id}/approve"]`).count(),
      0,
      'the approved request is still offered for approval',
    );
    state.approved = true;
  });

  it('bob reads back approved with the grant_id and alice\'s limits (1 hour, read)', async () => {
    need('approved');
    const res = await bobCall('GET', `/api/access-requests/${encodeURIComponent(state.request.id)}`);
    assert.equal(res.status, 200, describeApi(res));
    const r = res.json;
    assert.equal(r.status, 'approved', describeApi(res));
    assert.equal(typeof r.grant_id, 'string', `grant_id: ${describeApi(res)}`);
    state.grantId = r.grant_id;
    assert.deepEqual(scopeSet(r.scope), ['read'], `scope: ${r.scope}`);
    assert.equal(r.duration, HOUR);
    assert.equal(r.grant_status, 'active');
    const expires = timestamp(r.grant_expires_at, 'grant_expires_at');
    assert.ok(Math.abs(expires - state.approvedAt - HOUR * 1000) < 60_000, `grant_expires_at ${r.grant_expires_at} is about 1 h from the approval`);
  });

  it('alice sees the grant active with its time left and an "End access now" button', async () => {
    need('grantId');
    const grant = page.locator(`[data-grant-id="${state.grantId}"]`);
    assert.equal(await grant.count(), 1, `no single element with data-grant-id="${state.grantId}"`);
    assert.equal(await grant.getAttribute('data-grant-status'), 'active');
    await grant.scrollIntoViewIfNeeded();
    await screenshot('03-active-grant.png');
    const text = await grant.innerText();
    assert.match(text, /\bleft\b/, `no time left shown: ${text}`);
    const countdown = grant.locator('[data-countdown-to]');
    const before = await countdown.innerText();
    await page.waitForTimeout(2_100);
    const later = await countdown.innerText();
    assert.notEqual(later, before, `the time left does not count down: ${before} → ${later}`);
    assert.match(text, /\b(59|60)\s*min|\b1\s*h(our)?\b/i, `time left is not about an hour: ${text}`);
    assert.ok(text.includes('bob'), `the grant does not name the agent: ${text}`);
    const revoke = grant.locator(`form[action="/account/grants/${state.grantId}/revoke"]`);
    assert.equal(await revoke.count(), 1, 'revoke form');
    state.endButton = revoke.getByRole('button', { name: 'End access now' });
    assert.equal(await state.endButton.count(), 1, '"End access now" button');
  });

  it('alice ends it: 303 to /account, the grant says "Ended by you"', async () => {
    need('endButton');
    await submitAndReturn(state.endButton, `/account/grants/${state.grantId}/revoke`, 'end access');
    await assertNotice(`You ended bob's access (${TICKET}). bob can no longer act in your account.`, 'end');
    const grant = page.locator(`[data-grant-id="${state.grantId}"]`);
    assert.equal(await grant.count(), 1, 'the ended grant is still listed');
    assert.equal(await grant.getAttribute('data-grant-status'), 'revoked');
    await grant.scrollIntoViewIfNeeded();
    await screenshot('04-ended.png');
    const text = await grant.innerText();
    assert.ok(text.includes('Ended by you'), `the grant does not say "Ended by you": ${text}`);
    assert.equal(await grant.locator('form[action$="/revoke"]').count(), 0, 'an ended grant still offers "End access now"');
    state.ended = true;
  });

  it('bob then sees the grant ended (grant_status revoked)', async () => {
    need('ended');
    const res = await bobCall('GET', `/api/access-requests/${encodeURIComponent(state.request.id)}`);
    assert.equal(res.status, 200, describeApi(res));
    assert.equal(res.json.status, 'approved', describeApi(res));
    assert.equal(res.json.grant_id, state.grantId);
    assert.equal(res.json.grant_status, 'revoked', describeApi(res));
  });

  it('a denied request: alice clicks Deny, bob reads back denied', async () => {
    need('signedIn');
    const res = await bobCall('POST', '/api/access-requests', {
      subject: subs.alice,
      scope: 'write',
      duration: HOUR,
      reason: 'Second look at the export',
      ticket: 'SUP-1235',
    });
    assert.equal(res.status, 201, describeApi(res));
    const { id } = res.json;
    await assertSafePage(await page.goto(`${server.baseUrl}/account`), 'GET /account');
    const card = page.locator(`[data-request-id="${id}"]`);
    assert.equal(await card.count(), 1, `no element with data-request-id="${id}"`);
    await submitAndReturn(
      card.locator(`form[action="/account/requests/${id}/deny"]`).getByRole('button', { name: 'Deny' }),
      `/account/requests/${id}/deny`,
      'deny',
    );
    await assertNotice("You denied bob's request (SUP-1235). bob cannot act in your account.", 'deny');
    const history = page.locator(`[data-ended-request-id="${id}"]`);
    assert.match(await history.innerText(), /Denied by you/, 'the denied request is not in the history');
    await screenshot('05-denied.png');
    assert.equal(await page.locator(`form[action="/account/requests/${id}/approve"]`).count(), 0, 'the denied request is still offered');
    const read = await bobCall('GET', `/api/access-requests/${encodeURIComponent(id)}`);
    assert.equal(read.json?.status, 'denied', describeApi(read));
    assert.equal(read.json.grant_id, null);
  });

  it('without script the page still works and shows UTC, marked as such', async () => {
    need('signedIn');
    const plain = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false, storageState: await context.storageState() });
    try {
      const noScript = await plain.newPage();
      const res = await noScript.goto(`${server.baseUrl}/account`);
      assert.equal(res?.status(), 200);
      const shown = (await noScript.locator('time[data-local]').first().innerText()).trim();
      assert.match(shown, /^\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC$/, `without script: ${shown}`);
    } finally {
      await plain.close();
    }
  });

  it('alice signs out and the sign-in page says so', async () => {
    need('signedIn');
    await assertSafePage(await page.goto(`${server.baseUrl}/account`), 'GET /account');
    const landed = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/login');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await landed;
    await page.waitForLoadState('load');
    assert.equal((await page.getByRole('status').innerText()).trim(), 'You are signed out.');
    await screenshot('06-signed-out.png');
  });

  it('an unknown address is a page with a way back', async () => {
    const res = await page.goto(`${server.baseUrl}/no-such-page`);
    assert.equal(res?.status(), 404);
    assert.equal(await page.getByRole('heading', { name: 'Page not found' }).count(), 1);
    assert.equal(await page.getByRole('link', { name: 'Back to your account' }).getAttribute('href'), '/account');
    await screenshot('07-not-found.png');
  });

  it('no JavaScript dialog opened at any point', () => {
    assert.deepEqual(dialogs, []);
  });
});
