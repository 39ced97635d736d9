// Token exchange (RFC 8693), token introspection (RFC 7662) and token
// revocation (RFC 7009) for delegated access, driven by independent clients:
// openid-client is the support console (genericGrantRequest with the
// token-exchange grant, tokenRevocation) and the resource server `rs`
// (tokenIntrospection); jose verifies the delegated access tokens as RFC 9068
// JWTs against the published JWKS.
//
// Set-up follows the walkthrough: bob (an agent) holds an agent token from the
// first-party console, files an access request for alice, alice approves it on
// /account (fetch browser, lib/account.mjs), and the console exchanges the
// grant id plus bob's token for a short-lived token for alice with act.sub =
// bob.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeJwt } from 'jose';

import { startServer } from '../lib/server.mjs';
import { addUser, addConsole, signInForTokens, api, describeApi } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm } from '../lib/account.mjs';

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_ID_TYPE = 'urn:behalf:params:oauth:token-type:grant_id';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const REFRESH_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const DELEGATED_TTL = 300; // BEHALF delegated_token_ttl_seconds default

const USERS = {
  alice: { password: 'alice-password-1', agent: false },
  bob: { password: 'bob-password-1', agent: true },
  carol: { password: 'carol-password-1', agent: true },
};
const HOUR = 3600;

let server;
let issuer;
let consoleConfig; // the first-party support console (client_secret_basic)
let rsConfig; // the resource server `rs` (confidential; introspects)
let jwks;
const subs = {}; // name -> sub printed by `behalf user add`
const tokens = {}; // name -> agent access token (openid agent)
let grantId; // the grant alice approved for bob (read write, 1 hour)

const call = (token, method, path, body) => api(server.baseUrl, token, method, path, body);

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
function assertOAuthError(err, error, status = 400) {
  assert.ok(
    err instanceof client.ResponseBodyError,
    `expected ResponseBodyError, got ${err?.constructor?.name}: ${err?.message} ${JSON.stringify(err?.cause)}`,
  );
  assert.equal(err.error, error, `error code (error_description: ${err.error_description})`);
  assert.equal(err.status, status, `HTTP status (error_description: ${err.error_description})`);
  if (err.error_description !== undefined) assert.equal(typeof err.error_description, 'string');
}

/** The token-exchange parameters of the walkthrough; `overrides` replaces, undefined removes. */
function exchangeParams(overrides = {}) {
  const params = {
    subject_token: grantId,
    subject_token_type: GRANT_ID_TYPE,
    actor_token: tokens.bob,
    actor_token_type: ACCESS_TOKEN_TYPE,
    scope: 'read',
    ...overrides,
  };
  for (const k of Object.keys(params)) if (params[k] === undefined) delete params[k];
  return params;
}

/** The console exchanges a grant for a delegated token (openid-client). */
function exchange(overrides = {}, config = consoleConfig) {
  return client.genericGrantRequest(config, TOKEN_EXCHANGE, exchangeParams(overrides));
}

/** rs introspects a token (openid-client). */
function introspect(token) {
  return client.tokenIntrospection(rsConfig, token);
}

/** Bob files a request for alice; alice approves it on /account. Resolves to the grant id. */
async function approvedGrant({ scope = ['read', 'write'], duration = HOUR } = {}) {
  const created = await call(tokens.bob, 'POST', '/api/access-requests', {
    subject: 'alice',
    scope: 'read write',
    duration,
    reason: 'Customer reports a failed export; need to look at the job settings',
    ticket: 'SUP-4711',
  });
  assert.equal(created.status, 201, describeApi(created));
  const id = created.json.id;
  const browser = await signInToAccount(issuer, 'alice', USERS.alice.password);
  await submitAccountForm(browser, `/account/requests/${id}/approve`, { duration, scope });
  const read = await call(tokens.bob, 'GET', `/api/access-requests/${encodeURIComponent(id)}`);
  assert.equal(read.status, 200, describeApi(read));
  assert.equal(read.json.status, 'approved', describeApi(read));
  assert.equal(typeof read.json.grant_id, 'string', `grant_id: ${describeApi(read)}`);
  assert.equal(read.json.grant_status, 'active', describeApi(read));
  return read.json.grant_id;
}

