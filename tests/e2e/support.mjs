// Helpers shared by the end-to-end tests (tests/e2e/*.test.mjs): the browser and its contexts, screenshots
// of failed tests, the token responses a context sees, signing in through the local OpenID Provider's
// login and consent pages, calling the SDK in the page, and looking for secrets in what the page keeps.
//
// Secrets are compared, never printed: failure messages name the secret and the place, with at most the
// SHA-256 fingerprint of the value.
// Environment: CHROMIUM (tests/support/chromium.mjs); E2E_APP_ROOT (a directory holding dist/ and
// examples/flow-explorer/ to serve instead of this repository; for debugging the tests themselves).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprint, startProvider } from '../../dev/provider.mjs';
import { launchChromium } from '../support/chromium.mjs';
import { startApp } from '../../examples/server.mjs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const APP_ROOT = process.env.E2E_APP_ROOT ? resolve(process.env.E2E_APP_ROOT) : REPO;
const ARTIFACTS = join(REPO, 'tests', 'e2e', 'artifacts');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The provider's token endpoint, from its discovery document. */
export async function tokenEndpointOf(op) {
  return (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()).token_endpoint;
}

/**
 * Starts the app (examples/server.mjs, serving APP_ROOT's built SDK) and the local OP
 * (dev/provider.mjs, with `providerOptions`) with `clientId` registered for the app's redirect and
 * post-logout URIs — or each of several clients, given as `{ client_id, ...more metadata }`. Throws first
 * if the SDK is not built.
 */
export async function startAppWithProvider(clientId, providerOptions = {}) {
  const entry = join(APP_ROOT, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the SDK first (node scripts/build.mjs)`);
  const app = await startApp({ root: APP_ROOT });
  try {
    const registration = { redirect_uris: [app.redirectUri], post_logout_redirect_uris: [app.url] };
    const clients = [clientId].flat().map((c) => (typeof c === 'string' ? { client_id: c } : c));
    const op = await startProvider({ ...providerOptions, clients: clients.map((c) => ({ ...registration, ...c })) });
    return { app, op };
  } catch (err) {
    await app.close();
    throw err;
  }
}

/** Records the page's console messages and uncaught errors in `messages`. */
function recordConsole(page, messages) {
  page.on('console', (msg) => messages.push(`${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => messages.push(`pageerror: ${err.message}`));
}

/** Headless Chromium whose close() closes every context opened through it, then the browser. */
export async function startBrowser({ timeout }) {
  const browser = await launchChromium({ timeout });
  const contexts = new Set();
  return {
    /**
     * A new browser context (its own storage, and its own session at the OP): `stepTimeout` for each
     * action, `initScript` run in each page, the console of each page in consoleMessages; newTab() opens
     * a page, pages() lists those. Other options go to browser.newContext().
     */
    async newContext({ stepTimeout, initScript, ...options }) {
      const context = await browser.newContext(options);
      contexts.add(context);
      context.setDefaultTimeout(stepTimeout);
      if (initScript) await context.addInitScript(initScript);
      const consoleMessages = [];
      context.on('page', (page) => recordConsole(page, consoleMessages));
      const pages = [];
      const newTab = async () => {
        const page = await context.newPage();
        pages.push(page);
        return page;
      };
      return { context, consoleMessages, newTab, pages: () => pages };
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close().catch(() => {});
    },
  };
}

/**
 * Runs fn; if it throws, saves a screenshot of each page to tests/e2e/artifacts/<name>[-tabN].png first.
 * `pages`: a page, or a function that returns the pages.
 */
export async function screenshotOnFailure(pages, name, fn) {
  try {
    return await fn();
  } catch (err) {
    const list = [typeof pages === 'function' ? pages() : pages].flat().filter(Boolean);
    for (const [i, page] of list.entries()) {
      try {
        mkdirSync(ARTIFACTS, { recursive: true });
        const file = join(ARTIFACTS, `${name}${i ? `-tab${i + 1}` : ''}.png`);
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
        console.error(`  screenshot: ${file}`);
      } catch { /* the page or the browser may be gone */ }
    }
    throw err;
  }
}

/**
 * Captures each POST to the token endpoint that `target` (a context or a page) sees, into the array it
 * returns: { grantType, form, status, body, proof, at, ready }; body (JSON) and proof (the DPoP header)
 * are there once `ready` has resolved.
 */
export function captureTokenResponses(target, tokenEndpoint) {
  const responses = [];
  target.on('response', (res) => {
    const req = res.request();
    if (res.url() !== tokenEndpoint || req.method() !== 'POST') return;
    const form = new URLSearchParams(req.postData() ?? '');
    const entry = { grantType: form.get('grant_type'), form, status: res.status(), body: null, proof: null, at: Date.now() };
    entry.ready = Promise.all([
      res.json().then((body) => { entry.body = body; }, () => {}),
      req.allHeaders().then((h) => { entry.proof = h.dpop ?? null; }, () => {}),
    ]);
    responses.push(entry);
  });
  return responses;
}

/** The latest captured token response of a grant type, after its body has been read. */
export async function lastTokenResponse(responses, grantType) {
  const last = responses.filter((r) => r.grantType === grantType).at(-1);
  assert.ok(last, `a ${grantType} token response was captured`);
  await last.ready;
  return last;
}

/** The code exchange's token response: 200, with an access, a refresh and an ID token. */
export async function codeExchange(responses) {
  const exchange = await lastTokenResponse(responses, 'authorization_code');
  assert.equal(exchange.status, 200, 'the code exchange succeeded');
  for (const field of ['access_token', 'refresh_token', 'id_token']) {
    assert.equal(typeof exchange.body?.[field], 'string', `the token response has ${field}`);
  }
  return exchange;
}

/** Waits until the app's body shows one of `states` (data-state) and returns the one it shows. */
export async function waitForOutcome(page, states = ['signed-in', 'error']) {
  await page.waitForSelector(states.map((s) => `body[data-state="${s}"]`).join(', '));
  return page.evaluate(() => document.body.dataset.state);
}

/** Opens the app's start page and waits until it shows signed out. */
export async function openSignedOut(page, app) {
  await page.goto(app.url);
  await page.waitForSelector('body[data-state="signed-out"]');
}

/** Clicks "Sign in" (or the `signIn` selector), then logs in on the provider's login page, and consents when
 * it asks. */
export async function loginAtProvider(page, { app, op, username, signIn = '#sign-in:not([disabled])' }) {
  await page.click(signIn);
  await page.waitForURL((u) => u.origin === new URL(op.issuer).origin && u.pathname.startsWith('/interaction/'));
  await page.fill('input[name="login"]', username);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => u.origin === app.origin || (u.pathname.startsWith('/interaction/') && u.search === ''));
  if (new URL(page.url()).origin !== app.origin) {
    // The consent page ("Authorize", a Continue button) on the first sign-in of this account and client.
    await page.waitForSelector('button:has-text("Continue")');
    await page.click('button:has-text("Continue")');
  }
}

