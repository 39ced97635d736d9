// "Allow support access" on the consent screen (/account), in Chromium
// (lib/chromium.mjs): alice gives a team access herself, without a request.
//
// Two teams (Support: bob and dave; Sales: erin) and an app open to delegated
// sign-in ("Example Shop", `behalf client add --delegated-sign-in`) are set
// up through the CLI. Alice signs in in Chromium and finds them in the form.
// She submits it with nothing ticked: the page comes back with status 400,
// the message beside "What they may do", the focus on its first checkbox and
// her other choices kept. She ticks a scope and chooses the Support team, the
// app and 1 hour: 303 to /account?done=given&grant=ID, the focused
// role="status" notice says access was given, and the grant's card says "the
// Support team can act in your account" with a live countdown. Dave (Support)
// gets an agent token from the console (openid-client, code flow) and
// exchanges it under that grant (RFC 8693): jose verifies the delegated token
// against the JWKS with sub = alice and act.sub = dave; erin (Sales) is
// refused with invalid_request. Alice presses "End access now": the notice
// says so and the delegated token introspects inactive. Last, a team and a
// person chosen at once comes back with the message beside "Who may act in
// your account". The grant's "What was done" names dave, who acted.
//
// Screenshots land in artifacts/ (20-allow-form.png … 24-allow-team-and-person.png,
// each also -phone.png), each page checked with axe-core.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';

import { startServer } from '../lib/server.mjs';
import { addConsole, signInForTokens, CONSOLE } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_ID_TYPE = 'urn:behalf:params:oauth:token-type:grant_id';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const ALICE = { username: 'alice', password: 'alice-password-1' };
const AGENTS = {
  bob: { password: 'bob-password-1', team: 'Support' },
  dave: { password: 'dave-password-1', team: 'Support' },
  erin: { password: 'erin-password-1', team: 'Sales' },
};
const SHOP = { clientId: 'shop', name: 'Example Shop', redirectUri: 'http://127.0.0.1:9/shop-cb' };
const REASON = 'My invoice export stops halfway';
const TIME_ZONE = 'Europe/Berlin';
const LOCALE = 'en-GB';
const ACTION = '/account/grants';

let server;
let browser;
let page;
let consoleConfig;
let rsConfig; // a resource server that introspects
let jwks;
const subs = {}; // name -> sub printed by `behalf user add`

// ---------------------------------------------------------------------------
// The form

/** The "Allow support access" form, found as a screen reader finds it: the form landmark of that name. */
const allowForm = () => page.getByRole('form', { name: 'Allow support access' });
const field = (label) => allowForm().getByLabel(label, { exact: true });
const teamSelect = () => field('A team');
const agentSelect = () => field('Or one person');
const durationSelect = () => field('For how long');
const reasonInput = () => field('Why (optional: the agent sees it)');
const scopeGroup = () => allowForm().getByRole('group', { name: 'What they may do' });
const whoGroup = () => allowForm().getByRole('group', { name: 'Who may act in your account' });
const appGroup = () => allowForm().getByRole('group', { name: 'Apps they may sign in to as you' });

/** The options of a select as read: [value, label, selected]. */
function optionsOf(select) {
  return select.locator('option').evaluateAll((els) => els.map((o) => [o.value, o.textContent.trim(), o.selected]));
}

/** The id of the element that has the focus, once the page has settled it (autofocus, behalf.js). */
async function focusedId(expected) {
  await page.waitForFunction((id) => document.activeElement?.id === id, expected, { timeout: 2_000 }).catch(() => {});
  return page.evaluate(() => document.activeElement?.id ?? null);
}

/** Chromium's own accessibility tree (DevTools protocol): the node of `role` named `name`. */
async function axNode(role, name) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const found = nodes.filter((n) => !n.ignored && n.role?.value === role && String(n.name?.value ?? '').trim() === name);
    assert.equal(found.length, 1, `Chromium's tree has ${found.length} ${role} named "${name}"`);
    const props = Object.fromEntries((found[0].properties ?? []).map((p) => [p.name, p.value?.value]));
    return { description: String(found[0].description?.value ?? '').trim(), ...props };
  } finally {
    await cdp.detach();
  }
}

