// End-to-end tests of refresh that follows the tab (issue 14, item 7): a tab that becomes visible again, or a
// browser that comes back online, refreshes a token that came due while nothing ran — once, before the app's
// next call, and once across tabs that wake together — and the `sessionExpiring` event ahead of the end of a
// session that cannot be extended. The built SDK (dist/) runs in headless Chromium against a real OpenID
// Provider and the sample API.
//
//   node --test tests/e2e/follow-tab.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// Visibility: headless Chromium keeps every page visible (bringing another tab to the front, minimizing the
// window or CDP's lifecycle states leave document.visibilityState 'visible'), so a test sets
// document.visibilityState and dispatches `visibilitychange` on the document, which is what the browser does and
// what the SDK's listener hears. Online: Playwright's context.setOffline, which makes the browser fire real
// `offline` and `online` events (and fail requests meanwhile).
//
// In this process, on ephemeral loopback ports:
//   OP    dev/provider.mjs: two clients, one with refresh tokens (rotated) and one without
//         (grant_types: authorization_code only); API access tokens live a few seconds (per test)
//   API   dev/api.mjs
//   app   examples/server.mjs + the flow-explorer page with test hooks (window.__oidc, window.__oidcEvents)
// Tokens are compared by fingerprint, never printed. Environment: CHROMIUM and E2E_APP_ROOT (support.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprint, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  callSdk, captureTokenResponses, codeExchange, describeOutcome as describeSdkOutcome, lastTokenResponse,
  openSignedOut, screenshotOnFailure, sdkEvents, signInThroughProvider, startAppWithProvider, startBrowser, tokenEndpointOf,
  sleep, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'follow-tab-e2e';
const NO_REFRESH_CLIENT_ID = 'follow-tab-no-refresh';
const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 90_000;
// The API's access tokens live TTL seconds and are refreshed MARGIN seconds before they expire: due TTL -
// MARGIN seconds after they were issued, and not again for as long after a refresh.
const TTL = 12;
const MARGIN = 5;

let op;
let api;
let app;
let browser;
let tokenEndpoint;

const sdk = (page, method, ...args) => callSdk(page, STEP_TIMEOUT, method, ...args);
const describeOutcome = (r) => describeSdkOutcome(r, STEP_TIMEOUT);

function configure(extra = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    refreshMarginSeconds: MARGIN,
    testHooks: true,
    trace: false,
    ...extra,
  });
}

