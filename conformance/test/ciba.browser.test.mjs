// Agents that are programs (OpenID CIBA Core 1.0; docs/contract.md "Agents
// that are programs"): an assistant registered with one CLI command
// (`behalf client add assistant --program-agent ...`) asks alice with a
// standard backchannel authentication request made by node openid-client
// (`initiateBackchannelAuthentication`), and polls with openid-client
// (`pollBackchannelAuthenticationGrant`, which keeps the interval and
// validates the ID token) while alice, in Chromium, narrows the request on
// /account and approves it. The access token verifies with jose against the
// JWKS with sub = alice and act.sub = the assistant's client id; the ID token
// carries the same act. Alice's "End access now" makes it introspect
// inactive. In ping mode a second assistant is told at a notification
// endpoint this test serves (Bearer = its client_notification_token), then
// collects its tokens with one token request.
//
// Screenshots: artifacts/40-ciba-request.png and 41-ciba-given.png (each also
// -phone.png), each page checked with axe-core.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startServer } from '../lib/server.mjs';
import { addUser } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const CIBA = 'urn:openid:params:grant-type:ciba';
const ALICE = { username: 'alice', password: 'alice-password-1' };
const MESSAGE = 'Fetch your March invoices';
/** Longest the poll may take in this test: the interval twice, and the approving. */
const POLL_LIMIT_MS = 30_000;

let server;
let browser;
let page;
let jwks;
let rs; // a resource server's client credentials, to introspect
const subs = {};

/** Registers program agent `id` as the README says and returns its openid-client Configuration. */
async function addAssistant(id, extra = []) {
  const out = await server.cli([
    'client', 'add', id,
    '--program-agent',
    '--grant-type', CIBA,
    '--scope', 'openid', '--scope', 'read', '--scope', 'write',
    '--name', 'Invoice Assistant',
    '--generate-secret',
    ...extra,
  ]);
  const { client_secret: secret } = JSON.parse(out);
  assert.equal(typeof secret, 'string', out);
  return client.discovery(new URL(server.issuer), id, undefined, client.ClientSecretBasic(secret), {
    execute: [client.allowInsecureRequests],
  });
}

async function signInAlice() {
  const login = await page.goto(`${server.baseUrl}/login?return_to=/account`);
  assert.equal(login?.status(), 200);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  await form.locator('input[name="username"]').fill(ALICE.username);
  await form.locator('input[name="password"]').fill(ALICE.password);
  const landed = page.waitForResponse((r) => new URL(r.url()).pathname === '/account');
  await form.locator('button[type="submit"]').click();
  await chromium.assertSafePage(page, await landed, 'after login');
}

/** The one pending request card on alice's page. */
async function pendingCard() {
  await page.goto(`${server.baseUrl}/account`);
  const card = page.locator('[data-request-id]');
  assert.equal(await card.count(), 1, 'one pending request on /account');
  return card;
}

