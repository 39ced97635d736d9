// Upstream sign-in (issue 14): behalf as an OpenID Connect relying party of a
// real, independent, certified OpenID provider — node `oidc-provider`
// (lib/upstream.mjs), two instances "Acme" (A) and "Beta" (B) on loopback.
// The fetch browser (CrossBrowser: one cookie jar per origin) follows every
// redirect across behalf and the provider, as a user's browser would; the
// provider finishes login and consent as the account the test names.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer, freePort } from '../lib/server.mjs';
import { startUpstream, relyingParty, CrossBrowser, describeHops } from '../lib/upstream.mjs';
import { decodeEntities, findForm, describe as describePage } from '../lib/browser.mjs';
import { addUser, addConsole, signInForTokens, api, describeApi } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm, accountPage } from '../lib/account.mjs';

const SECRET_A = 'acme-rp-secret-0123456789abcdef0123';
const SECRET_B = 'beta-rp-secret-0123456789abcdef0123';
const ALICE_PASSWORD = 'alice-password-1';
const BOB_PASSWORD = 'bob-password-1';
const HOUR = 3600;

let dir;
let server; // behalf, password_login = true, upstreams acme and beta
let noPassword; // behalf, password_login = false
let A;
let B;
let consoleConfig;
let bobToken;
const subs = {};

const call = (method, path, body) => api(server.baseUrl, bobToken, method, path, body);

async function users() {
  const out = await server.cli(['user', 'list']);
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
async function userShow(name) {
  return JSON.parse(await server.cli(['user', 'show', name]));
}

function toml(issuerA, issuerB, { passwordLogin = true } = {}) {
  return `password_login = ${passwordLogin}

[[upstream]]
id = "acme"
name = "Acme"
issuer = "${issuerA}"
client_id = "behalf"
client_secret = "${SECRET_A}"
scopes = ["openid", "profile", "email", "groups"]
agent_claim = "groups"
agent_values = ["support"]
team_claim = "team"

[[upstream]]
id = "beta"
name = "Beta"
issuer = "${issuerB}"
client_id = "behalf"
client_secret = "${SECRET_B}"
`;
}

/** The text of the first <h1>, and of every <p>, entity-decoded, tags removed. */
function pageText(html) {
  const strip = (s) => decodeEntities(s.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
  const h1 = /<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html);
  const ps = [...html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/gi)].map((m) => strip(m[1]));
  const links = [...html.matchAll(/<a\b[^>]*>([\s\S]*?)<\/a>/gi)].map((m) => strip(m[1]));
  return { h1: h1 ? strip(h1[1]) : undefined, ps, links };
}

/** Asserts one of behalf's sign-in failure pages. */
function assertFailurePage(page, { status, h1, sentence, tryAgain = true }, what) {
  assert.equal(page.status, status, `${what}: the browser must get HTTP ${status}; got ${describePage(page)}`);
  const t = pageText(page.body);
  assert.equal(t.h1, h1, `${what}: the page's heading must read "${h1}"; page:\n${page.body}`);
  assert.ok(t.ps.includes(sentence), `${what}: a paragraph must read "${sentence}"; paragraphs: ${JSON.stringify(t.ps)}`);
  if (tryAgain) assert.ok(t.links.includes('Try again'), `${what}: the page must offer a "Try again" link; links: ${JSON.stringify(t.links)}`);
  assert.equal(page.setCookies.find((c) => c.name === 'behalf_session' && c.value)?.value, undefined,
    `${what}: a refused sign-in must not set a behalf_session cookie: ${page.setCookies.map((c) => c.raw)}`);
}

