// Trusted issuers (issue 14): the support tool already holds a JWT access
// token from the company IdP — a real node `oidc-provider` (lib/upstream.mjs)
// issuing RFC 9068 tokens for resource `urn:behalf:api` (aud `behalf`) with a
// `groups` claim — and presents it to behalf: as Bearer token on the agent API
// and as `actor_token` in token exchange (RFC 8693) by the behalf client
// `support-console`. jose decodes the delegated token; `rs` introspects it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';

import { startServer, startPostgresPair } from '../lib/server.mjs';
import { startUpstream, supportTool } from '../lib/upstream.mjs';
import { api, describeApi } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm } from '../lib/account.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_ID_TYPE = 'urn:behalf:params:oauth:token-type:grant_id';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
const ALICE_PASSWORD = 'alice-password-1';
const TOOL_SECRET = 'support-tool-secret-0123456789abcdef';
const HOUR = 3600;
const SHORT_TTL = 2; // seconds, the short-lived resource's access tokens
const LEEWAY_MS = 60_000; // the contract's exp leeway

const RESOURCES = {
  'urn:behalf:api': { audience: 'behalf', scope: 'behalf', accessTokenTTL: 600 },
  'urn:other:api': { audience: 'other', scope: 'other', accessTokenTTL: 600 },
  'urn:behalf:short': { audience: 'behalf', scope: 'behalf-short', accessTokenTTL: SHORT_TTL },
};
const ACCOUNTS = {
  'idp-bob': { preferred_username: 'bob', email: 'bob@acme.test', name: 'Bob Support', groups: ['support'], team: 'EMEA' },
  'idp-norm': { preferred_username: 'norm', email: 'norm@acme.test', groups: ['staff'] },
};

let dir;
let file;
let server;
let U; // the trusted IdP
let X; // an IdP behalf does not trust
let C; // trusted, but its jwks_uri is a server that never answers
let hole; // that server
const secrets = {}; // behalf client id -> secret
let bobIdpToken;
let shortToken; // from urn:behalf:short, issued in before()
let grantId;
let requestId;

function config({ u, c }) {
  return `[[trusted_issuer]]
issuer = "${u}"
audience = "behalf"
clients = ["support-console"]
agent_claim = "groups"
agent_values = ["support"]

[[trusted_issuer]]
issuer = "${c.issuer}"
jwks_uri = "${c.jwks}"
audience = "behalf"
clients = ["support-console"]
`;
}

async function addClient(cli, id) {
  const out = await cli([
    'client', 'add', id, '--first-party', '--generate-secret',
    '--redirect-uri', `http://127.0.0.1:9/${id}-cb`,
    '--grant-type', 'authorization_code',
    '--grant-type', TOKEN_EXCHANGE,
    '--scope', 'openid', '--scope', 'agent', '--scope', 'read', '--scope', 'write',
  ]);
  const registered = JSON.parse(out);
  assert.equal(typeof registered.client_secret, 'string', `behalf client add ${id} prints a secret`);
  return registered.client_secret;
}

