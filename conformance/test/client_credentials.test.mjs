// Client credentials grant (RFC 6749 §4.4), discovery (RFC 8414 / OIDC
// Discovery), JWT access tokens (RFC 9068) and JWKS, driven by independent
// client libraries: openid-client as the OAuth client, jose as the resource
// server.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, importJWK } from 'jose';

import { startServer } from '../lib/server.mjs';

const CLIENT_ID = 'cc-app';
const API = 'https://api.example.test';
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let server;
let issuer;
let secret;

/** openid-client Configuration for cc-app over plain http. */
function discover(clientSecret = secret, auth = client.ClientSecretBasic) {
  return client.discovery(new URL(issuer), CLIENT_ID, undefined, auth(clientSecret), {
    execute: [client.allowInsecureRequests],
  });
}

async function getJson(path) {
  const res = await fetch(new URL(path, issuer));
  const body = await res.text();
  assert.equal(res.status, 200, `GET ${path} answered ${res.status}: ${body}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/i, `GET ${path} content-type`);
  return JSON.parse(body);
}

/** Runs fn, expects it to reject, returns the error. */
async function rejection(fn) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the request to be refused, but it succeeded');
}

/** Asserts openid-client surfaced an RFC 6749 §5.2 error response as ResponseBodyError. */
function assertOAuthError(err, { error, status }) {
  assert.ok(
    err instanceof client.ResponseBodyError,
    `expected ResponseBodyError, got ${err?.constructor?.name}: ${err?.message} ${JSON.stringify(err?.cause)}`,
  );
  assert.equal(err.error, error, `error code (error_description: ${err.error_description})`);
  assert.equal(err.status, status, 'HTTP status');
  if (err.error_description !== undefined) assert.equal(typeof err.error_description, 'string');
}

before(async () => {
  server = await startServer({ name: 'client_credentials' });
  issuer = server.issuer;
  const out = await server.cli([
    'client', 'add', CLIENT_ID,
    '--generate-secret',
    '--grant-type', 'client_credentials',
    '--scope', 'read',
    '--scope', 'write',
    '--audience', API,
  ]);
  let registered;
  try {
    registered = JSON.parse(out);
  } catch {
    assert.fail(`behalf client add did not print JSON; stdout was: ${out}`);
  }
  assert.equal(registered.client_id, CLIENT_ID);
  assert.equal(typeof registered.client_secret, 'string');
  assert.ok(registered.client_secret.length > 0, 'client_secret is empty');
  secret = registered.client_secret;
});

after(async () => {
  await server?.stop();
});

describe('discovery', () => {
  it('openid-client discovers the server; metadata advertises what the client needs', async () => {
    const config = await discover();
    const md = config.serverMetadata();
    assert.equal(md.issuer, issuer);
    assert.ok(Array.isArray(md.grant_types_supported), 'grant_types_supported is an array');
    assert.ok(md.grant_types_supported.includes('client_credentials'), `grant_types_supported: ${md.grant_types_supported}`);
    assert.ok(Array.isArray(md.code_challenge_methods_supported), 'code_challenge_methods_supported is an array');
    assert.ok(md.code_challenge_methods_supported.includes('S256'), `code_challenge_methods_supported: ${md.code_challenge_methods_supported}`);
    assert.equal(typeof md.token_endpoint, 'string');
    assert.equal(new URL(md.token_endpoint).href, new URL('/token', issuer).href);
    assert.equal(typeof md.jwks_uri, 'string');
  });

  it('OIDC and RFC 8414 metadata documents agree', async () => {
    const oidc = await getJson('/.well-known/openid-configuration');
    const oauth = await getJson('/.well-known/oauth-authorization-server');
    assert.equal(oidc.issuer, issuer);
    assert.equal(oauth.issuer, issuer);
    assert.equal(oauth.token_endpoint, oidc.token_endpoint);
    assert.equal(oauth.jwks_uri, oidc.jwks_uri);
    assert.equal(new URL(oidc.jwks_uri).href, new URL('/jwks.json', issuer).href);
  });
});

describe('client credentials grant', () => {
  it('openid-client obtains a Bearer token (client_secret_basic)', async () => {
    const config = await discover();
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof tokens.expires_in, 'number');
    assert.ok(tokens.expires_in > 0, `expires_in: ${tokens.expires_in}`);
    assert.equal(tokens.scope, 'read');
    assert.equal(tokens.refresh_token, undefined, 'no refresh token for client_credentials (RFC 6749 §4.4.3)');
  });

  it('openid-client obtains a token with client_secret_post', async () => {
    const config = await discover(secret, client.ClientSecretPost);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'write' });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'write');
  });

  it('token response is JSON with Cache-Control: no-store (RFC 6749 §5.1)', async () => {
    const md = await getJson('/.well-known/oauth-authorization-server');
    const res = await fetch(md.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${encodeURIComponent(secret)}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
    });
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/i);
    assert.match(res.headers.get('cache-control') ?? '', /\bno-store\b/i, 'Cache-Control');
    const json = JSON.parse(body);
    assert.equal(json.token_type, 'Bearer');
  });
});

describe('access token, verified as a resource server would (RFC 9068)', () => {
  let jwks;
  before(async () => {
    const config = await discover();
    jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
  });

  it('default audience is the issuer; claims are RFC 9068 ones', async () => {
    const config = await discover();
    const { access_token } = await client.clientCredentialsGrant(config, { scope: 'read' });
    const header = decodeProtectedHeader(access_token);
    assert.equal(header.alg, 'ES256');
    assert.equal(typeof header.kid, 'string', 'kid in the JWT header');
    const { payload, protectedHeader } = await jwtVerify(access_token, jwks, {
      issuer,
      audience: issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.typ.toLowerCase().replace(/^application\//, ''), 'at+jwt');
    assert.equal(payload.iss, issuer);
    assert.equal(payload.sub, CLIENT_ID);
    assert.equal(payload.client_id, CLIENT_ID);
    assert.equal(payload.scope, 'read');
    assert.equal(typeof payload.jti, 'string');
    assert.ok(payload.jti.length > 0, 'jti is empty');
    assert.equal(typeof payload.iat, 'number');
    assert.equal(typeof payload.exp, 'number');
    assert.ok(payload.exp > payload.iat, `exp ${payload.exp} > iat ${payload.iat}`);
    assert.deepEqual([payload.aud].flat(), [issuer]);
  });

  it('resource parameter (RFC 8707) sets the audience', async () => {
    const config = await discover();
    const { access_token } = await client.clientCredentialsGrant(config, { scope: 'read', resource: API });
    const { payload } = await jwtVerify(access_token, jwks, {
      issuer,
      audience: API,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.deepEqual([payload.aud].flat(), [API]);
    assert.equal(payload.sub, CLIENT_ID);
  });

  it('each token has its own jti', async () => {
    const config = await discover();
    const a = await client.clientCredentialsGrant(config, { scope: 'read' });
    const b = await client.clientCredentialsGrant(config, { scope: 'read' });
    const ja = (await jwtVerify(a.access_token, jwks, { issuer, audience: issuer })).payload.jti;
    const jb = (await jwtVerify(b.access_token, jwks, { issuer, audience: issuer })).payload.jti;
    assert.notEqual(ja, jb);
  });
});

describe('errors (RFC 6749 §5.2) as openid-client surfaces them', () => {
  it('wrong secret: 401 invalid_client with a WWW-Authenticate challenge', async () => {
    const config = await discover('not-the-secret');
    const err = await rejection(() => client.clientCredentialsGrant(config, { scope: 'read' }));
    // openid-client 6 (oauth4webapi 3) checks WWW-Authenticate before the
    // body: a 401 carrying the challenge surfaces as
    // WWWAuthenticateChallengeError, whose response still holds the §5.2 body.
    // Without the header it would be a ResponseBodyError instead.
    assert.ok(
      err instanceof client.WWWAuthenticateChallengeError,
      `expected WWWAuthenticateChallengeError (401 + WWW-Authenticate: Basic), got ${err?.constructor?.name}: ${err?.message}` +
        (err instanceof client.ResponseBodyError ? ` [error=${err.error}, status=${err.status}; WWW-Authenticate header missing?]` : ''),
    );
    assert.equal(err.status, 401);
    assert.ok(
      err.cause.some((c) => c.scheme === 'basic'),
      `challenge schemes: ${JSON.stringify(err.cause)}`,
    );
    const body = await err.response.json();
    assert.equal(body.error, 'invalid_client', JSON.stringify(body));
  });

  it('wrong secret: raw response is 401, WWW-Authenticate: Basic, JSON invalid_client', async () => {
    const md = await getJson('/.well-known/oauth-authorization-server');
    const res = await fetch(md.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:not-the-secret`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
    });
    const text = await res.text();
    assert.equal(res.status, 401, text);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic\b/i, 'WWW-Authenticate');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/i);
    const body = JSON.parse(text);
    assert.equal(body.error, 'invalid_client');
    if (body.error_description !== undefined) assert.equal(typeof body.error_description, 'string');
  });

  it('unknown scope: invalid_scope', async () => {
    const config = await discover();
    const err = await rejection(() => client.clientCredentialsGrant(config, { scope: 'admin' }));
    assertOAuthError(err, { error: 'invalid_scope', status: 400 });
  });

  it('resource not allowed for the client: invalid_target (RFC 8707)', async () => {
    const config = await discover();
    const err = await rejection(() =>
      client.clientCredentialsGrant(config, { scope: 'read', resource: 'https://evil.example' }),
    );
    assertOAuthError(err, { error: 'invalid_target', status: 400 });
  });
});