/** The upstream link on /login for `id`: its href, as the page has it. */
async function upstreamLink(browser, issuer, id, returnTo = '/account') {
  const page = await browser.get(new URL(`/login?return_to=${encodeURIComponent(returnTo)}`, issuer));
  assert.equal(page.status, 200, `GET /login: ${describePage(page)}`);
  const links = [...page.body.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/gi)]
    .map((m) => ({ attrs: m[1], text: m[2].replace(/<[^>]*>/g, '').trim(), href: decodeEntities(/href\s*=\s*"([^"]*)"/i.exec(m[1])?.[1] ?? '') }))
    .filter((l) => /class\s*=\s*"[^"]*\bupstream\b/i.test(l.attrs));
  const link = links.find((l) => new URL(l.href, issuer).pathname === `/login/upstream/${id}`);
  assert.ok(link, `/login must show an <a class="upstream"> to /login/upstream/${id}; upstream links: ${JSON.stringify(links)}\n${page.body}`);
  return { page, link };
}

const isBehalfCallback = (u) => u.origin === new URL(server.issuer).origin && /^\/login\/upstream\/[^/]+\/callback$/.test(u.pathname);

/**
 * Starts a sign-in with upstream `id` (from /login's link) and follows it
 * through the provider, stopping before behalf's callback. Resolves to the
 * callback URL the provider sent the browser to.
 */
async function toCallback(browser, id, upstream, accountId) {
  upstream.nextLogin(accountId);
  const { link } = await upstreamLink(browser, server.issuer, id);
  const { hops, stoppedAt } = await browser.follow(new URL(link.href, server.issuer), { stopAt: isBehalfCallback });
  assert.ok(stoppedAt, `signing in with ${id} as ${accountId} must come back to behalf's callback:\n${describeHops(hops)}`);
  return stoppedAt;
}

/** A whole sign-in as `accountId` at upstream `id`; asserts it lands on /account signed in. */
async function signIn(id, upstream, accountId, browser = new CrossBrowser()) {
  const callback = await toCallback(browser, id, upstream, accountId);
  const back = await browser.get(callback);
  assert.equal(back.status, 303, `the callback must redirect the signed-in user on: ${describePage(back)}`);
  assert.equal(back.location?.pathname, '/account', `the callback must return to /account: ${describePage(back)}`);
  const session = back.setCookies.find((c) => c.name === 'behalf_session');
  assert.ok(session?.value, `the callback must set a behalf_session cookie; Set-Cookie: ${back.setCookies.map((c) => c.raw)}`);
  const account = await browser.get(back.location);
  assert.equal(account.status, 200, `after the sign-in, /account must show the account (not the login page): ${describePage(account)}`);
  return { browser, callback, account };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'behalf-upstream-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  A = await startUpstream({
    clients: [relyingParty({ clientSecret: SECRET_A, redirectUri: `${issuer}/login/upstream/acme/callback` })],
    accounts: {
      'acme-erin': { preferred_username: 'erin', email: 'erin@acme.test', name: 'Erin Acme', groups: ['staff'], team: 'EMEA' },
      'acme-alice': { preferred_username: 'alice', email: 'alice@example.com', name: 'Alice Upstream', groups: ['staff'] },
      'acme-gus': { preferred_username: 'gus', email: 'gus@acme.test', name: 'Gus', groups: [] },
    },
  });
  B = await startUpstream({
    clients: [relyingParty({ clientSecret: SECRET_B, redirectUri: `${issuer}/login/upstream/beta/callback` })],
    accounts: { 'beta-erin': { preferred_username: 'erin.b', email: 'erin@beta.test', name: 'Erin Beta' } },
  });
  const file = join(dir, 'behalf.toml');
  await writeFile(file, toml(A.issuer, B.issuer));
  server = await startServer({
    name: 'upstream_sign_in',
    port,
    env: { BEHALF_CONFIG: file, BEHALF_LISTEN: `127.0.0.1:${port}`, BEHALF_ISSUER: issuer },
  });
  subs.alice = await server.cli(['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'], { stdin: `${ALICE_PASSWORD}\n` }).then((s) => s.trim());
  subs.bob = await addUser(server, 'bob', BOB_PASSWORD, { agent: true });
  consoleConfig = await addConsole(server);
  bobToken = (await signInForTokens(consoleConfig, { username: 'bob', password: BOB_PASSWORD, scope: 'openid agent' })).access_token;

  const port2 = await freePort();
  const file2 = join(dir, 'no-password.toml');
  await writeFile(file2, toml(A.issuer, B.issuer, { passwordLogin: false }));
  noPassword = await startServer({
    name: 'upstream_sign_in.no_password',
    port: port2,
    env: { BEHALF_CONFIG: file2, BEHALF_LISTEN: `127.0.0.1:${port2}`, BEHALF_ISSUER: `http://127.0.0.1:${port2}` },
  });
});

