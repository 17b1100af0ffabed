// End-to-end sign-in test: the built SDK (dist/) in headless Chromium, against a real OpenID Provider.
//
//   node --test tests/e2e/          (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// Starts the local OP (dev/provider.mjs) and the flow-explorer app (examples/server.mjs) on
// ephemeral loopback ports in this process, then drives the page through the provider's real login and
// consent pages and checks: the verified claims, that no token, code or code_verifier is left anywhere
// the page can persist or leak it (storage, cookies, URL, history, referrer, console), that a replayed
// callback URL and an error response are refused without a token request, and that the URL is cleaned.
//
// Secrets seen by the test (tokens, code, verifier) are only compared, never printed: failure messages
// name the secret and the place, not the value. On failure a screenshot goes to tests/e2e/artifacts/.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountClaims } from '../../dev/provider.mjs';
import {
  assertNoSecrets, assertStorageHoldsNoSecret, captureTokenResponses, dumpStorage, openSignedOut,
  screenshotOnFailure, signInThroughProvider, startAppWithProvider, startBrowser, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'flow-explorer-e2e';
const USERNAME = 'alice';
const TEST_TIMEOUT = 30_000;
const STEP_TIMEOUT = 10_000;
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];

// Records, in the page, every history.replaceState/pushState target's path and query parameter names
// (not values), so the test can see whether the SDK itself scrubbed the URL before the app moved on.
const URL_LOG_SCRIPT = () => {
  window.__urlLog = [];
  for (const method of ['replaceState', 'pushState']) {
    const original = History.prototype[method];
    History.prototype[method] = function patched(state, title, url) {
      try {
        const target = new URL(url ?? location.href, location.href);
        window.__urlLog.push({ method, path: target.pathname, params: [...target.searchParams.keys()] });
      } catch { /* let the browser report the bad URL */ }
      return original.apply(this, arguments);
    };
  }
};

let op;
let app;
let browser;

/** A new context (URL rewrites logged) with one page. */
async function newPage() {
  const { context, consoleMessages, newTab } = await browser.newContext({ stepTimeout: STEP_TIMEOUT, initScript: URL_LOG_SCRIPT });
  return { context, page: await newTab(), consoleMessages };
}

function responseParamsIn(url) {
  return RESPONSE_PARAMS.filter((p) => new URL(url).searchParams.has(p));
}

async function errorShown(page) {
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    code: document.getElementById('error').dataset.code ?? null,
    text: document.getElementById('error-text').textContent,
    last: window.__oidcLastError ?? null,
  }));
}

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID));
  app.configure({ issuer: op.issuer, clientId: CLIENT_ID, testHooks: true });
  browser = await startBrowser({ timeout: TEST_TIMEOUT });
}, { timeout: TEST_TIMEOUT });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close()]);
}, { timeout: TEST_TIMEOUT });

