// End-to-end tests of sessions that stay ended and calls that fail cleanly (issue #11): what only the
// browser can show — the sealed restore when the redirect URI is the app's main page, redirects answered
// to a request carrying the token, logout's returnTo, and browser APIs that throw inside an SDK call.
// Each test failed on the SDK before its fix. The interleavings of refresh, login, logout and tabs are
// covered natively by the many-tab simulation (src/sim/).
//
//   node --test tests/e2e/sessions.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   OP          dev/provider.mjs, the client registered for /callback and / (the app's main page)
//   API         dev/api.mjs
//   redirector  an "API" whose every answer is a 302 to the recorder, on another origin
//   recorder    records each request's Authorization and DPoP headers, answers 401 invalid_token
//   app         examples/server.mjs + the flow-explorer page with test hooks
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startProvider, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import { startApp } from '../../examples/server.mjs';
import {
  APP_ROOT, callSdk, captureTokenResponses, codeExchange, describeOutcome as describeSdkOutcome, loginAtProvider, openSignedOut,
  screenshotOnFailure, signInThroughProvider, startBrowser, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'sessions-e2e';
const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 90_000;
const ANY_STATE = ['signed-in', 'signed-out', 'error'];

let op;
let api;
let app;
let browser;
let redirector;
let recorder;
let tokenEndpoint;

const sdk = (page, method, ...args) => callSdk(page, STEP_TIMEOUT, method, ...args);
const describeOutcome = (r) => describeSdkOutcome(r, STEP_TIMEOUT);

/** A small CORS-enabled server on its own origin; `handle(req, res, cors)` answers. */
async function startServer(handle) {
  const server = createServer((req, res) => {
    req.resume();
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Headers': 'Authorization, DPoP, Content-Type',
      'Access-Control-Allow-Methods': 'GET, POST',
      'Access-Control-Expose-Headers': 'WWW-Authenticate, Location',
      Vary: 'Origin',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    return handle(req, res, cors);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
  };
}

/** The page's config: the flow explorer with test hooks, plus what a test sets. */
function configure(extra = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    testHooks: true,
    connectSrc: [redirector.origin, recorder.origin],
    ...extra,
  });
}

async function newSession() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  return { ...session, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

before(async () => {
  app = await startApp({ root: APP_ROOT });
  op = await startProvider({
    clients: [{ client_id: CLIENT_ID, redirect_uris: [app.redirectUri, app.url], post_logout_redirect_uris: [app.url] }],
  });
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  recorder = await startServer((req, res, cors) => {
    recorder.seen.push({ path: req.url, authorization: req.headers.authorization !== undefined, dpop: req.headers.dpop !== undefined });
    res.writeHead(401, { ...cors, 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Content-Type': 'application/json' });
    res.end('{"error":"invalid_token"}');
  });
  recorder.seen = [];
  redirector = await startServer((req, res, cors) => {
    redirector.hits += 1;
    res.writeHead(302, { ...cors, Location: `${recorder.origin}${req.url}` });
    res.end();
  });
  redirector.hits = 0;
  tokenEndpoint = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()).token_endpoint;
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close(), redirector?.close(), recorder?.close()]);
}, { timeout: 30_000 });

