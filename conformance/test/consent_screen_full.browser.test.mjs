// A full consent screen in Chromium (lib/chromium.mjs), as a screen reader
// reads it, and an app withdrawn from it.
//
// Alice signs in to a third-party app, "Photo Printer", through the code flow
// (openid-client builds the request and redeems the code; Chromium is the
// browser) and allows it on the app-consent page. Agents from two teams file
// requests over the API and alice answers some of them with the fetch browser
// (lib/account.mjs): one grant active, one ended, one request denied, one
// waiting. That page is photographed for docs/ (BEHALF_DOCS_SCREENSHOTS=1
// copies it to docs/consent-screen.png and docs/consent-screen-phone.png).
// Two more requests wait then (one without a ticket), and the accessibility
// tree (Playwright's ariaSnapshot, checked against Chromium's own tree over
// the DevTools protocol) must give every button a name of its own that says
// which request, grant or app it acts on, and read every time as words; the
// same checks must catch a planted duplicate, a planted button that names
// nothing, and a planted raw ISO time, as axe-core must catch a planted image
// without alt text. Last, alice presses "Withdraw" under "Apps you allowed":
// the notice says so and has the focus, the app's refresh token is
// invalid_grant, its access token introspects inactive, and the app must ask
// again.
//
// Screenshots land in artifacts/ (11-app-consent.png, 12-consent-screen.png,
// 13-app-withdrawn.png, each also -phone.png), the screen reader's view in
// artifacts/12-account.aria.yml.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import * as client from 'openid-client';

import { startServer } from '../lib/server.mjs';
import { addConsole, signInForTokens, api, describeApi } from '../lib/delegation.mjs';
import { signInToAccount, submitAccountForm } from '../lib/account.mjs';
import * as chromium from '../lib/chromium.mjs';

const ALICE = { username: 'alice', password: 'alice-password-1' };
const AGENTS = {
  bob: { password: 'bob-password-1', team: 'Billing support' },
  carol: { password: 'carol-password-1', team: 'Billing support' },
  dave: { password: 'dave-password-1', team: 'Account security' },
};
const APP = { clientId: 'photos', name: 'Photo Printer', redirectUri: 'http://127.0.0.1:9/photos-cb' };
// What an approval reaches, as a deployment would name it (the default is the issuer).
const AUDIENCE = 'https://files.example.com';
const HOUR = 3600;
const TIME_ZONE = 'Europe/Berlin';
const LOCALE = 'en-GB';
// As behalf.js words a local time, and as the server words UTC (labels, no script).
const LOCAL_TIME = new Intl.DateTimeFormat(LOCALE, {
  year: 'numeric', month: 'long', day: 'numeric',
  hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: TIME_ZONE,
});
const UTC_TIME = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC',
});
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d/;
// The requests still waiting once all are filed (keys of `filed`).
const WAITING = ['SUP-4502', 'carol without a ticket', 'SEC-5001'];
const DOCS_DIR = new URL('../../docs/', import.meta.url).pathname;

let server;
let browser;
let page;
let appConfig;
const tokens = {}; // agent -> access token (openid agent)
const filed = {}; // ticket (or a name for one without) -> the request as the API answered

// ---------------------------------------------------------------------------
// The screen reader's view

/** The words under a node of Playwright's ariaSnapshotJSON tree. */
function textOf(node) {
  if (typeof node === 'string') return node;
  if (!node || typeof node !== 'object') return '';
  if (Array.isArray(node)) return node.map(textOf).join(' ');
  return [node.text ?? '', ...(node.children ?? []).map(textOf)].filter(Boolean).join(' ');
}

/**
 * Every button of the tree with the card (region) it sits in: the region's
 * name and the facts its description list reads out (Agent, Ticket, Asked…).
 */
function buttonsOf(tree) {
  const buttons = [];
  const walk = (node, card) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => walk(n, card));
    let here = card;
    if (node.role === 'region') {
      const facts = {};
      let term;
      for (const child of node.children ?? []) {
        if (child?.role === 'term') term = textOf(child).trim();
        else if (child?.role === 'definition' && term) facts[term] = textOf(child).trim();
      }
      here = { name: node.name ?? '', facts };
    }
    if (node.role === 'button') buttons.push({ name: (node.name ?? '').trim(), card: here });
    for (const child of node.children ?? []) walk(child, here);
  };
  walk(tree, null);
  return buttons;
}

/** Every time element of the tree, as read out. */
function timesOf(tree) {
  const times = [];
  const walk = (node) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    if (node.role === 'time') times.push(textOf(node).trim());
    for (const child of node.children ?? []) walk(child);
  };
  walk(tree);
  return times;
}