describe('sign-in with the built SDK against a real OpenID Provider', () => {
  // Shared by the first three tests: one tab that signed in.
  let session = null;

  test('signs in through the provider\'s login and consent pages and shows the verified claims', { timeout: TEST_TIMEOUT }, async () => {
    const { context, page, consoleMessages } = await newPage();
    await screenshotOnFailure(page, 'signin', async () => {
      const authorizationRequests = [];
      const callbackUrls = [];
      const tokenExchanges = captureTokenResponses(page, `${op.issuer}/token`);
      const referers = [];
      page.on('request', (req) => {
        referers.push(req.headerValue('referer').then((value) => ({ url: req.url(), value })));
        if (!req.isNavigationRequest()) return;
        if (req.url().startsWith(`${op.issuer}/auth?`)) authorizationRequests.push(req.url());
        if (req.url().startsWith(`${app.redirectUri}?`)) callbackUrls.push(req.url());
      });
      const tokenBefore = op.counters.token;
      const jwksBefore = op.counters.jwks;

      await signInThroughProvider(page, { app, op, username: USERNAME });
      const expected = accountClaims(USERNAME);

      // The authorization request: code flow, PKCE S256, state, nonce, exact redirect URI.
      assert.equal(authorizationRequests.length, 1, 'one authorization request');
      const authz = new URL(authorizationRequests[0]).searchParams;
      assert.equal(authz.get('response_type'), 'code');
      assert.equal(authz.get('client_id'), CLIENT_ID);
      assert.equal(authz.get('redirect_uri'), app.redirectUri);
      assert.equal(authz.get('code_challenge_method'), 'S256');
      assert.match(authz.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/, 'code_challenge is a base64url SHA-256');
      assert.ok((authz.get('state') ?? '').length >= 16, 'state has at least 16 characters');
      assert.ok((authz.get('nonce') ?? '').length >= 16, 'nonce has at least 16 characters');
      assert.ok(authz.get('scope')?.split(' ').includes('openid'), 'scope includes openid');
      assert.equal(authz.get('code_verifier'), null, 'the verifier never leaves in the front channel');

      // The authorization response came back with code, state and iss (RFC 9207).
      assert.equal(callbackUrls.length, 1, 'one callback navigation');
      const callback = new URL(callbackUrls[0]);
      assert.equal(callback.searchParams.get('state'), authz.get('state'));
      assert.equal(callback.searchParams.get('iss'), op.issuer);
      const code = callback.searchParams.get('code');
      assert.ok(code, 'the callback carried a code');

      // Exactly one token request, a PKCE code exchange of a public client.
      assert.equal(op.counters.token - tokenBefore, 1, 'one token request reached the provider');
      assert.equal(tokenExchanges.length, 1, 'one token response seen by the page');
      const exchange = tokenExchanges[0];
      await exchange.ready;
      assert.equal(exchange.status, 200);
      assert.equal(exchange.form.get('grant_type'), 'authorization_code');
      assert.equal(exchange.form.get('client_id'), CLIENT_ID);
      assert.equal(exchange.form.get('redirect_uri'), app.redirectUri);
      assert.ok(exchange.form.get('code') === code, 'the token request exchanged the code from the callback');
      assert.ok((exchange.form.get('code_verifier') ?? '').length >= 43, 'the token request sent a code_verifier');
      assert.equal(exchange.form.get('client_secret'), null);
      for (const field of ['access_token', 'refresh_token', 'id_token']) {
        assert.equal(typeof exchange.body?.[field], 'string', `the token response has ${field}`);
      }
      assert.ok(op.counters.jwks > jwksBefore, 'the SDK fetched the provider\'s JWKS to verify the ID token');

      // What the page shows.
      assert.equal(await page.textContent('#signed-in-heading'), `Signed in as ${expected.name}`);
      for (const claim of ['sub', 'name', 'email']) {
        const cell = await page.textContent(`#claims tr[data-claim="${claim}"] td.value`);
        assert.equal(cell.trim(), expected[claim], `claims table shows ${claim}`);
      }
      assert.match(await page.textContent('#signed-in'), /ID token/);

      // What the SDK returns (test hook window.__oidc).
      const user = await page.evaluate(() => window.__oidc.getUser());
      assert.ok(user, 'getUser() returns the claims');
      assert.equal(user.sub, expected.sub);
      assert.equal(user.name, expected.name);
      assert.equal(user.email, expected.email);
      assert.equal(user.email_verified, true);
      assert.equal(user.iss, op.issuer);
      assert.ok(user.aud === CLIENT_ID || (Array.isArray(user.aud) && user.aud.includes(CLIENT_ID)), 'aud contains the client id');
      const now = Math.floor(Date.now() / 1000);
      assert.ok(typeof user.exp === 'number' && user.exp > now, 'exp is in the future');
      assert.ok(typeof user.iat === 'number' && user.iat <= now + 60, 'iat is not in the future');
      assert.equal(user.nonce, authz.get('nonce'), 'the ID token nonce is the one sent');
      // The claims are exactly those of the ID token the provider issued.
      const idPayload = JSON.parse(Buffer.from(exchange.body.id_token.split('.')[1], 'base64url').toString('utf8'));
      for (const [name, value] of Object.entries(idPayload)) {
        assert.deepEqual(user[name], value, `getUser().${name} equals the ID token's`);
      }

      // The SDK itself removed the response parameters from the URL (before the app moved to returnTo).
      const urlLog = await page.evaluate(() => window.__urlLog);
      assert.ok(urlLog.length >= 1, 'history.replaceState was called');
      assert.equal(urlLog[0].path, '/callback', 'the first URL rewrite is the SDK\'s, on /callback');
      assert.deepEqual(urlLog[0].params.filter((p) => RESPONSE_PARAMS.includes(p)), [], 'the SDK\'s rewrite drops code/state/iss');

      // Referrer-Policy: no-referrer: no request the page made after the callback carried the URL with the code.
      const sentReferers = (await Promise.all(referers)).filter((r) => r.value);
      assertNoSecrets('a Referer header', sentReferers.map((r) => r.value), { 'authorization code': code });

      // The page ran under the CSP without violations.
      const violations = consoleMessages.filter((m) => /Content Security Policy|Refused to/i.test(m));
      assert.deepEqual(violations.map((m) => m.slice(0, 300)), [], 'no CSP violations');

      session = {
        context, page, consoleMessages, callbackUrl: callbackUrls[0], state: authz.get('state'),
        secrets: {
          'access token': exchange.body.access_token,
          'refresh token': exchange.body.refresh_token,
          'ID token': exchange.body.id_token,
          'ID token signature': exchange.body.id_token.split('.')[2],
          'authorization code': code,
          'PKCE code_verifier': exchange.form.get('code_verifier'),
        },
      };
    });
  });

  test('after the callback no token, code or verifier is in storage, cookies, URL, history, referrer or console', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!session) return t.skip('sign-in failed');
    const { page, secrets, consoleMessages } = session;
    await screenshotOnFailure(page, 'storage-audit', async () => {
      const dump = await dumpStorage(page);
      assertStorageHoldsNoSecret(dump, secrets);
      assertNoSecrets('the console output', consoleMessages, secrets);
      assertNoSecrets('the page text', await page.textContent('body'), secrets);

      assert.deepEqual(responseParamsIn(dump.href), [], 'the URL has no authorization-response parameter');
      const txKeys = Object.keys(dump.sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.'));
      assert.deepEqual(txKeys, [], 'the login transaction was deleted from sessionStorage');
      assert.equal(dump.serviceWorkers, 0, 'no service worker registered');
    });
  });

  test('a replayed callback URL is refused without a token request, and the URL is cleaned', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!session) return t.skip('sign-in failed');
    const { page, callbackUrl, secrets } = session;
    await screenshotOnFailure(page, 'replayed-callback', async () => {
      const tokenBefore = op.counters.token;
      await page.goto(callbackUrl);
      assert.equal(await waitForOutcome(page), 'error', 'the replayed callback is refused');
      const shown = await errorShown(page);
      assert.equal(shown.code, 'state_unknown', `error code shown: ${shown.text}`);
      assert.match(shown.text, /^state_unknown: ./);
      assert.equal(op.counters.token, tokenBefore, 'no token request reached the provider');
      assert.deepEqual(responseParamsIn(page.url()), [], 'the URL has no authorization-response parameter');
      assertNoSecrets('location.href after the replay', page.url(), secrets);
      assert.equal(await page.evaluate(() => window.__oidc.getUser()), null, 'nobody is signed in on this page');
    });
  });

  test('an ID token whose signature was altered in transit is refused, and nobody is signed in', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!session) return t.skip('sign-in failed');
    // A new tab of the signed-in browser: the provider remembers the user and the grant, so it answers
    // the authorization request at once. The token response is altered on its way to the page.
    const page = await session.context.newPage();
    await screenshotOnFailure(page, 'bad-signature', async () => {
      const tokenEndpoint = `${op.issuer}/token`;
      let altered = false;
      await page.route((u) => u.href === tokenEndpoint, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch();
        const body = await response.json();
        const [header, payload, signature] = body.id_token.split('.');
        const i = Math.floor(signature.length / 2);
        const flipped = signature[i] === 'A' ? 'B' : 'A';
        body.id_token = `${header}.${payload}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`;
        altered = true;
        return route.fulfill({ response, json: body });
      });
      await openSignedOut(page, app);
      await page.click('#sign-in:not([disabled])');
      assert.equal(await waitForOutcome(page), 'error', 'the altered ID token is refused');
      assert.ok(altered, 'the token response was altered');
      const shown = await errorShown(page);
      assert.equal(shown.code, 'signature_invalid', `error code shown: ${shown.text}`);
      assert.equal(await page.evaluate(() => window.__oidc.getUser()), null, 'nobody is signed in');
      assert.deepEqual(responseParamsIn(page.url()), [], 'the URL has no authorization-response parameter');
    });
    await page.close();
  });

  test('an error response with a real state is reported as the provider\'s access_denied, without a token request', { timeout: TEST_TIMEOUT }, async () => {
    const { page } = await newPage();
    await screenshotOnFailure(page, 'error-response', async () => {
      // Start a real login but stop the navigation to the authorization endpoint, keeping its state.
      const isAuthorization = (u) => u.href.startsWith(`${op.issuer}/auth?`);
      const intercepted = new Promise((resolveUrl) => {
        page.route(isAuthorization, (route) => {
          resolveUrl(route.request().url());
          return route.fulfill({ status: 204 });
        });
      });
      await openSignedOut(page, app);
      await page.click('#sign-in:not([disabled])');
      const authorizationUrl = await Promise.race([
        intercepted,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no navigation to the authorization endpoint')), STEP_TIMEOUT)),
      ]);
      await page.unroute(isAuthorization);
      const state = new URL(authorizationUrl).searchParams.get('state');
      const txBefore = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.')));
      assert.equal(txBefore.length, 1, 'login() stored one login transaction');

      const tokenBefore = op.counters.token;
      const callback = new URL(app.redirectUri);
      callback.searchParams.set('error', 'access_denied');
      callback.searchParams.set('error_description', 'The user said no <img src=x id=injected>');
      callback.searchParams.set('state', state);
      callback.searchParams.set('iss', op.issuer);
      await page.goto(callback.href);
      assert.equal(await waitForOutcome(page), 'error');
      const shown = await errorShown(page);
      // The SDK may report the provider's error as its own code, or as authorization_error carrying it.
      const carriesAccessDenied = shown.code === 'access_denied'
        || (shown.code === 'authorization_error' && Object.values(shown.last ?? {}).includes('access_denied'));
      assert.ok(carriesAccessDenied, `the error names access_denied (shown: ${shown.text})`);
      assert.equal(await page.locator('#injected').count(), 0, 'error_description is shown as text, never as HTML');
      assert.equal(op.counters.token, tokenBefore, 'no token request reached the provider');
      assert.deepEqual(responseParamsIn(page.url()), [], 'the URL has no authorization-response parameter');
      const txLeft = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.')));
      assert.deepEqual(txLeft, [], 'the login transaction was used up');
    });
  });

  test('cancelling on the provider\'s login page comes back as access_denied from the real provider', { timeout: TEST_TIMEOUT }, async () => {
    const { page } = await newPage();
    await screenshotOnFailure(page, 'cancel', async () => {
      const tokenBefore = op.counters.token;
      await openSignedOut(page, app);
      await page.click('#sign-in:not([disabled])');
      await page.waitForURL((u) => u.pathname.startsWith('/interaction/') && u.origin === new URL(op.issuer).origin);
      await page.click('text=[ Cancel ]');
      assert.equal(await waitForOutcome(page), 'error');
      const shown = await errorShown(page);
      const carriesAccessDenied = shown.code === 'access_denied'
        || (shown.code === 'authorization_error' && Object.values(shown.last ?? {}).includes('access_denied'));
      assert.ok(carriesAccessDenied, `the error names access_denied (shown: ${shown.text})`);
      assert.equal(op.counters.token, tokenBefore, 'no token request reached the provider');
      assert.deepEqual(responseParamsIn(page.url()), [], 'the URL has no authorization-response parameter');
    });
  });
});
