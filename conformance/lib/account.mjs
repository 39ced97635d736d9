// The consent screen (/account) driven with the fetch browser of
// lib/browser.mjs, for tests that need a user's answer without a real
// browser: sign in, find the form of one request or grant, submit it the way
// a browser would (hidden inputs plus the user's choices), and expect the
// post/redirect/get 303 back to /account.

import assert from 'node:assert/strict';

import { Browser, findForm, describe as describePage } from './browser.mjs';

/** A Browser signed in as `username` through /login?return_to=/account. */
export async function signInToAccount(issuer, username, password) {
  const browser = new Browser(issuer);
  const page = await browser.get(new URL('/login?return_to=/account', issuer));
  assert.equal(page.status, 200, `GET /login?return_to=/account: ${describePage(page)}`);
  const form = findForm(page.body, page.url, '/login');
  assert.ok(form, `no <form action="/login">: ${describePage(page)}`);
  const post = await browser.post(form.action, { ...form.hidden, username, password });
  assert.equal(post.status, 303, `POST /login as ${username}: ${describePage(post)}`);
  assert.equal(post.location?.pathname, '/account', `POST /login returns to /account: ${describePage(post)}`);
  return browser;
}

/** GET /account; asserts a 200 page. */
export async function accountPage(browser) {
  const page = await browser.get(new URL('/account', browser.origin));
  assert.equal(page.status, 200, `GET /account: ${describePage(page)}`);
  return page;
}

/**
 * Submits the /account form whose action is `path`, with its hidden inputs
 * plus `fields` (a value may be an array for a repeated name, e.g. scope).
 * Asserts 303 to /account and returns the POST's response.
 */
export async function submitAccountForm(browser, path, fields = {}) {
  const page = await accountPage(browser);
  const form = findForm(page.body, page.url, path);
  assert.ok(form, `/account has no <form action="${path}">:\n${page.body}`);
  assert.equal(form.method, 'post', `${path}: form method`);
  const body = new URLSearchParams(form.hidden);
  for (const [name, value] of Object.entries(fields)) {
    for (const v of [value].flat()) body.append(name, String(v));
  }
  const post = await browser.post(form.action, body);
  assert.equal(post.status, 303, `POST ${path}: ${describePage(post)}`);
  assert.equal(post.location?.pathname, '/account', `POST ${path} redirects to /account: ${describePage(post)}`);
  return post;
}

/**
 * The HTML of the element carrying `attr="value"` (e.g. data-grant-id),
 * up to its matching close tag; undefined when absent. Good enough for
 * server-rendered pages whose blocks don't nest elements of the same name
 * with the same attribute.
 */
export function elementWith(html, attr, value) {
  const esc = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const open = new RegExp(`<([a-z][a-z0-9-]*)\\b[^>]*\\b${attr}\\s*=\\s*["']?${esc}["']?[^>]*>`, 'i');
  const m = open.exec(html);
  if (!m) return undefined;
  const tag = m[1].toLowerCase();
  // Walk forward counting nested tags of the same name.
  const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'gi');
  re.lastIndex = m.index + m[0].length;
  let depth = 1;
  for (let t = re.exec(html); t; t = re.exec(html)) {
    depth += t[1] ? -1 : 1;
    if (depth === 0) return html.slice(m.index, t.index + t[0].length);
  }
  return html.slice(m.index);
}
