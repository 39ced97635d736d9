// A deliberately misbehaving OpenID provider for behalf's upstream sign-in
// tests ([[upstream]]), on loopback, with node:http and jose: discovery,
// JWKS, an authorization endpoint that answers at once (no login page: it
// redirects straight back to the redirect_uri with a code and the state it
// was given), and a token endpoint that checks client_secret_basic and PKCE
// S256 honestly and then returns an ID token crafted per `mode`:
//
//   good            a correct ID token (RS256, published kid, iss, aud, nonce, exp)
//   wrong-nonce     nonce is not the one behalf sent
//   wrong-aud       aud is another client
//   wrong-iss       iss is another issuer
//   expired         exp (and iat) an hour in the past
//   foreign-key     signed by a key that is not in the JWKS, under the published kid
//   alg-none        an unsecured JWT (alg "none", empty signature)
//   iss-param       the callback carries iss=<another issuer> (RFC 9207), the token is good
//   token-hangs     the token endpoint takes the request and never answers (socket held open)
//   token-500       the token endpoint answers 500 with an HTML body
//   denied          the authorization endpoint answers error=access_denied
//                   with `errorDescription` (the option of setMode)
//
// Every request is recorded (`requests`), so a test can say what behalf sent.

import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

export const MODES = [
  'good',
  'wrong-nonce',
  'wrong-aud',
  'wrong-iss',
  'expired',
  'foreign-key',
  'alg-none',
  'iss-param',
  'token-hangs',
  'token-500',
  'denied',
];

const KID = 'fake-upstream-1';
const CODE_TTL_MS = 60_000;

function b64url(buf) {
  return Buffer.from(buf).toString('base64url');
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/** client_secret_basic (RFC 6749 §2.3.1): both parts form-urlencoded, then base64. */
function basicCredentials(header) {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  const dec = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: dec(decoded.slice(0, i)), secret: dec(decoded.slice(i + 1)) };
  } catch {
    return null;
  }
}

/**
 * Starts the fake provider on 127.0.0.1 (a free port).
 *
 * @param {object} opts
 * @param {string} opts.clientId the client behalf is registered as
 * @param {string} opts.clientSecret its secret
 * @param {string} opts.redirectUri the one registered redirect URI (behalf's callback)
 * @param {object} [opts.claims] the user: sub, preferred_username, name, email, ...
 * @returns {Promise<{issuer: string, setMode: (mode: string, o?: {errorDescription?: string, claims?: object}) => void,
 *   requests: {method: string, path: string, query: URLSearchParams, body: string, headers: object}[],
 *   issued: object[], close: () => Promise<void>}>}
 */