// ---------------------------------------------------------------------------

before(async () => {
  server = await startServer({ name: 'token_exchange' });
  issuer = server.issuer;
  for (const [name, { password, agent }] of Object.entries(USERS)) subs[name] = await addUser(server, name, password, { agent });
  consoleConfig = await addConsole(server);

  const out = await server.cli(['client', 'add', 'rs', '--generate-secret']);
  let rs;
  try {
    rs = JSON.parse(out);
  } catch {
    assert.fail(`behalf client add rs did not print JSON; stdout was: ${out}`);
  }
  assert.equal(rs.client_id, 'rs');
  assert.equal(typeof rs.client_secret, 'string', 'client_secret of rs');
  rsConfig = await client.discovery(new URL(issuer), 'rs', undefined, client.ClientSecretBasic(rs.client_secret), {
    execute: [client.allowInsecureRequests],
  });
  jwks = createRemoteJWKSet(new URL(consoleConfig.serverMetadata().jwks_uri));

  for (const name of ['bob', 'carol']) {
    const t = await signInForTokens(consoleConfig, { username: name, password: USERS[name].password, scope: 'openid agent' });
    tokens[name] = t.access_token;
  }
  grantId = await approvedGrant();
});

after(async () => {
  await server?.stop();
});

describe('discovery', () => {
  it('advertises the token-exchange grant, introspection_endpoint and revocation_endpoint', async () => {
    const md = consoleConfig.serverMetadata();
    assert.ok(Array.isArray(md.grant_types_supported), 'grant_types_supported is an array');
    assert.ok(md.grant_types_supported.includes(TOKEN_EXCHANGE), `grant_types_supported: ${md.grant_types_supported}`);
    assert.equal(typeof md.introspection_endpoint, 'string', 'introspection_endpoint');
    assert.equal(typeof md.revocation_endpoint, 'string', 'revocation_endpoint');
    for (const k of ['introspection_endpoint', 'revocation_endpoint']) {
      assert.equal(new URL(md[k]).origin, new URL(issuer).origin, `${k} is on the issuer: ${md[k]}`);
    }
    // RFC 8414 metadata agrees with OIDC Discovery.
    const res = await fetch(new URL('/.well-known/oauth-authorization-server', issuer));
    assert.equal(res.status, 200);
    const oauth = await res.json();
    assert.equal(oauth.introspection_endpoint, md.introspection_endpoint);
    assert.equal(oauth.revocation_endpoint, md.revocation_endpoint);
    assert.ok(oauth.grant_types_supported?.includes(TOKEN_EXCHANGE), `RFC 8414 grant_types_supported: ${oauth.grant_types_supported}`);
  });
});

