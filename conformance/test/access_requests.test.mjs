// The agent API for access requests and grants, driven with plain fetch and
// an agent access token obtained the way a support console gets one: the
// authorization code flow with openid-client, scope `openid agent`.
// The user's answers go through the consent screen (/account) with the
// fetch browser of lib/browser.mjs; test/consent_screen.browser.test.mjs
// drives the same screen in Chromium.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../lib/server.mjs';
import { addUser, addConsole, signInForTokens, api, describeApi, timestamp } from '../lib/delegation.mjs';
import { signInToAccount, accountPage, submitAccountForm, elementWith } from '../lib/account.mjs';

const USERS = {
  alice: { password: 'alice-password-1', agent: false },
  bob: { password: 'bob-password-1', agent: true },
  carol: { password: 'carol-password-1', agent: true },
};

const HOUR = 3600;
const SEVEN_DAYS = 7 * 24 * HOUR;
const REQUEST_TTL = 24 * HOUR; // BEHALF_REQUEST_TTL_SECONDS default
const CLOCK_SLACK_MS = 60_000;

let server;
let config;
const subs = {};
const tokens = {}; // name -> access token

/** A valid request body; `overrides` replaces fields, an override of undefined removes one. */
function requestBody(overrides = {}) {
  const body = {
    subject: 'alice',
    scope: 'read write',
    duration: 2 * HOUR,
    reason: 'Customer reports a failed export; need to look at the job settings',
    ticket: 'SUP-4711',
    ...overrides,
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

const call = (token, method, path, body) => api(server.baseUrl, token, method, path, body);

/** Requests created by these tests that may still be waiting for an answer. */
const open = new Set();

/** Cancels them: an agent has one pending request per user (docs/security.md L5). */
async function cancelOpen(token = tokens.bob) {
  for (const id of open) {
    await call(token, 'DELETE', `/api/access-requests/${encodeURIComponent(id)}`);
    open.delete(id);
  }
}

/**
 * POST /api/access-requests as bob, expecting 201; returns the object. The
 * earlier requests of these tests still waiting are cancelled first.
 */
async function createRequest(overrides = {}, token = tokens.bob) {
  await cancelOpen(token);
  const res = await call(token, 'POST', '/api/access-requests', requestBody(overrides));
  assert.equal(res.status, 201, describeApi(res));
  assert.equal(typeof res.json?.id, 'string', `no id: ${describeApi(res)}`);
  open.add(res.json.id);
  return res.json;
}

function scopeSet(scope) {
  return [...new Set(String(scope ?? '').split(' ').filter(Boolean))].sort();
}

function assertJson(res) {
  assert.match(res.headers.get('content-type') ?? '', /^application\/json\b/i, `content-type: ${describeApi(res)}`);
  assert.ok(res.json !== undefined, `body is not JSON: ${describeApi(res)}`);
}

/** An error answer: status, JSON {error, error_description}. */
function assertApiError(res, status, error) {
  assert.equal(res.status, status, describeApi(res));
  assertJson(res);
  if (error) assert.equal(res.json.error, error, describeApi(res));
  assert.equal(typeof res.json.error, 'string', `error: ${describeApi(res)}`);
  assert.equal(typeof res.json.error_description, 'string', `error_description: ${describeApi(res)}`);
}

/** RFC 6750 §3: a Bearer challenge. */
function assertBearerChallenge(res) {
  const www = res.headers.get('www-authenticate');
  assert.ok(www, `no WWW-Authenticate: ${describeApi(res)}`);
  assert.match(www, /^Bearer\b/i, `WWW-Authenticate: ${www}`);
}

/** Alice approves request `id` on /account, narrowed to `duration` and `scopes`. */
async function aliceAnswers(id, decision, fields = {}) {
  const browser = await signInToAccount(server.issuer, 'alice', USERS.alice.password);
  await submitAccountForm(browser, `/account/requests/${id}/${decision}`, fields);
  return browser;
}

// ---------------------------------------------------------------------------

before(async () => {
  server = await startServer({ name: 'access_requests' });
  for (const [name, { password, agent }] of Object.entries(USERS)) subs[name] = await addUser(server, name, password, { agent });
  config = await addConsole(server);
  for (const name of ['bob', 'carol']) {
    const t = await signInForTokens(config, { username: name, password: USERS[name].password, scope: 'openid agent' });
    assert.ok(scopeSet(t.scope ?? 'openid agent').includes('agent'), `${name}'s token lacks agent: ${t.scope}`);
    tokens[name] = t.access_token;
  }
  tokens.alice = (await signInForTokens(config, { username: 'alice', password: USERS.alice.password, scope: 'openid' })).access_token;
  tokens.bobNoAgentScope = (await signInForTokens(config, { username: 'bob', password: USERS.bob.password, scope: 'openid' })).access_token;
});

after(async () => {
  await server?.stop();
});

describe('creating and reading an access request (bob)', () => {
  const state = {};

  it('POST /api/access-requests: 201 with the pending request', async () => {
    const body = requestBody();
    const before = Date.now();
    const res = await call(tokens.bob, 'POST', '/api/access-requests', body);
    assert.equal(res.status, 201, describeApi(res));
    assertJson(res);
    const r = res.json;
    assert.equal(typeof r.id, 'string', 'id');
    assert.ok(r.id.length > 0, 'id is empty');
    state.created = r; // later steps can go on even if a field below is off
    open.add(r.id);
    assert.equal(r.status, 'pending');
    assert.equal(r.subject, subs.alice, 'subject is the user\'s sub');
    assert.equal(r.subject_username, 'alice');
    assert.deepEqual(scopeSet(r.scope), ['read', 'write'], `scope: ${r.scope}`);
    assert.equal(r.duration, body.duration);
    assert.equal(r.reason, body.reason);
    assert.equal(r.ticket, body.ticket);
    const created = timestamp(r.created_at, 'created_at');
    const expires = timestamp(r.expires_at, 'expires_at');
    assert.ok(Math.abs(created - before) < CLOCK_SLACK_MS, `created_at ${r.created_at} is now`);
    assert.ok(
      Math.abs(expires - created - REQUEST_TTL * 1000) < CLOCK_SLACK_MS,
      `expires_at ${r.expires_at} is created_at + 24 h (BEHALF_REQUEST_TTL_SECONDS default)`,
    );
    assert.equal(r.grant_id, null, 'grant_id');
    assert.equal(r.grant_expires_at, null, 'grant_expires_at');
    assert.equal(r.grant_status, null, 'grant_status');
  });

  it('GET /api/access-requests/{id}: the same object', async () => {
    if (!state.created) assert.fail('an earlier step failed (no request)');
    const res = await call(tokens.bob, 'GET', `/api/access-requests/${encodeURIComponent(state.created.id)}`);
    assert.equal(res.status, 200, describeApi(res));
    assertJson(res);
    assert.deepEqual(res.json, state.created);
  });

  it('subject may be given as the sub: the answer names the same user', async () => {
    const r = await createRequest({ subject: subs.alice });
    assert.equal(r.subject, subs.alice);
    assert.equal(r.subject_username, 'alice');
  });

  it('GET of an unknown id: 404 not_found', async () => {
    const res = await call(tokens.bob, 'GET', '/api/access-requests/no-such-request');
    assertApiError(res, 404, 'not_found');
  });
});

describe('authentication of the agent API', () => {
  it('no token: 401 invalid_token with WWW-Authenticate: Bearer and a JSON error', async () => {
    for (const [method, path, body] of [
      ['POST', '/api/access-requests', requestBody()],
      ['GET', '/api/access-requests/anything', undefined],
    ]) {
      const res = await call(null, method, path, body);
      assertApiError(res, 401, 'invalid_token');
      assertBearerChallenge(res);
    }
  });

  it('a token that is not one of ours: 401 invalid_token with WWW-Authenticate: Bearer', async () => {
    const res = await call('not-a-real-token', 'POST', '/api/access-requests', requestBody());
    assertApiError(res, 401, 'invalid_token');
    assertBearerChallenge(res);
  });

  it("alice's token (no agent role, no agent scope): 401 or 403 with a JSON error and WWW-Authenticate: Bearer", async () => {
    const res = await call(tokens.alice, 'POST', '/api/access-requests', requestBody({ subject: 'bob' }));
    assert.ok([401, 403].includes(res.status), `expected 401 or 403: ${describeApi(res)}`);
    assertApiError(res, res.status, res.status === 403 ? 'insufficient_scope' : 'invalid_token');
    assertBearerChallenge(res);
  });

  it("bob's token without the agent scope: 403 insufficient_scope (beyond the brief)", async () => {
    const res = await call(tokens.bobNoAgentScope, 'POST', '/api/access-requests', requestBody());
    assertApiError(res, 403, 'insufficient_scope');
    assertBearerChallenge(res);
  });
});

describe('validation of a new access request', () => {
  it('unknown subject: 400 or 404 with a JSON error', async () => {
    const res = await call(tokens.bob, 'POST', '/api/access-requests', requestBody({ subject: 'nobody-by-that-name' }));
    assert.ok([400, 404].includes(res.status), `expected 400 or 404: ${describeApi(res)}`);
    assertApiError(res, res.status);
  });

  it('duration 0, below the minimum, or over 7 days: 400 invalid_request', async () => {
    for (const duration of [0, 59, SEVEN_DAYS + 1, -HOUR]) {
      const res = await call(tokens.bob, 'POST', '/api/access-requests', requestBody({ duration }));
      assertApiError(res, 400, 'invalid_request');
    }
  });

  it('the bounds themselves (60 s and exactly 7 days) are accepted', async () => {
    for (const duration of [60, SEVEN_DAYS]) {
      const r = await createRequest({ duration });
      assert.equal(r.duration, duration);
    }
  });

  it('missing reason: 400 invalid_request', async () => {
    const res = await call(tokens.bob, 'POST', '/api/access-requests', requestBody({ reason: undefined }));
    assertApiError(res, 400, 'invalid_request');
  });

  it('scope agent (never delegable): 400 invalid_scope', async () => {
    for (const scope of ['agent', 'read agent']) {
      const res = await call(tokens.bob, 'POST', '/api/access-requests', requestBody({ scope }));
      assertApiError(res, 400, 'invalid_scope');
    }
  });

  it('a body that is not JSON: 400 invalid_request', async () => {
    const res = await call(tokens.bob, 'POST', '/api/access-requests', '{"subject": "alice",');
    assertApiError(res, 400, 'invalid_request');
  });
});

describe('one pending request per agent and user (docs/security.md L5)', () => {
  it("a second request to alice while one waits: 409 with the pending one's id", async () => {
    const r = await createRequest();
    const res = await call(tokens.bob, 'POST', '/api/access-requests', requestBody({ duration: HOUR }));
    assertApiError(res, 409, 'invalid_request');
    assert.equal(res.json?.id, r.id, describeApi(res));
  });
});

describe("one agent can't see another's requests", () => {
  it("carol (another agent) GETs or cancels bob's request: 404, and it stays pending", async () => {
    const r = await createRequest();
    const path = `/api/access-requests/${encodeURIComponent(r.id)}`;
    assertApiError(await call(tokens.carol, 'GET', path), 404, 'not_found');
    assertApiError(await call(tokens.carol, 'DELETE', path), 404, 'not_found');
    const mine = await call(tokens.bob, 'GET', path);
    assert.equal(mine.status, 200, describeApi(mine));
    assert.equal(mine.json.status, 'pending', describeApi(mine));
  });
});

describe('cancelling a request (DELETE /api/access-requests/{id})', () => {
  it('a pending request: 200 with status cancelled; GET agrees; a second DELETE is 409', async () => {
    const r = await createRequest();
    const path = `/api/access-requests/${encodeURIComponent(r.id)}`;
    const res = await call(tokens.bob, 'DELETE', path);
    assert.equal(res.status, 200, describeApi(res));
    assertJson(res);
    assert.equal(res.json.id, r.id);
    assert.equal(res.json.status, 'cancelled');
    const read = await call(tokens.bob, 'GET', path);
    assert.equal(read.json?.status, 'cancelled', describeApi(read));
    assert.equal(read.json.grant_id, null);
    assertApiError(await call(tokens.bob, 'DELETE', path), 409);
  });

  it('a cancelled request is no longer offered to alice on /account', async () => {
    const r = await createRequest();
    assert.equal((await call(tokens.bob, 'DELETE', `/api/access-requests/${encodeURIComponent(r.id)}`)).status, 200);
    const browser = await signInToAccount(server.issuer, 'alice', USERS.alice.password);
    const page = await accountPage(browser);
    assert.ok(!page.body.includes(`/account/requests/${r.id}/approve`), 'the approve form of a cancelled request is still shown');
  });
});

describe('approval, and the agent ending its grant', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('alice approves on /account for 1 hour with read only; bob reads back approved with her limits', async () => {
    const r = await createRequest({ duration: 2 * HOUR });
    state.request = r;
    state.path = `/api/access-requests/${encodeURIComponent(r.id)}`;
    const approvedAt = Date.now();
    state.alice = await aliceAnswers(r.id, 'approve', { duration: HOUR, scope: ['read'] });
    const res = await call(tokens.bob, 'GET', state.path);
    assert.equal(res.status, 200, describeApi(res));
    const a = res.json;
    assert.equal(a.status, 'approved', describeApi(res));
    assert.equal(typeof a.grant_id, 'string', `grant_id: ${describeApi(res)}`);
    state.grantId = a.grant_id;
    assert.equal(a.grant_status, 'active');
    assert.deepEqual(scopeSet(a.scope), ['read'], `scope is what alice allowed: ${a.scope}`);
    assert.equal(a.duration, HOUR, 'duration is what alice allowed');
    const expires = timestamp(a.grant_expires_at, 'grant_expires_at');
    assert.ok(
      Math.abs(expires - approvedAt - HOUR * 1000) < CLOCK_SLACK_MS,
      `grant_expires_at ${a.grant_expires_at} is about an hour after the approval`,
    );
    for (const k of ['id', 'subject', 'subject_username', 'reason', 'ticket', 'created_at']) assert.deepEqual(a[k], r[k], k);
  });

  it('an approved request can no longer be cancelled: 409', async () => {
    need('path');
    assertApiError(await call(tokens.bob, 'DELETE', state.path), 409);
  });

  it("carol can't end bob's grant: 404", async () => {
    need('grantId');
    assertApiError(await call(tokens.carol, 'DELETE', `/api/grants/${encodeURIComponent(state.grantId)}`), 404, 'not_found');
    const read = await call(tokens.bob, 'GET', state.path);
    assert.equal(read.json?.grant_status, 'active', describeApi(read));
  });

  it('DELETE /api/grants/{id} by bob: 200 revoked; the request then shows grant_status revoked', async () => {
    need('grantId');
    const res = await call(tokens.bob, 'DELETE', `/api/grants/${encodeURIComponent(state.grantId)}`);
    assert.equal(res.status, 200, describeApi(res));
    assertJson(res);
    assert.equal(res.json.id, state.grantId);
    assert.equal(res.json.status, 'revoked');
    const read = await call(tokens.bob, 'GET', state.path);
    assert.equal(read.status, 200, describeApi(read));
    assert.equal(read.json.status, 'approved', 'the request stays approved');
    assert.equal(read.json.grant_id, state.grantId);
    assert.equal(read.json.grant_status, 'revoked', describeApi(read));
    state.revoked = true;
  });

  it('alice sees the grant ended by the agent, with no "End access now" form', async () => {
    need('revoked', 'alice');
    const page = await accountPage(state.alice);
    const grant = elementWith(page.body, 'data-grant-id', state.grantId);
    assert.ok(grant, `/account has no element with data-grant-id="${state.grantId}":\n${page.body}`);
    assert.match(grant, /data-grant-status\s*=\s*["']?revoked\b/, `grant element: ${grant}`);
    assert.ok(grant.includes('Ended by the agent'), `grant element does not say "Ended by the agent": ${grant}`);
    assert.ok(!grant.includes(`/account/grants/${state.grantId}/revoke`), `an ended grant still offers revoke: ${grant}`);
  });
});

describe('denial', () => {
  it('alice denies on /account; bob reads back denied with no grant', async () => {
    const r = await createRequest();
    await aliceAnswers(r.id, 'deny');
    const res = await call(tokens.bob, 'GET', `/api/access-requests/${encodeURIComponent(r.id)}`);
    assert.equal(res.status, 200, describeApi(res));
    assert.equal(res.json.status, 'denied', describeApi(res));
    assert.equal(res.json.grant_id, null);
    assert.equal(res.json.grant_status, null);
  });
});
