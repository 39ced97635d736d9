// Upstream sign-in ([[upstream]]) against a misbehaving OpenID provider
// (lib/fake_upstream.mjs): a fetch Browser starts at
// /login/upstream/fake?return_to=/account, follows to the fake's authorize
// and back to behalf's callback. A good ID token signs the user in; every
// broken one (nonce, aud, iss, exp, a key not in the JWKS, alg none, an `iss`
// callback parameter of another issuer), a token endpoint that never answers
// or answers 500, a replayed callback and a callback from another browser
// each get the failure page of the contract, and no session.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer, freePort } from '../lib/server.mjs';
import { Browser, decodeEntities, describe as show } from '../lib/browser.mjs';
import { startFakeUpstream } from '../lib/fake_upstream.mjs';

const NAME = 'Fake IdP';
const SECRET = 'fake-secret-1';
let server;
let fake;
let dir;

before(async () => {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  fake = await startFakeUpstream({ clientId: 'behalf', clientSecret: SECRET, redirectUri: `${issuer}/login/upstream/fake/callback` });
  dir = await mkdtemp(join(tmpdir(), 'behalf-upstream-'));
  const config = join(dir, 'behalf.toml');
  await writeFile(config, upstreamToml(fake.issuer, SECRET));
  server = await startServer({
    name: 'upstream_id_token',
    port,
    env: { BEHALF_CONFIG: config, BEHALF_LISTEN: `127.0.0.1:${port}`, BEHALF_ISSUER: issuer },
  });
});

