// End-to-end test of the flow explorer (examples/flow-explorer/), the learning page `npm start` opens: the
// built SDK (dist/) with its `trace` option, in headless Chromium, against the local OpenID Provider and
// the sample API.
//
//   node --test tests/e2e/flow-explorer.test.mjs     (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports: the OP (dev/provider.mjs; JWT access tokens for the
// sample API, refresh tokens rotated), the sample API (dev/api.mjs) and the app
// (examples/server.mjs, test hooks on). One tab signs in through the provider's real login and consent
// pages and walks the eight steps; each test checks one part of the page:
//   1-5  authorization request (PKCE S256, state, nonce), callback (code shortened), token response
//        (tokens shortened, and each shortened value really is a prefix and the length of the token the
//        provider issued), the ID token's header, checks and claims, the access token
//   6    the API called with the access token (200) and with the ID token (401); the API's log shows
//        that the second call really carried the ID token. Then a full-page screenshot
//   7    refresh: rotated, old and new refresh-token prefixes differ and match the real tokens
//   8    logout, shown after the provider's logout page sent the browser back
// and after each step: no full token, code or code_verifier anywhere in the page's text, HTML and
// attributes, the trace objects the page received, or web storage.
//
// The screenshot goes to docs/flow-explorer.png only when every test passed (a failing run never
// overwrites a good one); on failure a screenshot goes to tests/e2e/artifacts/ instead.
// Secrets seen by the test are compared, never printed: failure messages name the secret and the place.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { accountClaims, fingerprint, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  assertNoSecrets, assertSignedIn, assertStorageHoldsNoSecret, captureTokenResponses, dumpStorage, lastTokenResponse,
  loginAtProvider, openSignedOut, REPO, screenshotOnFailure, startAppWithProvider, startBrowser,
} from './support.mjs';

const SCREENSHOT = join(REPO, 'docs', 'flow-explorer.png');
const CLIENT_ID = 'flow-explorer-e2e';
const USERNAME = 'alice';
const TEST_TIMEOUT = 45_000;
const STEP_TIMEOUT = 10_000;
const VIEWPORT = { width: 1280, height: 900 };
const STORED_AUTHZ = 'flow-explorer.trace.authorization_request';
const STORED_LOGOUT = 'flow-explorer.trace.logout';
// How the core shortens a token: a prefix, an ellipsis and the full length.
const SHORTENED = /^(\S+)… \((\d+) chars\)$/;

let op;
let api;
let app;
let browser;
let page;
let screenshot = null; // taken after the API comparison; written to docs/ only if every test passed
let failures = 0;
let consoleMessages = [];
// What the browser sent and received, captured from the network: the secrets the page must not show.
const seen = {
  authorizationUrls: [],
  callbackUrls: [],
  tokenResponses: [], // { grantType, form, status, body, ... }
};

/** Runs a test body; on failure counts it and saves a screenshot to tests/e2e/artifacts/. */
async function step(name, fn) {
  try {
    return await screenshotOnFailure(page, `flow-explorer-${name}`, fn);
  } catch (err) {
    failures += 1;
    throw err;
  }
}

/** Every token, code and verifier seen on the wire so far, by name. */
async function secrets() {
  const all = {};
  for (const [i, r] of seen.tokenResponses.entries()) {
    await r.ready;
    for (const field of ['access_token', 'refresh_token', 'id_token']) {
      if (typeof r.body?.[field] === 'string') all[`${field} of token response ${i + 1} (${r.grantType})`] = r.body[field];
    }
    if (typeof r.body?.id_token === 'string') all[`ID token signature of token response ${i + 1}`] = r.body.id_token.split('.')[2];
    const verifier = r.form.get('code_verifier');
    if (verifier) all['PKCE code_verifier'] = verifier;
  }
  for (const [i, url] of seen.callbackUrls.entries()) {
    const code = new URL(url).searchParams.get('code');
    if (code) all[`authorization code ${i + 1}`] = code;
  }
  return all;
}

