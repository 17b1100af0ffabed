// End-to-end tests of several APIs in one session (`apis`) and of the token for other HTTP clients
// (`getAccessToken`, `exposeAccessToken`). The built SDK (dist/) runs in headless Chromium against a real
// OpenID Provider with two resource servers and two sample APIs.
//
//   node --test tests/e2e/apis.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   OP      dev/provider.mjs with resource indicators (RFC 8707) for two APIs: the sample API
//           (urn:oidc-wasm:sample-api, scope api:read) and a second one (urn:oidc-wasm:orders-api, scope
//           orders:read); op.tokenRequests logs each token request with fingerprints of the refresh tokens,
//           op.tokenInFlight.max the most token requests it was processing at one moment
//   API A   dev/api.mjs for the sample API — the login's token, through apiOrigins
//   API B   dev/api.mjs for the second API (audience urn:oidc-wasm:orders-api, scope orders:read), in the
//           app's `apis` with its `resource`, by URL prefix (`<origin>/api`)
//   app     examples/server.mjs + the flow-explorer page with test hooks (window.__oidc = the client)
//   axios   its browser build (the devDependency), served from the app's origin to the page by Playwright,
//           so the page's CSP (script-src 'self') admits it
//
// Tokens are compared, never printed: assertion messages name a token or show its SHA-256 fingerprint.
// On failure, screenshots go to tests/e2e/artifacts/apis-*.png.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeJwt } from 'jose';
import { fingerprint, SAMPLE_API, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  assertStorageHoldsNoSecret, callSdk, captureTokenResponses, codeExchange, describeOutcome as describeSdkOutcome,
  dumpStorage, lastTokenResponse, screenshotOnFailure, signInThroughProvider, startAppWithProvider, startBrowser,
  sleep, tokenEndpointOf, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'apis-e2e';
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = 120_000;
const LONG_TTL = 3600;
const ORDERS_API = 'urn:oidc-wasm:orders-api';
const ORDERS_SCOPE = 'orders:read';
// The browser build (UMD: defines window.axios), beside the package's manifest (it is not in its exports).
const AXIOS = join(dirname(createRequire(import.meta.url).resolve('axios/package.json')), 'dist', 'axios.min.js');

let op;
let apiA;
let apiB;
let app;
let browser;
let tokenEndpoint;

const sdk = (page, method, ...args) => callSdk(page, STEP_TIMEOUT, method, ...args);
const describeOutcome = (r) => describeSdkOutcome(r, STEP_TIMEOUT);
const aud = (jwt) => decodeJwt(jwt).aud;

/** The page's config: API A through apiOrigins (the login's token, `resource` naming it), API B in `apis`. */
function configure(extra = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE} ${ORDERS_SCOPE}`,
    apiUrl: apiA.url,
    resource: SAMPLE_API,
    apis: [{ url: apiB.url, resource: ORDERS_API }],
    refreshMarginSeconds: 1,
    testHooks: true,
    trace: false, // the default module, unless the test asks for DPoP
    connectSrc: [apiB.origin],
    ...extra,
  });
}

/** A browser context (its own session at the OP) whose token responses and authorization requests are captured. */
async function newContext() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  const authorizations = [];
  session.context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(op.issuer).origin && u.pathname === '/auth') authorizations.push(u.searchParams.getAll('resource'));
  });
  return { ...session, authorizations, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

async function signIn(session, page, username) {
  await signInThroughProvider(page, { app, op, username });
  return codeExchange(session.tokenResponses);
}

async function get(page, url) {
  const r = await sdk(page, 'fetchWithToken', url);
  assert.ok(r.ok, `fetchWithToken(${url}) ${describeOutcome(r)}`);
  return r.value;
}

const refreshesSince = (i) => op.tokenRequests.slice(i).filter((r) => r.grantType === 'refresh_token');
const tokensAt = (api, since = 0) => new Set(api.log.slice(since).filter((e) => e.token).map((e) => e.token));

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID, {
    resourceServer: { accessTokenTTL: LONG_TTL },
    resourceServers: [{ identifier: ORDERS_API, scope: ORDERS_SCOPE, accessTokenTTL: LONG_TTL }],
  }));
  apiA = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  apiB = await startApi({ issuer: op.issuer, audience: ORDERS_API, requiredScope: ORDERS_SCOPE, allowedOrigins: [app.origin] });
  tokenEndpoint = await tokenEndpointOf(op);
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), apiA?.close(), apiB?.close()]);
}, { timeout: 30_000 });

describe('several APIs, one session', () => {
  test('one login; each API receives only its own token (its own audience); the second from a refresh grant with its resource; a new tab is handed both; nothing stored', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'apis-own-tokens', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'ada');
      assert.deepEqual(session.authorizations, [[SAMPLE_API, ORDERS_API]], 'one authorization request, asking for both resources (RFC 8707 §2.1)');
      assert.equal(exchange.form.get('resource'), SAMPLE_API, 'the code exchange names the login\'s resource');
      assert.equal(aud(exchange.body.access_token), SAMPLE_API, 'the login\'s token is for API A');
      const tokensAfterSignIn = op.tokenRequests.length;

      const a = await get(page, `${apiA.url}/me`);
      assert.equal(a.status, 200, `API A: ${a.body}`);
      assert.equal(refreshesSince(tokensAfterSignIn).length, 0, 'API A needed no token request');
      const b = await get(page, `${apiB.url}/me`);
      assert.equal(b.status, 200, `API B: ${b.body}`);
      assert.equal(JSON.parse(b.body).scope, ORDERS_SCOPE);

      const refreshes = refreshesSince(tokensAfterSignIn);
      assert.equal(refreshes.length, 1, 'one token request for API B');
      assert.equal(refreshes[0].status, 200);
      assert.equal(refreshes[0].presented, fingerprint(exchange.body.refresh_token), 'from the refresh token of the login');
      const grant = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.equal(grant.form.get('resource'), ORDERS_API, 'the refresh grant names API B\'s resource (RFC 8707 §2.2)');
      const tokenB = grant.body.access_token;
      assert.equal(aud(tokenB), ORDERS_API, 'API B\'s token is for API B');
      assert.notEqual(fingerprint(tokenB), fingerprint(exchange.body.access_token));

      // Again: both from memory, no token request.
      assert.equal((await get(page, `${apiB.url}/me`)).status, 200);
      assert.equal((await get(page, `${apiA.url}/me`)).status, 200);
      assert.equal(refreshesSince(tokensAfterSignIn).length, 1, 'no further token request');

      // A second tab is handed the session with both tokens.
      const tab2 = await session.newTab();
      await tab2.goto(app.url);
      assert.equal(await waitForOutcome(tab2), 'signed-in', 'tab 2 signed in through the hand-off');
      assert.equal((await get(tab2, `${apiB.url}/me`)).status, 200);
      assert.equal((await get(tab2, `${apiA.url}/me`)).status, 200);
      assert.equal(refreshesSince(tokensAfterSignIn).length, 1, 'the hand-off carried API B\'s token: no token request in tab 2');

      assert.deepEqual([...tokensAt(apiA)], [fingerprint(exchange.body.access_token)], 'API A saw only the login\'s token');
      assert.deepEqual([...tokensAt(apiB)], [fingerprint(tokenB)], 'API B saw only its own token');

      // getAccessToken is off by default, naming the option; nothing was asked of the provider.
      const refused = await sdk(page, 'getAccessToken');
      assert.equal(refused.ok, false, `getAccessToken() ${describeOutcome(refused)}`);
      assert.equal(refused.code, 'invalid_config');
      assert.equal(refused.context, 'exposeAccessToken');
      assert.match(refused.message, /exposeAccessToken: true/);

      const secrets = {
        'login access token': exchange.body.access_token,
        'API B access token': tokenB,
        'refresh token of the login': exchange.body.refresh_token,
        'refresh token of the API B grant': grant.body.refresh_token,
        'ID token': exchange.body.id_token,
      };
      for (const [i, p] of [page, tab2].entries()) assertStorageHoldsNoSecret(await dumpStorage(p), secrets, `in tab ${i + 1}`);
    });
  });

  test('rotation with concurrent calls to both APIs from two tabs: one token request at a time, each refresh token presented once', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'apis-rotation', async () => {
      const tab1 = await session.newTab();
      for (const rs of op.resourceServers) rs.accessTokenTTL = 6;
      const exchange = await signIn(session, tab1, 'grace');
      assert.equal((await get(tab1, `${apiB.url}/me`)).status, 200, 'API B\'s first token');
      const first = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.equal(first.body.expires_in, 6);
      for (const rs of op.resourceServers) rs.accessTokenTTL = LONG_TTL; // the next tokens outlive the burst
      const tab2 = await session.newTab();
      await tab2.goto(app.url);
      assert.equal(await waitForOutcome(tab2), 'signed-in');

      // Both tokens expire; then each tab calls both APIs ten times at the same moment.
      await sleep(Math.max(0, first.at + 6_500 - Date.now()));
      const tokensBefore = op.tokenRequests.length;
      op.tokenInFlight.max = op.tokenInFlight.now;
      const apisBefore = [apiA.log.length, apiB.log.length];
      const at = (await tab1.evaluate(() => Date.now())) + 300;
      const burst = (page) => page.evaluate(async ([when, urls, limit]) => {
        await new Promise((r) => setTimeout(r, Math.max(0, when - Date.now())));
        const call = (url) => window.__oidc.fetchWithToken(url).then((r) => r.status, (e) => e?.code ?? String(e));
        const all = Promise.all(Array.from({ length: 20 }, (_, i) => call(urls[i % 2])));
        return Promise.race([all, new Promise((r) => setTimeout(() => r(null), limit))]);
      }, [at, [`${apiA.url}/me`, `${apiB.url}/me`], STEP_TIMEOUT]);
      const [r1, r2] = await Promise.all([burst(tab1), burst(tab2)]);
      assert.ok(r1 && r2, 'the 40 calls settled');
      assert.deepEqual([...r1, ...r2].filter((s) => s !== 200), [], 'every call got 200');

      const refreshes = refreshesSince(tokensBefore);
      assert.deepEqual(refreshes.filter((r) => r.error).map((r) => r.error), [], 'no token request was refused (no invalid_grant)');
      assert.equal(refreshes.length, 2, `one refresh per API for both tabs (saw ${refreshes.length})`);
      assert.equal(op.tokenInFlight.max, 1, 'the provider never had two token requests at once');
      const presented = refreshes.map((r) => r.presented);
      assert.equal(new Set(presented).size, presented.length, 'no refresh token presented twice');
      let current = fingerprint(first.body.refresh_token);
      for (const r of refreshes) {
        assert.equal(r.presented, current, 'each refresh presented the newest refresh token, whichever API it was for');
        current = r.issued;
      }
      const grants = session.tokenResponses.filter((r) => r.grantType === 'refresh_token').slice(-2);
      await Promise.all(grants.map((g) => g.ready));
      assert.deepEqual(grants.map((g) => g.form.get('resource')).sort(), [ORDERS_API, SAMPLE_API].sort(), 'one for each API\'s resource');
      const newA = grants.find((g) => g.form.get('resource') === SAMPLE_API).body.access_token;
      const newB = grants.find((g) => g.form.get('resource') === ORDERS_API).body.access_token;
      const okA = new Set(apiA.log.slice(apisBefore[0]).filter((e) => e.status === 200).map((e) => e.token));
      const okB = new Set(apiB.log.slice(apisBefore[1]).filter((e) => e.status === 200).map((e) => e.token));
      assert.deepEqual([...okA], [fingerprint(newA)], 'API A answered 200 to its new token only');
      assert.deepEqual([...okB], [fingerprint(newB)], 'API B answered 200 to its new token only');
      assert.ok(!tokensAt(apiA).has(fingerprint(newB)) && !tokensAt(apiB).has(fingerprint(newA)) && !tokensAt(apiB).has(fingerprint(exchange.body.access_token)), 'neither API ever saw the other\'s token');
    });
  });

  test('a 401 invalid_token from API B refreshes API B\'s token only', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'apis-401', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'hedy');
      assert.equal((await get(page, `${apiB.url}/me`)).status, 200);
      const tokenB = (await lastTokenResponse(session.tokenResponses, 'refresh_token')).body.access_token;
      const tokensBefore = op.tokenRequests.length;
      apiB.rejectTokens((fp) => fp === fingerprint(tokenB)); // as if API B had learnt it was revoked
      const b = await get(page, `${apiB.url}/me`);
      apiB.rejectTokens(null);
      assert.equal(b.status, 200, 'retried once with a new token');
      const refreshes = refreshesSince(tokensBefore);
      assert.equal(refreshes.length, 1, 'one refresh');
      const grant = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.equal(grant.form.get('resource'), ORDERS_API, 'for API B\'s token');
      const apiABefore = apiA.log.length;
      assert.equal((await get(page, `${apiA.url}/me`)).status, 200);
      assert.deepEqual([...tokensAt(apiA, apiABefore)], [fingerprint(exchange.body.access_token)], 'API A still gets the login\'s first token');
      assert.equal(refreshesSince(tokensBefore).length, 1, 'no refresh for API A');
    });
  });
});

describe('getAccessToken for other HTTP clients', () => {
  test('with exposeAccessToken: axios with an interceptor calls both APIs with their fresh tokens; nothing stored', { timeout: TEST_TIMEOUT }, async () => {
    configure({ exposeAccessToken: true });
    const session = await newContext();
    // axios's browser build, from the app's own origin (the page's CSP allows scripts from 'self' only).
    await session.context.route(`${app.origin}/vendor/axios.min.js`, (route) => route.fulfill({ path: AXIOS, contentType: 'text/javascript; charset=utf-8' }));
    await screenshotOnFailure(session.pages, 'apis-axios', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'alan');
      await page.addScriptTag({ url: '/vendor/axios.min.js' });
      const tokensBefore = op.tokenRequests.length;
      const result = await page.evaluate(async ([urlA, urlB]) => {
        const http = window.axios.create();
        // The README's interceptor: each request gets the fresh token of the API it goes to.
        http.interceptors.request.use(async (config) => {
          config.headers.Authorization = `Bearer ${await window.__oidc.getAccessToken({ api: config.url })}`;
          return config;
        });
        const fp = async (t) => btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t)))))
          .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '').slice(0, 16);
        const a = await http.get(urlA);
        const b = await http.get(urlB);
        return { a: [a.status, a.data.sub], b: [b.status, b.data.scope], login: await fp(await window.__oidc.getAccessToken()) };
      }, [`${apiA.url}/me`, `${apiB.url}/me`]);
      assert.deepEqual(result.a, [200, 'alan'], 'API A through axios');
      assert.deepEqual(result.b, [200, ORDERS_SCOPE], 'API B through axios');
      assert.equal(result.login, fingerprint(exchange.body.access_token), 'getAccessToken() is the login\'s token');
      assert.equal(refreshesSince(tokensBefore).length, 1, 'API B\'s token was obtained once');
      const tokenB = (await lastTokenResponse(session.tokenResponses, 'refresh_token')).body.access_token;
      assert.ok(tokensAt(apiA).has(fingerprint(exchange.body.access_token)) && tokensAt(apiB).has(fingerprint(tokenB)), 'each API got its token through axios');
      assert.ok(!tokensAt(apiB).has(fingerprint(exchange.body.access_token)) && !tokensAt(apiA).has(fingerprint(tokenB)), 'and never the other\'s');
      const unknown = await sdk(page, 'getAccessToken', { api: 'https://elsewhere.example/x' });
      assert.equal(unknown.code, 'invalid_config', `a URL of no API ${describeOutcome(unknown)}`);
      assert.equal(unknown.context, 'https://elsewhere.example/x');
      assertStorageHoldsNoSecret(await dumpStorage(page), {
        'login access token': exchange.body.access_token,
        'API B access token': tokenB,
        'refresh token': exchange.body.refresh_token,
      }, 'after getAccessToken and axios');
    });
  });

  test('with dpop: true getAccessToken refuses (invalid_config, use fetchWithToken), and fetchWithToken works', { timeout: TEST_TIMEOUT }, async () => {
    configure({ dpop: true, exposeAccessToken: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'apis-dpop', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'radia');
      assert.equal(exchange.body.token_type, 'DPoP', 'DPoP-bound tokens');
      for (const args of [[], [{ api: `${apiB.url}/me` }]]) {
        const r = await sdk(page, 'getAccessToken', ...args);
        assert.equal(r.ok, false, `getAccessToken(${JSON.stringify(args)}) ${describeOutcome(r)}`);
        assert.equal(r.code, 'invalid_config');
        assert.equal(r.context, 'dpop');
        assert.match(r.message, /fetchWithToken/);
      }
      const a = await get(page, `${apiA.url}/me`);
      assert.equal(a.status, 200, `fetchWithToken to API A with DPoP: ${a.body}`);
      const b = await get(page, `${apiB.url}/me`);
      assert.equal(b.status, 200, `fetchWithToken to API B with DPoP: ${b.body}`);
      const last = apiB.log.at(-1);
      assert.ok(last.bound && last.dpop, 'API B\'s token is DPoP-bound and came with its proof');
    });
  });
});