async function newContext() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  return { ...session, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

async function signIn(session, page, username) {
  await signInThroughProvider(page, { app, op, username });
  return codeExchange(session.tokenResponses);
}

/** The page's visibility, set as the browser sets it, with the event it fires. */
function setVisibility(page, state) {
  return page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

function refreshRequestsSince(index) {
  return op.tokenRequests.slice(index).filter((r) => r.grantType === 'refresh_token');
}

/** Waits until the access token of a token response received at `at` (ms) is due for a refresh. */
async function untilDue(at) {
  const wait = at + (TTL - MARGIN) * 1000 + 500 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Waits until the page has recorded `count` SDK events of `type`. */
function waitForEvents(page, type, count = 1) {
  return page.waitForFunction(([t, n]) => window.__oidcEvents.filter((e) => e.type === t).length >= n, [type, count], { timeout: STEP_TIMEOUT });
}

async function apiMe(page) {
  const r = await sdk(page, 'fetchWithToken', `${api.url}/me`);
  assert.ok(r.ok, `fetchWithToken(${api.url}/me) ${describeOutcome(r)}`);
  return r.value;
}

before(async () => {
  ({ app, op } = await startAppWithProvider([
    CLIENT_ID,
    // A client the provider gives no refresh token: its session lasts as long as its access token.
    { client_id: NO_REFRESH_CLIENT_ID, grant_types: ['authorization_code'] },
  ], { resourceServer: { accessTokenTTL: TTL } }));
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  tokenEndpoint = await tokenEndpointOf(op);
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close()]);
}, { timeout: 30_000 });

describe('refresh that follows the tab', () => {
  test('hidden while the token came due, then visible: exactly one refresh, before the next API call, which needs none; signed out: none', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'follow-tab-visible', async () => {
        const page = await session.newTab();
        // Signed out: coming back asks the provider for nothing.
        await openSignedOut(page, app);
        const idle = op.tokenRequests.length;
        await setVisibility(page, 'hidden');
        await setVisibility(page, 'visible');
        await session.context.setOffline(true);
        await session.context.setOffline(false);
        assert.equal((await sdk(page, 'isAuthenticated')).value, false);

        const exchange = await signIn(session, page, 'vera');
        assert.equal(op.tokenRequests.length, idle + 1, 'signed out, waking made no token request; the sign-in one');
        const since = op.tokenRequests.length;
        await setVisibility(page, 'hidden');
        await untilDue(exchange.at);
        assert.deepEqual(refreshRequestsSince(since), [], 'while hidden, nothing refreshed (no call; no timer refreshes)');

        await setVisibility(page, 'visible');
        await waitForEvents(page, 'tokensRefreshed');
        const refreshes = refreshRequestsSince(since);
        assert.deepEqual(refreshes.map((r) => r.status), [200], 'visible again: exactly one refresh, without any call from the app');
        assert.equal(refreshes[0].presented, fingerprint(exchange.body.refresh_token), 'with the refresh token of the sign-in');

        const apiBefore = api.log.length;
        assert.equal((await apiMe(page)).status, 200, 'the next API call gets 200');
        const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
        assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [fingerprint(refreshed.body.access_token)], 'with the refreshed access token');
        assert.equal(refreshRequestsSince(since).length, 1, 'the call needed no refresh of its own');
        await setVisibility(page, 'visible');
        await sdk(page, 'getUser');
        assert.equal(refreshRequestsSince(since).length, 1, 'visible again with a fresh token: no refresh');
      });
    } finally {
      await session.context.close();
    }
  });

  test('offline while the token came due (a call fails), then online: exactly one refresh, and the next API call needs none', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'follow-tab-online', async () => {
        const page = await session.newTab();
        const exchange = await signIn(session, page, 'otto');
        const since = op.tokenRequests.length;
        await session.context.setOffline(true);
        await untilDue(exchange.at);
        const offline = await sdk(page, 'fetchWithToken', `${api.url}/me`);
        assert.equal(offline.code, 'network_error', `a call while offline ${describeOutcome(offline)}`);
        assert.deepEqual(refreshRequestsSince(since), [], 'offline: no refresh reached the provider');
        assert.equal((await sdk(page, 'isAuthenticated')).value, true, 'the session is kept: its token is still valid');

        await session.context.setOffline(false); // the browser fires `online`
        await waitForEvents(page, 'tokensRefreshed');
        assert.deepEqual(refreshRequestsSince(since).map((r) => r.status), [200], 'online again: exactly one refresh, without any call from the app');
        const apiBefore = api.log.length;
        assert.equal((await apiMe(page)).status, 200);
        const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
        assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [fingerprint(refreshed.body.access_token)], 'with the refreshed access token');
        assert.equal(refreshRequestsSince(since).length, 1, 'the call needed no refresh of its own');
      });
    } finally {
      await session.context.close();
    }
  });

  test('two tabs visible again at the same moment with the token due: one refresh between them, both get its tokens', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'follow-tab-two-tabs', async () => {
        const tab1 = await session.newTab();
        const exchange = await signIn(session, tab1, 'tara');
        const tab2 = await session.newTab();
        await tab2.goto(app.url);
        assert.equal(await waitForOutcome(tab2), 'signed-in', 'tab 2 has the session by hand-off');
        const since = op.tokenRequests.length;
        await Promise.all([setVisibility(tab1, 'hidden'), setVisibility(tab2, 'hidden')]);
        await untilDue(exchange.at);
        // Both become visible at the same wall-clock moment.
        const at = Date.now() + 300;
        const visibleAt = (page) => page.evaluate((when) => new Promise((done) => setTimeout(() => {
          Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
          Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
          document.dispatchEvent(new Event('visibilitychange'));
          done();
        }, Math.max(0, when - Date.now()))), at);
        await Promise.all([visibleAt(tab1), visibleAt(tab2)]);
        await Promise.all([waitForEvents(tab1, 'tokensRefreshed'), waitForEvents(tab2, 'tokensRefreshed')]);
        const refreshes = refreshRequestsSince(since);
        assert.deepEqual(refreshes.map((r) => r.status), [200], 'one refresh for the two tabs (the other took its tokens)');
        const apiBefore = api.log.length;
        assert.equal((await apiMe(tab1)).status, 200);
        assert.equal((await apiMe(tab2)).status, 200);
        const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
        const newest = fingerprint(refreshed.body.access_token);
        assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [newest, newest], 'both tabs send the one refreshed token');
        assert.equal(refreshRequestsSince(since).length, 1, 'and need no refresh of their own');
      });
    } finally {
      await session.context.close();
    }
  });

  test('no refresh token: sessionExpiring once, sessionExpiringSeconds ahead, then sessionEnded; coming back refreshes nothing', { timeout: TEST_TIMEOUT }, async () => {
    const lead = 6;
    configure({ clientId: NO_REFRESH_CLIENT_ID, sessionExpiringSeconds: lead });
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'follow-tab-expiring', async () => {
        const page = await session.newTab();
        await signInThroughProvider(page, { app, op, username: 'esme' });
        const exchange = await lastTokenResponse(session.tokenResponses, 'authorization_code');
        assert.equal(exchange.status, 200);
        assert.equal(exchange.body.refresh_token, undefined, 'the provider gave no refresh token');
        assert.equal(exchange.body.expires_in, TTL);
        const since = op.tokenRequests.length;

        await waitForEvents(page, 'sessionExpiring');
        const warned = await page.evaluate(() => window.__oidcEvents.filter((e) => e.type === 'sessionExpiring'));
        assert.ok(warned[0].secondsLeft > 0 && warned[0].secondsLeft <= lead, `secondsLeft ${warned[0].secondsLeft}, at most the lead time ${lead}`);
        assert.equal((await sdk(page, 'isAuthenticated')).value, true, 'told while still signed in');
        // Coming back with no refresh token: nothing to refresh.
        await setVisibility(page, 'hidden');
        await setVisibility(page, 'visible');

        await page.waitForFunction(() => window.__oidcEvents.some((e) => e.type === 'sessionEnded'), null, { timeout: (TTL + 5) * 1000 });
        const events = (await sdkEvents(page)).filter((e) => e === 'sessionExpiring' || e === 'sessionEnded');
        assert.deepEqual(events, ['sessionExpiring', 'sessionEnded'], 'sessionExpiring once, before sessionEnded');
        assert.deepEqual(op.tokenRequests.slice(since), [], 'no token request: no refresh token, nothing to refresh');
        assert.equal((await sdk(page, 'isAuthenticated')).value, false);
      });
    } finally {
      await session.context.close();
    }
  });
});
