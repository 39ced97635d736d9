// Example Shop (examples/example_shop/) against behalf, in Chromium: the
// support agent's whole journey with only a browser, on SQLite (one server)
// and on two instances sharing PostgreSQL (lib/server.mjs startPostgresPair).
//
// Set up through the CLI: alice; bob, an agent of the Support team; the
// console (the support tool a grant goes through); and the shop, registered
// `--delegated-sign-in` with its `--initiate-login-uri` and
// `--backchannel-logout-uri`. The shop's binary (`cargo build --examples`:
// target/debug/examples/example_shop, or $BEHALF_EXAMPLE_SHOP) runs on a port
// of its own with the secret the CLI printed, its issuer behalf's.
//
// bob (one browser context) signs in on /console and asks alice for `read`
// and the shop for an hour. alice (another context) approves it on /account;
// bob's console, never reloaded, shows the access and "Open Example Shop as
// alice", the shop's /initiate?iss=…&login_hint=alice (OIDC Core §4). He
// follows it: the shop starts its sign-in and behalf, knowing him already,
// asks "Act as alice in Example Shop?" (photographed, axe-core); he presses
// the button and lands on the shop, which says "Hello alice" and, from the ID
// token's act, "<bob's sub> (support) is acting as alice — 59 minutes left"
// (photographed at 1280×800 and 390×844, axe-core). The shop refuses an
// /initiate from another issuer and logout tokens that are not behalf's.
// Last, alice presses "End access now": the shop's session must end within
// 5 s, through the logout token behalf POSTs to /backchannel-logout
// (Back-Channel Logout 1.0), sent once, and nothing is left in the outbox.
//
// On PostgreSQL each step that can cross from one instance to the other
// does, as behind a load balancer: the console is instance A; alice
// approves on B's /account, and A's console shows the answer; the console's
// link leads to the shop's sign-in on B (its issuer), where bob's session
// from A holds; alice ends the access on A's /account, with her session from
// B. (Sessions live in the database; both instances listen on 127.0.0.1,
// whose cookies do not tell ports apart, and the two browser contexts keep
// alice and bob apart.) The logout token, whose outbox row B wrote at the
// sign-in, is sent by whichever instance claims the row first: A, as a rule,
// woken by the end, or B at its next tick (the test says which), and must
// carry B's iss and verify against B's JWKS either way.
//
// Screenshots: artifacts/30-shop-act-as.png, 31-shop-acting.png,
// 32-shop-ended.png, each also -phone.png; on PostgreSQL the same names
// ending -pg (30-shop-act-as-pg.png, 30-shop-act-as-pg-phone.png, …).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { startServer, startPostgresPair, freePort } from '../lib/server.mjs';
import { addConsole } from '../lib/delegation.mjs';
import * as chromium from '../lib/chromium.mjs';

const SHOP_BIN =
  process.env.BEHALF_EXAMPLE_SHOP ?? new URL('../../target/debug/examples/example_shop', import.meta.url).pathname;
const ALICE = { username: 'alice', password: 'alice-password-1' };
const BOB = { username: 'bob', password: 'bob-password-1', team: 'Support' };
const SHOP_NAME = 'Example Shop';
const REASON = 'Order 1234 will not ship';
const TIME_ZONE = 'Europe/Berlin';
const LOCALE = 'en-GB';
const UPDATE_MS = 10_000; // the console's script polls every 3 s
const LOGOUT_WITHIN_MS = 5_000;
const OUTBOX_SETTLES_MS = 2_000; // from the shop's 200 to the row marked delivered
// The outbox's "delivered" line, and warnings only from the rest.
const LOG = 'warn,behalf::outbox=info';

/**
 * Where each part of the journey runs. `console`: bob's /console; `answer`:
 * the /account where alice approves; `end`: the /account where she ends the
 * access; `signIn`: the instance the shop signs in through (its issuer's
 * address); `instances`: every server, by the name the test reports a
 * delivery with.
 */