/**
 * Presses "Allow support access" and expects the form back refused: status
 * 400 at /account/grants, a safe page, no success notice, and the one
 * message of the form beside `field` (id allow-FIELD-error, role="alert").
 * Returns that message.
 */
async function submitRefused(fieldName, what) {
  const posted = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === ACTION);
  await allowForm().getByRole('button', { name: 'Allow support access' }).click();
  const res = await posted;
  await page.waitForLoadState('load');
  await chromium.assertSafePage(page, res, what, { status: 400, path: ACTION });
  assert.equal(await page.getByRole('status').count(), 0, `${what}: a success notice on a refused form`);
  const errors = await allowForm().locator('.field-error').evaluateAll((els) => els.map((e) => e.id));
  assert.deepEqual(errors, [`allow-${fieldName}-error`], `${what}: the messages of the form`);
  const message = allowForm().locator(`#allow-${fieldName}-error`);
  assert.equal(await message.getAttribute('role'), 'alert', `${what}: the message's role`);
  assert.ok(await message.isVisible(), `${what}: the message is not visible`);
  return (await message.innerText()).trim();
}

/** Whether the whole of `locator` is on screen (in the viewport), as the page was left scrolled. */
async function onScreen(locator) {
  const box = await locator.boundingBox();
  const { width, height } = page.viewportSize();
  return Boolean(box) && box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;
}

