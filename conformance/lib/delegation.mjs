// Shared set-up for the delegated-access tests: users and the first-party
// support console registered through the CLI, agent access tokens obtained
// with openid-client through the code flow (lib/browser.mjs plays the user
// agent), and a small JSON client for the agent API.

import assert from 'node:assert/strict';
import * as client from 'openid-client';

import { Browser, findForm, describe as describePage } from './browser.mjs';

export const CONSOLE = {
  clientId: 'console',
  redirectUri: 'http://127.0.0.1:9/console-cb',
  name: 'Support console',
};

/** `behalf user add NAME [--agent] --password-stdin`; returns the printed sub. */
export async function addUser(server, name, password, { agent = false } = {}) {
  const out = await server.cli(['user', 'add', name, ...(agent ? ['--agent'] : []), '--password-stdin'], {
    stdin: `${password}\n`,
  });
  assert.match(out, /^\S+\n?$/, `behalf user add ${name} must print the sub alone on one line; got ${JSON.stringify(out)}`);
  return out.trim();
}

/**
 * Registers the first-party support console with the CLI, exactly as the
 * design's walkthrough does, and returns its openid-client Configuration.
 */
export async function addConsole(server) {
  const out = await server.cli([
    'client', 'add', CONSOLE.clientId,
    '--first-party',
    '--generate-secret',
    '--redirect-uri', CONSOLE.redirectUri,
    '--grant-type', 'authorization_code',
    '--grant-type', 'urn:ietf:params:oauth:grant-type:token-exchange',
    '--scope', 'openid',
    '--scope', 'agent',
    '--scope', 'read',
    '--scope', 'write',
    '--name', CONSOLE.name,
  ]);
  let registered;
  try {
    registered = JSON.parse(out);
  } catch {
    assert.fail(`behalf client add console did not print JSON; stdout was: ${out}`);
  }
  assert.equal(registered.client_id, CONSOLE.clientId);
  assert.equal(typeof registered.client_secret, 'string', 'client_secret');
  return client.discovery(
    new URL(server.issuer),
    CONSOLE.clientId,
    undefined,
    client.ClientSecretBasic(registered.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
}

/**
 * An access token for `username` from the console through the authorization
 * code flow with PKCE: the fetch browser signs in on /login, the first-party
 * console needs no consent page, openid-client redeems the code with all its
 * checks. Resolves to openid-client's token response.
 */
export async function signInForTokens(config, { username, password, scope }) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CONSOLE.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const browser = new Browser(config.serverMetadata().issuer);
  const first = await browser.get(url);
  assert.equal(first.status, 303, `GET /authorize as ${username}: ${describePage(first)}`);
  assert.equal(first.location?.pathname, '/login', `GET /authorize as ${username}: ${describePage(first)}`);
  const page = await browser.get(first.location);
  const form = findForm(page.body, page.url, '/login');
  assert.ok(form, `no login form: ${describePage(page)}`);
  const post = await browser.post(form.action, { ...form.hidden, username, password });
  assert.equal(post.status, 303, `POST /login as ${username}: ${describePage(post)}`);
  const back = await browser.get(post.location);
  assert.equal(back.status, 303, `after login, /authorize should redirect to the console (first-party, no consent): ${describePage(back)}`);
  const callback = back.location;
  assert.equal(`${callback.origin}${callback.pathname}`, CONSOLE.redirectUri, `Location: ${back.rawLocation}`);
  assert.equal(callback.searchParams.get('error'), null, `${username} asking for "${scope}": ${callback}`);
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: scope.split(' ').includes('openid'),
  });
}

/**
 * One call to the agent API. `token` may be null (no Authorization header).
 * Resolves to {status, headers, text, json} where json is the parsed body or
 * undefined when the body is not JSON.
 */
export async function api(baseUrl, token, method, path, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(new URL(path, baseUrl), { method, headers, body: payload, redirect: 'manual' });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { method, path, status: res.status, headers: res.headers, text, json };
}

/** A short description of an API response for assertion messages. */
export function describeApi(res) {
  const www = res.headers.get('www-authenticate');
  const body = res.text.length > 600 ? `${res.text.slice(0, 600)}…` : res.text;
  return `${res.method} ${res.path} → ${res.status}${www ? ` (WWW-Authenticate: ${www})` : ''} ${body}`;
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$/;

/** Asserts an RFC 3339 UTC timestamp and returns it in milliseconds since the epoch. */
export function timestamp(value, what) {
  assert.equal(typeof value, 'string', `${what} is an RFC 3339 string, got ${JSON.stringify(value)}`);
  assert.match(value, RFC3339_UTC, `${what} is RFC 3339 in UTC`);
  const ms = Date.parse(value);
  assert.ok(Number.isFinite(ms), `${what} parses: ${value}`);
  return ms;
}
