// End-to-end tests of errors that say where to look (issue #15): what a developer sees when the provider
// is down, when an API's CORS refuses the app, when an API's origin is missing from apiOrigins, and when
// the app's redirect URI is not registered at the local provider.
//
//   node --test tests/e2e/errors.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   OP        dev/provider.mjs, the client registered for the app's /callback
//   api       dev/api.mjs, CORS allowing the app's origin
//   refusing  dev/api.mjs whose CORS allows no origin (the preflight gets no Access-Control-* headers)
//   other     dev/api.mjs, CORS allowing the app, never in the app's apiOrigins
//   app       examples/server.mjs + the flow-explorer page with test hooks; every origin above is in its
//             CSP connect-src, so a refused request is refused for the reason the test names, not by CSP
// No token is printed: the console is searched for the tokens the browser saw, and only their presence
// is reported.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { SAMPLE_API_SCOPE, startProvider } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import { startApp } from '../../examples/server.mjs';
import {
  APP_ROOT, assertNoSecrets, callSdk, captureTokenResponses, codeExchange, describeOutcome as describeSdkOutcome,
  screenshotOnFailure, signInThroughProvider, startBrowser,
} from './support.mjs';

const CLIENT_ID = 'errors-e2e';
const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 60_000;
// A request that gets no answer fails with network_error within the SDK's 30 s; a refused connection or
// a refused preflight fails at once.
const CALL_LIMIT = 35_000;

let op;
let app;
let api;
let refusing;
let other;
let browser;
let closedOrigin; // an origin on which nothing listens

const describeOutcome = (r) => describeSdkOutcome(r, CALL_LIMIT);

/** A loopback port that was free a moment ago, with nothing listening on it. */
function unusedPort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function configure(extra = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    testHooks: true,
    trace: false,
    connectSrc: [refusing.origin, other.origin, closedOrigin],
    ...extra,
  });
}

/** A new context and page, signed in as `username`; the token responses it saw, for the secret check. */
async function signedIn(username) {
  const ctx = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  const page = await ctx.newTab();
  const tokens = captureTokenResponses(ctx.context, `${op.issuer}/token`);
  await signInThroughProvider(page, { app, op, username });
  const exchange = await codeExchange(tokens);
  const secrets = { 'access token': exchange.body.access_token, 'refresh token': exchange.body.refresh_token, 'ID token': exchange.body.id_token };
  return { ...ctx, page, secrets };
}

before(async () => {
  app = await startApp({ root: APP_ROOT });
  op = await startProvider({
    clients: [{ client_id: CLIENT_ID, redirect_uris: [app.redirectUri], post_logout_redirect_uris: [app.url] }],
  });
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  refusing = await startApi({ issuer: op.issuer, allowedOrigins: [] });
  other = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  closedOrigin = `http://127.0.0.1:${await unusedPort()}`;
  browser = await startBrowser({ timeout: 30_000 });
});

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close(), refusing?.close(), other?.close()]);
});

