// A client's ID-token algorithm (OpenID Connect Dynamic Client Registration
// 1.0 §2 `id_token_signed_response_alg`): a relying party registered with
// `behalf client add --id-token-alg ES256` and configured in openid-client
// with `id_token_signed_response_alg: 'ES256'` completes the code flow and a
// refresh, openid-client validating each ES256 ID token (its alg pinned by
// the client metadata, its signature against the JWKS); jose verifies it
// with the JWKS's ES256 key. A client registered without the flag still gets
// RS256, which openid-client refuses when told to expect ES256. Run on one
// SQLite instance and on two PostgreSQL instances sharing a database (the
// first creates the keys, the second, the issuer, signs with them).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';

import { startServer, startPostgresPair } from '../lib/server.mjs';
import { Browser, findForm, describe as describePage } from '../lib/browser.mjs';

const ALICE = { username: 'alice', password: 'alice-password-1' };
const CLIENTS = {
  fast: { redirectUri: 'http://127.0.0.1:9/fast-cb', alg: 'ES256' },
  plain: { redirectUri: 'http://127.0.0.1:9/plain-cb', alg: undefined },
};

const BACKENDS = {
  sqlite: () => startServer({ name: 'id_token_es256' }),
  postgres: () => startPostgresPair({ name: 'id_token_es256' }),
};

// The servers of the backend under test: set by its `before`.
let server; // { issuer, cli, stop }
let jwks;
let registered; // client_id -> what `client add` printed
let state;

/** openid-client's Configuration for `id`, expecting ID tokens signed with `alg` (undefined: none set). */
async function configure(id, alg) {
  const metadata = alg ? { id_token_signed_response_alg: alg } : undefined;
  const config = await client.discovery(
    new URL(server.issuer),
    id,
    metadata,
    client.ClientSecretBasic(registered[id].client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  // openid-client checks an ID token's signature against the JWKS only when asked.
  client.enableNonRepudiationChecks(config);
  return config;
}

/**
 * alice signs in to first-party client `id` (no consent page) with the
 * fetch browser; openid-client builds the request and redeems the code.
 */
async function codeFlow(config, id) {
  const verifier = client.randomPKCECodeVerifier();
  const stateParam = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CLIENTS[id].redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: stateParam,
    nonce,
  });
  const browser = new Browser(server.issuer);
  const first = await browser.get(url);
  assert.equal(first.location?.pathname, '/login', `GET /authorize: ${describePage(first)}`);
  const page = await browser.get(first.location);
  const form = findForm(page.body, page.url, '/login');
  assert.ok(form, `no login form: ${describePage(page)}`);
  const post = await browser.post(form.action, { ...form.hidden, username: ALICE.username, password: ALICE.password });
  assert.equal(post.status, 303, `POST /login: ${describePage(post)}`);
  const back = await browser.get(post.location);
  assert.equal(back.status, 303, `after login, back to the client: ${describePage(back)}`);
  const callback = back.location;
  assert.equal(`${callback.origin}${callback.pathname}`, CLIENTS[id].redirectUri, `Location: ${back.rawLocation}`);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: stateParam,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
}

/** The JWKS key an ID token names, asserted to be published for `alg`. */
async function jwkOf(idToken, alg) {
  const header = decodeProtectedHeader(idToken);
  assert.equal(header.alg, alg, `header: ${JSON.stringify(header)}`);
  const { keys } = await (await fetch(new URL('/jwks.json', server.issuer))).json();
  const jwk = keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is not in the JWKS: ${JSON.stringify(keys.map((k) => k.kid))}`);
  assert.equal(jwk.alg, alg, `JWKS key ${jwk.kid}: ${JSON.stringify(jwk)}`);
  return jwk;
}

async function setUp(start) {
  server = await start();
  registered = {};
  state = {};
  await server.cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` });
  for (const [id, c] of Object.entries(CLIENTS)) {
    const out = await server.cli([
      'client', 'add', id,
      '--first-party',
      '--generate-secret',
      '--redirect-uri', c.redirectUri,
      '--grant-type', 'authorization_code',
      '--grant-type', 'refresh_token',
      '--scope', 'openid',
      '--scope', 'profile',
      ...(c.alg ? ['--id-token-alg', c.alg] : []),
    ]);
    registered[id] = JSON.parse(out);
  }
  jwks = createRemoteJWKSet(new URL('/jwks.json', server.issuer));
}

