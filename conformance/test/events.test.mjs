// Webhooks and Security Event Tokens, checked by independent libraries
// against the real binary (docs/security.md N2, N3):
// - a webhook registered with `behalf webhook add` receives each event as a
//   POST that the Standard Webhooks reference library (npm
//   `standardwebhooks`) verifies with the printed `whsec_` secret, and a body
//   changed on the way is rejected by it;
// - a SET receiver registered with `behalf receiver add` receives a SET that
//   jose verifies (`jwtVerify` with `createRemoteJWKSet` on the `jwks_uri` of
//   `/.well-known/ssf-configuration`, `typ: secevent+jwt`, ES256, issuer,
//   audience);
// - the example resource server (examples/resource_server.rs, built by
//   `cargo build --examples`: target/debug/examples/resource_server, or
//   $BEHALF_EXAMPLE_RS), registered as a receiver too, refuses a delegated
//   token that worked a moment before within a second of alice ending the
//   grant, without introspection.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { Webhook } from 'standardwebhooks';

import { startServer, freePort } from '../lib/server.mjs';
import { addUser, addConsole, signInForTokens, api, describeApi } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm } from '../lib/account.mjs';

const RS_BIN =
  process.env.BEHALF_EXAMPLE_RS ?? new URL('../../target/debug/examples/resource_server', import.meta.url).pathname;
const AUDIENCE = 'https://api.example';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const GRANT_ID_TYPE = 'urn:behalf:params:oauth:token-type:grant_id';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const USERS = {
  alice: { password: 'alice-password-1', agent: false },
  bob: { password: 'bob-password-1', agent: true },
};