describe('token exchange (RFC 8693)', () => {
  const state = {};

  it("bob's agent token names bob", () => {
    const claims = decodeJwt(tokens.bob);
    assert.equal(claims.sub, subs.bob, "sub of bob's token is the sub printed by `behalf user add bob`");
    assert.equal(claims.act, undefined, "bob's own token has no act");
    state.bobSub = claims.sub;
  });

  it('the console exchanges grant id + agent token: a short-lived Bearer access token, scope read, no refresh token', async () => {
    const res = await exchange();
    assert.equal(typeof res.access_token, 'string', 'access_token');
    assert.equal(res.issued_token_type, ACCESS_TOKEN_TYPE, 'issued_token_type');
    assert.equal(res.token_type, 'bearer', 'token_type (openid-client lower-cases it)');
    assert.equal(typeof res.expires_in, 'number', 'expires_in');
    assert.ok(res.expires_in > 0 && res.expires_in <= DELEGATED_TTL, `expires_in: ${res.expires_in}`);
    assert.equal(res.scope, 'read', 'scope');
    assert.equal(res.refresh_token, undefined, 'no refresh token (RFC 8693 §2.2.1)');
    assert.equal(res.id_token, undefined, 'no ID token');
    state.token = res.access_token;
  });

  it('the delegated token verifies with jose as an RFC 9068 JWT: sub alice, act.sub bob, grant_id, client_id', async () => {
    if (!state.token) assert.fail('an earlier step failed (no delegated token)');
    const { payload, protectedHeader } = await jwtVerify(state.token, jwks, {
      issuer,
      audience: issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, subs.alice, 'sub is alice');
    assert.equal(typeof payload.act, 'object', 'act claim');
    assert.equal(payload.act.sub, state.bobSub ?? subs.bob, 'act.sub is bob (from his token)');
    assert.equal(payload.grant_id, grantId, 'grant_id');
    assert.equal(payload.client_id, 'console', 'client_id');
    assert.equal(payload.scope, 'read', 'scope');
    assert.equal(typeof payload.iat, 'number', 'iat');
    assert.equal(typeof payload.exp, 'number', 'exp');
    assert.ok(payload.exp - payload.iat > 0 && payload.exp - payload.iat <= DELEGATED_TTL, `exp - iat = ${payload.exp - payload.iat}`);
    assert.equal(typeof payload.jti, 'string', 'jti');
    assert.ok(payload.jti.length > 0, 'jti is empty');
  });

  it('each exchange mints a new token (distinct jti)', async () => {
    if (!state.token) assert.fail('an earlier step failed (no delegated token)');
    const again = await exchange();
    assert.notEqual(decodeJwt(again.access_token).jti, decodeJwt(state.token).jti);
  });

  describe('introspection (RFC 7662) by the resource server', () => {
    it('the delegated token: active with act.sub, grant_id, client_id, scope, exp, sub, username, token_type', async () => {
      if (!state.token) assert.fail('an earlier step failed (no delegated token)');
      const info = await introspect(state.token);
      assert.equal(info.active, true, JSON.stringify(info));
      assert.equal(info.sub, subs.alice, 'sub');
      assert.equal(info.username, 'alice', 'username');
      assert.equal(info.act?.sub, subs.bob, `act: ${JSON.stringify(info.act)}`);
      assert.equal(info.grant_id, grantId, 'grant_id');
      assert.equal(info.client_id, 'console', 'client_id');
      assert.equal(info.scope, 'read', 'scope');
      assert.equal(info.exp, decodeJwt(state.token).exp, 'exp');
      assert.equal(info.token_type, 'Bearer', 'token_type');
    });

    it("bob's own agent token: active, no act", async () => {
      const info = await introspect(tokens.bob);
      assert.equal(info.active, true, JSON.stringify(info));
      assert.equal(info.sub, subs.bob, 'sub');
      assert.equal(info.username, 'bob', 'username');
      assert.equal(info.client_id, 'console', 'client_id');
      assert.equal(info.act, undefined, `act: ${JSON.stringify(info.act)}`);
      assert.equal(info.grant_id, undefined, 'grant_id');
    });

    it('garbage: exactly {active: false}', async () => {
      for (const token of ['garbage', 'eyJhbGciOiJub25lIn0.e30.', `${tokens.bob.slice(0, -4)}AAAA`]) {
        assert.deepEqual({ ...(await introspect(token)) }, { active: false }, `token ${token.slice(0, 30)}…`);
      }
    });
  });

  describe('errors (RFC 8693 §2.2.2, RFC 6749 §5.2)', () => {
    it("a scope wider than the grant ('read admin'): invalid_scope", async () => {
      assertOAuthError(await rejection(() => exchange({ scope: 'read admin' })), 'invalid_scope');
    });

    it('requested_token_type refresh_token: invalid_request', async () => {
      assertOAuthError(await rejection(() => exchange({ requested_token_type: REFRESH_TOKEN_TYPE })), 'invalid_request');
    });

    it('an unknown subject_token (grant id): invalid_request', async () => {
      assertOAuthError(await rejection(() => exchange({ subject_token: 'no-such-grant' })), 'invalid_request');
    });

    it('the delegated token as actor_token: invalid_request', async () => {
      if (!state.token) assert.fail('an earlier step failed (no delegated token)');
      assertOAuthError(await rejection(() => exchange({ actor_token: state.token })), 'invalid_request');
    });

    it("carol's agent token as actor (the grant is bob's): invalid_request", async () => {
      assertOAuthError(await rejection(() => exchange({ actor_token: tokens.carol })), 'invalid_request');
    });

    it("audience 'https://evil.example': invalid_target", async () => {
      assertOAuthError(await rejection(() => exchange({ audience: 'https://evil.example' })), 'invalid_target');
    });

    it('no client authentication (raw fetch): 401 invalid_client', async () => {
      const endpoint = consoleConfig.serverMetadata().token_endpoint;
      for (const extra of [{}, { client_id: 'console' }]) {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ grant_type: TOKEN_EXCHANGE, ...exchangeParams(), ...extra }),
        });
        const text = await res.text();
        assert.equal(res.status, 401, `${JSON.stringify(extra)}: ${res.status} ${text}`);
        assert.equal(JSON.parse(text).error, 'invalid_client', text);
      }
    });
  });
});

