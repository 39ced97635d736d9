// A real, independent, certified OpenID provider as behalf's upstream IdP:
// node `oidc-provider` (v9), started in-process on 127.0.0.1 with an
// in-memory adapter. The test owns its accounts (a Map it may change between
// sign-ins) and finishes every login and consent automatically through the
// provider's own interaction API (interactionDetails / Grant /
// interactionFinished), as the account it names with `nextLogin(id)`, or
// answers `access_denied` with a description it sets with `denyNext(text)`.
// devInteractions stay disabled.
//
// - Claims: sub (the account id), preferred_username, name (scope profile),
//   email (scope email), groups, team (scope groups); `conformIdTokenClaims:
//   false`, so the ID token of the code flow carries them.
// - JWT access tokens (RFC 9068) for resource indicators (RFC 8707): each
//   entry of `resources` (default `urn:behalf:api` -> aud `behalf`) with
//   `accessTokenFormat: 'jwt'`, carrying `groups` (extraTokenClaims) beside
//   oidc-provider's own `client_id`. `accessToken(accountId, ...)` obtains one
//   through an authorization code flow run by openid-client as a confidential
//   client of the provider (the "support tool").
// - `rotateKeys()` restarts the provider on the same port with a new signing
//   key (a new kid), keeping the accounts; `hang(true)` makes the port accept
//   requests and never answer; `stop()` closes it (connection refused).
// - `requests` records every request the provider received ({method, path,
//   query, at}), e.g. to count JWKS fetches or read the authorization request.
//
// `CrossBrowser` is lib/browser.mjs's Browser for several origins (one cookie
// jar each), so a test can follow a sign-in across behalf and the provider.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import Provider from 'oidc-provider';
import * as client from 'openid-client';

import { Browser, describe as describePage } from './browser.mjs';
import { freePort } from './server.mjs';

export const DEFAULT_RESOURCES = {
  'urn:behalf:api': { audience: 'behalf', scope: 'behalf', accessTokenTTL: 600 },
};

/** The provider's client metadata for behalf as relying party (client_secret_basic, code). */
export function relyingParty({ clientId = 'behalf', clientSecret, redirectUri }) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri].flat(),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