describe('errors that say where to look', () => {
  test('provider down: createClient rejects with network_error naming the discovery URL and the likely causes', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const { page } = await browser.newContext({ stepTimeout: STEP_TIMEOUT }).then(async (c) => ({ ...c, page: await c.newTab() }));
    await screenshotOnFailure(page, 'errors-provider-down', async () => {
      await page.goto(app.url);
      await page.waitForSelector('body[data-state="signed-out"]');
      const issuer = closedOrigin; // nothing listens there: the provider is down
      const r = await page.evaluate(async ([issuer, clientId]) => {
        const { createClient } = await import('/dist/index.js');
        try {
          await createClient({ issuer, clientId, redirectUri: `${location.origin}/callback` });
          return { ok: true };
        } catch (e) {
          return { ok: false, name: e?.name, code: e?.code, message: String(e?.message), context: e?.context ?? null };
        }
      }, [issuer, CLIENT_ID]);
      const discovery = `${issuer}/.well-known/openid-configuration`;
      assert.equal(r.ok, false, 'createClient rejects when the provider is down');
      assert.equal(r.name, 'OidcError', `an OidcError: ${JSON.stringify(r)}`);
      assert.equal(r.code, 'network_error', `network_error: ${JSON.stringify(r)}`);
      assert.equal(r.context, discovery, 'context is the discovery URL');
      assert.ok(r.message.includes(discovery), `the message names the discovery URL: ${r.message}`);
      assert.match(r.message, /down|unreachable/i, `the message gives the likely causes: ${r.message}`);
      assert.match(r.message, /CORS/, `the message mentions CORS among the causes: ${r.message}`);
    });
  });

  test('CORS refused: fetchWithToken rejects with OidcError network_error naming the URL; an API that is down likewise', { timeout: TEST_TIMEOUT }, async () => {
    // The refusing API is the app's API (its origin is in apiOrigins), so the call carries the token and
    // needs a preflight, which the API answers without Access-Control-Allow-Origin.
    configure({ apiUrl: refusing.url });
    const { page, consoleMessages, secrets } = await signedIn('carol');
    await screenshotOnFailure(page, 'errors-cors', async () => {
      refusing.resetCounters();
      const url = `${refusing.url}/me`;
      const r = await callSdk(page, CALL_LIMIT, 'fetchWithToken', url);
      assert.equal(r.ok, false, `fetchWithToken rejects: ${describeOutcome(r)}`);
      assert.equal(r.name, 'OidcError', `an OidcError, not a bare TypeError: ${describeOutcome(r)}`);
      assert.equal(r.code, 'network_error', describeOutcome(r));
      assert.equal(r.context, url, 'context is the URL called');
      assert.ok(r.message.includes(url), `the message names the URL: ${r.message}`);
      assert.match(r.message, /CORS does not allow this origin/, `the message names CORS as a likely cause: ${r.message}`);
      // It was CORS: the preflight reached the API and the request itself never did.
      assert.ok(refusing.counters.preflights >= 1, 'the browser sent the preflight');
      assert.equal(refusing.counters.requests, 0, 'the request itself was never sent (the preflight was refused)');

      // The same for an API that is down (nothing listens on its port).
      const down = `${closedOrigin}/api/me`;
      const d = await callSdk(page, CALL_LIMIT, 'fetchWithToken', down);
      assert.equal(d.ok, false, `fetchWithToken rejects: ${describeOutcome(d)}`);
      assert.equal(d.code, 'network_error', describeOutcome(d));
      assert.equal(d.name, 'OidcError', describeOutcome(d));
      assert.equal(d.context, down, 'context is the URL called');
      assert.ok(d.message.includes(down), `the message names the URL: ${d.message}`);
      assertNoSecrets('the console', consoleMessages, secrets);
    });
  });

  test('origin missing from apiOrigins: with debug: true a console warning names the origin and apiOrigins, once; the request goes without Authorization', { timeout: TEST_TIMEOUT }, async () => {
    configure({ debug: true }); // apiOrigins: [api.origin]; `other` is not in it
    const { page, consoleMessages, secrets } = await signedIn('dave');
    await screenshotOnFailure(page, 'errors-api-origins', async () => {
      other.resetCounters();
      const url = `${other.url}/me`;
      const r = await callSdk(page, CALL_LIMIT, 'fetchWithToken', url);
      assert.ok(r.ok, `fetchWithToken resolves (as fetch would): ${describeOutcome(r)}`);
      assert.equal(r.value.status, 401, 'the API answers 401: no token came');
      assert.deepEqual(other.log.map((e) => e.hasAuthorization), [false], 'the request went without an Authorization header');
      const warnings = consoleMessages.filter((m) => m.startsWith('warning:') && m.includes('apiOrigins'));
      assert.equal(warnings.length, 1, `one warning: ${JSON.stringify(consoleMessages.map((m) => m.slice(0, 200)))}`);
      assert.ok(warnings[0].includes(other.origin), `the warning names the origin: ${warnings[0]}`);
      assert.ok(warnings[0].includes(JSON.stringify([api.origin])), `the warning names apiOrigins: ${warnings[0]}`);

      // Once per origin; and the API on apiOrigins still gets the token, with no warning.
      const again = await callSdk(page, CALL_LIMIT, 'fetchWithToken', url);
      assert.ok(again.ok && again.value.status === 401, describeOutcome(again));
      const good = await callSdk(page, CALL_LIMIT, 'fetchWithToken', `${api.url}/me`);
      assert.ok(good.ok && good.value.status === 200, `the API on apiOrigins answers 200: ${describeOutcome(good)}`);
      assert.equal(consoleMessages.filter((m) => m.includes('apiOrigins')).length, 1, 'no further warning');
      assertNoSecrets('the console', consoleMessages, secrets);
    });
  });

  test('an unregistered redirect URI: the provider\'s error page lists the registered ones and the --origin that adds one', { timeout: TEST_TIMEOUT }, async () => {
    const { page } = await browser.newContext({ stepTimeout: STEP_TIMEOUT }).then(async (c) => ({ ...c, page: await c.newTab() }));
    await screenshotOnFailure(page, 'errors-redirect-uri', async () => {
      const unregistered = 'http://localhost:5999/callback';
      const auth = new URL(`${op.issuer}/auth`);
      for (const [k, v] of Object.entries({
        client_id: CLIENT_ID, redirect_uri: unregistered, response_type: 'code', scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      })) auth.searchParams.set(k, v);
      await page.goto(auth.href);
      assert.match(await page.textContent('#error'), /invalid_redirect_uri/, 'the page names the error');
      const hint = await page.textContent('#hint');
      assert.ok(hint.includes(unregistered), `the page names the redirect URI the app asked for: ${hint}`);
      assert.ok(hint.includes(app.redirectUri), `the page lists the registered redirect URIs: ${hint}`);
      assert.ok(hint.includes('--origin http://localhost:5999'), `the page names the --origin that registers it: ${hint}`);
      assert.match(hint, /localhost.*127\.0\.0\.1.*different origins/s, 'the page explains localhost vs 127.0.0.1');
    });
  });

  test('origin missing from apiOrigins without debug, on a page no bundler built: no warning, and nothing throws', { timeout: TEST_TIMEOUT }, async () => {
    // The flow explorer loads dist/index.js as it is: `process` does not exist there, so the development
    // default is off, and reading it must not throw.
    configure();
    const { page, consoleMessages } = await signedIn('erin');
    await screenshotOnFailure(page, 'errors-api-origins-quiet', async () => {
      other.resetCounters();
      const r = await callSdk(page, CALL_LIMIT, 'fetchWithToken', `${other.url}/me`);
      assert.ok(r.ok && r.value.status === 401, describeOutcome(r));
      assert.deepEqual(other.log.map((e) => e.hasAuthorization), [false], 'the request went without an Authorization header');
      assert.deepEqual(consoleMessages.filter((m) => m.includes('apiOrigins') || m.startsWith('pageerror')), [], 'no warning and no page error');
    });
  });
});