/** The page's text (hidden parts too), its HTML, every attribute value, the trace it holds, and storage. */
async function assertPageHoldsNoSecret(when) {
  const all = await secrets();
  assert.ok(Object.keys(all).length >= 4, 'the test captured the tokens, the code and the verifier');
  const shown = await page.evaluate(() => {
    const attributes = [];
    for (const node of document.querySelectorAll('*')) {
      for (const attr of node.attributes) attributes.push(attr.value);
    }
    return {
      text: document.documentElement.textContent,
      html: document.documentElement.outerHTML,
      attributes,
      trace: window.__oidcTrace ?? null,
    };
  });
  assertNoSecrets(`the page text ${when}`, shown.text, all);
  assertNoSecrets(`the page HTML ${when}`, shown.html, all);
  assertNoSecrets(`a DOM attribute ${when}`, shown.attributes, all);
  assertNoSecrets(`the trace objects the page received ${when}`, shown.trace, all);
  assertStorageHoldsNoSecret(await dumpStorage(page), all, when);
  assertNoSecrets(`the console output ${when}`, consoleMessages, all);
}

/** A shortened token as shown: its prefix is the real token's start and its length the real length. */
function assertShortenedFrom(shown, token, name) {
  const match = SHORTENED.exec(String(shown).trim());
  assert.ok(match, `the ${name} is shown shortened as "prefix… (N chars)"`);
  const [, prefix, length] = match;
  assert.ok(prefix.length >= 4 && prefix.length <= 16, `the ${name}'s shown prefix has 4 to 16 characters (has ${prefix.length})`);
  assert.ok(token.startsWith(prefix), `the ${name}'s shown prefix is the start of the real one`);
  assert.equal(Number(length), token.length, `the ${name}'s shown length is the real one`);
  return prefix;
}

const cellText = (selector) => page.textContent(selector).then((t) => (t ?? '').trim());
const statusOf = (sectionId) => page.getAttribute(`#${sectionId}`, 'data-status');

/** The latest token response of a grant type, which must have succeeded. */
async function succeeded(grantType) {
  const last = await lastTokenResponse(seen.tokenResponses, grantType);
  assert.equal(last.status, 200, `the ${grantType} token request succeeded`);
  return last;
}

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID, { resourceServer: { accessTokenTTL: 3600 } }));
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    testHooks: true,
  });
  browser = await startBrowser({ timeout: TEST_TIMEOUT });
  let newTab;
  ({ consoleMessages, newTab } = await browser.newContext({ viewport: VIEWPORT, stepTimeout: STEP_TIMEOUT }));
  page = await newTab();
  page.on('request', (req) => {
    if (!req.isNavigationRequest()) return;
    if (req.url().startsWith(`${op.issuer}/auth?`)) seen.authorizationUrls.push(req.url());
    if (req.url().startsWith(`${app.redirectUri}?`)) seen.callbackUrls.push(req.url());
  });
  seen.tokenResponses = captureTokenResponses(page, `${op.issuer}/token`);
}, { timeout: TEST_TIMEOUT });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close()]);
  // The committed README picture: written when missing or when asked (UPDATE_SCREENSHOT=1), so an
  // ordinary `npm test` leaves the working tree clean.
  if (screenshot && failures === 0 && (process.env.UPDATE_SCREENSHOT === '1' || !existsSync(SCREENSHOT))) {
    // Written whole, then renamed: a good screenshot is replaced only by another good one.
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    const partial = `${SCREENSHOT}.partial`;
    writeFileSync(partial, screenshot);
    renameSync(partial, SCREENSHOT);
    console.log(`  screenshot: ${SCREENSHOT}`);
  }
}, { timeout: TEST_TIMEOUT });