/** Waits for the end of a sign-in (one of `states`, as in waitForOutcome); fails unless it is signed in. */
export async function assertSignedIn(page, states) {
  const outcome = await waitForOutcome(page, states);
  if (outcome !== 'signed-in') assert.fail(`sign-in ended in ${outcome}: ${await page.textContent('#error-text')}`);
}

/** From the app's start page through the provider's pages; fails unless the app ends signed in. */
export async function signInThroughProvider(page, { app, op, username, states }) {
  await openSignedOut(page, app);
  await loginAtProvider(page, { app, op, username });
  await assertSignedIn(page, states);
}

/**
 * Runs `window.__oidc[method](...args)` in the page, bounded to `limit` ms. Returns { ok: true, value },
 * { ok: false, code, name, message, context } for a rejection, or { timedOut: true }. A Response comes back as
 * { status, body, challenge (WWW-Authenticate), nonce (DPoP-Nonce) }.
 */
export function callSdk(page, limit, method, ...args) {
  return page.evaluate(async ([method, args, limit]) => {
    const run = async () => {
      try {
        const value = await window.__oidc[method](...args);
        if (value instanceof Response) {
          return {
            ok: true,
            value: {
              status: value.status,
              body: await value.text(),
              challenge: value.headers.get('WWW-Authenticate'),
              nonce: value.headers.get('DPoP-Nonce'),
            },
          };
        }
        return { ok: true, value: value ?? null };
      } catch (e) {
        return { ok: false, code: e?.code ?? null, name: e?.name ?? null, message: String(e?.message ?? e), context: e?.context ?? null };
      }
    };
    return Promise.race([run(), new Promise((r) => setTimeout(() => r({ timedOut: true }), limit))]);
  }, [method, args, limit]);
}

/** A callSdk result in words, for assertion messages. */
export function describeOutcome(r, limit) {
  if (r.timedOut) return `no answer within ${limit} ms`;
  if (!r.ok) return `rejected ${r.code ?? r.name}: ${r.message}`;
  return `resolved ${JSON.stringify(r.value)?.slice(0, 200)}`;
}

/** The types of the SDK events the page's test hook (window.__oidcEvents) recorded. */
export function sdkEvents(page) {
  return page.evaluate(() => window.__oidcEvents.map((e) => e.type));
}

/** A refresh-token grant sent from this process, as a thief holding the refresh token would send it. */
export async function refreshGrant(tokenUrl, { clientId, refreshToken, proof }) {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(proof && { DPoP: proof }) },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * What the page keeps and where it is: localStorage, sessionStorage, every record of every IndexedDB
 * store (CryptoKeys described, binary values as { $bytes: base64 }), document.cookie and the cookies of
 * the page's origin, location.href, history.state, document.referrer, window.name, the Cache Storage
 * names and the number of service workers.
 */