/** An HTTP endpoint on 127.0.0.1 that keeps every POST and answers `status`. */
async function endpoint(path, status) {
  const got = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === path) got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.url === path ? status : 404).end();
    });
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}${path}`,
    got,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Waits until `find()` returns something, at most `ms`. */
async function waitFor(find, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`no ${what} within ${ms} ms`);
    await sleep(20);
  }
}

/** The example resource server, trusting `issuer`, its audience AUDIENCE. */
async function startResourceServer(issuer) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, BEHALF_ISSUER: issuer, BEHALF_AUDIENCE: AUDIENCE, LISTEN: `127.0.0.1:${port}` };
  delete env.BEHALF_RS_CLIENT; // no introspection: the SET alone must end the grant here
  const child = spawn(RS_BIN, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (out.text += chunk));
  }
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', (err) => (exited = { error: err.message }));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  };
  for (let tries = 0; ; tries++) {
    if (exited) assert.fail(`${RS_BIN} ${JSON.stringify(exited)} (cargo build --examples builds it):\n${out.text}`);
    try {
      await fetch(`${url}/account`);
      break;
    } catch {
      // not listening yet
    }
    if (tries > 200) {
      await stop();
      assert.fail(`the resource server did not answer at ${url}:\n${out.text}`);
    }
    await sleep(50);
  }
  return { url, out, stop };
}

let server;
let hooks; // the webhook endpoint (answers 200)
let sets; // a SET receiver endpoint (answers 202)
let rs; // the example resource server
let secret; // the webhook's whsec_ secret
let consoleConfig;
let bob;
let ssf;

before(async () => {
  server = await startServer({ name: 'events', env: { BEHALF_DEFAULT_AUDIENCE: AUDIENCE } });
  for (const [name, { password, agent }] of Object.entries(USERS)) await addUser(server, name, password, { agent });
  consoleConfig = await addConsole(server);
  bob = (await signInForTokens(consoleConfig, { username: 'bob', password: USERS.bob.password, scope: 'openid agent' })).access_token;
  hooks = await endpoint('/hooks/behalf', 200);
  sets = await endpoint('/security-events', 202);
  rs = await startResourceServer(server.issuer);
  const added = JSON.parse(await server.cli(['webhook', 'add', hooks.url]));
  assert.match(added.id, /^wh_/);
  assert.match(added.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'whsec_ and the base64 of 32 bytes');
  secret = added.secret;
  for (const url of [sets.url, `${rs.url}/security-events`]) {
    const receiver = JSON.parse(await server.cli(['receiver', 'add', url, '--audience', AUDIENCE]));
    assert.match(receiver.id, /^rcv_/);
  }
  const res = await fetch(new URL('/.well-known/ssf-configuration', server.issuer));
  assert.equal(res.status, 200);
  ssf = await res.json();
});

after(async () => {
  await rs?.stop();
  await hooks?.stop();
  await sets?.stop();
  await server?.stop();
});

/** bob asks, alice approves on /account: the grant id. */
async function approvedGrant() {
  const created = await api(server.baseUrl, bob, 'POST', '/api/access-requests', {
    subject: 'alice',
    scope: 'read',
    duration: 3600,
    reason: 'Customer reports a failed export',
    ticket: 'SUP-4711',
  });
  assert.equal(created.status, 201, describeApi(created));
  const browser = await signInToAccount(server.issuer, 'alice', USERS.alice.password);
  await submitAccountForm(browser, `/account/requests/${created.json.id}/approve`, { duration: 3600, scope: ['read'] });
  const read = await api(server.baseUrl, bob, 'GET', `/api/access-requests/${created.json.id}`);
  assert.equal(read.status, 200, describeApi(read));
  return { grantId: read.json.grant_id, browser };
}

describe('webhooks, Security Event Tokens and a resource server that hears them', () => {
  it('publishes the SSF transmitter configuration', () => {
    assert.deepEqual(ssf, {
      spec_version: '1_0',
      issuer: server.issuer,
      jwks_uri: `${server.issuer}/jwks.json`,
      delivery_methods_supported: ['urn:ietf:rfc:8935'],
      events_supported: [SESSION_REVOKED],
    });
  });

  it('ends a grant everywhere: the resource server refuses within a second, the webhook and the SET verify', async () => {
    const { grantId, browser } = await approvedGrant();
    const exchanged = await client.genericGrantRequest(consoleConfig, TOKEN_EXCHANGE, {
      subject_token: grantId,
      subject_token_type: GRANT_ID_TYPE,
      actor_token: bob,
      actor_token_type: ACCESS_TOKEN_TYPE,
      scope: 'read',
    });
    const token = exchanged.access_token;
    const before = await fetch(`${rs.url}/account`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(before.status, 200, `the delegated token works at first: ${await before.text()}`);

    await submitAccountForm(browser, `/account/grants/${grantId}/revoke`);
    const ended = Date.now();
    let refused;
    for (;;) {
      const res = await fetch(`${rs.url}/account`, { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 401) {
        refused = await res.json();
        break;
      }
      assert.equal(res.status, 200);
      assert.ok(Date.now() - ended < 1000, `still accepted ${Date.now() - ended} ms after the end:\n${rs.out.text}`);
      await sleep(20);
    }
    assert.ok(Date.now() - ended < 1000, `refused after ${Date.now() - ended} ms`);
    assert.equal(refused.error, 'invalid_token');
    assert.match(refused.error_description, new RegExp(`grant ${grantId} has ended`));

    // The webhook: every delivery verifies with the reference library.
    const wh = new Webhook(secret);
    const endedHook = await waitFor(
      () => hooks.got.find((d) => JSON.parse(d.body).type === 'grant.ended' && JSON.parse(d.body).data.id === grantId),
      5000,
      'grant.ended webhook',
    );
    for (const type of ['access_request.created', 'access_request.approved', 'grant.created', 'grant.used']) {
      // Deliveries run side by side: their order is not the events' order.
      await waitFor(() => hooks.got.some((d) => JSON.parse(d.body).type === type), 5000, `${type} webhook`);
    }
    for (const delivery of hooks.got) {
      assert.equal(delivery.headers['content-type'], 'application/json');
      const payload = wh.verify(delivery.body, delivery.headers);
      assert.deepEqual(Object.keys(payload), ['type', 'timestamp', 'data']);
    }
    const types = hooks.got.map((d) => JSON.parse(d.body).type);
    for (const type of ['access_request.created', 'access_request.approved', 'grant.created', 'grant.used', 'grant.ended']) {
      assert.ok(types.includes(type), `${type} in ${types}`);
    }
    const payload = wh.verify(endedHook.body, endedHook.headers);
    assert.equal(payload.data.status, 'revoked');
    assert.equal(payload.data.ended_by, 'user');
    assert.match(endedHook.headers['webhook-id'], /^evt_/);
    assert.ok(Math.abs(Number(endedHook.headers['webhook-timestamp']) - Date.now() / 1000) < 10);
    const tampered = endedHook.body.replace('"revoked"', '"active"');
    assert.notEqual(tampered, endedHook.body);
    assert.throws(() => wh.verify(tampered, endedHook.headers), /signature/i);
    assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(endedHook.body, endedHook.headers));

    // The SET: jose verifies it against the JWKS the SSF configuration names.
    const set = await waitFor(() => sets.got[0], 5000, 'SET');
    assert.equal(set.headers['content-type'], 'application/secevent+jwt');
    assert.equal(set.headers.accept, 'application/json');
    assert.equal(decodeProtectedHeader(set.body).alg, 'ES256');
    const { payload: claims, protectedHeader } = await jwtVerify(set.body, createRemoteJWKSet(new URL(ssf.jwks_uri)), {
      typ: 'secevent+jwt',
      issuer: server.issuer,
      audience: AUDIENCE,
      algorithms: ['ES256'],
    });
    assert.equal(typeof protectedHeader.kid, 'string');
    assert.equal(claims.jti, endedHook.headers['webhook-id'], 'the SET and the webhook tell one event');
    assert.deepEqual(claims.sub_id, { format: 'opaque', id: grantId });
    assert.deepEqual(Object.keys(claims.events), [SESSION_REVOKED]);
    assert.equal(claims.events[SESSION_REVOKED].initiating_entity, 'user');
    assert.equal(claims.events[SESSION_REVOKED].event_timestamp, Math.floor(Date.parse(payload.timestamp) / 1000));
    await assert.rejects(
      jwtVerify(set.body, createRemoteJWKSet(new URL(ssf.jwks_uri)), { typ: 'secevent+jwt', issuer: server.issuer, audience: 'https://other.example' }),
      'another audience is refused',
    );
  });

  it('the resource server refuses a SET that does not verify and keeps accepting that grant', async () => {
    const { grantId } = await approvedGrant();
    const forged = await fetch(`${rs.url}/security-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/secevent+jwt' },
      body: 'eyJhbGciOiJub25lIiwidHlwIjoic2VjZXZlbnQrand0In0.eyJzdWJfaWQiOnt9fQ.',
    });
    assert.equal(forged.status, 400);
    const exchanged = await client.genericGrantRequest(consoleConfig, TOKEN_EXCHANGE, {
      subject_token: grantId,
      subject_token_type: GRANT_ID_TYPE,
      actor_token: bob,
      actor_token_type: ACCESS_TOKEN_TYPE,
      scope: 'read',
    });
    const res = await fetch(`${rs.url}/account`, { headers: { authorization: `Bearer ${exchanged.access_token}` } });
    assert.equal(res.status, 200);
  });
});
