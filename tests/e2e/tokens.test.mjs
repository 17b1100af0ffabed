// End-to-end tests of tokens at work: fetchWithToken, refresh-token rotation without races (in a tab and
// across tabs), a failing token endpoint, which origins get the token, and logout everywhere. The built
// SDK (dist/) runs in headless Chromium against a real OpenID Provider and the sample API.
//
//   node --test tests/e2e/tokens.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   proxy        tests/e2e/proxy.mjs: the OP is reached only through it (the OP's issuer is the proxy's
//                URL), so a test can make the token endpoint answer 500 or drop the connection
//   OP           dev/provider.mjs: JWT access tokens for the sample API (resource indicators),
//                lifetime set per test (op.resourceServer.accessTokenTTL), refresh tokens rotated;
//                op.tokenRequests logs each token request with fingerprints of the refresh tokens
//   API          dev/api.mjs: verifies the bearer token (JWKS, iss, aud, exp, scope)
//   third party  a server on another origin that records whether requests carried an Authorization
//                header (it allows that header in CORS, as an attacker's server would)
//   app          examples/server.mjs + the flow-explorer page with test hooks (window.__oidc = the client,
//                window.__oidcEvents = the SDK's events), refreshMarginSeconds 1
//
// Tokens are compared, never printed: assertion messages name a token, or show its SHA-256 fingerprint.
// Each test counts what reached the OP's token endpoint. On failure, screenshots go to tests/e2e/artifacts/.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fingerprint, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import { startProxy } from './proxy.mjs';
import {
  callSdk, captureTokenResponses, codeExchange, describeOutcome as describeSdkOutcome, lastTokenResponse, refreshGrant,
  screenshotOnFailure, sdkEvents, signInThroughProvider, sleep, startAppWithProvider, startBrowser, tokenEndpointOf, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'tokens-e2e';
const STEP_TIMEOUT = 10_000;
const TEST_TIMEOUT = 60_000;
const LONG_TTL = 3600;

let proxy;
let op;
let api;
let third;
let app;
let browser;
let tokenEndpoint;


/** A server on another origin that records, per request, only whether an Authorization header came. */
async function startThirdParty() {
  const seen = []; // { method, path, hasAuthorization, preflightAsksAuthorization }
  const server = createServer((req, res) => {
    const requested = String(req.headers['access-control-request-headers'] ?? '').toLowerCase();
    seen.push({
      method: req.method,
      path: new URL(req.url, 'http://x').pathname,
      hasAuthorization: req.headers.authorization !== undefined,
      preflightAsksAuthorization: req.method === 'OPTIONS' && requested.split(',').map((h) => h.trim()).includes('authorization'),
    });
    req.resume();
    const cors = {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Headers': 'Authorization, Content-Type',
      'Access-Control-Allow-Methods': 'GET, POST',
      Vary: 'Origin',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      return res.end();
    }
    res.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
    return res.end('{"third":"party"}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    seen,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
  };
}

/**
 * A new browser context (its own cookies at the OP, so its own session) whose token responses are
 * captured: { grantType, status, body, at, ... } for each POST to the token endpoint, from every tab.
 */
async function newContext() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  return { ...session, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

/** From the app's start page through the provider's login (and consent) pages; returns the code exchange. */
async function signIn(session, page, username) {
  await signInThroughProvider(page, { app, op, username });
  return codeExchange(session.tokenResponses);
}

const sdk = (page, method, ...args) => callSdk(page, STEP_TIMEOUT, method, ...args);
const describeOutcome = (r) => describeSdkOutcome(r, STEP_TIMEOUT);

async function apiMe(page) {
  const r = await sdk(page, 'fetchWithToken', `${api.url}/me`);
  assert.ok(r.ok, `fetchWithToken(${api.url}/me) ${describeOutcome(r)}`);
  return r.value;
}

function refreshRequestsSince(index) {
  return op.tokenRequests.slice(index).filter((r) => r.grantType === 'refresh_token');
}

/** A token request straight to the provider (not through the proxy), like an attacker holding a stolen token. */
function replayRefreshToken(refreshToken) {
  return refreshGrant(`${op.internalUrl}/token`, { clientId: CLIENT_ID, refreshToken });
}

async function waitUntil(timestampMs) {
  const wait = timestampMs - Date.now();
  if (wait > 0) await sleep(wait);
}

before(async () => {
  proxy = await startProxy();
  ({ app, op } = await startAppWithProvider(CLIENT_ID, { issuer: proxy.url, resourceServer: { accessTokenTTL: LONG_TTL } }));
  third = await startThirdParty();
  proxy.setTarget(op.internalUrl);
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  tokenEndpoint = await tokenEndpointOf(op);
  assert.equal(new URL(tokenEndpoint).origin, new URL(proxy.url).origin, 'the token endpoint is reached through the proxy');
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    refreshMarginSeconds: 1,
    testHooks: true,
    connectSrc: [third.origin],
  });
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close(), proxy?.close(), third?.close()]);
}, { timeout: 30_000 });