/**
 * What a screen-reader user could not tell apart or place: a button name
 * heard twice, and a button in a card that does not name the card's agent
 * and its ticket (or, without one, a time), or for an app card the app.
 */
function namingProblems(buttons) {
  const problems = [];
  const seen = new Map();
  for (const b of buttons) seen.set(b.name, (seen.get(b.name) ?? 0) + 1);
  for (const [name, n] of seen) if (n > 1) problems.push(`${n} buttons are named "${name}"`);
  for (const { name, card } of buttons) {
    if (!name) problems.push('a button without a name');
    if (!card) continue; // Sign out, and the page's own forms: their names are unique above
    const agent = card.facts.Agent?.split(',')[0].trim();
    if (agent === undefined) {
      if (!name.includes(card.name)) problems.push(`"${name}" does not name the app of its card "${card.name}"`);
      continue;
    }
    if (!name.includes(agent)) problems.push(`"${name}" does not name the agent of its card (${agent})`);
    const ticket = card.facts.Ticket;
    if (ticket && !name.includes(ticket)) problems.push(`"${name}" does not name the ticket of its card (${ticket})`);
    if (!ticket && !/\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d/.test(name)) {
      problems.push(`"${name}" names neither a ticket nor a time (card "${card.name}")`);
    }
  }
  return problems;
}

/** Times that are not read out as words: empty, or a raw ISO string. */
function timeProblems(times) {
  const problems = [];
  for (const t of times) {
    if (!t) problems.push('a time read out as nothing');
    else if (ISO_TIME.test(t)) problems.push(`a time read out raw: "${t}"`);
    else if (!/^\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d \S+$/.test(t)) problems.push(`a time not in words: "${t}"`);
  }
  return problems;
}

/** Chromium's own accessibility tree (DevTools protocol): the names of its buttons and disclosures, and every text it exposes. */
async function chromiumTree() {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const shown = nodes.filter((n) => !n.ignored);
    const names = (role) => shown.filter((n) => n.role?.value === role).map((n) => String(n.name?.value ?? '').trim());
    return {
      buttons: names('button'),
      disclosures: names('DisclosureTriangle'), // each <summary>: "What was done (n) under …"

      texts: shown.flatMap((n) => [n.name?.value, n.description?.value, n.value?.value].filter((v) => typeof v === 'string')),
    };
  } finally {
    await cdp.detach();
  }
}

/** The accessible name of the one button in the form whose action is `path`. */
async function buttonNameOf(path) {
  const button = page.locator(`form[action="${path}"] button`);
  assert.equal(await button.count(), 1, `no single button in form ${path}`);
  const [node] = await button.ariaSnapshotJSON();
  return node?.name ?? '';
}

/** The time a label words for a request filed at `iso`: local as on screen, or UTC as the server writes it. */
function timeWords(iso) {
  const when = new Date(iso);
  const p = Object.fromEntries(UTC_TIME.formatToParts(when).map(({ type, value }) => [type, value]));
  return [LOCAL_TIME.format(when), `${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} UTC`];
}

// ---------------------------------------------------------------------------
// Set-up

async function fileRequest(agent, body) {
  const res = await api(server.baseUrl, tokens[agent], 'POST', '/api/access-requests', { subject: ALICE.username, ...body });
  assert.equal(res.status, 201, describeApi(res));
  filed[body.ticket ?? `${agent} without a ticket`] = { ...res.json, agent };
  return res.json;
}

async function grantOf(agent, requestId) {
  const res = await api(server.baseUrl, tokens[agent], 'GET', `/api/access-requests/${encodeURIComponent(requestId)}`);
  assert.equal(res.status, 200, describeApi(res));
  assert.equal(typeof res.json.grant_id, 'string', describeApi(res));
  return res.json.grant_id;
}