after(async () => {
  await server?.stop();
  await noPassword?.stop();
  await A?.stop();
  await B?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the way in', () => {
  it('/login shows "Sign in with Acme" linking to /login/upstream/acme with return_to', async () => {
    const browser = new CrossBrowser();
    const { link, page } = await upstreamLink(browser, server.issuer, 'acme', '/account');
    assert.equal(link.text, 'Sign in with Acme', `the button's label: ${JSON.stringify(link)}`);
    assert.equal(link.href, '/login/upstream/acme?return_to=%2Faccount', `the link's href: ${JSON.stringify(link)}`);
    assert.ok(findForm(page.body, page.url, '/login'), 'with password_login = true the password form is still there');
    const beta = await upstreamLink(browser, server.issuer, 'beta');
    assert.equal(beta.link.text, 'Sign in with Beta');
  });

  it('GET /login/upstream/acme: 303 to the IdP with code, PKCE S256, state, nonce; the behalf_upstream cookie', async () => {
    const browser = new CrossBrowser();
    const res = await browser.get(new URL('/login/upstream/acme?return_to=%2Faccount&prompt=login&max_age=60', server.issuer));
    assert.equal(res.status, 303, `the upstream link must redirect to Acme: ${describePage(res)}`);
    const to = res.location;
    assert.equal(`${to.origin}${to.pathname}`, `${A.issuer}/auth`, `Location must be Acme's authorization_endpoint: ${res.rawLocation}`);
    const q = to.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'behalf');
    assert.equal(q.get('redirect_uri'), `${server.issuer}/login/upstream/acme/callback`);
    assert.deepEqual(q.get('scope')?.split(' ').sort(), ['email', 'groups', 'openid', 'profile'], `scope: ${q.get('scope')}`);
    for (const k of ['state', 'nonce', 'code_challenge']) assert.ok(q.get(k)?.length >= 16, `${k} must be a long random value: ${res.rawLocation}`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('prompt'), 'login', 'prompt=login given to the link is passed on to the IdP');
    assert.equal(q.get('max_age'), '60', 'max_age given to the link is passed on to the IdP');
    const cookie = res.setCookies.find((c) => c.name === 'behalf_upstream');
    assert.ok(cookie?.value, `Set-Cookie behalf_upstream: ${res.setCookies.map((c) => c.raw)}`);
    assert.equal(cookie.attrs.httponly, true, `behalf_upstream is HttpOnly: ${cookie.raw}`);
    assert.match(String(cookie.attrs.samesite), /^lax$/i, `behalf_upstream is SameSite=Lax: ${cookie.raw}`);
    assert.equal(cookie.attrs.path, '/login/upstream', `behalf_upstream has Path=/login/upstream: ${cookie.raw}`);
  });

  it('an unknown upstream id is a 404 page', async () => {
    const res = await new CrossBrowser().get(new URL('/login/upstream/nope?return_to=%2Faccount', server.issuer));
    assert.equal(res.status, 404, `GET /login/upstream/nope: ${describePage(res)}`);
  });
});