for (const [backend, start] of Object.entries(BACKENDS)) {
  describe(backend, () => {
    before(() => setUp(start));

    after(async () => {
      await server?.stop();
      server = undefined;
    });

    describe('registering the ID-token algorithm', () => {
      it('client add and client show give it back: ES256 when asked for, RS256 by default', async () => {
        assert.equal(registered.fast.id_token_signed_response_alg, 'ES256');
        assert.equal(registered.plain.id_token_signed_response_alg, 'RS256');
        const shown = JSON.parse(await server.cli(['client', 'show', 'fast']));
        assert.equal(shown.id_token_signed_response_alg, 'ES256');
      });

      it('anything but RS256 or ES256 is refused, and no client is made', async () => {
        for (const alg of ['none', 'HS256', 'RS512']) {
          await assert.rejects(
            server.cli(['client', 'add', 'odd', '--redirect-uri', 'http://127.0.0.1:9/odd-cb', '--id-token-alg', alg]),
            (err) => /code 1\b/.test(err.message) && err.message.includes('--id-token-alg') && err.message.includes('RS256 or ES256'),
          );
        }
        await assert.rejects(server.cli(['client', 'show', 'odd']), /no client odd/);
      });

      it('discovery lists both algorithms, which openid-client reads', async () => {
        const config = await configure('fast', 'ES256');
        assert.deepEqual(config.serverMetadata().id_token_signing_alg_values_supported, ['RS256', 'ES256']);
      });
    });

    describe('an ES256 client with openid-client', () => {
      it('completes the code flow; openid-client validates the ES256 ID token', async () => {
        const config = await configure('fast', 'ES256');
        const tokens = await codeFlow(config, 'fast');
        const claims = tokens.claims();
        assert.equal(claims.iss, server.issuer);
        assert.equal(claims.aud, 'fast');
        assert.equal(claims.azp, 'fast');
        state.fast = { config, tokens };
      });

      it('its ID token verifies with jose against the ES256 key of the JWKS', async () => {
        assert.ok(state.fast, 'an earlier step failed');
        const idToken = state.fast.tokens.id_token;
        const jwk = await jwkOf(idToken, 'ES256');
        assert.equal(jwk.kty, 'EC');
        assert.equal(jwk.crv, 'P-256');
        const { payload } = await jwtVerify(idToken, jwks, { algorithms: ['ES256'], issuer: server.issuer, audience: 'fast' });
        assert.equal(typeof payload.at_hash, 'string');
        // The access token beside it is signed with the access-token key, not the ID-token one.
        const access = decodeProtectedHeader(state.fast.tokens.access_token);
        assert.notEqual(access.kid, jwk.kid);
      });

      it('a refresh gives an ES256 ID token that openid-client validates', async () => {
        assert.ok(state.fast, 'an earlier step failed');
        const refreshed = await client.refreshTokenGrant(state.fast.config, state.fast.tokens.refresh_token);
        assert.equal(refreshed.claims().sub, state.fast.tokens.claims().sub);
        await jwkOf(refreshed.id_token, 'ES256');
      });
    });

    describe('a client registered without --id-token-alg', () => {
      it('gets RS256 ID tokens, which openid-client validates with RS256 pinned', async () => {
        const tokens = await codeFlow(await configure('plain', 'RS256'), 'plain');
        await jwkOf(tokens.id_token, 'RS256');
        await jwtVerify(tokens.id_token, jwks, { algorithms: ['RS256'], issuer: server.issuer, audience: 'plain' });
      });

      it('openid-client told to expect ES256 refuses its RS256 ID token', async () => {
        const err = await codeFlow(await configure('plain', 'ES256'), 'plain').then(
          () => assert.fail('an RS256 ID token was accepted as ES256'),
          (e) => e,
        );
        // openid-client's error; oauth4webapi's, naming the client metadata, is its cause.
        assert.ok(err instanceof client.ClientError, `${err?.constructor?.name}: ${err?.message}`);
        assert.match(err.cause?.message ?? '', /unexpected JWT "alg" header parameter/, `cause: ${err.cause?.message}`);
        assert.equal(err.cause?.cause?.reason, 'client configuration', JSON.stringify(err.cause?.cause));
        assert.equal(err.cause?.cause?.header?.alg, 'RS256');
      });
    });
  });
}
