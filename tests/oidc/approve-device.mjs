// Walks the provider's own pages over plain HTTP, the way a person's browser would: sign
// in (devInteractions: any user name, any password), consent, and for the device flow
// open the verification URL and confirm the code.
//
//   node approve-device.mjs VERIFICATION_URI_COMPLETE [--user NAME] [--deny]
//       prints "approved as NAME" (or "denied" with --deny, which aborts at the code
//       confirmation) and exits 0
//   node approve-device.mjs AUTHORIZATION_URL [--user NAME]
//       (authorization code flow) stops at the redirect to the client's loopback
//       redirect_uri and prints "redirect URL" (the URL carries code and state)
//
// Exits 1 with the page it stopped at. Follows only loopback URLs on the provider's own
// origin. Stdlib only (Node >= 20: fetch, Headers.getSetCookie).
import { parseArgs } from 'node:util';

const { values: opt, positionals } = parseArgs({
  allowPositionals: true,
  options: { user: { type: 'string', default: 'alice' }, deny: { type: 'boolean', default: false } },
});
if (positionals.length !== 1) {
  console.error('usage: approve-device.mjs VERIFICATION_URI_COMPLETE [--user NAME] [--deny]');
  process.exit(2);
}

const cookies = new Map();
function loopbackOnly(url) {
  const { hostname } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    throw new Error(`refusing to follow a non-loopback URL: ${url}`);
  }
  return url;
}

// request: one HTTP exchange with the cookie jar; redirects are followed by the caller.
async function request(url, body) {
  const headers = { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(loopbackOnly(url), {
    method: body ? 'POST' : 'GET',
    headers,
    body: body ? new URLSearchParams(body).toString() : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(10_000),
  });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair.indexOf('=');
    cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return { url, status: res.status, location: res.headers.get('location'), html: await res.text() };
}

// The first form on the page: its action and its inputs (name -> value).
function firstForm(page) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(page.html);
  if (!form) return null;
  const action = /action="([^"]*)"/i.exec(form[1])?.[1] ?? page.url;
  const fields = {};
  for (const input of form[2].matchAll(/<input\b([^>]*)>/gi)) {
    const name = /name="([^"]*)"/i.exec(input[1])?.[1];
    if (name) fields[name] = /value="([^"]*)"/i.exec(input[1])?.[1] ?? '';
  }
  return { action: new URL(action.replaceAll('&amp;', '&'), page.url).href, fields };
}

const origin = new URL(positionals[0]).origin;
let page = await request(positionals[0]);
for (let step = 0; step < 20; step += 1) {
  if (page.location) {
    const next = new URL(page.location, page.url);
    if (next.origin !== origin) {
      console.log(`redirect ${loopbackOnly(next.href)}`);
      process.exit(0);
    }
    page = await request(next.href);
    continue;
  }
  if (/Sign-in Success/i.test(page.html)) {
    console.log(`approved as ${opt.user}`);
    process.exit(0);
  }
  if (opt.deny && /Sign-in request was interrupted/i.test(page.html)) {
    console.log('denied');
    process.exit(0);
  }
  const form = firstForm(page);
  if (!form || page.status >= 400) break;
  const fields = { ...form.fields };
  if ('login' in fields) Object.assign(fields, { login: opt.user, password: 'any' });
  if (opt.deny && 'confirm' in fields) {
    delete fields.confirm;
    fields.abort = 'yes';
  }
  page = await request(form.action, fields);
}
console.error(`stopped at ${page.url} (HTTP ${page.status}):\n${page.html.slice(0, 1500)}`);
process.exit(1);
