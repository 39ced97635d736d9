// The sentence on /account that says whether the user is mailed, in
// Debian's Chromium (playwright-core): on a server with [email] smtp_url,
// alice (with an address) reads the address she is mailed at and carol
// (without one) reads that she cannot be; on a server without smtp_url the
// page says it sends no mail (consent_screen.browser.test.mjs). Each page
// passes axe-core. Screenshots: artifacts/08-mail-note.png, 09-no-address.png.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { startServer } from '../lib/server.mjs';
import * as chromium from '../lib/chromium.mjs';

let server;
let browser;
let sink;

/** A mail server that takes every mail (enough SMTP for behalf's mailer). */
function startSink() {
  return new Promise((resolve) => {
    const s = net.createServer((socket) => {
      socket.write('220 sink\r\n');
      let data = false;
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString('latin1');
        let end;
        while ((end = buffered.indexOf('\r\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (data) {
            if (line === '.') { data = false; socket.write('250 taken\r\n'); }
            continue;
          }
          const verb = line.split(/[ :]/)[0].toUpperCase();
          if (verb === 'DATA') { data = true; socket.write('354 go ahead\r\n'); }
          else if (verb === 'QUIT') { socket.end('221 bye\r\n'); }
          else socket.write('250 ok\r\n');
        }
      });
      socket.on('error', () => {});
    });
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

async function addUser(name, password, email) {
  await server.cli(['user', 'add', name, ...(email ? ['--email', email] : []), '--password-stdin'], {
    stdin: `${password}\n`,
  });
}

async function accountOf(name, password) {
  const { context, page } = await chromium.openPage(browser, { timezoneId: 'UTC', locale: 'en-GB' });
  await page.goto(`${server.baseUrl}/login?return_to=/account`);
  const form = page.locator('form').filter({ has: page.locator('input[name="password"]') });
  await form.locator('input[name="username"]').fill(name);
  await form.locator('input[name="password"]').fill(password);
  const landed = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/account');
  await form.locator('button[type="submit"]').first().click();
  const response = await landed;
  await page.waitForLoadState('load');
  await chromium.assertSafePage(page, response, `${name}'s account`);
  return { context, page };
}

before(async () => {
  browser = await chromium.launchChromium();
  sink = await startSink();
  server = await startServer({
    name: 'mail_note.browser',
    env: { BEHALF_EMAIL_SMTP_URL: `smtp://127.0.0.1:${sink.address().port}` },
  });
  await addUser('alice', 'alice-password-1', 'alice@example.com');
  await addUser('carol', 'carol-password-1', null);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  sink?.close();
});

describe('the account page says whether and where the user is mailed', () => {
  it('alice reads the address she is mailed at', async () => {
    const { context, page } = await accountOf('alice', 'alice-password-1');
    const note = await page.locator('p.mail-note').innerText();
    assert.equal(
      note,
      'We email you at alice@example.com when someone asks for access and when access starts, is first used, is about to end and ends.',
    );
    await chromium.photograph(page, '08-mail-note.png');
    await context.close();
  });

  it('carol, who has no address, reads that she cannot be mailed', async () => {
    const { context, page } = await accountOf('carol', 'carol-password-1');
    assert.equal(await page.locator('p.mail-note').innerText(), "We can't email you: your account has no email address.");
    await chromium.photograph(page, '09-no-address.png');
    await context.close();
  });
});