async function introspect(token) {
  const res = await fetch(`${server.baseUrl}/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`rs:${rs}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'ciba.browser' });
  subs.alice = await addUser(server, ALICE.username, ALICE.password);
  rs = JSON.parse(await server.cli(['client', 'add', 'rs', '--generate-secret'])).client_secret;
  jwks = createRemoteJWKSet(new URL(`${server.baseUrl}/jwks.json`));
  ({ page } = await chromium.openPage(browser, { timezoneId: 'Europe/Berlin', locale: 'en-GB' }));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('CIBA: an assistant asks, alice narrows and approves in Chromium, the poll yields tokens in its name', () => {
  const state = {};

  it('discovery names the backchannel endpoint, both delivery modes and no user code', async () => {
    const config = await addAssistant('assistant');
    const meta = config.serverMetadata();
    assert.equal(meta.backchannel_authentication_endpoint, `${server.baseUrl}/bc-authorize`);
    assert.deepEqual(meta.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
    assert.equal(meta.backchannel_user_code_parameter_supported, false);
    assert.ok(meta.grant_types_supported.includes(CIBA));
    state.config = config;
  });

  it('openid-client initiates: auth_req_id, expires_in and interval come back', async () => {
    const started = await client.initiateBackchannelAuthentication(state.config, {
      scope: 'openid read write',
      login_hint: 'alice',
      binding_message: MESSAGE,
      duration: '7200',
    });
    assert.equal(typeof started.auth_req_id, 'string');
    assert.ok(started.auth_req_id.length >= 32);
    assert.equal(started.interval, 5);
    assert.ok(started.expires_in > 0);
    state.started = started;
    // openid-client polls from now on, keeping the interval.
    state.polling = client.pollBackchannelAuthenticationGrant(state.config, started, undefined, {
      signal: AbortSignal.timeout(POLL_LIMIT_MS),
    });
    state.polling.catch(() => {});
  });

  it('alice sees who asks and why on /account, narrows it to read for 1 hour and approves', async () => {
    await signInAlice();
    const card = await pendingCard();
    const text = await card.innerText();
    assert.ok(text.includes('Invoice Assistant'), `the assistant's name is not shown: ${text}`);
    assert.ok(text.includes(MESSAGE), `the binding message is not shown: ${text}`);
    await card.scrollIntoViewIfNeeded();
    await chromium.photograph(page, '40-ciba-request.png');
    const approve = card.locator('form[action$="/approve"]');
    await approve.locator('input[type="checkbox"][name="scope"][value="write"]').uncheck();
    await approve.locator('select[name="duration"]').selectOption('3600');
    const back = page.waitForResponse((r) => new URL(r.url()).pathname === '/account' && r.request().method() === 'GET');
    await approve.getByRole('button', { name: 'Approve' }).click();
    await chromium.assertSafePage(page, await back, 'after approving');
    await chromium.photograph(page, '41-ciba-given.png');
  });

  it('the poll resolves with tokens for alice acting as the assistant, bounded by her choice', async () => {
    const tokens = await state.polling;
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, typ: 'at+jwt' });
    assert.equal(payload.sub, subs.alice);
    assert.deepEqual(payload.act, { sub: 'assistant' });
    assert.equal(typeof payload.grant_id, 'string');
    assert.ok(!String(payload.scope).split(' ').includes('write'), `alice narrowed it to read: ${payload.scope}`);
    assert.ok(payload.exp <= Math.floor(Date.now() / 1000) + 3600 + 5, 'not beyond the hour alice chose');
    const claims = tokens.claims();
    assert.equal(claims.sub, subs.alice);
    assert.deepEqual(claims.act, { sub: 'assistant' });
    state.token = tokens.access_token;
    state.grantId = payload.grant_id;
    assert.equal((await introspect(state.token)).active, true);
  });

  it('the same auth_req_id yields nothing more', async () => {
    await assert.rejects(
      client.genericGrantRequest(state.config, CIBA, { auth_req_id: state.started.auth_req_id }),
      (err) => err.error === 'invalid_grant' || err.error === 'slow_down',
    );
  });

  it('alice presses "End access now": the token introspects inactive at once', async () => {
    await page.goto(`${server.baseUrl}/account`);
    const end = page.locator(`form[action="/account/grants/${state.grantId}/revoke"]`);
    assert.equal(await end.count(), 1, 'the grant has an End access form');
    const back = page.waitForResponse((r) => new URL(r.url()).pathname === '/account' && r.request().method() === 'GET');
    await end.getByRole('button').click();
    await back;
    assert.equal((await introspect(state.token)).active, false);
  });
});

describe('CIBA ping mode: told at the notification endpoint, then one token request', () => {
  it('the ping carries the auth_req_id with the client_notification_token as bearer', async () => {
    const pings = [];
    const endpoint = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        pings.push({ auth: req.headers.authorization, type: req.headers['content-type'], body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${endpoint.address().port}/ciba`;
      const config = await addAssistant('pinged', ['--ciba-mode', 'ping', '--ciba-notification-endpoint', url]);
      const token = 'notify-me-7d21f0';
      const started = await client.initiateBackchannelAuthentication(config, {
        scope: 'openid read',
        login_hint: 'alice',
        binding_message: 'Check your last order',
        duration: '600',
        client_notification_token: token,
      });
      const card = await pendingCard();
      const back = page.waitForResponse((r) => new URL(r.url()).pathname === '/account' && r.request().method() === 'GET');
      await card.locator('form[action$="/approve"]').getByRole('button', { name: 'Approve' }).click();
      await back;
      const deadline = Date.now() + 5000;
      while (pings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(pings.length, 1, 'one ping within 5 s');
      assert.equal(pings[0].auth, `Bearer ${token}`);
      assert.match(pings[0].type ?? '', /^application\/json/);
      assert.deepEqual(pings[0].body, { auth_req_id: started.auth_req_id });
      const tokens = await client.genericGrantRequest(config, CIBA, { auth_req_id: started.auth_req_id });
      const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, typ: 'at+jwt' });
      assert.deepEqual(payload.act, { sub: 'pinged' });
    } finally {
      endpoint.close();
    }
  });
});
