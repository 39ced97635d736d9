// The upstream sign-in pages in Chromium (playwright-core), photographed at
// 1280×800 and 390×844 with axe-core finding nothing: the sign-in page with
// a "Sign in with Fake IdP" button beside the password form, the page with
// password_login = false (the button only), and two failure pages reached
// by clicking the button: the IdP refusing with an HTML-bearing description
// (shown literally), and the IdP's token endpoint down (500).
// Screenshots: artifacts/50-upstream-login.png, 51-upstream-only.png,
// 52-upstream-denied.png, 53-upstream-down.png (and -phone.png).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer, freePort } from '../lib/server.mjs';
import { startFakeUpstream } from '../lib/fake_upstream.mjs';
import * as chromium from '../lib/chromium.mjs';

const NAME = 'Fake IdP';
let browser;
let dir;
const started = []; // servers and fakes to stop

/** behalf with one [[upstream]] "fake" (a fake provider of its own) and password_login as given. */
async function behalfWithUpstream(passwordLogin, name) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const fake = await startFakeUpstream({ clientId: 'behalf', clientSecret: 's', redirectUri: `${issuer}/login/upstream/fake/callback` });
  started.push(fake);
  const config = join(dir, `${name}.toml`);
  await writeFile(config, `password_login = ${passwordLogin}

[[upstream]]
id = "fake"
name = "${NAME}"
issuer = "${fake.issuer}"
client_id = "behalf"
client_secret = "s"
`);
  const server = await startServer({ name, port, env: { BEHALF_CONFIG: config, BEHALF_LISTEN: `127.0.0.1:${port}`, BEHALF_ISSUER: issuer } });
  started.push(server);
  return { server, fake };
}

let withPassword;
let buttonOnly;

before(async () => {
  browser = await chromium.launchChromium();
  dir = await mkdtemp(join(tmpdir(), 'behalf-upstream-pages-'));
  withPassword = await behalfWithUpstream(true, 'upstream_pages.password');
  buttonOnly = await behalfWithUpstream(false, 'upstream_pages.button_only');
});

after(async () => {
  await browser?.close();
  for (const s of started.reverse()) await (s.stop ?? s.close).call(s);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the upstream sign-in pages, as a person sees them', () => {
  it('the sign-in page offers "Sign in with Fake IdP" beside the password form', async () => {
    const { context, page } = await chromium.openPage(browser, { timezoneId: 'UTC', locale: 'en-GB' });
    const res = await page.goto(`${withPassword.server.baseUrl}/login?return_to=/account`);
    assert.equal(res.status(), 200, 'the sign-in page');
    const button = page.getByRole('link', { name: `Sign in with ${NAME}` });
    assert.equal(await button.count(), 1, 'one "Sign in with Fake IdP" link');
    assert.equal(await button.getAttribute('href'), '/login/upstream/fake?return_to=%2Faccount', 'the link carries return_to');
    assert.equal(await page.locator('input[name="password"]').count(), 1, 'the password field is there');
    await chromium.photograph(page, '50-upstream-login.png');
    await context.close();
  });

  it('with password_login = false the page has the button only', async () => {
    const { context, page } = await chromium.openPage(browser, { timezoneId: 'UTC', locale: 'en-GB' });
    const res = await page.goto(`${buttonOnly.server.baseUrl}/login?return_to=/account`);
    assert.equal(res.status(), 200, 'the sign-in page');
    assert.equal(await page.getByRole('link', { name: `Sign in with ${NAME}` }).count(), 1, 'the button');
    assert.equal(await page.locator('input[name="password"]').count(), 0, 'no password field');
    await chromium.photograph(page, '51-upstream-only.png');
    await context.close();
  });

  it('the IdP refusing: its words shown literally, never as markup', async () => {
    const description = 'Access is <b>not</b> allowed for <script>alert(1)</script> you';
    withPassword.fake.setMode('denied', { errorDescription: description });
    const { context, page, dialogs } = await chromium.openPage(browser, { timezoneId: 'UTC', locale: 'en-GB' });
    await page.goto(`${withPassword.server.baseUrl}/login?return_to=/account`);
    const landed = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/upstream/fake/callback');
    await page.getByRole('link', { name: `Sign in with ${NAME}` }).click();
    const res = await landed;
    await page.waitForLoadState('load');
    assert.equal(res.status(), 400, 'the failure page status');
    assert.equal((await page.locator('h1').innerText()).trim(), `${NAME} did not sign you in`, 'the heading');
    assert.ok((await page.locator('body').innerText()).includes(`${NAME} said: ${description}`), 'the description is shown as literal text');
    assert.equal(await page.locator('main b, body b').count(), 0, 'no <b> element came from the description');
    assert.equal(await page.getByRole('link', { name: 'Try again' }).count(), 1, 'a "Try again" link');
    assert.deepEqual(dialogs, [], 'no script from the description ran');
    await chromium.photograph(page, '52-upstream-denied.png');
    await context.close();
  });

  it('the IdP down (its token endpoint answers 500): "Fake IdP cannot be reached"', async () => {
    withPassword.fake.setMode('token-500');
    const { context, page } = await chromium.openPage(browser, { timezoneId: 'UTC', locale: 'en-GB' });
    await page.goto(`${withPassword.server.baseUrl}/login?return_to=/account`);
    const landed = page.waitForResponse((r) => new URL(r.url()).pathname === '/login/upstream/fake/callback');
    await page.getByRole('link', { name: `Sign in with ${NAME}` }).click();
    const res = await landed;
    await page.waitForLoadState('load');
    assert.equal(res.status(), 502, 'the failure page status');
    assert.equal((await page.locator('h1').innerText()).trim(), `${NAME} cannot be reached`, 'the heading');
    assert.ok((await page.locator('body').innerText()).includes('Please try again in a few minutes.'), 'the sentence');
    assert.equal(await page.getByRole('link', { name: 'Try again' }).count(), 1, 'a "Try again" link');
    await chromium.photograph(page, '53-upstream-down.png');
    await context.close();
  });
});