/** POST /token as behalf client `clientId` (client_secret_basic); resolves to {status, json, text}. */
async function tokenRequest(baseUrl, clientId, params, secret = secrets[clientId]) {
  const res = await fetch(new URL('/token', baseUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(params),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function exchange(actorToken, { baseUrl = server.baseUrl, clientId = 'support-console', grant = grantId, actorType = JWT_TYPE } = {}) {
  return tokenRequest(baseUrl, clientId, {
    grant_type: TOKEN_EXCHANGE,
    subject_token: grant,
    subject_token_type: GRANT_ID_TYPE,
    actor_token: actorToken,
    actor_token_type: actorType,
    scope: 'read',
  });
}

async function introspect(baseUrl, token) {
  const res = await tokenRequestAt(baseUrl, '/introspect', 'rs', { token });
  return res;
}
async function tokenRequestAt(baseUrl, path, clientId, params) {
  const res = await fetch(new URL(path, baseUrl), {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secrets[clientId]}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

function assertRefused(res, what) {
  assert.equal(res.status, 400, `${what}: the support tool must get HTTP 400; got ${res.status} ${res.text}`);
  assert.equal(res.json?.error, 'invalid_request', `${what}: error must be invalid_request; got ${res.text}`);
  assert.equal(typeof res.json.error_description, 'string', `${what}: an error_description says why; got ${res.text}`);
  assert.equal(res.json.access_token, undefined, `${what}: no token is issued`);
}

/** A loopback TCP server that accepts connections and never answers. */
async function blackHole() {
  const sockets = new Set();
  const srv = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: srv.address().port,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

/** Bob (IdP token as Bearer) asks alice; alice approves on /account. Resolves to {requestId, grantId, request}. */
async function approvedGrant(baseUrl, issuer, token) {
  const created = await api(baseUrl, token, 'POST', '/api/access-requests', {
    subject: 'alice', scope: 'read', duration: HOUR, reason: 'Export job fails for the customer', ticket: 'SUP-1414',
  });
  assert.equal(created.status, 201, `the agent API must take the IdP's JWT as Bearer token: ${describeApi(created)}`);
  const browser = await signInToAccount(baseUrl, 'alice', ALICE_PASSWORD);
  await submitAccountForm(browser, `/account/requests/${created.json.id}/approve`, { duration: HOUR, scope: ['read'] });
  const read = await api(baseUrl, token, 'GET', `/api/access-requests/${encodeURIComponent(created.json.id)}`);
  assert.equal(read.status, 200, describeApi(read));
  assert.equal(read.json.status, 'approved', describeApi(read));
  assert.equal(typeof read.json.grant_id, 'string', describeApi(read));
  const grant = await api(baseUrl, token, 'GET', `/api/grants/${encodeURIComponent(read.json.grant_id)}`);
  assert.equal(grant.status, 200, `the agent reads the grant with the IdP token: ${describeApi(grant)}`);
  return { requestId: created.json.id, grantId: read.json.grant_id, request: read.json, grant: grant.json };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'behalf-trusted-'));
  const tool = supportTool({ clientSecret: TOOL_SECRET });
  U = await startUpstream({ clients: [tool], accounts: ACCOUNTS, resources: RESOURCES });
  X = await startUpstream({ clients: [tool], accounts: ACCOUNTS, resources: RESOURCES });
  C = await startUpstream({ clients: [tool], accounts: ACCOUNTS, resources: RESOURCES });
  hole = await blackHole();
  file = join(dir, 'behalf.toml');
  await writeFile(file, config({ u: U.issuer, c: { issuer: C.issuer, jwks: `http://127.0.0.1:${hole.port}/jwks` } }));
  server = await startServer({ name: 'trusted_issuer', env: { BEHALF_CONFIG: file } });
  await server.cli(['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'], { stdin: `${ALICE_PASSWORD}\n` });
  for (const id of ['support-console', 'other-tool']) secrets[id] = await addClient(server.cli, id);
  secrets.rs = JSON.parse(await server.cli(['client', 'add', 'rs', '--generate-secret'])).client_secret;
  bobIdpToken = (await U.accessToken('idp-bob')).access_token;
  shortToken = (await U.accessToken('idp-bob', { resource: 'urn:behalf:short' })).access_token;
});

after(async () => {
  await server?.stop();
  for (const p of [U, X, C]) await p?.stop();
  await hole?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the IdP token as the agent', () => {
  const state = {};

  it('the IdP issued bob a JWT access token for behalf (aud behalf, groups support)', () => {
    const claims = decodeJwt(bobIdpToken);
    assert.equal(claims.iss, U.issuer);
    assert.equal(claims.aud, 'behalf');
    assert.equal(claims.sub, 'idp-bob');
    assert.deepEqual(claims.groups, ['support']);
    assert.equal(decodeProtectedHeader(bobIdpToken).typ, 'at+jwt');
  });

  it('the agent API takes it as Bearer token; bob is created at first use; alice approves', async () => {
    const got = await approvedGrant(server.baseUrl, server.issuer, bobIdpToken);
    grantId = got.grantId;
    requestId = got.requestId;
    // The contract does not say how the account made at first use is named
    // (the IdP's access token has no preferred_username): find it by the
    // request's agent_username.
    const name = got.grant.agent_username;
    assert.equal(typeof name, 'string', `the grant names its agent's local username: ${JSON.stringify(got.grant)}`);
    const bob = JSON.parse(await server.cli(['user', 'show', name]));
    assert.equal(bob.agent, true, `the local account made at first use is an agent: ${JSON.stringify(bob)}`);
    assert.deepEqual((bob.identities ?? []).map((i) => [i.issuer, i.subject]), [[U.issuer, 'idp-bob']], `it is linked to the IdP's sub: ${JSON.stringify(bob)}`);
    assert.equal(got.grant.agent, bob.sub, `the grant's agent is the local sub: ${JSON.stringify(got.grant)}`);
    assert.equal(got.grant.client_id, 'support-console', `the grant is bound to the token's client_id (listed in clients): ${JSON.stringify(got.grant)}`);
    state.bobSub = bob.sub;
  });

  it('support-console exchanges the grant with the IdP token as actor_token: act = {sub, iss} of the IdP', async () => {
    if (!grantId) assert.fail('an earlier step failed (no grant)');
    const res = await exchange(bobIdpToken);
    assert.equal(res.status, 200, `token exchange with the IdP's JWT as actor_token: ${res.status} ${res.text}`);
    const claims = decodeJwt(res.json.access_token);
    const alice = JSON.parse(await server.cli(['user', 'show', 'alice']));
    assert.equal(claims.sub, alice.sub, 'the delegated token is for alice');
    assert.deepEqual(claims.act, { sub: 'idp-bob', iss: U.issuer }, `act names the IdP's sub and issuer: ${JSON.stringify(claims.act)}`);
    assert.equal(claims.grant_id, grantId);
    const seen = await introspect(server.baseUrl, res.json.access_token);
    assert.equal(seen.json?.active, true, `introspection: ${JSON.stringify(seen.json)}`);
    assert.deepEqual(seen.json.act, { sub: 'idp-bob', iss: U.issuer }, `introspection shows the act: ${JSON.stringify(seen.json)}`);
    const other = await exchange(bobIdpToken, { actorType: 'urn:ietf:params:oauth:token-type:access_token' });
    assert.equal(other.status, 200, `actor_token_type access_token is accepted too: ${other.text}`);
  });

  it('the short-lived token (TTL 2 s) is accepted while fresh', async () => {
    const claims = decodeJwt(shortToken);
    assert.equal(claims.exp - claims.iat, SHORT_TTL, `the IdP made the short-lived token live ${SHORT_TTL} s`);
    const res = await exchange(shortToken);
    assert.equal(res.status, 200, `a fresh token of the short-lived resource: ${res.status} ${res.text}`);
  });
});

describe('refusals: HTTP 400 invalid_request', () => {
  it('a token for another audience', async () => {
    const t = (await U.accessToken('idp-bob', { resource: 'urn:other:api' })).access_token;
    assert.equal(decodeJwt(t).aud, 'other');
    assertRefused(await exchange(t), 'aud "other"');
  });

  it('a token of an issuer behalf does not trust', async () => {
    const t = (await X.accessToken('idp-bob')).access_token;
    assertRefused(await exchange(t), `iss ${X.issuer} (not listed)`);
  });

  it('a behalf client not in the issuer\'s clients', async () => {
    assertRefused(await exchange(bobIdpToken, { clientId: 'other-tool' }), 'client other-tool presenting the IdP token');
  });

  it('a token without the agent claim value', async () => {
    const t = (await U.accessToken('idp-norm')).access_token;
    assertRefused(await exchange(t), 'groups ["staff"]');
  });

  it('a token signed by a key the IdP never published (forged kid)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decodeJwt(bobIdpToken);
    const forged = await new SignJWT({ ...claims, jti: 'forged-1' })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'never-published' })
      .sign(privateKey);
    assertRefused(await exchange(forged), 'a token with an unknown kid');
  });

  it('JWKS down (a server that accepts and never answers): refused within 5 s', async () => {
    const t = (await C.accessToken('idp-bob')).access_token;
    const t0 = Date.now();
    const res = await exchange(t);
    const ms = Date.now() - t0;
    assertRefused(res, 'a token whose issuer JWKS never answers');
    assert.ok(ms < 5000, `the refusal must come within 5 s; took ${ms} ms`);
  });
});