describe('JWKS', () => {
  let keys;
  before(async () => {
    const md = await getJson('/.well-known/openid-configuration');
    const res = await fetch(md.jwks_uri);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const jwks = JSON.parse(text);
    assert.ok(Array.isArray(jwks.keys), 'keys is an array');
    keys = jwks.keys;
  });

  it('every key has a unique kid', () => {
    assert.ok(keys.length > 0, 'at least one key');
    const kids = keys.map((k) => k.kid);
    for (const kid of kids) assert.equal(typeof kid, 'string', `kid: ${kid}`);
    assert.equal(new Set(kids).size, kids.length, `duplicate kid in ${kids}`);
  });

  it('no private key material is published', () => {
    for (const k of keys) {
      for (const m of PRIVATE_JWK_MEMBERS) {
        assert.equal(k[m], undefined, `key ${k.kid} has private member "${m}"`);
      }
    }
  });

  it('has an EC P-256 ES256 key and an RSA RS256 key', () => {
    const ec = keys.find((k) => k.kty === 'EC' && k.crv === 'P-256' && k.alg === 'ES256');
    const rsa = keys.find((k) => k.kty === 'RSA' && k.alg === 'RS256');
    assert.ok(ec, `no EC P-256 key with alg ES256 in ${JSON.stringify(keys)}`);
    assert.ok(rsa, `no RSA key with alg RS256 in ${JSON.stringify(keys)}`);
  });

  it('every key imports with jose as a public key', async () => {
    for (const k of keys) {
      const key = await importJWK(k, k.alg);
      assert.equal(key.type, 'public', `key ${k.kid}`);
    }
  });
});