after(async () => {
  await server?.stop();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The TOML of one [[upstream]] "fake" at `issuer` (shared with upstream_pages.browser.test.mjs). */
export function upstreamToml(issuer, secret, { passwordLogin = true } = {}) {
  return `password_login = ${passwordLogin}

[[upstream]]
id = "fake"
name = "${NAME}"
issuer = "${issuer}"
client_id = "behalf"
client_secret = "${secret}"
`;
}

/** What a reader sees of some HTML: tags stripped, then character references decoded. */
function visible(html) {
  return decodeEntities(html.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
}

/** The visible text of the first <tag> of a page. */
function textOf(html, tag) {
  const m = new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'i').exec(html);
  return m ? visible(m[1]) : null;
}

/** Starts sign-in at behalf and follows to the fake's authorize; returns the callback URL behalf is sent back to. */
async function toCallback(b) {
  const start = await b.get(`${server.baseUrl}/login/upstream/fake?return_to=/account`);
  assert.equal(start.status, 303, `the sign-in button leads to ${NAME}: ${show(start)}`);
  assert.equal(start.location.origin, fake.issuer, `the redirect goes to ${NAME}: ${start.rawLocation}`);
  assert.ok(b.cookie('behalf_upstream'), 'behalf keeps the sign-in in a behalf_upstream cookie');
  const authorize = await b.get(start.location);
  assert.equal(authorize.status, 302, `${NAME} sends the browser back: ${show(authorize)}`);
  assert.equal(`${authorize.location.origin}${authorize.location.pathname}`, `${server.baseUrl}/login/upstream/fake/callback`);
  return authorize.location;
}

/** The page is the contract's failure page and the browser holds no session. */
async function assertFailure(b, page, { status, h1, sentence }, what) {
  assert.equal(page.status, status, `${what}: the page's status: ${show(page)}`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/, `${what}: an HTML page`);
  assert.equal(textOf(page.body, 'h1'), h1, `${what}: the heading the user reads`);
  const sentences = [...page.body.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/gi)].map((m) => visible(m[1]));
  assert.ok(sentences.includes(sentence), `${what}: the page says "${sentence}"; it says ${JSON.stringify(sentences)}`);
  const links = [...page.body.matchAll(/<a\b[^>]*>([\s\S]*?)<\/a>/gi)].map((m) => visible(m[1]));
  assert.ok(links.includes('Try again'), `${what}: a "Try again" link; links: ${JSON.stringify(links)}`);
  assert.equal(b.cookie('behalf_session'), undefined, `${what}: the browser was given a behalf_session cookie`);
  const account = await b.get(`${server.baseUrl}/account`);
  assert.equal(account.status, 303, `${what}: /account after the failure is not the account page: ${show(account)}`);
  assert.equal(account.location.pathname, '/login', `${what}: /account sends the user to sign in`);
}

const NOT_ACCEPTED = { status: 400, h1: `${NAME}'s answer was not accepted`, sentence: 'behalf could not confirm who signed in.' };
const CANNOT_CONTINUE = { status: 400, h1: 'This sign-in cannot continue', sentence: 'It was already used, or it did not start in this browser.' };
const UNREACHABLE = { status: 502, h1: `${NAME} cannot be reached`, sentence: 'Please try again in a few minutes.' };

describe('upstream sign-in checks the ID token', () => {
  it('a good ID token signs grace in: 303 to /account, which greets her', async () => {
    fake.setMode('good');
    const b = new Browser(server.baseUrl);
    const callback = await toCallback(b);
    const back = await b.get(callback);
    assert.equal(back.status, 303, `the callback signs in: ${show(back)}`);
    assert.equal(back.location?.pathname, '/account', 'and goes on to return_to');
    assert.ok(b.cookie('behalf_session'), 'a behalf_session cookie');
    const account = await b.get(`${server.baseUrl}/account`);
    assert.equal(account.status, 200, `the account page: ${show(account)}`);
    assert.match(account.body, /Signed in as <strong>grace<\/strong>/, 'the account page names grace (preferred_username)');

    // The same callback once more, in the same browser: the state is used.
    const again = await b.get(callback);
    assert.equal(again.status, CANNOT_CONTINUE.status, `a replayed callback: ${show(again)}`);
    assert.equal(textOf(again.body, 'h1'), CANNOT_CONTINUE.h1, 'a replayed callback: the heading');
    assert.ok(!again.setCookies.some((c) => c.name === 'behalf_session' && c.value), 'a replayed callback gives no new session');
  });

  it('the callback replayed in a fresh browser without the session is refused', async () => {
    fake.setMode('good');
    const first = new Browser(server.baseUrl);
    const callback = await toCallback(first);
    assert.equal((await first.get(callback)).status, 303, 'the first use signs in');
    const replay = new Browser(server.baseUrl);
    replay.cookies.set('behalf_upstream', first.cookies.get('behalf_upstream') ?? { name: 'behalf_upstream', value: 'x', attrs: {}, raw: '' });
    await assertFailure(replay, await replay.get(callback), CANNOT_CONTINUE, 'the callback a second time');
  });

  it('a callback with the right state but without the behalf_upstream cookie (another browser) is refused', async () => {
    fake.setMode('good');
    const started = new Browser(server.baseUrl);
    const callback = await toCallback(started);
    const other = new Browser(server.baseUrl);
    await assertFailure(other, await other.get(callback), CANNOT_CONTINUE, 'the callback in another browser');
  });

  for (const [mode, what] of [
    ['wrong-nonce', 'an ID token with another nonce'],
    ['wrong-aud', 'an ID token for another client (aud)'],
    ['wrong-iss', 'an ID token from another issuer (iss)'],
    ['expired', 'an expired ID token (exp in the past)'],
    ['foreign-key', 'an ID token re-signed with another key under the published kid'],
    ['alg-none', 'an unsigned ID token (alg none)'],
    ['iss-param', 'a callback whose iss parameter names another issuer'],
  ]) {
    it(`${what} is not accepted`, async () => {
      fake.setMode(mode);
      const b = new Browser(server.baseUrl);
      const callback = await toCallback(b);
      await assertFailure(b, await b.get(callback), NOT_ACCEPTED, what);
    });
  }

  it('a token endpoint that never answers: "cannot be reached" within 5 s', async () => {
    fake.setMode('token-hangs');
    const b = new Browser(server.baseUrl);
    const callback = await toCallback(b);
    const started = Date.now();
    const page = await b.get(callback);
    const took = Date.now() - started;
    await assertFailure(b, page, UNREACHABLE, 'a token endpoint that never answers');
    // 5 s is each outbound call's limit; 0.5 s more for behalf's own work.
    assert.ok(took < 5_000, `the page came after ${took} ms; the contract says within 5 s`);
  });

  it('a token endpoint that answers 500: "cannot be reached"', async () => {
    fake.setMode('token-500');
    const b = new Browser(server.baseUrl);
    const callback = await toCallback(b);
    await assertFailure(b, await b.get(callback), UNREACHABLE, 'a token endpoint answering 500');
  });

  it('the IdP refusing (access_denied) shows its words, escaped', async () => {
    fake.setMode('denied', { errorDescription: 'You are <b>not</b> allowed & that is final' });
    const b = new Browser(server.baseUrl);
    const callback = await toCallback(b);
    const page = await b.get(callback);
    assert.ok(!page.body.includes('<b>not</b>'), 'the description is not markup on the page');
    assert.match(page.body, /&lt;b&gt;not&lt;\/b&gt;/, 'the description is shown escaped');
    await assertFailure(b, page, {
      status: 400,
      h1: `${NAME} did not sign you in`,
      sentence: `${NAME} said: You are <b>not</b> allowed & that is final`,
    }, 'access_denied');
  });
});