// ---------------------------------------------------------------------------
// Set-up

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'allow_support.browser' });
  subs.alice = (await server.cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` })).trim();
  for (const [name, { password, team }] of Object.entries(AGENTS)) {
    const out = await server.cli(['user', 'add', name, '--agent', '--team', team, '--password-stdin'], { stdin: `${password}\n` });
    subs[name] = out.trim();
  }
  consoleConfig = await addConsole(server);
  await server.cli([
    'client', 'add', SHOP.clientId,
    '--generate-secret',
    '--redirect-uri', SHOP.redirectUri,
    '--grant-type', 'authorization_code',
    '--scope', 'openid',
    '--scope', 'profile',
    '--name', SHOP.name,
    '--delegated-sign-in',
  ]);
  const rs = JSON.parse(await server.cli(['client', 'add', 'rs', '--generate-secret']));
  rsConfig = await client.discovery(new URL(server.issuer), 'rs', undefined, client.ClientSecretBasic(rs.client_secret), {
    execute: [client.allowInsecureRequests],
  });
  jwks = createRemoteJWKSet(new URL(consoleConfig.serverMetadata().jwks_uri));
  ({ page } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------

describe('"Allow support access" in Chromium: refused, given to a team, used by one of it, ended', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('alice signs in; the form lists both teams, the agents, the console, the scopes, the app and the durations', async () => {
    const login = await page.goto(`${server.baseUrl}/login?return_to=/account`);
    assert.equal(login?.status(), 200, `GET /login: ${login?.status()}`);
    const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
    await form.locator('input[name="username"]').fill(ALICE.username);
    await form.locator('input[name="password"]').fill(ALICE.password);
    const landed = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/account');
    await form.locator('button[type="submit"]').click();
    const res = await landed;
    await page.waitForLoadState('load');
    await chromium.assertSafePage(page, res, 'after login');

    assert.equal(await allowForm().count(), 1, 'no form named "Allow support access"');
    assert.equal((await allowForm().getAttribute('action')), ACTION);
    assert.equal((await allowForm().getAttribute('method'))?.toLowerCase(), 'post');
    // With two teams none is chosen for her.
    assert.deepEqual(await optionsOf(teamSelect()), [
      ['', 'Choose a team', true],
      ['Sales', 'The Sales team', false],
      ['Support', 'The Support team', false],
    ]);
    const agents = await optionsOf(agentSelect());
    assert.deepEqual(agents[0], ['', 'Nobody by name (the team above)', true], 'the first choice of one person');
    assert.deepEqual(
      agents.slice(1).map(([v, l]) => [v, l]).sort(),
      [['bob', 'bob (Support)'], ['dave', 'dave (Support)'], ['erin', 'erin (Sales)']],
      'the agents, each with their team (alice is no agent)',
    );
    assert.deepEqual(await optionsOf(field('Through which support tool')), [[CONSOLE.clientId, CONSOLE.name, true]]);
    // Scopes as labelled checkboxes, none ticked; never `agent` or `openid`.
    const scopes = await scopeGroup().getByRole('checkbox').evaluateAll((els) =>
      els.map((e) => [e.value, e.checked, [...e.labels].map((l) => l.textContent.trim()).join('')]),
    );
    assert.deepEqual(scopes.map(([v]) => v).sort(), ['read', 'write'], `the scopes offered: ${JSON.stringify(scopes)}`);
    for (const [value, checked, label] of scopes) {
      assert.equal(checked, false, `${value} is ticked to begin with`);
      assert.ok(label && label !== value, `the checkbox for ${value} is labelled "${label}", not in words`);
    }
    state.firstScope = await scopeGroup().getByRole('checkbox').first().getAttribute('id');
    state.readLabel = scopes.find(([v]) => v === 'read')[2];
    assert.equal(await appGroup().getByRole('checkbox', { name: `Sign in to ${SHOP.name} as you`, exact: true }).count(), 1, 'the app');
    const durations = await optionsOf(durationSelect());
    assert.ok(durations.some(([v, l, s]) => v === '3600' && l === '1 hour' && s), `a fresh form offers 1 hour: ${JSON.stringify(durations)}`);
    assert.ok(durations.some(([v, l]) => v === '900' && l === '15 minutes'), `15 minutes: ${JSON.stringify(durations)}`);
    assert.equal(await reasonInput().inputValue(), '');
    await allowForm().scrollIntoViewIfNeeded();
    await chromium.photograph(page, '20-allow-form.png');
    state.signedIn = true;
  });

  it('nothing ticked: 400, the message beside "What they may do", the focus on its first checkbox, her choices kept', async () => {
    need('signedIn', 'firstScope');
    await teamSelect().selectOption('Sales');
    await durationSelect().selectOption('900');
    await reasonInput().fill(REASON);
    const message = await submitRefused('scope', 'nothing ticked');
    assert.equal(message, 'Tick at least one thing they may do.');
    // The message sits inside the scopes' group, which it describes.
    assert.equal(await scopeGroup().locator('#allow-scope-error').count(), 1, 'the message is not in "What they may do"');
    assert.equal(await scopeGroup().getAttribute('aria-describedby'), 'allow-scope-error');
    assert.equal((await axNode('group', 'What they may do')).description, message, 'Chromium does not describe the group by the message');
    assert.equal(await focusedId(state.firstScope), state.firstScope, 'the focus is not on the first checkbox');
    assert.ok(await onScreen(scopeGroup()), 'the page does not come back scrolled to "What they may do" and its message');
    // What she chose is kept; nothing was ticked, and so nothing is now.
    assert.equal(await teamSelect().inputValue(), 'Sales', 'the team');
    assert.equal(await agentSelect().inputValue(), '', 'one person');
    assert.equal(await durationSelect().inputValue(), '900', 'the duration');
    assert.equal(await reasonInput().inputValue(), REASON, 'the reason');
    assert.equal(await scopeGroup().locator('input:checked').count(), 0, 'a scope got ticked');
    assert.equal(await appGroup().locator('input:checked').count(), 0, 'an app got ticked');
    assert.equal(await page.getByText('No one can act in your account right now.').count(), 1, 'something was given');
    await chromium.photograph(page, '21-allow-nothing-ticked.png');
    state.refused = true;
  });

  it('she ticks a scope and chooses the Support team, the app and 1 hour: the notice says access was given', async () => {
    need('refused', 'readLabel');
    await scopeGroup().getByRole('checkbox', { name: state.readLabel, exact: true }).check();
    await teamSelect().selectOption('Support');
    await appGroup().getByRole('checkbox', { name: `Sign in to ${SHOP.name} as you`, exact: true }).check();
    await durationSelect().selectOption('3600');
    const button = allowForm().getByRole('button', { name: 'Allow support access' });
    const get = await chromium.submitAndReturn(page, button, ACTION, 'allow');
    const at = new URL(get.url());
    assert.equal(at.searchParams.get('done'), 'given', `redirected to ${at}`);
    const grantId = at.searchParams.get('grant');
    assert.match(grantId ?? '', /^[A-Za-z0-9_-]+$/, `redirected to ${at}`);
    await chromium.assertNotice(page, 'You gave the Support team access to your account for 1 hour.', 'allow');

    const card = page.locator(`[data-grant-id="${grantId}"]`);
    assert.equal(await card.count(), 1, `no card for grant ${grantId}`);
    assert.equal(await card.getAttribute('data-grant-status'), 'active');
    const heading = card.getByRole('heading', { level: 3 });
    assert.equal((await heading.innerText()).trim(), 'The Support team can act in your account');
    assert.equal(await page.getByRole('region', { name: 'The Support team can act in your account' }).count(), 1, 'the card is a region of that name');
    const text = await card.innerText();
    assert.ok(text.includes(REASON), `the reason she gave: ${text}`);
    assert.ok(text.includes(CONSOLE.name), `the support tool: ${text}`);
    assert.match(text, new RegExp(`May sign in as you to\\s+${SHOP.name}`), `the app: ${text}`);
    assert.ok(text.includes(state.readLabel), `what they can do: ${text}`);
    // The time left counts down live from about an hour.
    const countdown = card.locator('[data-countdown-to]');
    const before = (await countdown.innerText()).trim();
    assert.match(before, /^(1 hour|59 minutes( \d+ seconds?)?) left$/, `the time left: ${before}`);
    await countdown.evaluate((el, was) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the time left stays "${was}"`)), 3_000);
      new MutationObserver(() => {
        if (el.textContent.trim() !== was) { clearTimeout(timer); resolve(); }
      }).observe(el, { childList: true, characterData: true, subtree: true });
    }), before);
    assert.match((await countdown.innerText()).trim(), /^59 minutes \d+ seconds? left$/, 'the time left after a tick');
    assert.equal(await card.getByRole('button', { name: /^End access now/ }).count(), 1, '"End access now"');
    await chromium.photograph(page, '22-allow-given.png');
    state.grantId = grantId;
  });

  it('dave (Support) exchanges his agent token under the grant: act.sub is dave; erin (Sales) is refused', async () => {
    need('grantId');
    const exchange = (actorToken) =>
      client.genericGrantRequest(consoleConfig, TOKEN_EXCHANGE, {
        subject_token: state.grantId,
        subject_token_type: GRANT_ID_TYPE,
        actor_token: actorToken,
        actor_token_type: ACCESS_TOKEN_TYPE,
        scope: 'read',
      });
    const dave = await signInForTokens(consoleConfig, { username: 'dave', password: AGENTS.dave.password, scope: 'openid agent' });
    assert.equal(decodeJwt(dave.access_token).sub, subs.dave, "dave's token names dave");
    const got = await exchange(dave.access_token);
    assert.equal(got.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(got.token_type?.toLowerCase(), 'bearer');
    const { payload } = await jwtVerify(got.access_token, jwks, {
      issuer: server.issuer,
      audience: server.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(payload.sub, subs.alice, 'sub is alice');
    assert.equal(payload.act?.sub, subs.dave, `act.sub is dave, who acted: ${JSON.stringify(payload.act)}`);
    assert.equal(payload.grant_id, state.grantId);
    assert.equal(payload.client_id, CONSOLE.clientId);
    assert.equal(payload.scope, 'read');
    const info = await client.tokenIntrospection(rsConfig, got.access_token);
    assert.equal(info.active, true, JSON.stringify(info));
    assert.equal(info.act?.sub, subs.dave, JSON.stringify(info));
    state.delegated = got.access_token;
    state.exchange = exchange;
    state.daveToken = dave.access_token;

    const erin = await signInForTokens(consoleConfig, { username: 'erin', password: AGENTS.erin.password, scope: 'openid agent' });
    let refused;
    try {
      await exchange(erin.access_token);
    } catch (err) {
      refused = err;
    }
    assert.ok(refused instanceof client.ResponseBodyError, `erin was not refused with an OAuth error: ${refused}`);
    assert.equal(refused.error, 'invalid_request', `error_description: ${refused.error_description}`);
    assert.equal(refused.status, 400);
  });

  it('the grant\'s "What was done" names dave, who acted', async () => {
    need('delegated');
    await chromium.assertSafePage(page, await page.goto(`${server.baseUrl}/account`), 'GET /account');
    const card = page.locator(`[data-grant-id="${state.grantId}"]`);
    await card.locator('summary').click();
    const lines = await card.locator('.activity li').allInnerTexts();
    assert.ok(lines.some((l) => /\bdave began acting in your account\b/.test(l)), `What was done: ${lines.join(' | ')}`);
  });

  it('alice presses "End access now": the notice says so, and the delegated token introspects inactive', async () => {
    need('grantId', 'delegated');
    const card = page.locator(`[data-grant-id="${state.grantId}"]`);
    await chromium.assertSafePage(page, await page.goto(`${server.baseUrl}/account`), 'GET /account');
    const end = card.getByRole('button', { name: /^End access now/ });
    await chromium.submitAndReturn(page, end, `/account/grants/${state.grantId}/revoke`, 'end access');
    const notice = (await page.getByRole('status').innerText()).trim();
    assert.match(notice, /^You ended .*the Support team.*\. .*can no longer act in your account\.$/i, `the notice: ${notice}`);
    await chromium.assertNotice(page, notice, 'end access');
    assert.equal(await card.getAttribute('data-grant-status'), 'revoked');
    assert.ok((await card.innerText()).includes('Ended by you'), await card.innerText());
    assert.equal(await card.locator('form[action$="/revoke"]').count(), 0, 'an ended grant still offers "End access now"');
    assert.equal(await page.getByText('No one can act in your account right now.').count(), 1);
    await chromium.photograph(page, '23-allow-ended.png');

    assert.deepEqual({ ...(await client.tokenIntrospection(rsConfig, state.delegated)) }, { active: false });
    let refused;
    try {
      await state.exchange(state.daveToken);
    } catch (err) {
      refused = err;
    }
    assert.equal(refused?.error, 'invalid_request', `the next exchange under the ended grant: ${refused}`);
    state.ended = true;
  });

  it('a team and a person at once: 400, the message beside "Who may act in your account", the focus on the team', async () => {
    need('signedIn', 'readLabel');
    await chromium.assertSafePage(page, await page.goto(`${server.baseUrl}/account`), 'GET /account');
    await teamSelect().selectOption('Support');
    await agentSelect().selectOption('erin');
    await scopeGroup().getByRole('checkbox', { name: state.readLabel, exact: true }).check();
    const activeBefore = await page.locator('[data-grant-status="active"]').count();
    const message = await submitRefused('grantee', 'a team and a person');
    assert.equal(message, 'Choose a team or one person, not both.');
    assert.equal(await whoGroup().locator('#allow-grantee-error').count(), 1, 'the message is not in "Who may act in your account"');
    assert.equal(await whoGroup().getAttribute('aria-describedby'), 'allow-grantee-error');
    assert.equal((await axNode('group', 'Who may act in your account')).description, message);
    for (const select of [teamSelect(), agentSelect()]) assert.equal(await select.getAttribute('aria-invalid'), 'true');
    assert.equal((await axNode('combobox', 'A team')).invalid, 'true', 'Chromium does not read the team as invalid');
    assert.equal(await focusedId('allow-team'), 'allow-team', 'the focus is not on the team');
    assert.ok(await onScreen(whoGroup()), 'the page does not come back scrolled to "Who may act in your account" and its message');
    assert.equal(await teamSelect().inputValue(), 'Support');
    assert.equal(await agentSelect().inputValue(), 'erin');
    assert.deepEqual(await scopeGroup().locator('input:checked').evaluateAll((els) => els.map((e) => e.value)), ['read']);
    assert.equal(await page.locator('[data-grant-status="active"]').count(), activeBefore, 'something was given');
    await chromium.photograph(page, '24-allow-team-and-person.png');
  });
});