describe('revocation (RFC 7009)', () => {
  it('the console revokes its delegated token: 200, then introspection says {active: false}', async () => {
    const { access_token: token } = await exchange();
    assert.equal((await introspect(token)).active, true, 'active before revocation');
    // openid-client resolves only on 200 (processRevocationResponse).
    assert.equal(await client.tokenRevocation(consoleConfig, token), undefined);
    assert.deepEqual({ ...(await introspect(token)) }, { active: false });
    // bob's agent token is untouched, and the grant still exchanges.
    assert.equal((await introspect(tokens.bob)).active, true, "bob's token stays active");
    const next = await exchange();
    assert.equal((await introspect(next.access_token)).active, true, 'a new exchange still works');
  });

  it("rs revoking the console's token: 200, but the token stays active (a client revokes only its own, §2.1)", async () => {
    const { access_token: token } = await exchange();
    assert.equal(await client.tokenRevocation(rsConfig, token), undefined);
    const info = await introspect(token);
    assert.equal(info.active, true, `after rs tried to revoke it: ${JSON.stringify(info)}`);
  });

  it('revoking garbage: 200', async () => {
    assert.equal(await client.tokenRevocation(consoleConfig, 'garbage'), undefined);
  });
});

describe('ending the grant ends every delegated token minted under it', () => {
  /** Mints two delegated tokens under `grant`, checks them active, runs `end`, checks the aftermath. */
  async function endAndCheck(grant, end) {
    const minted = [
      (await exchange({ subject_token: grant, scope: 'read' })).access_token,
      (await exchange({ subject_token: grant, scope: 'read write' })).access_token,
    ];
    for (const t of minted) {
      const info = await introspect(t);
      assert.equal(info.active, true, `before the grant ends: ${JSON.stringify(info)}`);
      assert.equal(info.grant_id, grant);
    }
    await end();
    for (const [i, t] of minted.entries()) {
      assert.deepEqual({ ...(await introspect(t)) }, { active: false }, `delegated token #${i + 1} after the grant ended`);
    }
    assertOAuthError(await rejection(() => exchange({ subject_token: grant })), 'invalid_request');
    // The agent's own token is not affected.
    assert.equal((await introspect(tokens.bob)).active, true, "bob's agent token stays active");
  }

  it('alice clicks "End access now" on /account', async () => {
    const grant = await approvedGrant();
    await endAndCheck(grant, async () => {
      const browser = await signInToAccount(issuer, 'alice', USERS.alice.password);
      await submitAccountForm(browser, `/account/grants/${grant}/revoke`);
    });
  });

  it('bob ends it: DELETE /api/grants/{id}', async () => {
    const grant = await approvedGrant();
    await endAndCheck(grant, async () => {
      const res = await call(tokens.bob, 'DELETE', `/api/grants/${encodeURIComponent(grant)}`);
      assert.equal(res.status, 200, describeApi(res));
      assert.equal(res.json?.status, 'revoked', describeApi(res));
    });
  });

  it('the walkthrough grant ended by alice: its live token stops and it no longer exchanges', async () => {
    const { access_token: token } = await exchange();
    assert.equal((await introspect(token)).active, true);
    const browser = await signInToAccount(issuer, 'alice', USERS.alice.password);
    await submitAccountForm(browser, `/account/grants/${grantId}/revoke`);
    assert.deepEqual({ ...(await introspect(token)) }, { active: false });
    assertOAuthError(await rejection(() => exchange()), 'invalid_request');
  });
});