describe('sessions that stay ended and calls that fail cleanly', () => {
  test('persistSession: sealed restores after a reload when the redirect URI is the app\'s main page', { timeout: TEST_TIMEOUT }, async () => {
    // Defect 3: the page at the redirect URI's path was taken for the callback page and never restored.
    configure({ redirectPath: '/', persistSession: 'sealed' });
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'sessions-sealed-main-page', async () => {
        const page = await session.newTab();
        await signInThroughProvider(page, { app, op, username: 'mona' });
        const exchange = await codeExchange(session.tokenResponses);
        assert.equal(new URL(page.url()).pathname, '/', 'the callback was the main page');
        const before = op.tokenRequests.length;
        await page.goto(app.url);
        assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-in', 'signed in again after the reload');
        const since = op.tokenRequests.slice(before);
        assert.deepEqual(since.map((r) => [r.grantType, r.status]), [['refresh_token', 200]], 'restored by one refresh');
        assert.equal(since[0].presented !== undefined, true);
        assert.ok(exchange.body.refresh_token, 'the sign-in had a refresh token to seal');
      });
    } finally {
      await session.context.close();
    }
  });

  test('fetchWithToken does not follow a redirect with the token: redirect_refused, nothing reaches the other origin, no refresh', { timeout: TEST_TIMEOUT }, async () => {
    // Defect 6: authorised requests followed redirects; the target's 401 was taken for the API's answer.
    configure({ apiUrl: redirector.origin });
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'sessions-redirect', async () => {
        const page = await session.newTab();
        await signInThroughProvider(page, { app, op, username: 'rita' });
        const tokensBefore = op.tokenRequests.length;
        recorder.seen.length = 0;
        const hitsBefore = redirector.hits;
        const r = await sdk(page, 'fetchWithToken', `${redirector.origin}/orders`);
        assert.equal(r.ok, false, `fetchWithToken through a redirect ${describeOutcome(r)}`);
        assert.equal(r.code, 'redirect_refused', describeOutcome(r));
        assert.match(r.message, new RegExp(`${redirector.origin}/orders`), 'the error names the URL');
        assert.equal(redirector.hits - hitsBefore, 1, 'the API was called once');
        assert.deepEqual(recorder.seen, [], 'nothing reached the redirect target');
        assert.equal(op.tokenRequests.length, tokensBefore, 'no refresh: the target\'s 401 was never the API\'s answer');
        // A redirect on a request without the token (an origin off apiOrigins) is the app's business.
        const plain = await sdk(page, 'fetchWithToken', `${recorder.origin}/public`);
        assert.ok(plain.ok && plain.value.status === 401, `a request off apiOrigins goes as fetch would: ${describeOutcome(plain)}`);
        assert.deepEqual(recorder.seen.map((s) => s.authorization), [false]);
      });
    } finally {
      await session.context.close();
    }
  });

  test('logout refuses a returnTo off this app\'s origins (no open redirect) and keeps the session', { timeout: TEST_TIMEOUT }, async () => {
    // Defect 8: returnTo was not checked; without an end-session endpoint the wrapper navigated to it.
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'sessions-logout-return-to', async () => {
        const page = await session.newTab();
        await signInThroughProvider(page, { app, op, username: 'otto' });
        for (const returnTo of ['javascript:alert(1)', 'https://evil.example/', '//evil.example/x', 'data:text/html,x']) {
          const r = await sdk(page, 'logout', { returnTo });
          assert.equal(r.code, 'invalid_config', `logout({ returnTo: ${JSON.stringify(returnTo)} }) ${describeOutcome(r)}`);
          assert.equal(new URL(page.url()).origin, app.origin, 'no navigation');
          assert.ok(await page.evaluate(() => window.__oidc.isAuthenticated()), 'still signed in');
        }
        // A path on this origin is fine: the provider's end-session page, then back here.
        await page.evaluate(() => { window.__oidc.logout({ returnTo: '/' }); });
        await page.waitForURL((u) => u.origin === new URL(op.issuer).origin);
      });
    } finally {
      await session.context.close();
    }
  });

  test('history.replaceState throwing at the callback: browser_error, the code leaves with the login, the next sign-in works', { timeout: TEST_TIMEOUT }, async () => {
    // Defect 9: a browser API that threw inside an SDK call left its promise unsettled.
    configure();
    const session = await newSession();
    await session.context.addInitScript(() => {
      const original = history.replaceState.bind(history);
      history.replaceState = (...args) => {
        if (sessionStorage.getItem('test.replaceStateThrows') === '1') {
          sessionStorage.removeItem('test.replaceStateThrows');
          throw new DOMException('Attempt to use history.replaceState() more than 100 times per 10 seconds', 'SecurityError');
        }
        return original(...args);
      };
    });
    try {
      await screenshotOnFailure(session.pages, 'sessions-replace-state', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        await page.evaluate(() => sessionStorage.setItem('test.replaceStateThrows', '1'));
        const exchangesBefore = session.tokenResponses.length;
        await loginAtProvider(page, { app, op, username: 'sal' });
        assert.equal(await waitForOutcome(page, ANY_STATE), 'error', 'the callback fails');
        const shown = await page.evaluate(() => window.__oidcLastError?.code ?? null);
        assert.equal(shown, 'browser_error', 'with browser_error');
        assert.equal(session.tokenResponses.length, exchangesBefore, 'no code exchange');
        assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.'))), [], 'the login is gone with its code');
        // Sign in again: the provider still has the user's session, so it sends the browser straight back.
        await openSignedOut(page, app);
        await page.click('#sign-in:not([disabled])');
        assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-in', 'the next sign-in works');
      });
    } finally {
      await session.context.close();
    }
  });

  test('the app\'s trace function throwing during a refresh: browser_error, the lock is released, the next refresh works in every tab', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'sessions-trace-throws', async () => {
        const page = await session.newTab();
        await signInThroughProvider(page, { app, op, username: 'tess' });
        await page.evaluate(() => { window.__traceThrows = true; });
        const failed = await sdk(page, 'refresh');
        assert.equal(failed.code, 'browser_error', `refresh() with a throwing trace function ${describeOutcome(failed)}`);
        await page.evaluate(() => { window.__traceThrows = false; });
        const again = await sdk(page, 'refresh');
        assert.ok(again.ok, `the next refresh ${describeOutcome(again)}`);
        const other = await session.newTab();
        await other.goto(app.url);
        assert.equal(await waitForOutcome(other, ANY_STATE), 'signed-in', 'a second tab takes the session over');
        const there = await sdk(other, 'refresh');
        assert.ok(there.ok, `a refresh in the other tab (the cross-tab lock is free) ${describeOutcome(there)}`);
      });
    } finally {
      await session.context.close();
    }
  });
});