describe('sign-in and the linked account', () => {
  const state = {};

  it('the first sign-in creates the user and links the identity; /account shows them signed in', async () => {
    const { account, callback, browser } = await signIn('acme', A, 'acme-erin');
    state.callback = callback;
    state.browser = browser;
    state.sub = (await users()).find((u) => u.username === 'erin')?.sub;
    assert.ok(state.sub, `behalf user list must have the new user erin: ${JSON.stringify(await users())}`);
    assert.match(account.body, /erin/, `/account must name the signed-in user erin:\n${account.body}`);
    const erin = await userShow('erin');
    assert.ok(Array.isArray(erin.identities), `behalf user show erin must list identities: ${JSON.stringify(erin)}`);
    assert.equal(erin.identities.length, 1, JSON.stringify(erin.identities));
    assert.equal(erin.identities[0].issuer, A.issuer, 'the identity names Acme as issuer');
    assert.equal(erin.identities[0].subject, 'acme-erin', "the identity's subject is Acme's sub");
    // The contract does not fix linked_at's format: an RFC 3339 string or epoch seconds, within the last hour.
    const linkedAt = erin.identities[0].linked_at;
    const linkedMs = typeof linkedAt === 'number' ? linkedAt * 1000 : Date.parse(linkedAt);
    assert.ok(Number.isFinite(linkedMs) && Math.abs(Date.now() - linkedMs) < HOUR * 1000, `linked_at is the time of this sign-in: ${JSON.stringify(linkedAt)}`);
    assert.equal(erin.email, 'erin@acme.test', 'email comes from the ID token');
    assert.equal(erin.name, 'Erin Acme', 'the display name comes from the ID token');
    assert.equal(erin.agent, false, 'groups ["staff"] does not give the agent role');
    assert.equal(erin.sub, state.sub);
  });

  it('the same callback again (a used state) is refused: "This sign-in cannot continue"', async () => {
    if (!state.callback) assert.fail('an earlier step failed (no callback)');
    const again = await state.browser.get(state.callback);
    assertFailurePage(again, { status: 400, h1: 'This sign-in cannot continue', sentence: 'It was already used, or it did not start in this browser.' }, 'replaying a used callback');
  });

  it('a callback without the behalf_upstream cookie (another browser) is refused', async () => {
    const callback = await toCallback(new CrossBrowser(), 'acme', A, 'acme-erin');
    const elsewhere = await new CrossBrowser().get(callback);
    assertFailurePage(elsewhere, { status: 400, h1: 'This sign-in cannot continue', sentence: 'It was already used, or it did not start in this browser.' }, 'a callback in a browser that did not start the sign-in');
  });

  it('after Acme renames the user, the next sign-in finds the same account (same sub, username kept, email refreshed)', async () => {
    const a = A.accounts.get('acme-erin');
    A.accounts.set('acme-erin', { ...a, preferred_username: 'erin.renamed', email: 'erin.new@acme.test' });
    await signIn('acme', A, 'acme-erin');
    const list = await users();
    const mine = list.filter((u) => u.sub === state.sub);
    assert.equal(mine.length, 1, `behalf user list must still have erin's sub ${state.sub}: ${JSON.stringify(list)}`);
    assert.equal(mine[0].username, 'erin', 'the local username is kept');
    assert.equal(mine[0].email, 'erin.new@acme.test', 'the email is refreshed from the new ID token');
    assert.equal(list.filter((u) => u.username.startsWith('erin')).length, 1, `no second erin account: ${JSON.stringify(list)}`);
  });

  it('the agent claim gives the agent role and team, and taking it away removes the role', async () => {
    const a = A.accounts.get('acme-erin');
    A.accounts.set('acme-erin', { ...a, groups: ['staff', 'support'] });
    await signIn('acme', A, 'acme-erin');
    let erin = (await users()).find((u) => u.sub === state.sub);
    assert.equal(erin?.agent, true, `groups containing "support" gives the agent role: ${JSON.stringify(erin)}`);
    assert.equal(erin.team, 'EMEA', `the team claim sets the agent's team: ${JSON.stringify(erin)}`);
    A.accounts.set('acme-erin', { ...a, groups: ['staff'] });
    await signIn('acme', A, 'acme-erin');
    erin = (await users()).find((u) => u.sub === state.sub);
    assert.equal(erin?.agent, false, `without "support" in groups the agent role is removed: ${JSON.stringify(erin)}`);
  });

  it("a user from Acme approves bob's access request on /account, then ends it", async () => {
    const created = await call('POST', '/api/access-requests', { subject: 'erin', scope: 'read', duration: HOUR, reason: 'Export fails', ticket: 'SUP-1401' });
    assert.equal(created.status, 201, describeApi(created));
    const { browser } = await signIn('acme', A, 'acme-erin');
    const jar = browser.jar(server.issuer);
    await submitAccountForm(jar, `/account/requests/${created.json.id}/approve`, { duration: HOUR, scope: ['read'] });
    const read = await call('GET', `/api/access-requests/${encodeURIComponent(created.json.id)}`);
    assert.equal(read.json?.status, 'approved', `bob must read his request approved: ${describeApi(read)}`);
    assert.equal(read.json.grant_status, 'active', describeApi(read));
    await submitAccountForm(jar, `/account/grants/${read.json.grant_id}/revoke`);
    const after = await call('GET', `/api/access-requests/${encodeURIComponent(created.json.id)}`);
    assert.equal(after.json?.grant_status, 'revoked', `after erin ends it bob must read grant_status revoked: ${describeApi(after)}`);
  });

  it('`behalf user unlink` then a new sign-in through Acme makes a new account', async () => {
    await assert.rejects(server.cli(['user', 'unlink', 'erin', 'http://127.0.0.1:1']), /failed \(code 1/, 'unlinking an identity erin does not have exits 1');
    await server.cli(['user', 'unlink', 'erin', A.issuer]);
    const erin = await userShow('erin');
    assert.deepEqual(erin.identities, [], `after unlink erin has no identity: ${JSON.stringify(erin)}`);
    await signIn('acme', A, 'acme-erin');
    const linked = (await users()).filter((u) => u.sub !== state.sub && u.email === 'erin.new@acme.test');
    assert.equal(linked.length, 1, `the sign-in after unlink must create one new account: ${JSON.stringify(await users())}`);
    const shown = await userShow(linked[0].username);
    assert.deepEqual(shown.identities.map((i) => [i.issuer, i.subject]), [[A.issuer, 'acme-erin']], JSON.stringify(shown));
  });
});

describe('an email of a local account never links to it (O2)', () => {
  it('the Acme user with alice@example.com gets a new account alice-2 that does not see local alice\'s grants', async () => {
    const created = await call('POST', '/api/access-requests', { subject: 'alice', scope: 'read', duration: HOUR, reason: 'Local alice', ticket: 'SUP-1402' });
    assert.equal(created.status, 201, describeApi(created));
    const local = await signInToAccount(server.issuer, 'alice', ALICE_PASSWORD);
    await submitAccountForm(local, `/account/requests/${created.json.id}/approve`, { duration: HOUR, scope: ['read'] });
    const read = await call('GET', `/api/access-requests/${encodeURIComponent(created.json.id)}`);
    const grantId = read.json?.grant_id;
    assert.equal(typeof grantId, 'string', describeApi(read));

    const { account } = await signIn('acme', A, 'acme-alice');
    const list = await users();
    const alice2 = list.find((u) => u.username === 'alice-2');
    assert.ok(alice2, `the upstream alice must become alice-2 beside the local alice: ${JSON.stringify(list)}`);
    assert.notEqual(alice2.sub, subs.alice, 'alice-2 is another account');
    const localShown = await userShow('alice');
    assert.deepEqual(localShown.identities ?? [], [], `the local alice must not be linked to Acme: ${JSON.stringify(localShown)}`);
    assert.ok(!account.body.includes(grantId), `alice-2's /account must not show local alice's grant ${grantId}`);
    assert.ok(!account.body.includes(created.json.id), `alice-2's /account must not show local alice's request`);
    assert.ok((await accountPage(local)).body.includes(grantId), "local alice still sees her grant");
  });
});

describe('refusals', () => {
  it("mix-up: Beta's state at Acme's callback is refused", async () => {
    const browser = new CrossBrowser();
    const beta = await toCallback(browser, 'beta', B, 'beta-erin');
    assert.equal(beta.pathname, '/login/upstream/beta/callback');
    const mixed = new URL('/login/upstream/acme/callback', server.issuer);
    mixed.searchParams.set('code', beta.searchParams.get('code'));
    mixed.searchParams.set('state', beta.searchParams.get('state'));
    const res = await browser.get(mixed);
    assertFailurePage(res, { status: 400, h1: 'This sign-in cannot continue', sentence: 'It was already used, or it did not start in this browser.' }, "Beta's state at Acme's callback");
  });

  it("Acme's state with a code Beta issued is refused: Acme did not sign you in", async () => {
    const betaCode = (await toCallback(new CrossBrowser(), 'beta', B, 'beta-erin')).searchParams.get('code');
    const browser = new CrossBrowser();
    const acme = await toCallback(browser, 'acme', A, 'acme-gus');
    acme.searchParams.set('code', betaCode);
    const res = await browser.get(acme);
    assert.equal(res.status, 400, describePage(res));
    assert.equal(pageText(res.body).h1, 'Acme did not sign you in', `a code Acme never issued: ${res.body}`);
    assert.ok(pageText(res.body).ps.some((p) => p.startsWith('Acme said: ')), `the page says what Acme said: ${res.body}`);
    assert.ok(!(await users()).some((u) => u.username === 'gus' || u.username === 'erin.b'), 'no account was made');
  });

  it('Acme denying consent shows its description, escaped', async () => {
    const browser = new CrossBrowser();
    A.denyNext('<b>no</b> access for you');
    const callback = await toCallback(browser, 'acme', A, 'acme-gus');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const res = await browser.get(callback);
    assertFailurePage(res, { status: 400, h1: 'Acme did not sign you in', sentence: 'Acme said: <b>no</b> access for you' }, 'Acme answered access_denied');
    assert.ok(!res.body.includes('<b>no</b>'), 'the description must be escaped, never markup on the page');
    assert.ok(res.body.includes('&lt;b&gt;no&lt;/b&gt;'), 'the description appears as escaped text');
  });

  it('Acme down (stopped) when the code comes back: the 502 page within 5 s', async () => {
    const browser = new CrossBrowser();
    const callback = await toCallback(browser, 'acme', A, 'acme-gus');
    await A.stop();
    try {
      const t0 = Date.now();
      const res = await browser.get(callback);
      const ms = Date.now() - t0;
      assertFailurePage(res, { status: 502, h1: 'Acme cannot be reached', sentence: 'Please try again in a few minutes.' }, 'Acme stopped');
      assert.ok(ms < 5000, `the page must answer within 5 s; took ${ms} ms`);
    } finally {
      await A.start();
    }
  });

  it('Acme hanging (accepts, never answers): the 502 page, within the 5 s outbound limit', async () => {
    const browser = new CrossBrowser();
    const callback = await toCallback(browser, 'acme', A, 'acme-gus');
    A.hang(true);
    try {
      const t0 = Date.now();
      const res = await browser.get(callback);
      const ms = Date.now() - t0;
      assertFailurePage(res, { status: 502, h1: 'Acme cannot be reached', sentence: 'Please try again in a few minutes.' }, 'Acme hanging');
      // behalf gives each outbound call 4.5 s, so that the page comes within 5 s.
      assert.ok(ms < 5000, `the page must answer within 5 s; took ${ms} ms`);
    } finally {
      A.hang(false);
    }
  });
});

describe('password_login = false', () => {
  it('/login has no password form, only the upstream links; POST /login answers 403', async () => {
    const browser = new CrossBrowser();
    const { page, link } = await upstreamLink(browser, noPassword.issuer, 'acme');
    assert.equal(link.text, 'Sign in with Acme');
    assert.ok(!/<input\b[^>]*name\s*=\s*["']?password/i.test(page.body), `no <input name="password"> on /login:\n${page.body}`);
    const post = await browser.post(new URL('/login', noPassword.issuer), { username: 'alice', password: ALICE_PASSWORD, return_to: '/account' });
    assert.equal(post.status, 403, `POST /login with password login off: ${describePage(post)}`);
  });
});
