// Example Shop (examples/example_shop/) against behalf, in Chromium: the app
// side of delegated sign-in, end to end.
//
// Set up through the CLI: alice; bob, an agent of the Support team; the
// console (the support tool a grant goes through); and the shop, registered
// `--delegated-sign-in` with its `--initiate-login-uri` and
// `--backchannel-logout-uri`. The shop's binary (`cargo build --examples`:
// target/debug/examples/example_shop, or $BEHALF_EXAMPLE_SHOP) runs on a port
// of its own with the secret the CLI printed.
//
// alice (one browser context) gives the Support team access for an hour on
// /account, listing the shop. bob (another context) opens the shop's
// /initiate?iss=…&login_hint=alice, as behalf or a support tool would send him
// (OIDC Core §4): the shop starts its sign-in, behalf asks bob to sign in,
// then "Act as alice in Example Shop?" (photographed, axe-core); he presses
// the button and lands on the shop, which says "Hello alice" and, from the ID
// token's act, "<bob's sub> (support) is acting as alice — 59 minutes left"
// (photographed at 1280×800 and 390×844, axe-core). The shop refuses an
// /initiate from another issuer and logout tokens that are not behalf's.
// Last, alice ends the access: the shop's session must end within 5 s,
// through the logout token behalf POSTs to /backchannel-logout (Back-Channel
// Logout 1.0). That step is todo while behalf's discovery does not advertise
// `backchannel_logout_supported`; it runs in full either way.
//
// Screenshots: artifacts/30-shop-act-as.png, 31-shop-acting.png,
// 32-shop-ended.png, each also -phone.png.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { startServer, freePort } from '../lib/server.mjs';
import { addConsole, CONSOLE } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const SHOP_BIN =
  process.env.BEHALF_EXAMPLE_SHOP ?? new URL('../../target/debug/examples/example_shop', import.meta.url).pathname;
const ALICE = { username: 'alice', password: 'alice-password-1' };
const BOB = { username: 'bob', password: 'bob-password-1', team: 'Support' };
const REASON = 'Order 1234 will not ship';
const TIME_ZONE = 'Europe/Berlin';
const LOCALE = 'en-GB';
const LOGOUT_WITHIN_MS = 5_000;

let server;
let browser;
let shop; // {url, stdout, stop}
let alice; // Chromium page of alice's context
let bob; // and bob's
const subs = {};

