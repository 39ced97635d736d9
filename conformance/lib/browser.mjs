// A minimal "browser" for driving behalf's HTML pages from tests: plain fetch
// with redirect: 'manual' (every hop is visible to the test), a cookie jar fed
// from Response.headers.getSetCookie(), and regex-based HTML form parsing.
//
// Deliberately small and dependency-free. It is not a general browser: one
// jar per Browser, cookies are sent to every URL on the server's origin only
// (Path and Secure are recorded but not enforced), and HTML is parsed just
// well enough to read forms.

/** Decodes the HTML character references a server may put in attribute values. */
export function decodeEntities(text) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return named[ref.toLowerCase()] ?? whole;
  });
}

/** Parses the attributes of one start tag's inner text into a lower-cased-name map. */
export function parseAttributes(text) {
  const attrs = {};
  const re = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of text.matchAll(re)) {
    const name = m[1].toLowerCase();
    if (name in attrs) continue; // HTML: the first occurrence wins
    attrs[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/**
 * All <form>s of a page.
 *
 * @returns {{method: string, action: URL, attrs: object,
 *   inputs: {name: string, type: string, value: string, attrs: object}[],
 *   hidden: Record<string, string>,
 *   buttons: {name: string, value: string, tag: string}[]}[]}
 */
export function parseForms(html, pageUrl) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form\s*>/gi)) {
    const attrs = parseAttributes(m[1]);
    const inner = m[2];
    const inputs = [];
    const buttons = [];
    for (const t of inner.matchAll(/<(input|button|textarea|select)\b([^>]*)>/gi)) {
      const tag = t[1].toLowerCase();
      const a = parseAttributes(t[2]);
      const type = (a.type ?? (tag === 'button' ? 'submit' : 'text')).toLowerCase();
      if (tag === 'button' || (tag === 'input' && (type === 'submit' || type === 'image'))) {
        if (type === 'submit' || type === 'image') buttons.push({ name: a.name ?? '', value: a.value ?? '', tag, attrs: a });
        continue;
      }
      if (a.name === undefined) continue;
      inputs.push({ name: a.name, type, value: a.value ?? '', attrs: a });
    }
    const hidden = {};
    for (const i of inputs) if (i.type === 'hidden') hidden[i.name] = i.value;
    forms.push({
      method: (attrs.method ?? 'get').toLowerCase(),
      // An absent or empty action submits to the page itself.
      action: new URL(attrs.action || pageUrl, pageUrl),
      attrs,
      inputs,
      hidden,
      buttons,
    });
  }
  return forms;
}

/** The form of a page whose action is the given path on the same origin, or undefined. */
export function findForm(html, pageUrl, path) {
  const origin = new URL(pageUrl).origin;
  return parseForms(html, pageUrl).find((f) => f.action.origin === origin && f.action.pathname === path);
}

/** Parses one Set-Cookie header value into {name, value, attrs} (attribute names lower-cased). */
export function parseSetCookie(header) {
  const [pair, ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const name = (eq < 0 ? '' : pair.slice(0, eq)).trim();
  const value = (eq < 0 ? pair : pair.slice(eq + 1)).trim();
  const attrs = {};
  for (const part of rest) {
    const i = part.indexOf('=');
    const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase();
    if (!key) continue;
    attrs[key] = i < 0 ? true : part.slice(i + 1).trim();
  }
  return { name, value, attrs, raw: header };
}

function isExpired({ value, attrs }) {
  if (attrs['max-age'] !== undefined && Number(attrs['max-age']) <= 0) return true;
  if (attrs['max-age'] === undefined && attrs.expires !== undefined) {
    const t = Date.parse(attrs.expires);
    if (Number.isFinite(t) && t <= Date.now()) return true;
  }
  return false;
}

/**
 * One user agent: a cookie jar for a single origin and fetch with manual
 * redirects.
 */
export class Browser {
  /** @param {string} baseUrl the server's origin; cookies are only sent there */
  constructor(baseUrl) {
    this.origin = new URL(baseUrl).origin;
    /** @type {Map<string, {name: string, value: string, attrs: object, raw: string}>} */
    this.cookies = new Map();
  }

  /** The current value of a cookie, or undefined. */
  cookie(name) {
    return this.cookies.get(name)?.value;
  }

  cookieHeader() {
    return [...this.cookies.values()].map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /**
   * Sends one request, never following redirects.
   *
   * @param {string|URL} url
   * @param {{method?: string, form?: Record<string,string>|URLSearchParams, headers?: Record<string,string>}} [opts]
   * @returns {Promise<{url: URL, status: number, headers: Headers, body: string,
   *   location: URL|null, rawLocation: string|null,
   *   setCookies: {name: string, value: string, attrs: object, raw: string}[]}>}
   */
  async request(url, { method, form, headers = {} } = {}) {
    url = new URL(url);
    const h = { ...headers };
    if (url.origin === this.origin && this.cookies.size > 0) h.cookie = this.cookieHeader();
    let body;
    if (form !== undefined) {
      body = new URLSearchParams(form);
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, { method: method ?? (form ? 'POST' : 'GET'), headers: h, body, redirect: 'manual' });
    const text = await res.text();
    const setCookies = res.headers.getSetCookie().map(parseSetCookie);
    if (url.origin === this.origin) {
      for (const c of setCookies) {
        if (isExpired(c)) this.cookies.delete(c.name);
        else this.cookies.set(c.name, c);
      }
    }
    const rawLocation = res.headers.get('location');
    return {
      url,
      status: res.status,
      headers: res.headers,
      body: text,
      rawLocation,
      location: rawLocation === null ? null : new URL(rawLocation, url),
      setCookies,
    };
  }

  get(url, opts = {}) {
    return this.request(url, { ...opts, method: 'GET' });
  }

  post(url, form, opts = {}) {
    return this.request(url, { ...opts, method: 'POST', form });
  }
}

/** A short description of a response for assertion messages. */
export function describe(page) {
  const loc = page.rawLocation ? ` Location: ${page.rawLocation}` : '';
  const body = page.body.length > 600 ? `${page.body.slice(0, 600)}…` : page.body;
  return `${page.status} for ${page.url.pathname}${page.url.search ? '?…' : ''}${loc}\n${body}`;
}
