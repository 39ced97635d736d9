// Authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), OpenID
// Connect Core (ID token, UserInfo), RFC 9207 `iss` in authorization
// responses, and refresh token rotation with reuse detection, driven the way a
// real deployment sees them: openid-client as the relying party, jose as the
// resource server, and a minimal fetch-based "browser" (lib/browser.mjs) for
// the login and consent pages.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

import { startServer } from '../lib/server.mjs';
import { Browser, findForm, describe as describePage } from '../lib/browser.mjs';

const SESSION_COOKIE = 'behalf_session';
const LOGIN_COOKIE = 'behalf_login';

const USERS = {
  alice: { password: 'alice-password-1', agent: false },
  bob: { password: 'bob-password-1', agent: true },
  // carol only ever denies consent, so her answers never mix with alice's.
  carol: { password: 'carol-password-1', agent: false },
  // dave and erin each see a consent page exactly once, in the hardening tests.
  dave: { password: 'dave-password-1', agent: false },
  erin: { password: 'erin-password-1', agent: false },
};

const CLIENTS = {
  rp: {
    redirectUri: 'http://127.0.0.1:9/cb',
    name: 'Relying Party',
    extra: ['--generate-secret', '--scope', 'agent'],
  },
  fp: {
    redirectUri: 'http://127.0.0.1:9/fp-cb',
    name: 'First Party App',
    extra: ['--generate-secret', '--first-party'],
  },
  spa: {
    redirectUri: 'http://127.0.0.1:9/spa-cb',
    name: 'Single Page App',
    extra: ['--public'],
  },
};

let server;
let issuer;
let jwks;
const subs = {}; // username -> sub printed by `behalf user add`
const secrets = {}; // client_id -> client_secret (null for the public client)
const configs = {}; // client_id -> openid-client Configuration

// ---------------------------------------------------------------------------
// helpers

/** Runs fn, expects it to reject, returns the error. */
async function rejection(fn, what = 'the request') {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail(`expected ${what} to be refused, but it succeeded`);
}

/** Asserts openid-client surfaced a token endpoint error (RFC 6749 §5.2) as ResponseBodyError. */
function assertTokenError(err, error, status = 400) {
  assert.ok(
    err instanceof client.ResponseBodyError,
    `expected ResponseBodyError(${error}), got ${err?.constructor?.name}: ${err?.message}` +
      (err?.cause ? ` cause=${JSON.stringify(err.cause)}` : ''),
  );
  assert.equal(err.error, error, `error code (error_description: ${err.error_description})`);
  assert.equal(err.status, status, 'HTTP status');
}

/** Headers every HTML page of behalf must carry (clickjacking, caching, referrer leaks). */
function assertHtmlPage(page, what) {
  const h = (n) => page.headers.get(n) ?? '';
  assert.match(h('content-type'), /^text\/html\b/i, `${what}: content-type`);
  assert.match(h('content-security-policy'), /frame-ancestors\s+'none'/i, `${what}: content-security-policy: "${h('content-security-policy')}"`);
  assert.equal(h('x-frame-options').trim().toUpperCase(), 'DENY', `${what}: x-frame-options`);
  assert.match(h('cache-control'), /\bno-store\b/i, `${what}: cache-control`);
  assert.equal(h('referrer-policy').trim().toLowerCase(), 'no-referrer', `${what}: referrer-policy`);
}

function isRedirect(page) {
  return page.status >= 300 && page.status < 400;
}

/** The registered redirect URI a callback URL was sent to (without its query). */
function redirectTarget(url) {
  return `${url.origin}${url.pathname}`;
}

/** openid-client Configuration for one of our clients, over plain http. */
function discover(clientId) {
  const auth = secrets[clientId] ? client.ClientSecretBasic(secrets[clientId]) : client.None();
  return client.discovery(new URL(issuer), clientId, undefined, auth, { execute: [client.allowInsecureRequests] });
}

/**
 * A fresh authorization request built by openid-client.
 * `overrides` replaces parameters; an override of `undefined` removes one.
 */
async function authRequest(clientId, overrides = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = {
    redirect_uri: CLIENTS[clientId].redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...overrides,
  };
  for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
  return { url: client.buildAuthorizationUrl(configs[clientId], params), verifier, state, nonce, params, clientId };
}

/** Redeems the code in a callback URL with openid-client, with all checks on. */
function redeem(req, callback, checks = {}) {
  return client.authorizationCodeGrant(configs[req.clientId], callback, {
    pkceCodeVerifier: req.verifier,
    expectedState: req.state,
    expectedNonce: req.nonce,
    idTokenExpected: true,
    ...checks,
  });
}