export async function dumpStorage(page) {
  const dump = await page.evaluate(async () => {
    const b64 = (u8) => {
      let s = '';
      for (const b of u8) s += String.fromCharCode(b);
      return btoa(s);
    };
    const enc = (v) => {
      if (typeof CryptoKey !== 'undefined' && v instanceof CryptoKey) {
        return { $cryptoKey: { type: v.type, extractable: v.extractable, algorithm: { ...v.algorithm }, usages: v.usages } };
      }
      if (v instanceof ArrayBuffer) return { $bytes: b64(new Uint8Array(v)) };
      if (ArrayBuffer.isView(v)) return { $bytes: b64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
      if (v instanceof Blob) return { $blob: v.size };
      if (Array.isArray(v)) return v.map(enc);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
      return v;
    };
    const entries = (storage) => Object.fromEntries(Array.from({ length: storage.length }, (_, i) => {
      const key = storage.key(i);
      return [key, storage.getItem(key)];
    }));
    const databases = [];
    for (const info of (await indexedDB.databases?.()) ?? []) {
      const db = await new Promise((res, rej) => {
        const req = indexedDB.open(info.name);
        req.onsuccess = () => res(req.result);
        req.onerror = () => rej(req.error);
      });
      const stores = {};
      for (const storeName of db.objectStoreNames) {
        stores[storeName] = await new Promise((res, rej) => {
          const tx = db.transaction(storeName, 'readonly');
          const values = tx.objectStore(storeName).getAll();
          const keys = tx.objectStore(storeName).getAllKeys();
          tx.oncomplete = () => res(keys.result.map((k, i) => ({ key: enc(k), value: enc(values.result[i]) })));
          tx.onerror = () => rej(tx.error);
        });
      }
      db.close();
      databases.push({ name: info.name, version: info.version, stores });
    }
    return {
      localStorage: entries(localStorage),
      sessionStorage: entries(sessionStorage),
      indexedDB: databases,
      documentCookie: document.cookie,
      href: location.href,
      historyState: enc(history.state),
      referrer: document.referrer,
      windowName: window.name,
      cacheNames: 'caches' in self ? await caches.keys() : [],
      serviceWorkers: navigator.serviceWorker ? (await navigator.serviceWorker.getRegistrations()).length : 0,
    };
  });
  dump.cookies = await page.context().cookies(new URL(dump.href).origin);
  return dump;
}

/** All `$bytes` values in a dump, decoded. */
function binaries(value, out = []) {
  if (Array.isArray(value)) value.forEach((v) => binaries(v, out));
  else if (value && typeof value === 'object') {
    if (typeof value.$bytes === 'string') out.push(Buffer.from(value.$bytes, 'base64'));
    else Object.values(value).forEach((v) => binaries(v, out));
  }
  return out;
}

/**
 * Fails if a secret (of 8 characters or more) occurs in `value` as text, or in any of its binary values
 * as UTF-8 or UTF-16 bytes. The message names the secret, its fingerprint and the place; never the value.
 */
export function assertNoSecrets(place, value, secrets) {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  const blobs = binaries(value);
  for (const [name, secret] of Object.entries(secrets)) {
    if (typeof secret !== 'string' || secret.length < 8) continue;
    assert.ok(!text.includes(secret), `the ${name} (${fingerprint(secret)}) was found in clear in ${place}`);
    for (const blob of blobs) {
      assert.ok(!blob.includes(Buffer.from(secret, 'utf8')), `the ${name} (${fingerprint(secret)}) was found as UTF-8 bytes in ${place}`);
      assert.ok(!blob.includes(Buffer.from(secret, 'utf16le')), `the ${name} (${fingerprint(secret)}) was found as UTF-16 bytes in ${place}`);
    }
  }
}

/** Fails if a secret is anywhere in a dumpStorage() dump; `when` ends each place's name ("after …"). */
export function assertStorageHoldsNoSecret(dump, secrets, when = '') {
  const at = (place) => (when ? `${place} ${when}` : place);
  assertNoSecrets(at('localStorage'), dump.localStorage, secrets);
  assertNoSecrets(at('sessionStorage'), dump.sessionStorage, secrets);
  for (const db of dump.indexedDB) {
    for (const [store, records] of Object.entries(db.stores)) assertNoSecrets(at(`IndexedDB ${db.name}/${store}`), records, secrets);
  }
  assertNoSecrets(at('IndexedDB (database and store names)'), dump.indexedDB, secrets);
  assertNoSecrets(at('document.cookie'), dump.documentCookie, secrets);
  assertNoSecrets(at('the cookies of the app origin'), dump.cookies, secrets);
  assertNoSecrets(at('location.href'), dump.href, secrets);
  assertNoSecrets(at('history.state'), dump.historyState, secrets);
  assertNoSecrets(at('document.referrer'), dump.referrer, secrets);
  assertNoSecrets(at('window.name'), dump.windowName, secrets);
  assertNoSecrets(at('the Cache Storage names'), dump.cacheNames, secrets);
}