/** The provider's client metadata for the support tool that asks for JWT access tokens. */
export const SUPPORT_TOOL_REDIRECT = 'http://127.0.0.1:9/support-tool-cb';
export function supportTool({ clientId = 'support-console', clientSecret }) {
  return {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [SUPPORT_TOOL_REDIRECT],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

function signingKey() {
  const kid = `rsa-${randomBytes(6).toString('hex')}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid };
}

/**
 * Starts the provider.
 *
 * @param {object} opts
 * @param {number} [opts.port] default: a free port
 * @param {object[]} opts.clients oidc-provider client metadata (see relyingParty, supportTool)
 * @param {Record<string, object>} [opts.accounts] id -> claims (preferred_username, email, name, groups, team)
 * @param {Record<string, object>} [opts.resources] resource indicator -> {audience, scope, accessTokenTTL}
 */
export async function startUpstream({ port, clients, accounts = {}, resources = DEFAULT_RESOURCES } = {}) {
  port ??= await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const accountMap = new Map(Object.entries(accounts));
  const requests = [];
  const cookieKeys = [randomBytes(32).toString('hex')];
  let key = signingKey();
  let provider;
  let server;
  let login = null; // the account id every login finishes as
  let denial = null; // {error, error_description} for the next interaction only
  let hanging = false;
  const held = new Set();
  const interactions = [];

  function makeProvider() {
    const p = new Provider(issuer, {
      clients,
      jwks: { keys: [key] },
      cookies: { keys: cookieKeys },
      scopes: ['openid', 'profile', 'email', 'groups', ...new Set(Object.values(resources).flatMap((r) => r.scope.split(' ')))],
      claims: {
        openid: ['sub'],
        profile: ['name', 'preferred_username'],
        email: ['email', 'email_verified'],
        groups: ['groups', 'team'],
      },
      conformIdTokenClaims: false,
      pkce: { required: () => false },
      findAccount: async (_ctx, id) => {
        if (!accountMap.has(id)) return undefined;
        return {
          accountId: id,
          claims: async () => {
            const a = accountMap.get(id) ?? {};
            const out = { sub: id };
            for (const k of ['preferred_username', 'email', 'name', 'groups', 'team']) if (a[k] !== undefined) out[k] = a[k];
            if (a.email !== undefined) out.email_verified = a.email_verified ?? true;
            return out;
          },
        };
      },
      extraTokenClaims: async (_ctx, token) => {
        if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
        const a = accountMap.get(token.accountId);
        if (!a) return undefined;
        const extra = { azp: token.clientId };
        if (a.groups !== undefined) extra.groups = a.groups;
        return extra;
      },
      features: {
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx, _client, oneOf) => oneOf ?? undefined,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            const rs = resources[indicator];
            if (!rs) throw new Provider.errors.InvalidTarget();
            return { audience: rs.audience, scope: rs.scope, accessTokenTTL: rs.accessTokenTTL ?? 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      ttl: {
        Session: 3600,
        Interaction: 600,
        Grant: 3600,
        IdToken: 600,
        AuthorizationCode: 60,
        // a resource's own accessTokenTTL (e.g. a short-lived one), else 10 minutes
        AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      },
    });
    p.proxy = false;
    return p;
  }

  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    interactions.push({ prompt: prompt.name, params });
    if (denial) {
      const result = denial;
      denial = null;
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    if (prompt.name === 'login') {
      if (!login || !accountMap.has(login)) {
        return provider.interactionFinished(
          req, res,
          { error: 'access_denied', error_description: `the test named no account to sign in as (nextLogin: ${login})` },
          { mergeWithLastSubmission: false },
        );
      }
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    if (prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (missing.missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    res.statusCode = 500;
    res.end(`unexpected prompt ${prompt.name}`);
  }

  async function listen() {
    provider = makeProvider();
    const callback = provider.callback();
    server = createServer((req, res) => {
      const url = new URL(req.url, issuer);
      requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), at: Date.now() });
      if (hanging) {
        held.add(res);
        res.on('close', () => held.delete(res));
        return; // accept, never answer
      }
      if (req.method === 'GET' && /^\/interaction\/[^/]+$/.test(url.pathname)) {
        interaction(req, res).catch((err) => {
          res.statusCode = 500;
          res.end(`interaction failed: ${err.message}`);
        });
        return;
      }
      callback(req, res);
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  async function close() {
    if (!server) return;
    const s = server;
    server = null;
    for (const res of held) res.destroy();
    held.clear();
    await new Promise((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
    // Let keep-alive clients (undici here, behalf's HTTP client) see the FIN
    // before a restart on the same port, so they do not reuse a dead socket.
    await sleep(200);
  }

  await listen();

  return {
    issuer,
    port,
    accounts: accountMap,
    requests,
    interactions,
    get kid() {
      return key.kid;
    },
    get provider() {
      return provider;
    },
    /** Every login from now on finishes as this account (until changed). */
    nextLogin(accountId) {
      login = accountId;
    },
    /** The next interaction answers this error instead (default access_denied). */
    denyNext(description, error = 'access_denied') {
      denial = { error, error_description: description };
    },
    /** Accept connections and requests but never answer them (true), or answer again (false). */
    hang(on = true) {
      hanging = on;
      if (!on) {
        for (const res of held) res.destroy();
        held.clear();
      }
    },
    /** Requests received for `path` (e.g. '/jwks') since `since` (ms). */
    requestsFor(path, since = 0) {
      return requests.filter((r) => r.path === path && r.at >= since);
    },
    /** Restarts on the same port with a new signing key (new kid). Accounts stay; sessions and grants go. */
    async rotateKeys() {
      const old = key.kid;
      await close();
      key = signingKey();
      assert.notEqual(key.kid, old);
      await listen();
      return key.kid;
    },
    /** Stops answering: the port refuses connections. `start()` brings it back with the same key. */
    async stop() {
      await close();
    },
    async start() {
      if (!server) await listen();
    },
    /**
     * A JWT access token for `accountId` from the code flow of the support tool
     * (openid-client, PKCE) with `resource`: resolves to openid-client's token response.
     */
    async accessToken(accountId, { clientId = 'support-console', clientSecret, resource = 'urn:behalf:api', scope } = {}) {
      const meta = clients.find((c) => c.client_id === clientId);
      assert.ok(meta, `no upstream client ${clientId}`);
      const config = await client.discovery(
        new URL(issuer),
        clientId,
        undefined,
        client.ClientSecretBasic(clientSecret ?? meta.client_secret),
        { execute: [client.allowInsecureRequests] },
      );
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: meta.redirect_uris[0],
        scope: scope ?? `openid ${resources[resource].scope}`,
        resource,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        prompt: 'login consent',
      });
      const previous = login;
      login = accountId;
      let callback;
      try {
        const browser = new Browser(issuer);
        let page = await browser.get(url);
        for (let hop = 0; hop < 10 && page.status >= 300 && page.status < 400; hop++) {
          if (page.location.origin !== new URL(issuer).origin) {
            callback = page.location;
            break;
          }
          page = await browser.get(page.location);
        }
        assert.ok(callback, `the upstream's code flow for ${accountId} did not come back to the support tool: ${describePage(page)}`);
      } finally {
        login = previous;
      }
      assert.equal(callback.searchParams.get('error'), null, `the upstream refused the support tool's code flow: ${callback}`);
      return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource });
    },
  };
}