describe('over a minute later', () => {
  it('the short-lived token, past its exp, is refused', async () => {
    const exp = decodeJwt(shortToken).exp * 1000;
    const lastJwks = U.requestsFor('/jwks').at(-1)?.at ?? 0;
    const until = Math.max(exp + LEEWAY_MS + 2000, lastJwks + 61_000);
    if (until > Date.now()) await sleep(until - Date.now());
    assertRefused(await exchange(shortToken), 'expired for over a minute');
  });

  it('after the IdP rotates its key, the first new-kid token is accepted after one JWKS refetch; more unknown kids fetch nothing', async () => {
    const since = Date.now();
    const kid = await U.rotateKeys();
    const t = (await U.accessToken('idp-bob')).access_token;
    assert.equal(decodeProtectedHeader(t).kid, kid);
    const res = await exchange(t);
    assert.equal(res.status, 200, `the first token with the new kid ${kid}: ${res.status} ${res.text}`);
    assert.equal(U.requestsFor('/jwks', since).length, 1, `behalf must refetch the JWKS once: ${JSON.stringify(U.requestsFor('/jwks', since))}`);
    const after = Date.now();
    const { privateKey } = await generateKeyPair('RS256');
    for (let i = 0; i < 3; i++) {
      const forged = await new SignJWT({ ...decodeJwt(t), jti: `forged-${i}` })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: `unknown-${i}` })
        .sign(privateKey);
      assertRefused(await exchange(forged), `unknown kid unknown-${i}`);
    }
    assert.equal(U.requestsFor('/jwks', after).length, 0, 'unknown kids refetch at most once a minute: no JWKS fetch right after one');
  });
});