describe('flow explorer: the Authorization Code + PKCE flow, step by step', () => {
  let signedIn = false;
  let apiCompared = false;

  test('steps 1-5: sign-in through the provider shows the request, callback, tokens (shortened), ID-token checks and the access token', { timeout: TEST_TIMEOUT }, async () => {
    await step('signin', async () => {
      await openSignedOut(page, app);
      assert.equal(await statusOf('step-authorization-request'), 'ready', 'step 1 waits for the sign-in');
      await loginAtProvider(page, { app, op, username: USERNAME });
      await assertSignedIn(page);
      const expected = accountClaims(USERNAME);
      assert.equal(await cellText('#signed-in-heading'), `Signed in as ${expected.name}`);

      // Step 1: the authorization request, shown after the redirect from what the page kept.
      assert.equal(seen.authorizationUrls.length, 1, 'one authorization request');
      const sent = new URL(seen.authorizationUrls[0]).searchParams;
      assert.equal(await statusOf('step-authorization-request'), 'done');
      assert.equal(await cellText('#authz-endpoint'), `${op.issuer}/auth`);
      const param = (name) => cellText(`#authz-params tr[data-param="${name}"] td.value`);
      assert.equal(await param('response_type'), 'code');
      assert.equal(await param('client_id'), CLIENT_ID);
      assert.equal(await param('redirect_uri'), app.redirectUri);
      assert.equal(await param('code_challenge_method'), 'S256', 'PKCE method S256 is shown');
      assert.equal(await param('code_challenge'), sent.get('code_challenge'), 'the PKCE challenge shown is the one sent');
      assert.match(await param('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(await param('state'), sent.get('state'), 'the state shown is the one sent');
      assert.equal(await param('nonce'), sent.get('nonce'), 'the nonce shown is the one sent');
      assert.ok((await param('state')).length >= 16 && (await param('nonce')).length >= 16, 'state and nonce are shown whole');
      assert.match(await cellText('#authz-verifier'), /\b43 chars\b/, 'the code_verifier is described, not shown');
      assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), STORED_AUTHZ), null,
        'the kept step 1 was removed from sessionStorage once shown');

      // Step 2: the callback parameters; the code shortened.
      assert.equal(seen.callbackUrls.length, 1, 'one callback navigation');
      const callback = new URL(seen.callbackUrls[0]).searchParams;
      assert.equal(await statusOf('step-callback'), 'done');
      assertShortenedFrom(await cellText('#callback-params tr[data-param="code"] td.value'), callback.get('code'), 'authorization code');
      assert.equal(await cellText('#callback-params tr[data-param="state"] td.value'), sent.get('state'));
      assert.match(await cellText('#callback-params tr[data-param="state"] td.why'), /✓ the same as in step 1/);
      assert.equal(await cellText('#callback-params tr[data-param="iss"] td.value'), op.issuer);

      // Step 3: the token response; each token shortened, from the real one.
      const exchange = await succeeded('authorization_code');
      assert.equal(await statusOf('step-token-response'), 'done');
      const field = (name) => cellText(`#token-response tr[data-field="${name}"] td.value`);
      assert.equal(await field('token_type'), exchange.body.token_type);
      assert.equal(await field('expires_in'), `${exchange.body.expires_in} s`);
      for (const name of ['access_token', 'refresh_token', 'id_token']) {
        assert.equal(typeof exchange.body[name], 'string', `the token response has ${name}`);
        assertShortenedFrom(await field(name), exchange.body[name], name);
      }
      assert.match(await cellText('#token-response tr[data-field="id_token"] td.for'), /This app/);
      assert.match(await cellText('#token-response tr[data-field="access_token"] td.for'), /The API/);
      assert.match(await cellText('#token-response tr[data-field="refresh_token"] td.for'), /The provider/);

      // Step 4: the ID token's header, each check passed, the claims.
      assert.equal(await statusOf('step-id-token'), 'done');
      const header = JSON.parse(Buffer.from(exchange.body.id_token.split('.')[0], 'base64url').toString('utf8'));
      const headerShown = await page.$$eval('#id-header dt, #id-header dd', (nodes) => nodes.map((n) => n.textContent.trim()));
      assert.ok(headerShown.includes('alg') && headerShown.includes(header.alg), `the header shows alg ${header.alg}`);
      assert.ok(headerShown.includes('kid') && headerShown.includes(header.kid), 'the header shows the kid');
      const checks = await page.$$eval('#id-checks li', (items) => items.map((li) => ({
        check: li.dataset.check, passed: li.classList.contains('ok'), mark: li.querySelector('.mark')?.textContent,
        detail: li.querySelector('.detail')?.textContent ?? '', spec: li.querySelector('.spec')?.textContent ?? '',
      })));
      const names = checks.map((c) => c.check);
      for (const name of ['signature', 'iss', 'aud', 'exp', 'nonce']) {
        assert.ok(names.includes(name), `the checks list shows ${name} (shows ${names.join(', ')})`);
      }
      for (const c of checks) {
        assert.ok(c.passed && c.mark === '✓', `the ${c.check} check is shown as passed`);
        assert.ok(c.spec.length > 0, `the ${c.check} check names its spec section`);
      }
      assert.match(await cellText('#checks-count'), new RegExp(`^${checks.length} passed$`));
      for (const claim of ['sub', 'name', 'email']) {
        assert.equal(await cellText(`#claims tr[data-claim="${claim}"] td.value`), expected[claim], `claims table shows ${claim}`);
      }
      assert.equal(await cellText('#claims tr[data-claim="aud"] td.value'), CLIENT_ID, 'aud = the client id');
      assert.equal(await cellText('#claims tr[data-claim="nonce"] td.value'), sent.get('nonce'));

      // Step 5: the access token, shortened, sent only to the API's origin.
      assert.equal(await statusOf('step-access-token'), 'done');
      const accessFacts = await cellText('#access-facts');
      assert.ok(accessFacts.includes(new URL(api.url).origin), 'step 5 names the API origin');
      assertShortenedFrom(await cellText('#access-facts code.tok'), exchange.body.access_token, 'access token (step 5)');

      // The trace the page holds: the six kinds of step in the order of the flow so far.
      const kinds = await page.evaluate(() => window.__oidcTrace.map((s) => s.step));
      assert.deepEqual(kinds.slice(0, 4), ['authorization_request', 'callback', 'token_response', 'id_token']);

      // The picture: steps 1-5 done, 6-8 the learner's turn.
      const arrows = await page.$$eval('#map [data-map]', (nodes) => Object.fromEntries(nodes.map((n) => [n.dataset.map, n.dataset.status])));
      assert.deepEqual(arrows, {
        authorization_request: 'done', callback: 'done', token_response: 'done', id_token: 'done', access_token: 'done',
        api: 'ready', refresh: 'ready', logout: 'ready',
      });

      const violations = consoleMessages.filter((m) => /Content Security Policy|Refused to|pageerror/i.test(m));
      assert.deepEqual(violations.map((m) => m.slice(0, 300)), [], 'no CSP violation or page error');
      await assertPageHoldsNoSecret('after the sign-in');
      signedIn = true;
    });
  });

  test('step 6: the API answers 200 to the access token and 401 to the ID token', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!signedIn) return t.skip('sign-in failed');
    await step('api', async () => {
      const logBefore = api.log.length;
      await page.click('#call-api:not([disabled])');
      await page.waitForSelector('#api-with-access:is([data-outcome="ok"], [data-outcome="refused"], [data-outcome="error"])');
      await page.waitForSelector('#api-with-id:is([data-outcome="ok"], [data-outcome="refused"], [data-outcome="error"])');
      await page.waitForSelector('#step-api[data-status="done"]');

      const withAccess = {
        status: await cellText('#api-with-access .http-status .code'),
        body: JSON.parse(await cellText('#api-with-access .body')),
      };
      assert.equal(withAccess.status, '200', 'the call with the access token is accepted');
      assert.equal(withAccess.body.sub, USERNAME);
      assert.ok(String(withAccess.body.scope).split(' ').includes(SAMPLE_API_SCOPE));

      const withId = {
        outcome: await page.getAttribute('#api-with-id', 'data-outcome'),
        status: await cellText('#api-with-id .http-status .code'),
        body: JSON.parse(await cellText('#api-with-id .body')),
      };
      assert.equal(withId.status, '401', 'the call with the ID token is refused');
      assert.equal(withId.outcome, 'refused');
      assert.equal(withId.body.error, 'invalid_token');
      assert.match(await cellText('#api-why'), new RegExp(`aud is ${CLIENT_ID}`), 'the page explains: the ID token\'s aud is the client id');
      assert.match(await cellText('#map-api-result'), /access token 200 · ID token 401/);

      // What reached the API: first the access token, then the ID token itself (by fingerprint).
      const exchange = await succeeded('authorization_code');
      const calls = api.log.slice(logBefore).filter((e) => e.path.endsWith('/me') && e.method === 'GET');
      assert.equal(calls.length, 2, 'two calls reached the API');
      assert.equal(calls[0].token, fingerprint(exchange.body.access_token), 'the first call carried the access token');
      assert.equal(calls[0].status, 200);
      assert.equal(calls[1].token, fingerprint(exchange.body.id_token), 'the second call carried the ID token');
      assert.equal(calls[1].scheme, 'Bearer');
      assert.equal(calls[1].status, 401);
      // The Authorization headers as shown: each token shortened.
      assertShortenedFrom(await cellText('#api-with-access .sent code.tok'), exchange.body.access_token, 'access token (step 6)');
      assertShortenedFrom(await cellText('#api-with-id .sent code.tok'), exchange.body.id_token, 'ID token (step 6)');

      await assertPageHoldsNoSecret('after the API calls');
      apiCompared = true;
      screenshot = await page.screenshot({ fullPage: true, timeout: STEP_TIMEOUT });
    });
  });

  test('step 7: a refresh rotates the refresh token, shown as old and new prefixes', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!signedIn) return t.skip('sign-in failed');
    await step('refresh', async () => {
      const before = seen.tokenResponses.filter((r) => r.grantType === 'refresh_token').length;
      await page.click('#refresh:not([disabled])');
      await page.waitForSelector('#refresh-list li');
      await page.waitForSelector('#step-refresh[data-status="done"]');
      assert.equal(seen.tokenResponses.filter((r) => r.grantType === 'refresh_token').length, before + 1, 'one refresh request');
      const exchange = await succeeded('authorization_code');
      const refreshed = await succeeded('refresh_token');
      assert.notEqual(refreshed.body.refresh_token, exchange.body.refresh_token, 'the provider rotated the refresh token');

      const item = page.locator('#refresh-list li').last();
      assert.equal(await item.getAttribute('data-rotated'), 'true', 'the page shows rotated: true');
      assert.match(await item.locator('.badge').textContent(), /rotated: yes/);
      const oldPrefix = assertShortenedFrom(await item.locator('.old code').textContent(), exchange.body.refresh_token, 'old refresh token');
      const newPrefix = assertShortenedFrom(await item.locator('.new code').textContent(), refreshed.body.refresh_token, 'new refresh token');
      assert.notEqual(oldPrefix, newPrefix, 'old and new prefixes differ');

      const kinds = await page.evaluate(() => window.__oidcTrace.map((s) => s.step));
      assert.ok(kinds.includes('refresh'), 'the trace has a refresh step');
      await assertPageHoldsNoSecret('after the refresh');
    });
  });

  test('step 8: logout revokes, ends the provider session, and is shown when the browser is back', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!signedIn) return t.skip('sign-in failed');
    await step('logout', async () => {
      const secretsBefore = await secrets();
      const revocationsBefore = op.revocations.length;
      const endSession = page.waitForRequest((req) => req.url().startsWith(`${op.issuer}/session/end`) && req.isNavigationRequest());
      await page.click('#sign-out:not([disabled])');
      await endSession;
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL((u) => u.origin === app.origin);
      await page.waitForSelector('body[data-state="signed-out"]');
      await page.waitForSelector('#step-logout[data-status="done"]');
      assert.ok(op.revocations.length > revocationsBefore, 'the refresh token was revoked at the provider');
      assert.equal(await cellText('#logout-facts dd[data-fact="revoked"]'), 'yes');
      assert.equal(await cellText('#logout-facts dd[data-fact="end_session"]'), 'yes');
      assert.equal(await page.evaluate((key) => sessionStorage.getItem(key), STORED_LOGOUT), null,
        'the kept step 8 was removed from sessionStorage once shown');
      assert.equal(await statusOf('step-authorization-request'), 'ready', 'step 1 waits for a new sign-in');
      assert.equal(await page.evaluate(() => window.__oidc.getUser()), null, 'nobody is signed in');
      // The new page holds none of the old tokens either.
      const all = await secrets();
      assert.deepEqual(Object.keys(all), Object.keys(secretsBefore), 'no token request after the logout');
      await assertPageHoldsNoSecret('after the logout');
    });
  });
});