const BACKENDS = {
  async sqlite() {
    const server = await startServer({ name: 'example_shop.browser', env: { BEHALF_LOG: LOG } });
    return { ...parts(server, server, server, server), instances: { 'the server': server }, cli: server.cli, stop: server.stop };
  },
  async postgres() {
    const pair = await startPostgresPair({ name: 'example_shop.pg.browser', env: { BEHALF_LOG: LOG } });
    return { ...parts(pair.a, pair.b, pair.a, pair.b), instances: { A: pair.a, B: pair.b }, cli: pair.cli, stop: pair.stop };
  },
};

function parts(agent, answer, end, signIn) {
  assert.equal(signIn.baseUrl, signIn.issuer, 'the shop signs in at its issuer');
  return { console: agent, answer, end, signIn, issuer: signIn.issuer };
}

/** Starts the shop's binary on `port` and waits until its home page answers; its output goes to artifacts/LOGNAME. */
async function startShop(port, { issuer, secret, logName }) {
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    SHOP_ISSUER: issuer,
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
    await writeFile(`${chromium.ARTIFACTS_DIR}${logName}`, out.text);
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

/** Signs in on behalf's /login at `baseUrl`, reached through `path`, and waits for `path` again. */
async function signIn(page, baseUrl, path, { username, password }) {
  const first = await page.goto(`${baseUrl}${path}`);
  assert.equal(new URL(first.url()).pathname, '/login', `${path} without a session leads to ${first.url()}`);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  await form.locator('input[name="username"]').fill(username);
  await form.locator('input[name="password"]').fill(password);
  const landed = page.waitForResponse((r) => {
    const url = new URL(r.url());
    return r.request().method() === 'GET' && url.origin === baseUrl && url.pathname === path;
  });
  await form.locator('button[type="submit"]').click();
  const res = await landed;
  await page.waitForLoadState('load');
  await chromium.assertSafePage(page, res, `${username} signed in`, { path });
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

/** Who logged the delivery of a logout token, by the names of `instances`. */
function deliveries(instances) {
  return Object.entries(instances).flatMap(([name, server]) =>
    server.output().split('\n').filter((line) => /outbox message delivered/.test(line) && /kind=backchannel_logout/.test(line)).map(() => name),
  );
}

/** The outbox's undelivered rows (`behalf events list`), once it has none or `ms` have passed. */
async function undelivered(cli, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = (await cli(['events', 'list'])).trim();
    if (rows === '' || Date.now() > deadline) return rows;
    await sleep(250);
  }
}

/**
 * The journey on `backend` (a key of BACKENDS); screenshots end with
 * `suffix` before `.png`, the shop's log is artifacts/example_shop`suffix`.shop.log.
 */
function journey(backend, suffix) {
  let where; // what BACKENDS[backend]() returned
  let browser;
  let shop; // {url, out, stop}
  let alice; // Chromium page of alice's context
  let bob; // and bob's
  let bobSub; // bob's sub, as the shop names him
  const picture = (name) => name.replace(/\.png$/, `${suffix}.png`);
  const list = (name) => bob.locator(`[data-list="${name}"]`);

  before(async () => {
    browser = await chromium.launchChromium();
    where = await BACKENDS[backend]();
    const { cli } = where;
    await cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` });
    bobSub = (
      await cli(['user', 'add', BOB.username, '--agent', '--team', BOB.team, '--password-stdin'], { stdin: `${BOB.password}\n` })
    ).trim();
    await addConsole(where.console);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const registered = JSON.parse(
      await cli([
        'client', 'add', 'shop',
        '--generate-secret',
        '--redirect-uri', `${base}/callback`,
        '--grant-type', 'authorization_code',
        '--grant-type', 'refresh_token',
        '--scope', 'openid',
        '--scope', 'profile',
        '--name', SHOP_NAME,
        '--delegated-sign-in',
        '--initiate-login-uri', `${base}/initiate`,
        '--backchannel-logout-uri', `${base}/backchannel-logout`,
      ]),
    );
    shop = await startShop(port, { issuer: where.issuer, secret: registered.client_secret, logName: `example_shop${suffix}.shop.log` });
    ({ page: alice } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
    ({ page: bob } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    await where?.stop();
  });

  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('bob signs in on the console and asks alice for read and Example Shop, for 1 hour', async () => {
    await signIn(bob, where.console.baseUrl, '/console', BOB);
    const form = bob.getByRole('form', { name: 'Ask for access' });
    await form.getByLabel('Whose account (username or email)', { exact: true }).fill(ALICE.username);
    await form.getByRole('group', { name: /^What you need to do/ }).locator('input[value="read"]').check();
    await form.getByRole('group', { name: /^Apps to sign in to as them/ }).getByRole('checkbox', { name: `Sign in to ${SHOP_NAME} as them` }).check();
    await form.getByLabel('Why (they read this before answering)', { exact: true }).fill(REASON);
    assert.equal(await form.getByLabel('For how long', { exact: true }).inputValue(), '3600');
    const posted = bob.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/console/requests');
    const back = bob.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/console');
    await form.getByRole('button', { name: 'Ask for access' }).click();
    assert.equal((await posted).status(), 303);
    const get = await back;
    await bob.waitForLoadState('load');
    await chromium.assertSafePage(bob, get, 'ask', { path: '/console' });
    const at = new URL(get.url());
    assert.equal(at.searchParams.get('done'), 'asked', `redirected to ${at}`);
    state.requestId = at.searchParams.get('request');
    assert.match(state.requestId ?? '', /^[A-Za-z0-9_-]+$/, `redirected to ${at}`);
    assert.equal(await list('waiting').locator(`[data-request-id="${state.requestId}"]`).count(), 1, 'the request is not waiting');
  });

  it('alice approves it on /account; bob\'s console, never reloaded, shows his access and "Open Example Shop as alice"', async () => {
    need('requestId');
    await markDocument(bob);
    await signIn(alice, where.answer.baseUrl, '/account', ALICE);
    const approve = alice.locator(`[data-request-id="${state.requestId}"]`).getByRole('button', { name: /^Approve/ });
    await chromium.submitAndReturn(alice, approve, `/account/requests/${state.requestId}/approve`, 'approve');

    const grant = list('access').locator('[data-grant-id]');
    await grant.first().waitFor({ timeout: UPDATE_MS });
    assert.equal(await notReloaded(bob), true, 'bob\'s console was reloaded');
    assert.equal(await grant.count(), 1);
    assert.equal(await grant.getAttribute('data-status'), 'active');
    const grantId = await grant.getAttribute('data-grant-id');
    assert.match(await alice.locator(`[data-grant-id="${grantId}"]`).innerText(), /May sign in as you to\s+Example Shop/);
    const link = grant.getByRole('link', { name: `Open ${SHOP_NAME} as alice`, exact: true });
    assert.equal(await link.count(), 1, 'no "Open Example Shop as alice"');
    const href = new URL(await link.getAttribute('href'));
    assert.equal(`${href.origin}${href.pathname}`, `${shop.url}/initiate`);
    assert.equal(href.searchParams.get('iss'), where.issuer);
    assert.equal(href.searchParams.get('login_hint'), ALICE.username);
    state.grantId = grantId;
  });

  it('he follows the link: the shop sends him to behalf, which asks "Act as alice in Example Shop?"', async () => {
    need('grantId');
    const link = list('access').getByRole('link', { name: `Open ${SHOP_NAME} as alice`, exact: true });
    const landed = bob.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/authorize');
    await link.click();
    const res = await landed;
    await bob.waitForLoadState('load');
    assert.equal(new URL(bob.url()).origin, where.signIn.baseUrl, `the shop sent bob to its issuer: ${bob.url()}`);
    await chromium.assertSafePage(bob, res, 'the act page', { path: '/authorize' });
    const url = new URL(bob.url());
    assert.equal(url.searchParams.get('client_id'), 'shop');
    assert.equal(url.searchParams.get('login_hint'), ALICE.username, 'the shop passed login_hint on');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256', 'PKCE');
    assert.ok(url.searchParams.get('state') && url.searchParams.get('nonce'), 'state and nonce');
    assert.equal(await bob.getByRole('heading', { level: 1 }).innerText(), 'Act as alice in Example Shop?');
    const card = bob.locator(`[data-grant-id="${state.grantId}"]`);
    assert.ok((await card.innerText()).includes(REASON), await card.innerText());
    await chromium.photograph(bob, picture('30-shop-act-as.png'));
    state.actPage = true;
  });

  it('he presses "Act as alice in Example Shop": the shop says "Hello alice" and that bob is acting, with the time left', async () => {
    need('actPage');
    const button = bob.getByRole('button', { name: /^Act as alice in Example Shop\b/ });
    assert.equal(await button.count(), 1);
    await Promise.all([bob.waitForURL(`${shop.url}/`), button.click()]);
    assert.equal(await bob.getByRole('heading', { level: 1 }).innerText(), 'Hello alice');
    const said = await banner(bob);
    const expected = new RegExp(`^${bobSub} \\(support\\) is acting as alice — (5\\d minutes|1 hour) left$`);
    assert.match(said ?? '', expected, `the banner: ${said}`);
    const signedIn = shop.out.text.match(new RegExp(`signed in: ${bobSub} as alice \\(grant (\\S+), sid (\\S+)\\)`));
    assert.ok(signedIn, `the shop's log: ${shop.out.text}`);
    assert.equal(signedIn[1], state.grantId, 'the ID token\'s grant_id');
    await chromium.photograph(bob, picture('31-shop-acting.png'));
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
        iss: where.issuer, aud: 'shop', iat: now, exp: now + 120, jti: 'j-1', sid: state.sid,
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

  it('alice presses "End access now": within 5 s the shop\'s session ends (back-channel logout), sent once', async (t) => {
    need('sid');
    const metadata = await (await fetch(`${where.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(metadata.backchannel_logout_supported, true, 'discovery: backchannel_logout_supported');
    await alice.goto(`${where.end.baseUrl}/account`);
    const end = alice.locator(`[data-grant-id="${state.grantId}"]`).getByRole('button', { name: /^End access now/ });
    await chromium.submitAndReturn(alice, end, `/account/grants/${state.grantId}/revoke`, 'end access');
    const started = Date.now();
    const deadline = started + LOGOUT_WITHIN_MS;
    let said;
    do {
      await sleep(250);
      await bob.reload();
      said = await banner(bob);
    } while (said !== null && Date.now() < deadline);
    assert.equal(said, null, `${LOGOUT_WITHIN_MS / 1000} s after the end, the shop still says: ${said}`);
    t.diagnostic(`the shop's session ended within ${Date.now() - started} ms of "End access now"`);
    assert.equal(await bob.getByRole('status').innerText(), 'The support access you were using has ended.');
    assert.equal(await bob.getByRole('link', { name: 'Sign in' }).count(), 1);
    assert.match(
      shop.out.text,
      new RegExp(`back-channel logout: ended 1 session\\(s\\) \\(sid ${state.sid}\\b`),
      `the shop's log: ${shop.out.text}`,
    );
    await chromium.photograph(bob, picture('32-shop-ended.png'));
    assert.equal(await undelivered(where.cli, OUTBOX_SETTLES_MS), '', 'behalf events list: the outbox still holds');
    const senders = deliveries(where.instances);
    assert.equal(senders.length, 1, `logout tokens delivered: ${senders.length} (${senders.join(', ')})`);
    t.diagnostic(`the logout token was sent by ${senders[0]}`);
  });
}

describe('Example Shop on SQLite: bob asks on the console, acts as alice in the shop, and is signed out when she ends it', () => {
  journey('sqlite', '');
});

describe('Example Shop on two instances sharing PostgreSQL: the console and the end on A, the answer and the shop\'s sign-in on B', () => {
  journey('postgres', '-pg');
});