export async function startFakeUpstream({ clientId, clientSecret, redirectUri, claims = {} }) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256'); // never published
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };

  let mode = 'good';
  let errorDescription = 'The user said no.';
  let user = { sub: 'upstream-user-1', preferred_username: 'grace', name: 'Grace Hopper', email: 'grace@acme.example', ...claims };
  const codes = new Map(); // code -> { nonce, challenge, redirectUri, expires, used }
  const requests = [];
  const issued = []; // the ID token payloads handed out
  const held = new Set(); // sockets of token-hangs requests, destroyed on close

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    const body = req.method === 'POST' ? await readBody(req) : '';
    requests.push({ method: req.method, path: url.pathname, query: url.searchParams, body, headers: req.headers });
    try {
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') return discovery(res);
      if (req.method === 'GET' && url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
      if (req.method === 'GET' && url.pathname === '/authorize') return authorize(url.searchParams, res);
      if (req.method === 'POST' && url.pathname === '/token') return await token(req, new URLSearchParams(body), res);
      json(res, 404, { error: 'not_found' });
    } catch (err) {
      json(res, 500, { error: 'server_error', error_description: String(err?.message ?? err) });
    }
  });

  function discovery(res) {
    json(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code'],
      scopes_supported: ['openid', 'profile', 'email'],
      authorization_response_iss_parameter_supported: true,
    });
  }

  function authorize(q, res) {
    // An unknown client or an unregistered redirect_uri: an error page, never a redirect (RFC 6749 §4.1.2.1).
    if (q.get('client_id') !== clientId || q.get('redirect_uri') !== redirectUri) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      return res.end(`fake upstream: unknown client_id ${q.get('client_id')} or redirect_uri ${q.get('redirect_uri')}`);
    }
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const problem =
      q.get('response_type') !== 'code'
        ? 'response_type must be code'
        : !(q.get('scope') ?? '').split(' ').includes('openid')
          ? 'scope must include openid'
          : q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')
            ? 'PKCE S256 is required'
            : null;
    if (problem) {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', problem);
    } else if (mode === 'denied') {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', errorDescription);
    } else {
      const code = b64url(randomBytes(24));
      codes.set(code, {
        nonce: q.get('nonce'),
        challenge: q.get('code_challenge'),
        redirectUri: q.get('redirect_uri'),
        expires: Date.now() + CODE_TTL_MS,
        used: false,
      });
      back.searchParams.set('code', code);
    }
    back.searchParams.set('iss', mode === 'iss-param' ? 'http://127.0.0.1:9/another-issuer' : issuer);
    res.writeHead(302, { location: back.href });
    res.end();
  }

  async function token(req, form, res) {
    if (mode === 'token-hangs') {
      held.add(req.socket);
      req.socket.on('close', () => held.delete(req.socket));
      return; // never answer
    }
    if (mode === 'token-500') {
      res.writeHead(500, { 'content-type': 'text/html' });
      return res.end('<h1>Internal Server Error</h1>');
    }
    const creds = basicCredentials(req.headers.authorization);
    if (!creds || creds.id !== clientId || creds.secret !== clientSecret) {
      return json(res, 401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="fake"' });
    }
    if (form.get('grant_type') !== 'authorization_code') return json(res, 400, { error: 'unsupported_grant_type' });
    const grant = codes.get(form.get('code') ?? '');
    if (!grant || grant.used || grant.expires < Date.now()) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'The code is unknown, used or expired.' });
    }
    grant.used = true;
    if (form.get('redirect_uri') !== grant.redirectUri) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'redirect_uri differs from the authorization request.' });
    }
    const verifier = form.get('code_verifier') ?? '';
    if (b64url(createHash('sha256').update(verifier).digest()) !== grant.challenge) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed.' });
    }
    const idToken = await craftIdToken(grant.nonce);
    json(res, 200, {
      access_token: b64url(randomBytes(24)),
      token_type: 'Bearer',
      expires_in: 300,
      scope: 'openid profile email',
      id_token: idToken,
    });
  }

  async function craftIdToken(nonce) {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      ...user,
      iss: mode === 'wrong-iss' ? 'http://127.0.0.1:9/another-issuer' : issuer,
      aud: mode === 'wrong-aud' ? 'someone-else' : clientId,
      iat: mode === 'expired' ? now - 3600 : now,
      exp: mode === 'expired' ? now - 3000 : now + 300,
      auth_time: mode === 'expired' ? now - 3600 : now,
      nonce: mode === 'wrong-nonce' ? b64url(randomBytes(16)) : nonce,
    };
    issued.push(payload);
    if (mode === 'alg-none') {
      return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: KID }))}.${b64url(JSON.stringify(payload))}.`;
    }
    const key = mode === 'foreign-key' ? foreign.privateKey : privateKey;
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: KID }).sign(key);
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${server.address().port}`;

  return {
    issuer,
    get mode() {
      return mode;
    },
    setMode(next, o = {}) {
      if (!MODES.includes(next)) throw new Error(`fake upstream: unknown mode ${next}`);
      mode = next;
      if (o.errorDescription !== undefined) errorDescription = o.errorDescription;
      if (o.claims !== undefined) user = { ...user, ...o.claims };
    },
    requests,
    issued,
    async close() {
      for (const s of held) s.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