/** Starts the shop's binary on `port` and waits until its home page answers. */
async function startShop(port, secret) {
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SHOP_ISSUER: server.issuer,
    SHOP_CLIENT_ID: 'shop',
    SHOP_CLIENT_SECRET: secret,
    SHOP_LISTEN: `127.0.0.1:${port}`,
  };
  const child = spawn(SHOP_BIN, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (out.text += chunk));
  }
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', (err) => (exited = { error: err.message }));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await mkdir(chromium.ARTIFACTS_DIR, { recursive: true });
    await writeFile(`${chromium.ARTIFACTS_DIR}example_shop.shop.log`, out.text);
  };
  for (let tries = 0; ; tries++) {
    if (exited) {
      assert.fail(`${SHOP_BIN} ${JSON.stringify(exited)} (cargo build --examples builds it):\n${out.text}`);
    }
    try {
      if ((await fetch(url)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (tries > 200) {
      await stop();
      assert.fail(`the shop did not answer at ${url}:\n${out.text}`);
    }
    await sleep(100);
  }
  return { url, out, stop };
}

/** The banner that says who acts, as read: its text, or null. */
async function banner(page) {
  const note = page.locator('[data-acting]');
  return (await note.count()) === 1 ? (await note.innerText()).trim() : null;
}

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'example_shop.browser' });
  subs.alice = (await server.cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` })).trim();
  subs.bob = (
    await server.cli(['user', 'add', BOB.username, '--agent', '--team', BOB.team, '--password-stdin'], { stdin: `${BOB.password}\n` })
  ).trim();
  await addConsole(server);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const registered = JSON.parse(
    await server.cli([
      'client', 'add', 'shop',
      '--generate-secret',
      '--redirect-uri', `${base}/callback`,
      '--grant-type', 'authorization_code',
      '--grant-type', 'refresh_token',
      '--scope', 'openid',
      '--scope', 'profile',
      '--name', 'Example Shop',
      '--delegated-sign-in',
      '--initiate-login-uri', `${base}/initiate`,
      '--backchannel-logout-uri', `${base}/backchannel-logout`,
    ]),
  );
  shop = await startShop(port, registered.client_secret);
  ({ page: alice } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
  ({ page: bob } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
});

after(async () => {
  await browser?.close();
  await shop?.stop();
  await server?.stop();
});

describe('Example Shop: bob signs in as alice through /initiate, the shop shows it, and it ends with her access', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('alice gives the Support team access for 1 hour, listing Example Shop', async () => {
    await alice.goto(`${server.baseUrl}/login?return_to=/account`);
    const login = alice.locator('form').filter({ has: alice.locator('input[name="password"]') });
    await login.locator('input[name="username"]').fill(ALICE.username);
    await login.locator('input[name="password"]').fill(ALICE.password);
    await Promise.all([alice.waitForURL(`${server.baseUrl}/account`), login.locator('button[type="submit"]').click()]);
    const form = alice.getByRole('form', { name: 'Allow support access' });
    await form.getByLabel('A team', { exact: true }).selectOption(BOB.team);
    await form.getByLabel('Through which support tool', { exact: true }).selectOption(CONSOLE.clientId);
    await form.getByRole('group', { name: 'What they may do' }).locator('input[value="read"]').check();
    await form.getByRole('checkbox', { name: 'Sign in to Example Shop as you', exact: true }).check();
    await form.getByLabel('For how long', { exact: true }).selectOption('3600');
    await form.getByLabel('Why (optional: the agent sees it)', { exact: true }).fill(REASON);
    const button = form.getByRole('button', { name: 'Allow support access' });
    const get = await chromium.submitAndReturn(alice, button, '/account/grants', 'allow');
    state.grantId = new URL(get.url()).searchParams.get('grant');
    assert.match(state.grantId ?? '', /^[A-Za-z0-9_-]+$/, `redirected to ${get.url()}`);
    const card = alice.locator(`[data-grant-id="${state.grantId}"]`);
    assert.match(await card.innerText(), /May sign in as you to\s+Example Shop/);
  });

  it('bob opens the shop\'s /initiate (iss, login_hint=alice): behalf\'s login, then "Act as alice in Example Shop?"', async () => {
    need('grantId');
    const initiate = new URL('/initiate', shop.url);
    initiate.searchParams.set('iss', server.issuer);
    initiate.searchParams.set('login_hint', ALICE.username);
    await bob.goto(initiate.href);
    assert.equal(new URL(bob.url()).origin, server.baseUrl, `the shop sent bob to behalf: ${bob.url()}`);
    assert.equal(new URL(bob.url()).pathname, '/login', `not behalf's login: ${bob.url()}`);
    const login = bob.locator('form').filter({ has: bob.locator('input[name="password"]') });
    await login.locator('input[name="username"]').fill(BOB.username);
    await login.locator('input[name="password"]').fill(BOB.password);
    const landed = bob.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/authorize');
    await login.locator('button[type="submit"]').click();
    const res = await landed;
    await bob.waitForLoadState('load');
    await chromium.assertSafePage(bob, res, 'the act page', { path: '/authorize' });
    const url = new URL(bob.url());
    assert.equal(url.searchParams.get('client_id'), 'shop');
    assert.equal(url.searchParams.get('login_hint'), ALICE.username, 'the shop passed login_hint on');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256', 'PKCE');
    assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'), 'state and nonce');
    assert.equal(await bob.getByRole('heading', { level: 1 }).innerText(), 'Act as alice in Example Shop?');
    const card = bob.locator(`[data-grant-id="${state.grantId}"]`);
    assert.ok((await card.innerText()).includes(REASON), await card.innerText());
    await chromium.photograph(bob, '30-shop-act-as.png');
    state.actPage = true;
  });

  it('he presses "Act as alice in Example Shop": the shop says "Hello alice" and that bob is acting, with the time left', async () => {
    need('actPage');
    const button = bob.getByRole('button', { name: /^Act as alice in Example Shop\b/ });
    assert.equal(await button.count(), 1);
    await Promise.all([bob.waitForURL(`${shop.url}/`), button.click()]);
    assert.equal(await bob.getByRole('heading', { level: 1 }).innerText(), 'Hello alice');
    const said = await banner(bob);
    const expected = new RegExp(`^${subs.bob} \\(support\\) is acting as alice — (5\\d minutes|1 hour) left$`);
    assert.match(said ?? '', expected, `the banner: ${said}`);
    const signedIn = shop.out.text.match(new RegExp(`signed in: ${subs.bob} as alice \\(grant (\\S+), sid (\\S+)\\)`));
    assert.ok(signedIn, `the shop's log: ${shop.out.text}`);
    assert.equal(signedIn[1], state.grantId, 'the ID token\'s grant_id');
    await chromium.photograph(bob, '31-shop-acting.png');
    state.sid = signedIn[2];
  });

  it('the shop refuses an /initiate from another issuer, and logout tokens that are not behalf\'s (400)', async () => {
    need('sid');
    const foreign = new URL('/initiate', shop.url);
    foreign.searchParams.set('iss', 'https://evil.example');
    foreign.searchParams.set('login_hint', ALICE.username);
    const refused = await fetch(foreign, { redirect: 'manual' });
    assert.equal(refused.status, 400, 'an /initiate of another issuer');
    assert.equal(refused.headers.get('location'), null);
    const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = [
      b64({ alg: 'none', typ: 'logout+jwt' }),
      b64({
        iss: server.issuer, aud: 'shop', iat: now, exp: now + 120, jti: 'j-1', sid: state.sid,
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      }),
      '',
    ].join('.');
    for (const [what, body] of [
      ['no logout_token', ''],
      ['garbage', 'logout_token=garbage'],
      ['an unsigned token naming the session', `logout_token=${unsigned}`],
    ]) {
      const res = await fetch(new URL('/backchannel-logout', shop.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      assert.equal(res.status, 400, `${what}: ${res.status}`);
      assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${what}: Cache-Control`);
      assert.equal((await res.json()).error, 'invalid_request', what);
    }
    await bob.reload();
    assert.match((await banner(bob)) ?? '', /is acting as alice/, 'the session still stands');
  });

  it('alice ends the access: within 5 s the shop\'s session ends (back-channel logout)', async (t) => {
    need('sid');
    const metadata = await (await fetch(`${server.baseUrl}/.well-known/openid-configuration`)).json();
    if (metadata.backchannel_logout_supported !== true) {
      t.todo('behalf does not send logout tokens yet (its discovery has no backchannel_logout_supported)');
    }
    await alice.goto(`${server.baseUrl}/account`);
    const end = alice.locator(`[data-grant-id="${state.grantId}"]`).getByRole('button', { name: /^End access now/ });
    await chromium.submitAndReturn(alice, end, `/account/grants/${state.grantId}/revoke`, 'end access');
    const deadline = Date.now() + LOGOUT_WITHIN_MS;
    let said;
    do {
      await sleep(250);
      await bob.reload();
      said = await banner(bob);
    } while (said !== null && Date.now() < deadline);
    assert.equal(said, null, `${LOGOUT_WITHIN_MS / 1000} s after the end, the shop still says: ${said}`);
    assert.equal(await bob.getByRole('status').innerText(), 'The support access you were using has ended.');
    assert.equal(await bob.getByRole('link', { name: 'Sign in' }).count(), 1);
    assert.match(
      shop.out.text,
      new RegExp(`back-channel logout: ended 1 session\\(s\\) \\(sid ${state.sid}\\b`),
      `the shop's log: ${shop.out.text}`,
    );
    await chromium.photograph(bob, '32-shop-ended.png');
  });
});