describe('tokens at work: fetchWithToken, refresh rotation, logout everywhere', () => {
  test('50 concurrent fetchWithToken calls on an expired access token cause exactly one refresh, and all get 200', { timeout: TEST_TIMEOUT }, async (t) => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-concurrent-expired', async () => {
      const page = await session.newTab();
      op.resourceServer.accessTokenTTL = 5;
      const exchange = await signIn(session, page, 'carol');
      assert.equal(exchange.body.expires_in, 5, 'the access token lives 5 s');
      // Tokens issued from now on live long: the refreshed one must outlive the 50 calls.
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const tokensBefore = op.tokenRequests.length;

      // Let the access token expire (the page stays idle meanwhile).
      await waitUntil(exchange.at + exchange.body.expires_in * 1000 + 500);
      const apiBefore = api.log.length;
      const results = await page.evaluate(async ([url, limit]) => {
        const call = () => window.__oidc.fetchWithToken(url)
          .then((r) => r.text().then((body) => ({ status: r.status, body })))
          .catch((e) => ({ status: 0, code: e?.code ?? null, message: String(e?.message ?? e) }));
        const all = Promise.all(Array.from({ length: 50 }, call));
        return Promise.race([all, new Promise((r) => setTimeout(() => r(null), limit))]);
      }, [`${api.url}/me`, STEP_TIMEOUT]);
      assert.ok(results, `the 50 calls settled within ${STEP_TIMEOUT} ms`);

      const failures = results.filter((r) => r.status !== 200).map((r) => r.code ?? r.status);
      assert.equal(failures.length, 0, `all 50 calls got 200 (others: ${JSON.stringify(failures.slice(0, 5))})`);
      assert.deepEqual(results.map((r) => JSON.parse(r.body).sub), Array(50).fill('carol'));

      const refreshes = refreshRequestsSince(tokensBefore);
      assert.equal(refreshes.length, 1, `exactly one refresh request reached the OP (saw ${refreshes.length})`);
      assert.equal(refreshes[0].status, 200);
      assert.equal(refreshes[0].presented, fingerprint(exchange.body.refresh_token), 'the refresh used the refresh token from sign-in');

      // Every 200 at the API carried the refreshed access token; none the expired one.
      const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      const newToken = fingerprint(refreshed.body.access_token);
      const burst = api.log.slice(apiBefore).filter((e) => e.path === '/api/me');
      const okTokens = new Set(burst.filter((e) => e.status === 200).map((e) => e.token));
      assert.deepEqual([...okTokens], [newToken], 'the 200s were for the refreshed access token');
      assert.equal(burst.filter((e) => e.status === 200).length, 50, 'the API answered 50 calls with 200');
      const expiredSent = burst.filter((e) => e.token === fingerprint(exchange.body.access_token)).length;
      // Refreshing ahead of expiry means the expired token is never sent; a 401-then-retry would also be
      // correct for the caller, so this is reported, not required.
      t.diagnostic(`requests that reached the API with the expired access token: ${expiredSent}`);
      assert.ok((await sdkEvents(page)).includes('tokensRefreshed'), 'the page saw a tokensRefreshed event');
    });
  });

  test('50 concurrent calls answered 401 invalid_token share one refresh and one retry each; a second 401 goes back to the caller', { timeout: TEST_TIMEOUT }, async (t) => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-concurrent-401', async () => {
      const page = await session.newTab();
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const exchange = await signIn(session, page, 'chuck');
      assert.equal((await apiMe(page)).status, 200, 'the access token works at first');

      // The API stops accepting the current access token (as if it had been revoked there).
      const oldToken = fingerprint(exchange.body.access_token);
      api.rejectTokens((fp) => fp === oldToken);
      const tokensBefore = op.tokenRequests.length;
      const apiBefore = api.log.length;
      const results = await page.evaluate(async ([url, limit]) => {
        const call = () => window.__oidc.fetchWithToken(url)
          .then((r) => ({ status: r.status }))
          .catch((e) => ({ status: 0, code: e?.code ?? null }));
        const all = Promise.all(Array.from({ length: 50 }, call));
        return Promise.race([all, new Promise((r) => setTimeout(() => r(null), limit))]);
      }, [`${api.url}/me`, STEP_TIMEOUT]);
      api.rejectTokens(null);
      assert.ok(results, `the 50 calls settled within ${STEP_TIMEOUT} ms`);
      const failures = results.filter((r) => r.status !== 200).map((r) => r.code ?? r.status);
      assert.equal(failures.length, 0, `all 50 calls got 200 after the retry (others: ${JSON.stringify(failures.slice(0, 5))})`);
      const refreshes = refreshRequestsSince(tokensBefore);
      assert.equal(refreshes.length, 1, `exactly one refresh request reached the OP (saw ${refreshes.length})`);
      const burst = api.log.slice(apiBefore);
      assert.equal(burst.filter((e) => e.status === 401).length, 50, 'each call got one 401');
      assert.equal(burst.filter((e) => e.status === 200).length, 50, 'each call was retried once, with 200');

      // A token the API keeps refusing: one refresh, one retry, then the 401 is the caller's answer.
      api.rejectNextTokens(2);
      const tokensBefore2 = op.tokenRequests.length;
      const apiBefore2 = api.log.length;
      const r = await sdk(page, 'fetchWithToken', `${api.url}/me`);
      assert.ok(r.ok, `fetchWithToken ${describeOutcome(r)}`);
      assert.equal(r.value.status, 401, 'the second 401 is returned to the caller');
      assert.match(r.value.challenge ?? '', /error="invalid_token"/, 'the caller can read the challenge');
      assert.equal(refreshRequestsSince(tokensBefore2).length, 1, 'one refresh');
      assert.equal(api.log.length - apiBefore2, 2, 'one request and one retry, no loop');
      assert.equal((await apiMe(page)).status, 200, 'the next call works');
      t.diagnostic(`events seen by the page: ${(await sdkEvents(page)).join(', ')}`);
    });
  });

  test('two tabs refreshing at the same moment: no invalid_grant, each refresh token used once, both keep working', { timeout: TEST_TIMEOUT }, async (t) => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-two-tabs', async () => {
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const tab1 = await session.newTab();
      const exchange = await signIn(session, tab1, 'dave');
      const tokensAfterSignIn = op.tokenRequests.length;
      const authorizationsBefore = op.counters.authorization;

      // Tab 2 opens after tab 1 signed in and gets the session from tab 1 (memory to memory).
      const tab2 = await session.newTab();
      await tab2.goto(app.url);
      assert.equal(await waitForOutcome(tab2), 'signed-in', 'tab 2 is signed in through the hand-off');
      assert.equal((await tab2.evaluate(() => window.__oidc.getUser()))?.sub, 'dave');
      assert.equal(op.tokenRequests.length, tokensAfterSignIn, 'the hand-off made no token request');
      assert.equal(op.counters.authorization, authorizationsBefore, 'the hand-off made no authorization request');
      assert.equal((await apiMe(tab2)).status, 200, 'tab 2 can call the API with the handed-over token');

      // Both tabs call refresh() at the same wall-clock moment.
      const at = (await tab1.evaluate(() => Date.now())) + 500;
      const refreshAt = (page) => page.evaluate(async ([when, limit]) => {
        await new Promise((r) => setTimeout(r, Math.max(0, when - Date.now())));
        const run = window.__oidc.refresh().then(() => ({ ok: true }), (e) => ({ ok: false, code: e?.code ?? null, message: String(e?.message ?? e) }));
        return Promise.race([run, new Promise((r) => setTimeout(() => r({ timedOut: true }), limit))]);
      }, [at, STEP_TIMEOUT]);
      const [r1, r2] = await Promise.all([refreshAt(tab1), refreshAt(tab2)]);
      assert.ok(r1.ok, `tab 1 refresh() ${describeOutcome(r1)}`);
      assert.ok(r2.ok, `tab 2 refresh() ${describeOutcome(r2)}`);

      const refreshes = refreshRequestsSince(tokensAfterSignIn);
      t.diagnostic(`refresh requests for the two simultaneous refresh() calls: ${refreshes.length}`);
      assert.ok(refreshes.length >= 1 && refreshes.length <= 2, `one or two refresh requests (saw ${refreshes.length})`);
      assert.deepEqual(refreshes.filter((r) => r.error).map((r) => r.error), [], 'no refresh was refused (no invalid_grant)');
      // Each refresh token presented exactly once, each the newest one issued before it.
      const presented = refreshes.map((r) => r.presented);
      assert.equal(new Set(presented).size, presented.length, 'no refresh token was presented twice');
      let current = fingerprint(exchange.body.refresh_token);
      for (const r of refreshes) {
        assert.equal(r.presented, current, 'each refresh presented the newest refresh token');
        current = r.issued;
      }

      // Both tabs keep working, with the same (newest) access token.
      const apiBefore = api.log.length;
      assert.equal((await apiMe(tab1)).status, 200, 'tab 1 gets 200');
      assert.equal((await apiMe(tab2)).status, 200, 'tab 2 gets 200');
      const used = api.log.slice(apiBefore).map((e) => e.token);
      const newest = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.deepEqual(used, [fingerprint(newest.body.access_token), fingerprint(newest.body.access_token)], 'both tabs use the newest access token');
      assert.equal(refreshRequestsSince(tokensAfterSignIn).length, refreshes.length, 'the API calls needed no further refresh');

      // One more refresh from tab 2 alone continues the chain; tab 1 still works afterwards.
      const r3 = await sdk(tab2, 'refresh');
      assert.ok(r3.ok, `tab 2 refresh() again ${describeOutcome(r3)}`);
      const last = refreshRequestsSince(tokensAfterSignIn).at(-1);
      assert.equal(last.presented, current, 'the next refresh presented the newest refresh token');
      assert.equal(last.status, 200);
      assert.equal((await apiMe(tab1)).status, 200, 'tab 1 still gets 200');
      assert.equal(op.tokenRequests.slice(tokensAfterSignIn).filter((r) => r.error).length, 0, 'no token request failed');
      assert.ok((await sdkEvents(tab1)).includes('tokensRefreshed') && (await sdkEvents(tab2)).includes('tokensRefreshed'), 'both tabs saw tokensRefreshed');
    });
  });

  test('the old refresh token replayed after a rotation gets invalid_grant; the SDK then ends the session (session_ended)', { timeout: TEST_TIMEOUT }, async () => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-replay', async () => {
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'erin');
      const tokensBefore = op.tokenRequests.length;
      const r = await sdk(page, 'refresh');
      assert.ok(r.ok, `refresh() ${describeOutcome(r)}`);
      const rotated = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.equal(rotated.status, 200);
      assert.ok(rotated.body.refresh_token && rotated.body.refresh_token !== exchange.body.refresh_token, 'the refresh response carried a new refresh token');
      assert.equal(refreshRequestsSince(tokensBefore).length, 1, 'one refresh request');

      // The replay, straight to the OP.
      const replay = await replayRefreshToken(exchange.body.refresh_token);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant', 'the old refresh token is refused: rotation happened');

      // The OP treats the reuse as theft and revokes the grant: the SDK's next refresh is refused.
      const afterReplay = op.tokenRequests.length;
      const ended = await sdk(page, 'refresh');
      assert.equal(ended.ok, false, `refresh() after the replay ${describeOutcome(ended)}`);
      assert.equal(ended.code, 'session_ended', `refresh() rejects with session_ended (${describeOutcome(ended)})`);
      const refused = refreshRequestsSince(afterReplay);
      assert.equal(refused.length, 1, 'one refresh request');
      assert.equal(refused[0].error, 'invalid_grant');
      assert.equal(await page.evaluate(() => window.__oidc.getUser()), null, 'getUser() is null');
      assert.equal(await page.evaluate(() => window.__oidc.isAuthenticated()), false, 'isAuthenticated() is false');
      assert.ok((await sdkEvents(page)).includes('sessionEnded'), 'sessionEnded fired');
      await page.waitForSelector('body[data-state="signed-out"]');
      const after = await sdk(page, 'fetchWithToken', `${api.url}/me`);
      assert.ok(!after.ok && after.code === 'not_signed_in', `fetchWithToken when signed out ${describeOutcome(after)}`);
    });
  });

  test('a failing token endpoint: refresh() rejects typed, the still-valid token keeps working, an expired one fails fast, recovery works', { timeout: TEST_TIMEOUT }, async () => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-token-endpoint-down', async () => {
      const page = await session.newTab();
      // Long enough for the 500 and drop steps to run while the token is still valid, even on a busy machine.
      op.resourceServer.accessTokenTTL = 12;
      let exchange;
      try {
        exchange = await signIn(session, page, 'frank');
      } finally {
        op.resourceServer.accessTokenTTL = LONG_TTL;
      }
      const firstToken = fingerprint(exchange.body.access_token);
      const tokensBefore = op.tokenRequests.length;
      proxy.resetCounters();
      try {
        // 500 from the token endpoint.
        proxy.setMode('500');
        const r500 = await sdk(page, 'refresh');
        assert.ok(!r500.ok && !r500.timedOut, `refresh() with a 500 ${describeOutcome(r500)}`);
        assert.equal(r500.code, 'http_error', `refresh() with a 500: ${describeOutcome(r500)}`);
        assert.ok(proxy.counters.failed500 >= 1, 'the proxy answered 500');
        assert.ok(await page.evaluate(() => window.__oidc.getUser() !== null), 'still signed in after the 500');
        assert.equal(await page.evaluate(() => window.__oidc.isAuthenticated()), true, 'isAuthenticated() after the 500');
        let apiBefore = api.log.length;
        assert.equal((await apiMe(page)).status, 200, 'fetchWithToken works with the still-valid access token');
        assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [firstToken], 'with the access token from sign-in');

        // The connection dropped without an answer.
        proxy.setMode('drop');
        const rDrop = await sdk(page, 'refresh');
        assert.ok(!rDrop.ok && !rDrop.timedOut, `refresh() with a dropped connection ${describeOutcome(rDrop)}`);
        assert.equal(rDrop.code, 'network_error', `refresh() with a dropped connection: ${describeOutcome(rDrop)}`);
        assert.ok(proxy.counters.dropped >= 1, 'the proxy dropped the connection');
        assert.ok(await page.evaluate(() => window.__oidc.getUser() !== null), 'still signed in after the drop');
        apiBefore = api.log.length;
        assert.equal((await apiMe(page)).status, 200, 'fetchWithToken still works');
        assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [firstToken]);
        assert.equal(refreshRequestsSince(tokensBefore).length, 0, 'no refresh request reached the OP');

        // The access token expires while the token endpoint is still down: a typed rejection, not a hang.
        await waitUntil(exchange.at + exchange.body.expires_in * 1000 + 500);
        const started = Date.now();
        const expired = await sdk(page, 'fetchWithToken', `${api.url}/me`);
        assert.ok(!expired.timedOut, 'fetchWithToken settled (no hang)');
        assert.equal(expired.ok, false, `fetchWithToken with an expired token and the token endpoint down ${describeOutcome(expired)}`);
        assert.equal(expired.code, 'network_error', `typed error: ${describeOutcome(expired)}`);
        assert.ok(Date.now() - started < STEP_TIMEOUT, 'it settled in time');
        assert.ok(await page.evaluate(() => window.__oidc.getUser() !== null), 'a transient failure does not end the session');
        assert.ok(!(await sdkEvents(page)).includes('sessionEnded'), 'no sessionEnded');
      } finally {
        proxy.setMode('pass');
      }

      // The token endpoint is back.
      const recoverBefore = op.tokenRequests.length;
      const apiBefore = api.log.length;
      assert.equal((await apiMe(page)).status, 200, 'fetchWithToken works again');
      const refreshes = refreshRequestsSince(recoverBefore);
      assert.equal(refreshes.length, 1, `one refresh request reached the OP after recovery (saw ${refreshes.length})`);
      assert.equal(refreshes[0].status, 200);
      assert.equal(refreshes[0].presented, fingerprint(exchange.body.refresh_token), 'with the refresh token from sign-in (the failed attempts did not lose it)');
      const renewed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      assert.deepEqual(api.log.slice(apiBefore).filter((e) => e.status === 200).map((e) => e.token), [fingerprint(renewed.body.access_token)], 'with the new access token');
    });
  });

  test('only apiOrigins get the access token; the API refuses the ID token as a bearer token and accepts the access token', { timeout: TEST_TIMEOUT }, async () => {
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'tokens-api-origins', async () => {
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'grace');
      const tokensBefore = op.tokenRequests.length;

      // Another origin (same host, another port): no Authorization header, and no preflight asking for one.
      const thirdBefore = third.seen.length;
      const viaUrl = await sdk(page, 'fetchWithToken', `${third.origin}/collect?via=url`);
      assert.ok(viaUrl.ok && viaUrl.value.status === 200, `fetchWithToken(third party) ${describeOutcome(viaUrl)}`);
      const viaPost = await sdk(page, 'fetchWithToken', `${third.origin}/collect?via=post`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/plain' } });
      assert.ok(viaPost.ok && viaPost.value.status === 200, `fetchWithToken(third party, POST) ${describeOutcome(viaPost)}`);
      const viaRequest = await page.evaluate(async (url) => {
        try {
          const r = await window.__oidc.fetchWithToken(new Request(url));
          return { ok: true, status: r.status };
        } catch (e) {
          return { ok: false, code: e?.code ?? null, message: String(e?.message ?? e) };
        }
      }, `${third.origin}/collect?via=request`);
      assert.ok(viaRequest.ok && viaRequest.status === 200, `fetchWithToken(new Request(third party)) ${JSON.stringify(viaRequest)}`);
      const seen = third.seen.slice(thirdBefore);
      assert.ok(seen.filter((s) => s.method !== 'OPTIONS').length >= 3, 'the third party received the three requests');
      assert.deepEqual(seen.filter((s) => s.hasAuthorization).map((s) => s.method), [], 'no request to the third party carried Authorization');
      assert.deepEqual(seen.filter((s) => s.preflightAsksAuthorization).map((s) => s.method), [], 'no preflight asked to send Authorization');

      // The API's origin: with the token.
      const apiBefore = api.log.length;
      const me = await apiMe(page);
      assert.equal(me.status, 200);
      assert.equal(JSON.parse(me.body).sub, 'grace');
      assert.deepEqual(api.log.slice(apiBefore).map((e) => e.hasAuthorization), [true], 'the API request carried Authorization');
      assert.equal(refreshRequestsSince(tokensBefore).length, 0, 'no refresh was needed');

      // The sample API itself: the ID token is not an access token (aud is the client, typ is not at+jwt).
      const asBearer = (token) => fetch(`${api.url}/me`, { headers: { Authorization: `Bearer ${token}` } });
      const withId = await asBearer(exchange.body.id_token);
      assert.equal(withId.status, 401, 'the ID token as a bearer token gets 401');
      assert.match(withId.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      const withAccess = await asBearer(exchange.body.access_token);
      assert.equal(withAccess.status, 200, 'the access token gets 200');
      assert.equal((await withAccess.json()).sub, 'grace');
      const without = await fetch(`${api.url}/me`);
      assert.equal(without.status, 401, 'no token gets 401');
      assert.doesNotMatch(without.headers.get('www-authenticate') ?? '', /error=/, 'without an error code (RFC 6750 §3.1)');
    });
  });

  test('logout in one tab ends the session in the other tab, and the refresh token is revoked at the OP; a new tab asks the others only while a session may exist', { timeout: TEST_TIMEOUT }, async () => {
    const session = await newContext();
    // Each page counts the asks for a session it posts to the other tabs.
    await session.context.addInitScript(() => {
      const post = BroadcastChannel.prototype.postMessage;
      window.__asks = 0;
      BroadcastChannel.prototype.postMessage = function (message) {
        if (message === '{"t":"ask"}') window.__asks += 1;
        return post.call(this, message);
      };
    });
    await screenshotOnFailure(session.pages, 'tokens-logout', async () => {
      op.resourceServer.accessTokenTTL = LONG_TTL;
      const tab1 = await session.newTab();
      const exchange = await signIn(session, tab1, 'heidi');
      const tab2 = await session.newTab();
      await tab2.goto(app.url);
      assert.equal(await waitForOutcome(tab2), 'signed-in', 'tab 2 is signed in through the hand-off');
      assert.equal(await tab2.evaluate(() => window.__asks), 1, 'tab 2 asked the open tab for its session');
      assert.equal((await apiMe(tab2)).status, 200);

      const revocationsBefore = op.revocations.length;
      const endSession = tab1.waitForRequest((req) => req.url().startsWith(`${op.issuer}/session/end`) && req.isNavigationRequest());
      await tab1.click('#sign-out');
      const endSessionUrl = new URL((await endSession).url());

      // Tab 2: session gone.
      await tab2.waitForSelector('body[data-state="signed-out"]');
      assert.equal(await tab2.evaluate(() => window.__oidc.getUser()), null, 'getUser() is null in tab 2');
      assert.ok((await sdkEvents(tab2)).includes('sessionEnded'), 'sessionEnded fired in tab 2');
      const after = await sdk(tab2, 'fetchWithToken', `${api.url}/me`);
      assert.ok(!after.ok && after.code === 'not_signed_in', `fetchWithToken in tab 2 after logout ${describeOutcome(after)}`);

      // The refresh token was revoked (RFC 7009) before leaving for the OP.
      const revocations = op.revocations.slice(revocationsBefore);
      assert.ok(
        revocations.some((r) => r.status === 200 && r.token === fingerprint(exchange.body.refresh_token)),
        `the refresh token was revoked (revocation requests: ${JSON.stringify(revocations.map(({ status, tokenTypeHint }) => ({ status, tokenTypeHint })))})`,
      );
      const replay = await replayRefreshToken(exchange.body.refresh_token);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant', 'the refresh token no longer works');

      // The end-session request: id_token_hint and the registered post-logout redirect URI.
      assert.ok(endSessionUrl.searchParams.get('id_token_hint') === exchange.body.id_token, 'id_token_hint is the ID token');
      assert.equal(endSessionUrl.searchParams.get('post_logout_redirect_uri'), app.url);
      // Confirm at the OP: back to the app, signed out.
      await tab1.click('button:has-text("Yes, sign me out")');
      await tab1.waitForURL((u) => u.origin === app.origin);
      await tab1.waitForSelector('body[data-state="signed-out"]');
      assert.equal(await tab1.evaluate(() => window.__oidc.getUser()), null, 'tab 1 is signed out');

      // Signed out everywhere: a new tab is ready without asking (no tab can have a session), and stays
      // signed out.
      const tab3 = await session.newTab();
      await tab3.goto(app.url);
      assert.equal(await waitForOutcome(tab3, ['signed-in', 'signed-out', 'error']), 'signed-out', 'tab 3 starts signed out');
      assert.equal(await tab3.evaluate(() => window.__asks), 0, 'tab 3 asked no tab: the newest state is the logout');
    });
  });
});