describe('two instances on PostgreSQL', () => {
  it('exchange on A, introspect on B: the same act', async () => {
    const pair = await startPostgresPair({ name: 'trusted_issuer.pg', env: { BEHALF_CONFIG: file } });
    const saved = { ...secrets };
    try {
      await pair.cli(['user', 'add', 'alice', '--password-stdin'], { stdin: `${ALICE_PASSWORD}\n` });
      secrets['support-console'] = await addClient(pair.cli, 'support-console');
      secrets.rs = JSON.parse(await pair.cli(['client', 'add', 'rs', '--generate-secret'])).client_secret;
      const token = (await U.accessToken('idp-bob')).access_token;
      const { grantId: grant } = await approvedGrant(pair.a.baseUrl, pair.issuer, token);
      const res = await exchange(token, { baseUrl: pair.a.baseUrl, grant });
      assert.equal(res.status, 200, `exchange on A: ${res.status} ${res.text}`);
      const seen = await introspect(pair.b.baseUrl, res.json.access_token);
      assert.equal(seen.json?.active, true, `B introspects A's token as active: ${JSON.stringify(seen.json)}`);
      assert.deepEqual(seen.json.act, { sub: 'idp-bob', iss: U.issuer }, `B shows the act: ${JSON.stringify(seen.json)}`);
      assert.equal(typeof seen.json.exp, 'number', `B shows exp: ${JSON.stringify(seen.json)}`);
    } finally {
      Object.assign(secrets, saved);
      await pair.stop();
    }
  });
});