/**
 * Logs in from a redirect to the login page: GET the page, POST the form.
 * Checks the page and that a new session starts; returns the return_to URL.
 */
async function login(browser, loginUrl, username, password) {
  const page = await browser.get(loginUrl);
  assert.equal(page.status, 200, `login page: ${describePage(page)}`);
  assertHtmlPage(page, 'login page');
  const form = findForm(page.body, page.url, '/login');
  assert.ok(form, `login page has no <form action="/login">:\n${page.body}`);
  assert.equal(form.method, 'post', 'login form method');
  assert.equal(typeof form.hidden.csrf_token, 'string', 'login form: hidden csrf_token');
  assert.ok(form.hidden.csrf_token.length > 0, 'login form: csrf_token is empty');
  assert.equal(typeof form.hidden.return_to, 'string', 'login form: hidden return_to');
  // A browser signed in already keeps its session; any other gets the form's CSRF cookie.
  const before = browser.cookie(SESSION_COOKIE);
  assert.ok(before || browser.cookie(LOGIN_COOKIE), `no ${LOGIN_COOKIE} cookie after the login page`);
  const post = await browser.post(form.action, {
    username,
    password,
    csrf_token: form.hidden.csrf_token,
    return_to: form.hidden.return_to,
  });
  const returnTo = new URL(form.hidden.return_to, page.url);
  assert.equal(post.status, 303, `POST /login as ${username}: ${describePage(post)}`);
  assert.equal(post.location.href, returnTo.href, 'POST /login redirects to return_to');
  const after = browser.cookie(SESSION_COOKIE);
  assert.ok(after && after !== before, 'the session id changes at login');
  return { page, form, post, returnTo };
}

/**
 * Plays the user agent from an authorization URL until the server redirects
 * back to the client: logs in when sent to /login, answers the consent page
 * with `decision`. Returns the callback URL and what happened on the way.
 */
async function authorizeInBrowser(browser, url, { username, password = USERS[username]?.password, decision = 'approve' } = {}) {
  const trace = { loggedIn: false, consent: null, hops: [] };
  let page = await browser.get(url);
  for (let hop = 0; hop < 8; hop++) {
    trace.hops.push(`${page.status} ${page.url.pathname}${page.rawLocation ? ` -> ${page.rawLocation}` : ''}`);
    if (isRedirect(page)) {
      assert.equal(page.status, 303, `redirect status: ${describePage(page)}`);
      assert.ok(page.location, 'redirect without Location');
      if (page.location.origin !== browser.origin) {
        return { callback: page.location, final: page, ...trace };
      }
      if (page.location.pathname === '/login') {
        assert.ok(username, `unexpected login prompt: ${describePage(page)}`);
        assert.ok(!trace.loggedIn, `sent to the login page again after logging in (${trace.hops.join(', ')})`);
        const { returnTo } = await login(browser, page.location, username, password);
        trace.loggedIn = true;
        page = await browser.get(returnTo);
        continue;
      }
      page = await browser.get(page.location);
      continue;
    }
    const form = page.status === 200 ? findForm(page.body, page.url, '/authorize/consent') : undefined;
    if (form) {
      assert.ok(!trace.consent, 'consent page shown twice');
      assertHtmlPage(page, 'consent page');
      assert.equal(form.method, 'post', 'consent form method');
      trace.consent = { page, form };
      page = await browser.post(form.action, { ...form.hidden, decision });
      continue;
    }
    assert.fail(`unexpected response in the authorization flow (${trace.hops.join(', ')}): ${describePage(page)}`);
  }
  assert.fail(`too many hops: ${trace.hops.join(', ')}`);
}

/**
 * Asserts a callback URL is an RFC 6749 §4.1.2.1 error response with RFC 9207
 * `iss`, and that openid-client reports it as AuthorizationResponseError.
 */
async function assertErrorCallback(req, callback, error) {
  assert.equal(redirectTarget(callback), CLIENTS[req.clientId].redirectUri, `redirected to ${callback}`);
  const p = callback.searchParams;
  assert.equal(p.get('error'), error, `callback: ${callback}`);
  assert.equal(p.get('code'), null, 'no code in an error response');
  assert.equal(p.get('state'), req.state, 'state is returned');
  assert.equal(p.get('iss'), issuer, 'iss (RFC 9207)');
  const err = await rejection(() => redeem(req, callback), 'the error callback');
  assert.ok(
    err instanceof client.AuthorizationResponseError,
    `openid-client: expected AuthorizationResponseError, got ${err?.constructor?.name}: ${err?.message}`,
  );
  assert.equal(err.error, error);
}

