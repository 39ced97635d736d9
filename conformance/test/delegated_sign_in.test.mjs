// Delegated sign-in with openid-client as the app: an app registered
// `behalf client add shop --delegated-sign-in` ("Example Shop"), whose
// relying party is openid-client, is signed in to by the agent bob *as*
// alice, under the grant she gave the Support team listing the shop.
//
// openid-client builds the authorization request (PKCE, state, nonce,
// login_hint=alice); bob's browser steps are the fetch browser of
// lib/browser.mjs (login, then "Act as alice in Example Shop?" and its
// button); openid-client redeems the code and validates the ID token itself:
// its signature against the JWKS (enableNonRepudiationChecks), iss, aud, azp,
// exp, iat and nonce; at_hash, which openid-client leaves alone in the code
// flow, is checked here. The ID token and UserInfo (openid-client's
// fetchUserInfo) are alice's and say bob acts (act.sub, grant_id, sid). A
// refresh keeps saying so. That openid-client checks for itself: an ID token
// whose signature was altered on the way, and one of another nonce, are
// refused. Once alice ends the grant on /account, UserInfo refuses the access
// token and the refresh is invalid_grant.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as client from 'openid-client';

import { startServer } from '../lib/server.mjs';
import { Browser, findForm, parseForms, describe as describePage } from '../lib/browser.mjs';
import { addConsole, CONSOLE } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm } from '../lib/account.mjs';

const ALICE = { username: 'alice', password: 'alice-password-1' };
const BOB = { username: 'bob', password: 'bob-password-1', team: 'Support' };
const SHOP = { clientId: 'shop', name: 'Example Shop', redirectUri: 'http://127.0.0.1:9/shop-cb' };
const REASON = 'Order 1234 will not ship';

let server;
let shop; // openid-client Configuration of the shop
const subs = {};
const state = {}; // what one step leaves for the next

function atHash(accessToken) {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

/** A fresh authorization request of the shop's, built by openid-client: PKCE, state, nonce, login_hint=alice. */
async function authorizationRequest() {
  const request = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
  const url = client.buildAuthorizationUrl(shop, {
    redirect_uri: SHOP.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(request.verifier),
    code_challenge_method: 'S256',
    state: request.state,
    nonce: request.nonce,
    login_hint: ALICE.username,
  });
  return { request, url };
}

/** Presses "Act as alice in Example Shop" on the act page: the callback URL with the code. */
async function act(bob, page) {
  const form = parseForms(page.body, page.url).find(
    (f) => f.action.pathname === '/authorize/act' && f.hidden.grant_id === state.grantId,
  );
  assert.ok(form, `no act form for grant ${state.grantId}: ${describePage(page)}`);
  assert.deepEqual(form.buttons.map((b) => [b.name, b.value]), [['decision', 'act']]);
  const redirect = await bob.post(form.action, { ...form.hidden, decision: 'act' });
  assert.equal(redirect.status, 303, describePage(redirect));
  const callback = redirect.location;
  assert.equal(`${callback.origin}${callback.pathname}`, SHOP.redirectUri, `redirected to ${callback}`);
  assert.equal(callback.searchParams.get('iss'), server.issuer, 'iss (RFC 9207)');
  assert.ok(callback.searchParams.get('code'), `no code: ${callback}`);
  return callback;
}

/** bob, signed in to behalf already, acts as alice again: a new request and its callback. */
async function actAgain(bob) {
  const { request, url } = await authorizationRequest();
  const page = await bob.get(url);
  assert.equal(page.status, 200, describePage(page));
  return { request, callback: await act(bob, page) };
}

async function rejection(fn, what) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail(`expected ${what} to be refused, but it succeeded`);
}

