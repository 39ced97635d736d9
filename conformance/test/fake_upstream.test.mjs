// The fake upstream provider (lib/fake_upstream.mjs) checked by an
// independent relying party, openid-client: the good mode signs in with every
// check passing, and each misbehaving mode is refused by openid-client for
// the reason it is meant to show, so behalf's refusals in
// upstream_id_token.test.mjs are refusals of real faults.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { startFakeUpstream } from '../lib/fake_upstream.mjs';

const REDIRECT = 'http://127.0.0.1:9/login/upstream/fake/callback';
let fake;
let config;

before(async () => {
  fake = await startFakeUpstream({ clientId: 'behalf', clientSecret: 's3cret/+:%', redirectUri: REDIRECT });
  config = await oidc.discovery(new URL(fake.issuer), 'behalf', 's3cret/+:%', oidc.ClientSecretBasic('s3cret/+:%'), {
    execute: [oidc.allowInsecureRequests],
  });
});
after(async () => fake?.close());

/** authorize → the redirect back → code redemption with openid-client's checks. */
async function signIn(c = config) {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(c, {
    redirect_uri: REDIRECT,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302, 'the authorization endpoint redirects back at once');
  const back = new URL(res.headers.get('location'));
  assert.equal(back.origin + back.pathname, REDIRECT, 'back to the registered redirect_uri');
  assert.equal(back.searchParams.get('state'), state, 'with the state it was given');
  return oidc.authorizationCodeGrant(c, back, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
}

describe('the fake upstream, as openid-client sees it', () => {
  it('good: discovery, authorize, token with client_secret_basic and PKCE, a valid ID token', async () => {
    fake.setMode('good');
    const tokens = await signIn();
    const claims = tokens.claims();
    assert.equal(claims.iss, fake.issuer);
    assert.equal(claims.aud, 'behalf');
    assert.equal(claims.preferred_username, 'grace');
  });

  for (const [mode, reason] of [
    ['wrong-nonce', /nonce/],
    ['wrong-aud', /aud/],
    ['wrong-iss', /iss/],
    ['expired', /exp|timestamp/],
    ['alg-none', /alg|none|unsecured|JWS/i],
    ['iss-param', /iss/],
    ['denied', /access_denied|said no/],
  ]) {
    it(`${mode}: refused by openid-client`, async () => {
      fake.setMode(mode);
      await assert.rejects(signIn(), (err) => {
        assert.match(`${err.message} ${err.code ?? ''} ${err.error ?? ''} ${err.cause?.message ?? ''}`, reason, `${mode}: ${err.message}`);
        return true;
      });
    });
  }

  it('foreign-key: openid-client skips the signature of a token-endpoint ID token (OIDC §3.1.3.7), jose refuses it', async () => {
    fake.setMode('foreign-key');
    const tokens = await signIn();
    const jwks = createRemoteJWKSet(new URL(`${fake.issuer}/jwks`));
    await assert.rejects(jwtVerify(tokens.id_token, jwks, { issuer: fake.issuer, audience: 'behalf' }), (err) => {
      assert.equal(err.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', err.message);
      return true;
    });
  });

  it('token-500: the token endpoint answers 500', async () => {
    fake.setMode('token-500');
    await assert.rejects(signIn(), (err) => /500|unexpected/i.test(`${err.message} ${err.cause?.status ?? ''}`));
  });

  it('token-hangs: the token endpoint takes the request and never answers', async () => {
    fake.setMode('token-hangs');
    const c = await oidc.discovery(new URL(fake.issuer), 'behalf', 's3cret/+:%', oidc.ClientSecretBasic('s3cret/+:%'), {
      execute: [oidc.allowInsecureRequests],
      timeout: 1,
    });
    const started = Date.now();
    await assert.rejects(signIn(c));
    assert.ok(Date.now() - started >= 900, 'it held the request until the client gave up');
  });

  it('the token endpoint refuses a wrong secret and a wrong code_verifier', async () => {
    fake.setMode('good');
    const wrong = await oidc.discovery(new URL(fake.issuer), 'behalf', 'nope', oidc.ClientSecretBasic('nope'), {
      execute: [oidc.allowInsecureRequests],
    });
    await assert.rejects(signIn(wrong), (err) => err.status === 401 || err.cause?.status === 401);
    const res = await fetch(`${fake.issuer}/authorize?${new URLSearchParams({
      response_type: 'code', client_id: 'behalf', redirect_uri: REDIRECT, scope: 'openid', state: 's',
      code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
    })}`, { redirect: 'manual' });
    const code = new URL(res.headers.get('location')).searchParams.get('code');
    const token = await fetch(`${fake.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`behalf:${encodeURIComponent('s3cret/+:%')}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: 'y'.repeat(43) }),
    });
    assert.equal(token.status, 400);
    assert.equal((await token.json()).error, 'invalid_grant');
  });
});