/** Expects a direct (no login) 303 error redirect for an authorization request. */
async function assertDirectErrorRedirect(req, error) {
  const page = await new Browser(issuer).get(req.url);
  assert.equal(page.status, 303, describePage(page));
  assert.ok(page.location, 'Location header');
  assert.notEqual(page.location.pathname, '/login', `expected an error redirect before any login: ${describePage(page)}`);
  await assertErrorCallback(req, page.location, error);
}

/** Expects a 400 HTML error page that does not redirect anywhere. */
function assertErrorPage(page, what) {
  assert.equal(page.status, 400, `${what}: ${describePage(page)}`);
  assert.equal(page.headers.get('location'), null, `${what}: must not redirect (Location: ${page.rawLocation})`);
  assertHtmlPage(page, what);
}

function atHash(accessToken) {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

function verifyAccessToken(token) {
  return jwtVerify(token, jwks, { issuer, audience: issuer, typ: 'at+jwt', algorithms: ['ES256'] });
}

function scopes(payload) {
  return (payload.scope ?? '').split(' ').filter(Boolean);
}

// ---------------------------------------------------------------------------
// setup through the CLI

before(async () => {
  server = await startServer({ name: 'authorization_code' });
  issuer = server.issuer;

  for (const [name, { password, agent }] of Object.entries(USERS)) {
    const out = await server.cli(['user', 'add', name, ...(agent ? ['--agent'] : []), '--password-stdin'], {
      stdin: `${password}\n`,
    });
    assert.match(out, /^\S+\n?$/, `behalf user add ${name} must print the sub alone on one line; got ${JSON.stringify(out)}`);
    subs[name] = out.trim();
  }
  assert.equal(new Set(Object.values(subs)).size, Object.keys(subs).length, `subs are unique: ${JSON.stringify(subs)}`);

  for (const [id, c] of Object.entries(CLIENTS)) {
    const out = await server.cli([
      'client', 'add', id,
      ...c.extra,
      '--redirect-uri', c.redirectUri,
      '--grant-type', 'authorization_code',
      '--grant-type', 'refresh_token',
      '--scope', 'openid',
      '--scope', 'profile',
      '--name', c.name,
    ]);
    let registered;
    try {
      registered = JSON.parse(out);
    } catch {
      assert.fail(`behalf client add ${id} did not print JSON; stdout was: ${out}`);
    }
    assert.equal(registered.client_id, id);
    if (c.extra.includes('--public')) {
      assert.equal(registered.client_secret ?? null, null, 'a public client has no secret');
    } else {
      assert.equal(typeof registered.client_secret, 'string');
      assert.ok(registered.client_secret.length > 0, 'client_secret is empty');
    }
    secrets[id] = registered.client_secret ?? null;
  }

  for (const id of Object.keys(CLIENTS)) configs[id] = await discover(id);
  jwks = createRemoteJWKSet(new URL(configs.rp.serverMetadata().jwks_uri));
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------

describe('discovery for the authorization code flow', () => {
  it('openid-client discovers the authorization, userinfo endpoints and code-flow capabilities', async () => {
    const config = await client.discovery(new URL(issuer), 'rp', undefined, client.ClientSecretBasic(secrets.rp), {
      execute: [client.allowInsecureRequests],
    });
    const md = config.serverMetadata();
    assert.equal(md.issuer, issuer);
    assert.equal(md.authorization_endpoint, `${issuer}/authorize`);
    assert.equal(md.userinfo_endpoint, `${issuer}/userinfo`);
    assert.ok(md.response_types_supported?.includes('code'), `response_types_supported: ${md.response_types_supported}`);
    for (const g of ['authorization_code', 'refresh_token']) {
      assert.ok(md.grant_types_supported?.includes(g), `grant_types_supported lacks ${g}: ${md.grant_types_supported}`);
    }
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
    assert.equal(md.authorization_response_iss_parameter_supported, true);
    assert.ok(
      md.token_endpoint_auth_methods_supported?.includes('none'),
      `token_endpoint_auth_methods_supported: ${md.token_endpoint_auth_methods_supported}`,
    );
  });
});

describe('authorization code flow step by step (alice, third-party client rp)', () => {
  const browser = () => flow.browser;
  const flow = {};

  before(() => {
    flow.browser = new Browser(issuer);
    flow.started = Math.floor(Date.now() / 1000);
  });

  function need(...keys) {
    for (const k of keys) if (flow[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  }

  it('GET /authorize without a session: 303 to /login?return_to=…', async () => {
    flow.req = await authRequest('rp');
    const page = await browser().get(flow.req.url);
    assert.equal(page.status, 303, describePage(page));
    assert.ok(page.location, 'Location header');
    assert.equal(page.location.origin, new URL(issuer).origin, `Location: ${page.rawLocation}`);
    assert.equal(page.location.pathname, '/login', `Location: ${page.rawLocation}`);
    const returnTo = page.location.searchParams.get('return_to');
    assert.ok(returnTo, `Location has no return_to: ${page.rawLocation}`);
    assert.equal(new URL(returnTo, issuer).pathname, '/authorize', `return_to: ${returnTo}`);
    flow.loginUrl = page.location;
  });

  it('the login page: HTML form with csrf_token, return_to, username, password; a CSRF cookie and no session yet; security headers', async () => {
    need('loginUrl');
    const page = await browser().get(flow.loginUrl);
    assert.equal(page.status, 200, describePage(page));
    assertHtmlPage(page, 'login page');
    const form = findForm(page.body, page.url, '/login');
    assert.ok(form, `no <form action="/login"> in:\n${page.body}`);
    assert.equal(form.method, 'post');
    const names = form.inputs.map((i) => i.name);
    for (const n of ['username', 'password']) assert.ok(names.includes(n), `login form lacks input ${n}: ${names}`);
    for (const n of ['csrf_token', 'return_to']) {
      assert.equal(typeof form.hidden[n], 'string', `login form lacks hidden ${n}`);
      assert.ok(form.hidden[n].length > 0, `hidden ${n} is empty`);
    }
    assert.equal(new URL(form.hidden.return_to, page.url).pathname, '/authorize', `return_to: ${form.hidden.return_to}`);
    // The form's CSRF token is bound to a cookie; no session exists before sign-in
    // (docs/security.md L6: reading the form writes nothing).
    const setCookies = JSON.stringify(page.setCookies.map((c) => c.raw));
    assert.ok(!page.setCookies.some((c) => c.name === SESSION_COOKIE), `login page starts a session: ${setCookies}`);
    const cookie = page.setCookies.find((c) => c.name === LOGIN_COOKIE);
    assert.ok(cookie, `login page sets no ${LOGIN_COOKIE}; Set-Cookie: ${setCookies}`);
    assert.ok(cookie.value.length > 0, 'CSRF cookie is empty');
    assert.equal(cookie.attrs.httponly, true, `HttpOnly missing: ${cookie.raw}`);
    flow.loginPage = page;
    flow.loginForm = form;
  });

  it('POST /login: 303 to return_to with a new HttpOnly, SameSite=Lax behalf_session', async () => {
    need('loginForm');
    const { loginForm: form, loginPage: page } = flow;
    const post = await browser().post(form.action, {
      username: 'alice',
      password: USERS.alice.password,
      csrf_token: form.hidden.csrf_token,
      return_to: form.hidden.return_to,
    });
    assert.equal(post.status, 303, describePage(post));
    const returnTo = new URL(form.hidden.return_to, page.url);
    assert.equal(post.location?.href, returnTo.href, 'redirects to return_to');
    flow.returnTo = returnTo; // logged in; later steps can go on even if a cookie attribute is off
    const cookie = post.setCookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, `POST /login sets no ${SESSION_COOKIE}; Set-Cookie: ${JSON.stringify(post.setCookies.map((c) => c.raw))}`);
    assert.equal(cookie.attrs.httponly, true, `HttpOnly missing: ${cookie.raw}`);
    assert.equal(String(cookie.attrs.samesite ?? '').toLowerCase(), 'lax', `SameSite=Lax missing: ${cookie.raw}`);
  });

  it('GET return_to: consent page naming the app, with approve/deny and the request in hidden inputs', async () => {
    need('returnTo');
    const page = await browser().get(flow.returnTo);
    assert.equal(page.status, 200, describePage(page));
    assertHtmlPage(page, 'consent page');
    assert.ok(page.body.includes(CLIENTS.rp.name), `consent page does not name "${CLIENTS.rp.name}":\n${page.body}`);
    const form = findForm(page.body, page.url, '/authorize/consent');
    assert.ok(form, `no <form action="/authorize/consent"> in:\n${page.body}`);
    assert.equal(form.method, 'post');
    assert.equal(typeof form.hidden.csrf_token, 'string', 'consent form lacks hidden csrf_token');
    assert.ok(form.hidden.csrf_token.length > 0, 'csrf_token is empty');
    const decisions = form.buttons.filter((b) => b.name === 'decision').map((b) => b.value);
    for (const d of ['approve', 'deny']) {
      assert.ok(decisions.includes(d), `no submit button name="decision" value="${d}"; buttons: ${JSON.stringify(form.buttons)}`);
    }
    flow.consentForm = form;
  });

  it('approving: 303 to the redirect_uri with code, state and iss', async () => {
    need('consentForm');
    const post = await browser().post(flow.consentForm.action, { ...flow.consentForm.hidden, decision: 'approve' });
    assert.equal(post.status, 303, describePage(post));
    const cb = post.location;
    assert.ok(cb, 'Location header');
    assert.equal(redirectTarget(cb), CLIENTS.rp.redirectUri, `Location: ${post.rawLocation}`);
    assert.equal(cb.searchParams.get('error'), null, `error in callback: ${cb}`);
    assert.ok(cb.searchParams.get('code'), `no code: ${cb}`);
    assert.equal(cb.searchParams.get('state'), flow.req.state);
    assert.equal(cb.searchParams.get('iss'), issuer);
    flow.callback = cb;
  });

  it('openid-client redeems the code (PKCE, state, nonce, iss checked); ID token claims', async () => {
    need('callback');
    const tokens = await redeem(flow.req, flow.callback);
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(typeof tokens.refresh_token, 'string', 'refresh_token');
    assert.equal(typeof tokens.id_token, 'string', 'id_token');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    const claims = tokens.claims();
    assert.equal(claims.iss, issuer);
    assert.ok([claims.aud].flat().includes('rp'), `aud: ${JSON.stringify(claims.aud)}`);
    assert.equal(claims.sub, subs.alice);
    assert.equal(claims.nonce, flow.req.nonce);
    assert.equal(claims.azp, 'rp');
    assert.equal(typeof claims.at_hash, 'string', 'at_hash');
    assert.equal(claims.at_hash, atHash(tokens.access_token), 'at_hash is the left half of SHA-256(access_token)');
    assert.equal(typeof claims.auth_time, 'number', 'auth_time');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(
      claims.auth_time >= flow.started - 5 && claims.auth_time <= now + 5,
      `auth_time ${claims.auth_time} is the login just made (between ${flow.started} and ${now})`,
    );
    flow.tokens = tokens;
  });

  it('the ID token verifies with jose against the JWKS (RS256)', async () => {
    need('tokens');
    assert.equal(decodeProtectedHeader(flow.tokens.id_token).alg, 'RS256');
    const { payload } = await jwtVerify(flow.tokens.id_token, jwks, { algorithms: ['RS256'], issuer, audience: 'rp' });
    assert.equal(payload.sub, subs.alice);
    assert.equal(payload.nonce, flow.req.nonce);
    assert.equal(typeof payload.exp, 'number');
    assert.equal(typeof payload.iat, 'number');
  });

  it('the access token verifies as an RFC 9068 JWT for alice', async () => {
    need('tokens');
    const { payload } = await verifyAccessToken(flow.tokens.access_token);
    assert.equal(payload.sub, subs.alice);
    assert.equal(payload.client_id, 'rp');
    assert.equal(payload.scope, 'openid profile');
  });

  it('openid-client fetches UserInfo', async () => {
    need('tokens');
    const info = await client.fetchUserInfo(configs.rp, flow.tokens.access_token, subs.alice);
    assert.equal(info.sub, subs.alice);
    assert.equal(info.preferred_username, 'alice');
  });

  it('refresh: new access and refresh tokens (rotation)', async () => {
    need('tokens');
    const refreshed = await client.refreshTokenGrant(configs.rp, flow.tokens.refresh_token);
    assert.equal(typeof refreshed.access_token, 'string');
    assert.equal(typeof refreshed.refresh_token, 'string', 'a rotated refresh token');
    assert.notEqual(refreshed.refresh_token, flow.tokens.refresh_token, 'the refresh token must rotate');
    assert.notEqual(refreshed.access_token, flow.tokens.access_token);
    const { payload } = await verifyAccessToken(refreshed.access_token);
    assert.equal(payload.sub, subs.alice);
    assert.equal(payload.client_id, 'rp');
    assert.equal(payload.scope, 'openid profile');
    flow.refreshed = refreshed;
  });

  it('replaying the old refresh token: invalid_grant, and the whole family is revoked', async () => {
    need('refreshed');
    const replay = await rejection(() => client.refreshTokenGrant(configs.rp, flow.tokens.refresh_token), 'the old refresh token');
    assertTokenError(replay, 'invalid_grant');
    const afterReplay = await rejection(
      () => client.refreshTokenGrant(configs.rp, flow.refreshed.refresh_token),
      'the new refresh token after a replay of its predecessor',
    );
    assertTokenError(afterReplay, 'invalid_grant');
  });

  it('consent is remembered: a second authorization in the same session redirects straight back with a code', async () => {
    need('returnTo'); // logged in
    const req = await authRequest('rp');
    const page = await browser().get(req.url);
    assert.equal(page.status, 303, `expected a direct redirect with a code: ${describePage(page)}`);
    assert.equal(redirectTarget(page.location), CLIENTS.rp.redirectUri, `Location: ${page.rawLocation}`);
    assert.equal(page.location.searchParams.get('error'), null, `error: ${page.location}`);
    const tokens = await redeem(req, page.location);
    assert.equal(tokens.claims().sub, subs.alice);
  });

  it('consent is remembered across sessions: after a fresh login there is no consent page', async () => {
    need('returnTo');
    const req = await authRequest('rp');
    const r = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    assert.ok(r.loggedIn, 'a new browser must log in');
    assert.equal(r.consent, null, `consent asked again: ${r.hops.join(', ')}`);
    const tokens = await redeem(req, r.callback);
    assert.equal(tokens.claims().sub, subs.alice);
  });
});

describe('first-party client', () => {
  it('no consent page: after login /authorize redirects straight back with a code', async () => {
    const browser = new Browser(issuer);
    const req = await authRequest('fp');
    const first = await browser.get(req.url);
    assert.equal(first.status, 303, describePage(first));
    assert.equal(first.location?.pathname, '/login', `Location: ${first.rawLocation}`);
    const { returnTo } = await login(browser, first.location, 'alice', USERS.alice.password);
    const page = await browser.get(returnTo);
    assert.equal(page.status, 303, `expected a redirect with a code, not a consent page: ${describePage(page)}`);
    assert.equal(redirectTarget(page.location), CLIENTS.fp.redirectUri, `Location: ${page.rawLocation}`);
    assert.ok(page.location.searchParams.get('code'), `no code: ${page.location}`);
    assert.equal(page.location.searchParams.get('iss'), issuer);
    const tokens = await redeem(req, page.location);
    const claims = tokens.claims();
    assert.equal(claims.sub, subs.alice);
    assert.equal(claims.azp, 'fp');
    assert.ok([claims.aud].flat().includes('fp'));
  });
});

describe('authorization errors', () => {
  it('response_type=token: 303 to the redirect_uri with unsupported_response_type, state, iss', async () => {
    const req = await authRequest('rp', { response_type: 'token' });
    assert.equal(req.url.searchParams.get('response_type'), 'token');
    await assertDirectErrorRedirect(req, 'unsupported_response_type');
  });

  it('missing code_challenge: redirect with invalid_request', async () => {
    const req = await authRequest('rp', { code_challenge: undefined, code_challenge_method: undefined });
    assert.equal(req.url.searchParams.get('code_challenge'), null);
    await assertDirectErrorRedirect(req, 'invalid_request');
  });

  it('unregistered redirect_uri: 400 HTML error page, no redirect', async () => {
    const req = await authRequest('rp', { redirect_uri: 'http://127.0.0.1:9/not-registered' });
    const page = await new Browser(issuer).get(req.url);
    assertErrorPage(page, 'unregistered redirect_uri');
  });

  it('unknown client_id: 400 HTML error page, no redirect', async () => {
    const req = await authRequest('rp');
    const url = new URL(req.url);
    url.searchParams.set('client_id', 'no-such-client');
    const page = await new Browser(issuer).get(url);
    assertErrorPage(page, 'unknown client_id');
  });

  it('a code redeemed twice: the second time invalid_grant', async () => {
    const req = await authRequest('rp');
    const { callback } = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    await redeem(req, callback);
    const err = await rejection(() => redeem(req, callback), 'a second redemption of the code');
    assertTokenError(err, 'invalid_grant');
  });

  it('wrong code_verifier: invalid_grant', async () => {
    const req = await authRequest('rp');
    const { callback } = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    const err = await rejection(
      () => redeem(req, callback, { pkceCodeVerifier: client.randomPKCECodeVerifier() }),
      'a wrong code_verifier',
    );
    assertTokenError(err, 'invalid_grant');
  });

  it('deny on the consent page: redirect with access_denied and state', async () => {
    const req = await authRequest('rp');
    const r = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'carol', decision: 'deny' });
    assert.ok(r.consent, `no consent page was shown: ${r.hops.join(', ')}`);
    await assertErrorCallback(req, r.callback, 'access_denied');
  });

  it('prompt=none without a session: redirect with login_required', async () => {
    const req = await authRequest('rp', { prompt: 'none' });
    await assertDirectErrorRedirect(req, 'login_required');
  });
});

describe('agent scope', () => {
  it('bob (agent role) gets an access token with the agent scope', async () => {
    const req = await authRequest('rp', { scope: 'openid agent' });
    const r = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'bob' });
    assert.equal(r.callback.searchParams.get('error'), null, `callback: ${r.callback}`);
    const tokens = await redeem(req, r.callback);
    assert.equal(tokens.claims().sub, subs.bob);
    const { payload } = await verifyAccessToken(tokens.access_token);
    assert.equal(payload.sub, subs.bob);
    assert.ok(scopes(payload).includes('agent'), `scope: ${payload.scope}`);
  });

  it('alice (no agent role) asking for agent: redirect with invalid_scope, without a consent page', async () => {
    const req = await authRequest('rp', { scope: 'openid agent' });
    const r = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    assert.equal(r.consent, null, `a consent page was shown for a scope alice cannot grant: ${r.hops.join(', ')}`);
    await assertErrorCallback(req, r.callback, 'invalid_scope');
  });
});

