// End-to-end tests of the silent session check on load (issue #14, item 6): `checkSession: 'redirect'` in
// headless Chromium against the local OpenID Provider. On a load without a session, once per tab session,
// the SDK sends the tab to the provider with `prompt=none` (OIDC Core §3.1.2.1), which answers at once: a
// code while its session with the user is alive (signed in again, without a page shown), `login_required`
// once it has ended (signed out, no error). Either way the page comes back to the URL it was loaded at.
//
//   node --test tests/e2e/session-check.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports: the OP (dev/provider.mjs), the sample API (dev/api.mjs),
// and the app (examples/server.mjs + the flow-explorer page with test hooks, `checkSession` from its config).
// The provider's session ending is its session cookie going away (as when it expires): the context's
// cookies are cleared (the app itself sets none).
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  assertSignedIn, callSdk, captureTokenResponses, describeOutcome, loginAtProvider, screenshotOnFailure, sdkEvents,
  startAppWithProvider, startBrowser, tokenEndpointOf, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'session-check-e2e';
const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 90_000;
const ANY_STATE = ['signed-in', 'signed-out', 'error'];

let op;
let api;
let app;
let browser;
let tokenEndpoint;

function configure(extra = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope: `openid profile email ${SAMPLE_API_SCOPE}`,
    apiUrl: api.url,
    testHooks: true,
    checkSession: 'redirect',
    ...extra,
  });
}

/** A browser context recording the authorization requests its pages make (with their `prompt`). */
async function newSession() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  const authorizations = [];
  session.context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(op.issuer).origin && u.pathname === '/auth') authorizations.push(u.searchParams.get('prompt'));
  });
  return { ...session, authorizations, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

const interactions = () => op.requests.filter((r) => r.name === 'interaction').length;

/** Opens `url` and waits until the page has settled on one of its states (after any silent check). */
async function load(page, url) {
  await page.goto(url);
  return waitForOutcome(page, ANY_STATE);
}

/** A first load (the check finds no provider session), then a sign-in at the provider's pages. */
async function signIn(session, page, username) {
  assert.equal(await load(page, app.url), 'signed-out', 'no provider session yet');
  assert.deepEqual(session.authorizations, ['none'], 'the first load checked once, silently');
  await loginAtProvider(page, { app, op, username });
  await assertSignedIn(page, ['signed-in', 'error']);
}

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID));
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin] });
  tokenEndpoint = await tokenEndpointOf(op);
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close()]);
}, { timeout: 30_000 });

describe('checkSession: a silent session check on load', () => {
  test('a reload with the provider session alive signs in again without the user, at the original URL', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'session-check-alive', async () => {
        const page = await session.newTab();
        await signIn(session, page, 'petra');
        const beforeInteractions = interactions();
        const exchanges = session.tokenResponses.length;

        // A reload (no other tab open: tokens are in memory only) at a URL with a query and a fragment.
        const original = `${app.url}?view=orders&id=7#step-api`;
        assert.equal(await load(page, original), 'signed-in', await page.textContent('#error-text'));
        assert.equal(page.url(), original, 'the original URL, query and fragment, put back');
        assert.deepEqual(session.authorizations.slice(1), [null, 'none'], 'the sign-in, then one silent request');
        assert.equal(interactions(), beforeInteractions, 'no provider page was shown');
        assert.equal(session.tokenResponses.length, exchanges + 1, 'one code exchange');
        assert.match(await page.textContent('#signed-in-heading'), /Petra/);
        assert.equal(await page.evaluate(() => window.__oidc.sessionCheck?.signedIn), true, 'client.sessionCheck says so');
        assert.deepEqual((await sdkEvents(page)).filter((t) => t === 'error'), [], 'no error event');
        const me = await callSdk(page, STEP_TIMEOUT, 'fetchWithToken', `${api.url}/me`);
        assert.equal(me.ok && me.value.status, 200, `the API call: ${describeOutcome(me, STEP_TIMEOUT)}`);
        const stored = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc-wasm.')));
        assert.deepEqual(stored, [], 'no transaction and no mark left: a login completed in this tab');
      });
    } finally {
      await session.context.close();
    }
  });

  test('after the provider session ended: signed out with no error and no loop, once per tab session; a new tab checks again', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'session-check-ended', async () => {
        const page = await session.newTab();
        await signIn(session, page, 'quinn');
        await session.context.clearCookies(); // the provider's session is gone

        const original = `${app.url}?view=orders#step-refresh`;
        assert.equal(await load(page, original), 'signed-out', 'signed out');
        assert.equal(page.url(), original, 'the original URL put back');
        assert.deepEqual(session.authorizations.slice(1), [null, 'none'], 'one silent request');
        assert.equal(await page.isHidden('#error'), true, 'no error shown');
        assert.deepEqual((await sdkEvents(page)).filter((t) => t === 'error'), [], 'no error event');
        assert.deepEqual(await page.evaluate(() => window.__oidc.sessionCheck), { signedIn: false, returnTo: '/?view=orders#step-refresh' });

        // Loads in the same tab session: no second attempt.
        assert.equal(await load(page, app.url), 'signed-out');
        assert.equal(await load(page, `${app.url}?again=1`), 'signed-out');
        assert.deepEqual(session.authorizations.slice(1), [null, 'none'], 'no further authorization request in this tab session');
        assert.equal(await page.evaluate(() => window.__oidc.sessionCheck), null, 'no check answered on these loads');

        // A new tab is a new tab session: it checks again (and finds no session either).
        const tab = await session.newTab();
        assert.equal(await load(tab, app.url), 'signed-out');
        assert.deepEqual(session.authorizations.slice(1), [null, 'none', 'none'], 'the new tab checked once');
        assert.deepEqual((await sdkEvents(tab)).filter((t) => t === 'error'), []);
      });
    } finally {
      await session.context.close();
    }
  });

  test('without checkSession a reload stays signed out and asks the provider nothing', { timeout: TEST_TIMEOUT }, async () => {
    configure({ checkSession: undefined });
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'session-check-off', async () => {
        const page = await session.newTab();
        assert.equal(await load(page, app.url), 'signed-out');
        await loginAtProvider(page, { app, op, username: 'rudi' });
        await assertSignedIn(page, ['signed-in', 'error']);
        assert.equal(await load(page, app.url), 'signed-out');
        assert.deepEqual(session.authorizations, [null], 'only the sign-in');
      });
    } finally {
      await session.context.close();
    }
  });
});