before(async () => {
  server = await startServer({ name: 'delegated_sign_in' });
  subs.alice = (await server.cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` })).trim();
  subs.bob = (
    await server.cli(['user', 'add', BOB.username, '--agent', '--team', BOB.team, '--password-stdin'], { stdin: `${BOB.password}\n` })
  ).trim();
  await addConsole(server); // the support tool a grant goes through
  const registered = JSON.parse(
    await server.cli([
      'client', 'add', SHOP.clientId,
      '--generate-secret',
      '--redirect-uri', SHOP.redirectUri,
      '--grant-type', 'authorization_code',
      '--grant-type', 'refresh_token',
      '--scope', 'openid',
      '--scope', 'profile',
      '--name', SHOP.name,
      '--delegated-sign-in',
    ]),
  );
  shop = await client.discovery(new URL(server.issuer), SHOP.clientId, undefined, client.ClientSecretBasic(registered.client_secret), {
    execute: [client.allowInsecureRequests],
  });
  // openid-client checks the ID token's signature against the JWKS only when asked.
  client.enableNonRepudiationChecks(shop);
});

after(async () => {
  await server?.stop();
});

describe('delegated sign-in with openid-client as the app', () => {
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('alice gives the Support team access for 1 hour, listing Example Shop', async () => {
    const alice = await signInToAccount(server.issuer, ALICE.username, ALICE.password);
    const post = await submitAccountForm(alice, '/account/grants', {
      team: BOB.team,
      client_id: CONSOLE.clientId,
      scope: 'read',
      app: SHOP.clientId,
      duration: '3600',
      reason: REASON,
    });
    assert.equal(post.location.searchParams.get('done'), 'given', `redirected to ${post.location}`);
    state.grantId = post.location.searchParams.get('grant');
    assert.match(state.grantId ?? '', /^[A-Za-z0-9_-]+$/);
    state.alice = alice;
  });

  it('bob follows the shop\'s authorization URL (login_hint=alice), signs in and acts as alice: a code for the shop', async () => {
    need('grantId');
    const bob = new Browser(server.issuer);
    const { request, url } = await authorizationRequest();
    const first = await bob.get(url);
    assert.equal(first.status, 303, describePage(first));
    assert.equal(first.location.pathname, '/login', describePage(first));
    const login = await bob.get(first.location);
    const form = findForm(login.body, login.url, '/login');
    assert.ok(form, `no login form: ${describePage(login)}`);
    const signedIn = await bob.post(form.action, { ...form.hidden, username: BOB.username, password: BOB.password });
    assert.equal(signedIn.status, 303, describePage(signedIn));

    const page = await bob.get(signedIn.location);
    assert.equal(page.status, 200, describePage(page));
    assert.match(page.body, /<h1>Act as alice in Example Shop\?<\/h1>/, 'the act page');
    assert.ok(page.body.includes(REASON), 'the page shows why alice gave access');
    assert.ok(!page.body.includes('action="/authorize/consent"'), 'no app-consent page: the grant is her consent');
    state.callback = await act(bob, page);
    state.request = request;
    state.bob = bob;
  });

  it('openid-client redeems the code and validates the ID token: alice\'s, with act.sub bob, grant_id and sid', async () => {
    need('callback');
    const { request } = state;
    const tokens = await client.authorizationCodeGrant(shop, state.callback, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    assert.equal(claims.iss, server.issuer);
    assert.equal(claims.sub, subs.alice, 'the ID token is alice\'s');
    assert.equal(claims.aud, SHOP.clientId);
    assert.equal(claims.azp, SHOP.clientId);
    assert.equal(claims.nonce, request.nonce);
    assert.deepEqual(claims.act, { sub: subs.bob }, 'act.sub names bob, who acts');
    assert.equal(claims.grant_id, state.grantId);
    assert.match(claims.sid ?? '', /^\S{16,}$/, 'a session id for back-channel logout');
    assert.equal(claims.at_hash, atHash(tokens.access_token), 'at_hash');
    assert.ok(tokens.refresh_token, 'a refresh token');
    // The ID token lives no longer than the grant (an hour).
    assert.ok(claims.exp - claims.iat <= 3600, `exp - iat = ${claims.exp - claims.iat}`);
    state.tokens = tokens;
  });

  it('UserInfo (openid-client fetchUserInfo) is alice\'s and carries act', async () => {
    need('tokens');
    const info = await client.fetchUserInfo(shop, state.tokens.access_token, subs.alice);
    assert.equal(info.sub, subs.alice);
    assert.equal(info.preferred_username, ALICE.username);
    assert.deepEqual(info.act, { sub: subs.bob });
  });

  it('a refresh keeps act and grant_id', async () => {
    need('tokens');
    const refreshed = await client.refreshTokenGrant(shop, state.tokens.refresh_token);
    const claims = refreshed.claims();
    assert.ok(claims, 'the refresh returns an ID token');
    assert.equal(claims.sub, subs.alice);
    assert.deepEqual(claims.act, { sub: subs.bob });
    assert.equal(claims.grant_id, state.grantId);
    assert.equal(claims.sid, state.tokens.claims().sid, 'the same session');
    const info = await client.fetchUserInfo(shop, refreshed.access_token, subs.alice);
    assert.deepEqual(info.act, { sub: subs.bob });
    state.refreshed = refreshed;
  });

  it('openid-client refuses an ID token whose signature was altered, and one of another nonce', async () => {
    need('bob');
    // The token response as sent, but the ID token's signature changed in one character.
    const altered = await actAgain(state.bob);
    const tampering = async (url, options) => {
      const response = await fetch(url, options);
      if (new URL(url).pathname !== '/token') return response;
      const body = await response.json();
      const [header, payload, signature] = body.id_token.split('.');
      const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
      body.id_token = [header, payload, flipped].join('.');
      return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
    };
    const untouched = shop[client.customFetch];
    shop[client.customFetch] = tampering;
    try {
      const err = await rejection(
        () =>
          client.authorizationCodeGrant(shop, altered.callback, {
            pkceCodeVerifier: altered.request.verifier,
            expectedState: altered.request.state,
            expectedNonce: altered.request.nonce,
            idTokenExpected: true,
          }),
        'an ID token with an altered signature',
      );
      assert.match(`${err.message} ${err.cause?.message ?? ''}`, /signature/i, `${err.constructor.name}: ${err.message}`);
    } finally {
      shop[client.customFetch] = untouched;
    }
    const other = await actAgain(state.bob);
    const err = await rejection(
      () =>
        client.authorizationCodeGrant(shop, other.callback, {
          pkceCodeVerifier: other.request.verifier,
          expectedState: other.request.state,
          expectedNonce: client.randomNonce(),
          idTokenExpected: true,
        }),
      'an ID token of another nonce',
    );
    assert.equal(err.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', `${err.constructor.name}: ${err.message}`);
    // oauth4webapi's error, under openid-client's, names the claim.
    assert.equal(err.cause?.cause?.claim, 'nonce', `${err.cause?.message}`);
  });

  it('alice ends the access: UserInfo refuses the token and the refresh is invalid_grant', async () => {
    need('refreshed', 'alice');
    await submitAccountForm(state.alice, `/account/grants/${state.grantId}/revoke`);
    const refused = await rejection(() => client.fetchUserInfo(shop, state.refreshed.access_token, subs.alice), 'UserInfo after the end');
    assert.ok(refused instanceof client.WWWAuthenticateChallengeError, `UserInfo: ${refused?.constructor?.name}: ${refused?.message}`);
    assert.equal(refused.status, 401);
    const err = await rejection(() => client.refreshTokenGrant(shop, state.refreshed.refresh_token), 'the refresh after the end');
    assert.ok(err instanceof client.ResponseBodyError, `refresh: ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.error, 'invalid_grant');
    assert.equal(err.status, 400);
  });
});
