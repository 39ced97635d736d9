import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import { startUpstream, relyingParty, supportTool, CrossBrowser, describeHops } from '../lib/upstream.mjs';

const rpRedirect = 'http://127.0.0.1:9/login/upstream/acme/callback';
const up = await startUpstream({
  clients: [relyingParty({ clientSecret: 'rp-secret-0123456789abcdef0123', redirectUri: rpRedirect }), supportTool({ clientSecret: 'st-secret-0123456789abcdef0123' })],
  accounts: { 'u-bob': { preferred_username: 'bob', email: 'bob@acme.test', name: 'Bob B', groups: ['support'], team: 'emea' } },
});
console.log('issuer', up.issuer, 'kid', up.kid);
const config = await client.discovery(new URL(up.issuer), 'behalf', undefined, client.ClientSecretBasic('rp-secret-0123456789abcdef0123'), { execute: [client.allowInsecureRequests] });
async function rpFlow() {
  const verifier = client.randomPKCECodeVerifier(); const state = client.randomState(); const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, { redirect_uri: rpRedirect, scope: 'openid profile email groups', state, nonce, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const b = new CrossBrowser();
  const { hops, stoppedAt } = await b.follow(url, { stopAt: (u) => u.port === '9' });
  console.log(describeHops(hops));
  return { stoppedAt, verifier, state, nonce };
}
up.nextLogin('u-bob');
let f = await rpFlow();
const tok = await client.authorizationCodeGrant(config, f.stoppedAt, { pkceCodeVerifier: f.verifier, expectedState: f.state, expectedNonce: f.nonce });
console.log('id token claims', tok.claims());
up.denyNext('<b>no</b> way');
f = await rpFlow();
console.log('denied callback', f.stoppedAt.href);
const at = await up.accessToken('u-bob');
console.log('AT header', decodeProtectedHeader(at.access_token), decodeJwt(at.access_token));
const jwks = createRemoteJWKSet(new URL(`${up.issuer}/jwks`));
await jwtVerify(at.access_token, jwks, { issuer: up.issuer, audience: 'behalf' });
const newKid = await up.rotateKeys();
const at2 = await up.accessToken('u-bob');
assert.equal(decodeProtectedHeader(at2.access_token).kid, newKid);
console.log('jwks fetches', up.requestsFor('/jwks').length, 'rotated to', newKid);
up.hang(true);
const t0 = Date.now();
await fetch(`${up.issuer}/jwks`, { signal: AbortSignal.timeout(500) }).catch((e) => console.log('hang ok', e.name, Date.now() - t0));
up.hang(false);
await up.stop();
await fetch(`${up.issuer}/jwks`).catch((e) => console.log('stopped ok', e.cause?.code));
console.log('OK');