/**
 * A user agent for several origins: one lib/browser.mjs Browser (cookie jar)
 * per origin, redirects never followed automatically (`follow` does it hop by
 * hop and returns every hop).
 */
export class CrossBrowser {
  constructor() {
    /** @type {Map<string, Browser>} */
    this.jars = new Map();
  }

  jar(url) {
    const origin = new URL(url).origin;
    if (!this.jars.has(origin)) this.jars.set(origin, new Browser(origin));
    return this.jars.get(origin);
  }

  cookie(url, name) {
    return this.jar(url).cookie(name);
  }

  request(url, opts) {
    return this.jar(url).request(url, opts);
  }

  get(url, opts = {}) {
    return this.jar(url).get(url, opts);
  }

  post(url, form, opts = {}) {
    return this.jar(url).post(url, form, opts);
  }

  /**
   * GETs `url` and follows 3xx Location headers (across origins) until a
   * non-redirect answer, `stopAt(url)` says to stop before requesting it,
   * or `max` hops. Resolves to {last, hops, stoppedAt}: `stoppedAt` is the
   * URL not requested, when stopAt said so.
   */
  async follow(url, { max = 20, stopAt = () => false } = {}) {
    const hops = [];
    let next = new URL(url);
    for (let i = 0; i < max; i++) {
      if (stopAt(next)) return { last: hops.at(-1), hops, stoppedAt: next };
      const page = await this.get(next);
      hops.push(page);
      if (page.status < 300 || page.status >= 400 || !page.location) return { last: page, hops, stoppedAt: null };
      next = page.location;
    }
    throw new Error(`more than ${max} redirects from ${url}: ${hops.map((h) => `${h.status} ${h.url}`).join(' -> ')}`);
  }
}

/** The hops of a `follow` for assertion messages. */
export function describeHops(hops) {
  return hops.map((h) => `${h.status} ${h.url.origin}${h.url.pathname}${h.rawLocation ? ` -> ${h.rawLocation.slice(0, 160)}` : ''}`).join('\n');
}