/** A fresh authorization request of the app, built by openid-client. */
async function appRequest() {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(appConfig, {
    redirect_uri: APP.redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, verifier, state, nonce };
}

before(async () => {
  browser = await chromium.launchChromium();
  server = await startServer({ name: 'consent_screen_full.browser', env: { BEHALF_DEFAULT_AUDIENCE: AUDIENCE } });
  await server.cli(['user', 'add', ALICE.username, '--password-stdin'], { stdin: `${ALICE.password}\n` });
  for (const [name, { password, team }] of Object.entries(AGENTS)) {
    await server.cli(['user', 'add', name, '--agent', '--team', team, '--password-stdin'], { stdin: `${password}\n` });
  }
  const console_ = await addConsole(server);
  for (const [name, { password }] of Object.entries(AGENTS)) {
    tokens[name] = (await signInForTokens(console_, { username: name, password, scope: 'openid agent' })).access_token;
  }
  const registered = JSON.parse(await server.cli([
    'client', 'add', APP.clientId,
    '--generate-secret',
    '--redirect-uri', APP.redirectUri,
    '--grant-type', 'authorization_code',
    '--grant-type', 'refresh_token',
    '--scope', 'openid',
    '--scope', 'profile',
    '--name', APP.name,
  ]));
  appConfig = await client.discovery(
    new URL(server.issuer),
    APP.clientId,
    undefined,
    client.ClientSecretBasic(registered.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  ({ page } = await chromium.openPage(browser, { timezoneId: TIME_ZONE, locale: LOCALE }));
  // The app's redirect_uri answers in the browser without a server behind it.
  await page.route(`${APP.redirectUri}**`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html><title>${APP.name}</title><p>Signed in.</p>` }),
  );
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------

describe('a full consent screen in Chromium, as a screen reader reads it, and an app withdrawn', () => {
  const state = {};
  const need = (...keys) => {
    for (const k of keys) if (state[k] === undefined) assert.fail(`an earlier step failed (no ${k})`);
  };

  it('alice signs in to Photo Printer through the code flow and allows it on the consent page', async () => {
    const req = await appRequest();
    const atLogin = await page.goto(req.url.href);
    assert.equal(new URL(atLogin.url()).pathname, '/login', `the app's request leads to ${atLogin.url()}`);
    const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
    await form.locator('input[name="username"]').fill(ALICE.username);
    await form.locator('input[name="password"]').fill(ALICE.password);
    const consent = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/authorize');
    await form.locator('button[type="submit"]').click();
    assert.equal((await consent).status(), 200, 'after sign-in the app-consent page');
    await page.waitForLoadState('load');
    assert.equal(await page.getByRole('heading', { level: 1, name: `Allow ${APP.name} to use your account?` }).count(), 1);
    await chromium.photograph(page, '11-app-consent.png');

    const callback = page.waitForRequest((r) => r.url().startsWith(`${APP.redirectUri}?`));
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    const back = new URL((await callback).url());
    const got = await client.authorizationCodeGrant(appConfig, back, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });
    assert.equal(typeof got.refresh_token, 'string', 'the app gets a refresh token');
    state.appTokens = got;
  });

  it('set-up: one grant ended, one request denied, one grant active for 1 hour, one request waiting', async () => {
    const fb = await signInToAccount(server.baseUrl, ALICE.username, ALICE.password);
    const first = await fileRequest('bob', {
      scope: 'read', duration: HOUR, ticket: 'SUP-4470',
      reason: 'Customer asked why last month\'s card payment failed',
    });
    await submitAccountForm(fb, `/account/requests/${first.id}/approve`, { scope: ['read'], duration: HOUR });
    const ended = await grantOf('bob', first.id);
    await submitAccountForm(fb, `/account/grants/${ended}/revoke`);
    const refund = await fileRequest('carol', {
      scope: 'read write', duration: 4 * HOUR, ticket: 'SUP-4488',
      reason: 'Refund for a double charge: I need to see the order history',
    });
    await submitAccountForm(fb, `/account/requests/${refund.id}/deny`);
    const active = await fileRequest('bob', {
      scope: 'read write', duration: 2 * HOUR, ticket: 'SUP-4471',
      reason: 'Invoices from March are missing from the download page',
    });
    await submitAccountForm(fb, `/account/requests/${active.id}/approve`, { scope: ['read'], duration: HOUR });
    state.activeGrant = await grantOf('bob', active.id);
    await fileRequest('bob', {
      scope: 'read write', duration: 2 * HOUR, ticket: 'SUP-4502',
      reason: 'The invoice export stops halfway; I would check the export settings and run it again',
    });
    state.setUp = true;
  });

  it('the consent screen: a request waiting, a grant with its time left, the app, the history (docs/consent-screen.png)', async () => {
    need('setUp');
    const res = await page.goto(`${server.baseUrl}/account`);
    await chromium.assertSafePage(page, res, 'GET /account');
    const waiting = page.locator(`[data-request-id="${filed['SUP-4502'].id}"]`);
    const text = await waiting.innerText();
    assert.ok(text.includes('SUP-4502') && text.includes('The invoice export stops halfway'), `the waiting request: ${text}`);
    assert.match(await page.locator(`[data-grant-id="${state.activeGrant}"]`).innerText(), /\bleft\b/, 'the time left');
    assert.equal(await page.locator(`[data-app-id="${APP.clientId}"]`).count(), 1, 'the app alice allowed');
    const history = await page.locator('.card.ended').allInnerTexts();
    assert.ok(history.some((t) => t.includes('SUP-4470') && t.includes('Ended by you')), `history: ${history}`);
    assert.ok(history.some((t) => t.includes('SUP-4488') && t.includes('Denied by you')), `history: ${history}`);
    const shot = await chromium.photograph(page, '12-consent-screen.png');
    if (process.env.BEHALF_DOCS_SCREENSHOTS === '1') {
      await copyFile(shot.desktop, `${DOCS_DIR}consent-screen.png`);
      await copyFile(shot.phone, `${DOCS_DIR}consent-screen-phone.png`);
    }
    state.photographed = true;
  });

  it('set-up: carol (without a ticket) and dave file requests too: three wait', async () => {
    need('photographed');
    await fileRequest('carol', {
      scope: 'read', duration: HOUR,
      reason: 'The customer asked for a call back about the refund',
    });
    await fileRequest('dave', {
      scope: 'read', duration: 30 * 60, ticket: 'SEC-5001',
      reason: 'Account locked after a password change',
    });
    const res = await page.goto(`${server.baseUrl}/account`);
    await chromium.assertSafePage(page, res, 'GET /account');
    assert.equal(await page.locator('[data-request-id]').count(), 3, 'three requests wait');
    state.full = true;
  });

  it('the screen reader\'s view: every button has a name of its own that says which request, grant or app', async () => {
    need('full');
    const main = page.locator('main');
    await writeFile(`${chromium.ARTIFACTS_DIR}12-account.aria.yml`, await main.ariaSnapshot());
    const buttons = buttonsOf(await main.ariaSnapshotJSON());
    // Sign out, Approve and Deny × 3, End access now, Withdraw, and the page's own form.
    assert.ok(buttons.length >= 10, `only ${buttons.length} buttons: ${buttons.map((b) => b.name).join(' | ')}`);
    assert.deepEqual(namingProblems(buttons), [], buttons.map((b) => b.name).join('\n'));

    // Each button's name is that of what its form acts on.
    for (const key of WAITING) {
      const r = filed[key];
      const names = [
        await buttonNameOf(`/account/requests/${r.id}/approve`),
        await buttonNameOf(`/account/requests/${r.id}/deny`),
      ];
      for (const [verb, name] of [['Approve', names[0]], ['Deny', names[1]]]) {
        assert.ok(name.startsWith(verb) && name.includes(r.agent), `${key}: "${name}" (${verb}, ${r.agent})`);
        if (r.ticket) assert.ok(name.includes(r.ticket), `${key}: "${name}" does not name ${r.ticket}`);
        else assert.ok(timeWords(r.created_at).some((t) => name.includes(t)), `${key}: "${name}" does not name ${timeWords(r.created_at)}`);
      }
    }
    const end = await buttonNameOf(`/account/grants/${state.activeGrant}/revoke`);
    assert.ok(end.includes('bob') && end.includes('SUP-4471'), `End access now: "${end}"`);
    const withdraw = await buttonNameOf(`/account/apps/${APP.clientId}/withdraw`);
    assert.ok(withdraw.startsWith('Withdraw') && withdraw.includes(APP.name), `Withdraw: "${withdraw}"`);

    // Chromium's own tree, the one a screen reader gets, names the buttons the same.
    const own = await chromiumTree();
    assert.deepEqual([...own.buttons].sort(), buttons.map((b) => b.name).sort(), 'Chromium names the buttons otherwise');
    // And each "What was done" disclosure says under which grant.
    assert.equal(own.disclosures.length, 2, `disclosures: ${own.disclosures.join(' | ')}`);
    assert.equal(new Set(own.disclosures).size, own.disclosures.length, `disclosures named alike: ${own.disclosures.join(' | ')}`);
    for (const ticket of ['SUP-4471', 'SUP-4470']) {
      assert.ok(own.disclosures.some((d) => d.includes(`bob's access (${ticket})`)), `no disclosure names ${ticket}: ${own.disclosures.join(' | ')}`);
    }
  });

  it('times are read out as words in the viewer\'s zone, never as raw ISO strings', async () => {
    need('full');
    const main = page.locator('main');
    const times = timesOf(await main.ariaSnapshotJSON());
    assert.ok(times.length >= 8, `only ${times.length} times read out`);
    assert.deepEqual(timeProblems(times), []);
    const shown = await page.locator('time[datetime]').evaluateAll((els) =>
      els.filter((e) => e.checkVisibility()).map((e) => [e.getAttribute('datetime'), e.textContent.trim()]),
    );
    for (const [datetime, text] of shown) assert.equal(text, LOCAL_TIME.format(new Date(datetime)), `<time datetime="${datetime}">`);
    assert.ok(!ISO_TIME.test(await main.ariaSnapshot()), 'the snapshot reads out a raw ISO time');
    const raw = (await chromiumTree()).texts.filter((t) => ISO_TIME.test(t));
    assert.deepEqual(raw, [], 'Chromium exposes a raw ISO time');
  });

  it('the checks can fail: a planted duplicate, a nameless button, a raw time and an image without alt are caught', async () => {
    need('full');
    const main = page.locator('main');
    const bobs = `[data-request-id="${filed['SUP-4502'].id}"]`;
    await page.evaluate((sel) => {
      const card = document.querySelector(sel);
      document.querySelector('main').append(card.cloneNode(true));
      const plain = document.createElement('button');
      plain.textContent = 'Approve';
      card.append(plain);
      const time = document.createElement('time');
      time.setAttribute('datetime', '2026-12-01T19:41:00Z');
      time.textContent = '2026-12-01T19:41:00Z';
      card.append(time);
      const img = document.createElement('img');
      img.src = '/static/none.png';
      card.append(img);
    }, bobs);
    const tree = await main.ariaSnapshotJSON();
    const naming = namingProblems(buttonsOf(tree));
    assert.ok(naming.some((p) => p.startsWith('2 buttons are named "Approve bob\'s request (SUP-4502)"')), naming.join('\n'));
    assert.ok(naming.some((p) => p === '"Approve" does not name the agent of its card (bob)'), naming.join('\n'));
    const timing = timeProblems(timesOf(tree));
    assert.deepEqual(timing, ['a time read out raw: "2026-12-01T19:41:00Z"']);
    const axe = await chromium.axeViolations(page);
    assert.ok(axe.some((v) => v.startsWith('image-alt')), `axe-core: ${axe.join('; ')}`);
    await chromium.assertSafePage(page, await page.goto(`${server.baseUrl}/account`), 'GET /account');
  });

  it('before the withdrawal the app\'s refresh token works (and rotates)', async () => {
    need('appTokens');
    const refreshed = await client.refreshTokenGrant(appConfig, state.appTokens.refresh_token);
    assert.equal(typeof refreshed.refresh_token, 'string');
    state.appTokens = refreshed;
  });

  it('alice presses "Withdraw" under "Apps you allowed": the notice says so and has the focus', async () => {
    need('appTokens', 'full');
    await chromium.assertSafePage(page, await page.goto(`${server.baseUrl}/account`), 'GET /account');
    const card = page.locator(`[data-app-id="${APP.clientId}"]`);
    assert.equal(await card.count(), 1, 'the app is listed');
    const section = page.getByRole('heading', { level: 2, name: 'Apps you allowed' });
    assert.equal(await section.count(), 1, 'the "Apps you allowed" heading');
    const withdraw = card.getByRole('button', { name: 'Withdraw' });
    await card.scrollIntoViewIfNeeded();
    await chromium.submitAndReturn(page, withdraw, `/account/apps/${APP.clientId}/withdraw`, 'withdraw');
    await chromium.assertNotice(page, `You withdrew ${APP.name}'s access. It must ask you again.`, 'withdraw');
    assert.equal(await page.locator(`[data-app-id="${APP.clientId}"]`).count(), 0, 'the withdrawn app is still listed');
    assert.equal(await page.getByText('You have not allowed any app to use your account.').count(), 1);
    await chromium.photograph(page, '13-app-withdrawn.png');
    state.withdrawn = true;
  });

  it('the app\'s refresh token is then invalid_grant, and its access token introspects inactive', async () => {
    need('withdrawn');
    let refused;
    try {
      await client.refreshTokenGrant(appConfig, state.appTokens.refresh_token);
    } catch (err) {
      refused = err;
    }
    assert.ok(refused instanceof client.ResponseBodyError, `the refresh was not refused as an OAuth error: ${refused}`);
    assert.equal(refused.error, 'invalid_grant', `error_description: ${refused.error_description}`);
    const introspected = await client.tokenIntrospection(appConfig, state.appTokens.access_token);
    assert.equal(introspected.active, false, JSON.stringify(introspected));
  });

  it('the app must ask again: its next sign-in shows the consent page', async () => {
    need('withdrawn');
    const req = await appRequest();
    const res = await page.goto(req.url.href);
    assert.equal(res.status(), 200, `the app's request: ${res.status()} at ${res.url()}`);
    assert.equal(await page.getByRole('heading', { level: 1, name: `Allow ${APP.name} to use your account?` }).count(), 1);
  });
});