describe('public client (token endpoint auth none) with PKCE', () => {
  it('completes the flow with client_id only', async () => {
    const config = await client.discovery(new URL(issuer), 'spa', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    configs.spa = config;
    const req = await authRequest('spa');
    const r = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    if (r.consent) assert.ok(r.consent.page.body.includes(CLIENTS.spa.name), 'consent page names the app');
    const tokens = await redeem(req, r.callback);
    const claims = tokens.claims();
    assert.equal(claims.sub, subs.alice);
    assert.ok([claims.aud].flat().includes('spa'), `aud: ${JSON.stringify(claims.aud)}`);
    assert.equal(claims.azp, 'spa');
    const { payload } = await verifyAccessToken(tokens.access_token);
    assert.equal(payload.client_id, 'spa');
    assert.equal(payload.sub, subs.alice);
    const info = await client.fetchUserInfo(config, tokens.access_token, subs.alice);
    assert.equal(info.preferred_username, 'alice');
  });
});

// Not spelled out in the brief, but what any client or user relies on.
describe('hardening (beyond the brief)', () => {
  it('a wrong password does not log in', async () => {
    const browser = new Browser(issuer);
    const req = await authRequest('rp');
    const first = await browser.get(req.url);
    assert.equal(first.location?.pathname, '/login', describePage(first));
    const page = await browser.get(first.location);
    const form = findForm(page.body, page.url, '/login');
    assert.ok(form, 'login form');
    const post = await browser.post(form.action, { ...form.hidden, username: 'alice', password: 'wrong-password' });
    assert.ok(!isRedirect(post) || post.location?.pathname !== '/authorize', `wrong password was accepted: ${describePage(post)}`);
    if (post.headers.get('content-type')?.startsWith('text/html')) assertHtmlPage(post, 'failed login page');
    const again = await browser.get(req.url);
    assert.equal(again.status, 303, describePage(again));
    assert.equal(again.location?.pathname, '/login', 'still not logged in');
  });

  it('a login POST with a forged csrf_token is refused', async () => {
    const browser = new Browser(issuer);
    const req = await authRequest('rp');
    const first = await browser.get(req.url);
    const page = await browser.get(first.location);
    const form = findForm(page.body, page.url, '/login');
    assert.ok(form, 'login form');
    const post = await browser.post(form.action, {
      ...form.hidden,
      csrf_token: 'forged-token',
      username: 'alice',
      password: USERS.alice.password,
    });
    assert.ok(!isRedirect(post) || post.location?.pathname !== '/authorize', `forged csrf_token was accepted: ${describePage(post)}`);
    const again = await browser.get(req.url);
    assert.equal(again.location?.pathname, '/login', 'still not logged in');
  });

  it('a consent POST with a forged csrf_token issues no code', async () => {
    const browser = new Browser(issuer);
    const req = await authRequest('rp', { scope: 'openid' });
    const first = await browser.get(req.url);
    const { returnTo } = await login(browser, first.location, 'dave', USERS.dave.password);
    const page = await browser.get(returnTo);
    const form = findForm(page.body, page.url, '/authorize/consent');
    assert.ok(form, `consent page expected for dave: ${describePage(page)}`);
    const post = await browser.post(form.action, { ...form.hidden, csrf_token: 'forged-token', decision: 'approve' });
    assert.ok(!post.location?.searchParams.get('code'), `a code was issued despite a forged csrf_token: ${post.rawLocation}`);
  });

  it('a consent POST with a swapped redirect_uri does not redirect there', async () => {
    const browser = new Browser(issuer);
    const req = await authRequest('rp', { scope: 'openid' });
    const r0 = await browser.get(req.url);
    const { returnTo } = await login(browser, r0.location, 'erin', USERS.erin.password);
    const page = await browser.get(returnTo);
    const form = findForm(page.body, page.url, '/authorize/consent');
    assert.ok(form, `consent page expected for erin: ${describePage(page)}`);
    const evil = 'http://127.0.0.1:9/evil';
    const fields = { ...form.hidden, decision: 'approve' };
    if ('redirect_uri' in fields) fields.redirect_uri = evil;
    const post = await browser.post(form.action, fields);
    assert.ok(!post.location?.href.startsWith(evil), `redirected to an unregistered redirect_uri: ${post.rawLocation}`);
  });

  it('prompt=login with a live session asks for the password again (OIDC Core §3.1.2.1)', async () => {
    const browser = new Browser(issuer);
    const first = await authRequest('fp');
    await authorizeInBrowser(browser, first.url, { username: 'alice' });
    const req = await authRequest('fp', { prompt: 'login' });
    const page = await browser.get(req.url);
    assert.equal(page.status, 303, describePage(page));
    assert.equal(page.location?.pathname, '/login', `prompt=login must lead to the login page, got Location: ${page.rawLocation}`);
  });

  it("prompt=login can't be skipped by forging the parameters the server adds to return_to", async () => {
    const browser = new Browser(issuer);
    const first = await authRequest('fp');
    await authorizeInBrowser(browser, first.url, { username: 'alice' });
    // Learn which parameters the server itself adds to the request it sends
    // through the login page (they are visible to, and editable by, the user).
    const probe = await authRequest('fp', { prompt: 'login' });
    const toLogin = await browser.get(probe.url);
    assert.equal(toLogin.location?.pathname, '/login', describePage(toLogin));
    const returnTo = new URL(toLogin.location.searchParams.get('return_to') ?? '', issuer);
    const added = [...returnTo.searchParams.keys()].filter((k) => !probe.url.searchParams.has(k));
    if (added.length === 0) return; // nothing to forge
    // Forge them with an old value on a fresh prompt=login request.
    const req = await authRequest('fp', { prompt: 'login', ...Object.fromEntries(added.map((k) => [k, '1'])) });
    const page = await browser.get(req.url);
    assert.equal(
      page.location?.pathname,
      '/login',
      `prompt=login + forged ${added.map((k) => `${k}=1`).join('&')} skipped re-authentication: ${describePage(page)}`,
    );
  });

  it('code_challenge_method=plain: redirect with invalid_request', async () => {
    const req = await authRequest('rp', { code_challenge_method: 'plain' });
    await assertDirectErrorRedirect(req, 'invalid_request');
  });

  it("a code is bound to its client: another client can't redeem it", async () => {
    const req = await authRequest('rp');
    const { callback } = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    const err = await rejection(() => redeem({ ...req, clientId: 'fp' }, callback), "fp redeeming rp's code");
    assertTokenError(err, 'invalid_grant');
  });

  it('the token request must repeat the redirect_uri of the authorization request', async () => {
    const req = await authRequest('rp');
    const { callback } = await authorizeInBrowser(new Browser(issuer), req.url, { username: 'alice' });
    // openid-client derives redirect_uri from the callback URL it is given.
    const moved = new URL(callback);
    moved.pathname = '/other-cb';
    const err = await rejection(() => redeem(req, moved), 'a mismatched redirect_uri');
    assertTokenError(err, 'invalid_grant');
  });
});
