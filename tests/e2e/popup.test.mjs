// End-to-end tests of popup sign-in (issue #14, item 5): `client.loginWithPopup()` in headless Chromium
// against the local OpenID Provider. The opener never navigates; the popup's redirect page (the app's own
// redirect URI, through handlePopupCallback) relays the response over a BroadcastChannel and closes; the
// opener completes the login through the core. Also under `Cross-Origin-Opener-Policy: same-origin`, where
// the popup loses `window.opener` on its way through the provider. Failures: a blocked popup, a popup the
// user closes (and, under COOP, where its closing cannot be seen: the timeout), the provider's
// access_denied, and a forged relay refused while the real one is taken.
//
//   node --test tests/e2e/popup.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports: the OP (dev/provider.mjs), the sample API (dev/api.mjs),
// and the app (examples/server.mjs + the flow-explorer page, whose "Sign in with a popup" button calls
// loginWithPopup; `coop` in its config sets the header on its pages).
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  assertStorageHoldsNoSecret, callSdk, captureTokenResponses, codeExchange, describeOutcome, dumpStorage,
  openSignedOut, screenshotOnFailure, startAppWithProvider, startBrowser, tokenEndpointOf, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'popup-e2e';
const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 90_000;
const ANY_STATE = ['signed-in', 'signed-out', 'error'];
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'session_state'];

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
    ...extra,
  });
}

/**
 * A browser context whose pages report each popup relay as it is posted: the channel, the popup's address
 * bar at that moment, whether the popup still had its opener, and the relayed response (kept in this
 * process only, never printed). Also the authorization requests' URLs, for their `state`.
 */
async function newSession() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  const relays = [];
  const authorizations = [];
  await session.context.exposeBinding('__relaySeen', (_source, seen) => { relays.push(seen); });
  await session.context.addInitScript(() => {
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function (message) {
      if (message && typeof message.response === 'string' && !window.__forging) {
        window.__relaySeen({ channel: this.name, href: location.href, opener: window.opener !== null, response: message.response });
      }
      return post.call(this, message);
    };
  });
  session.context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.origin === new URL(op.issuer).origin && u.pathname === '/auth') authorizations.push(u);
  });
  return { ...session, relays, authorizations, tokenResponses: captureTokenResponses(session.context, tokenEndpoint) };
}

/** The end of a popup sign-in started with the page's button: signed in, the error card, or the popup's
 * failure (the page then shows signed out, as before the click). */
async function popupSignInEnds(page) {
  await page.waitForFunction(() => ['signed-in', 'error'].includes(document.body.dataset.state)
    || window.__oidcEvents.some((e) => e.type === 'popupFailed'));
  const failed = await page.evaluate(() => window.__oidcEvents.find((e) => e.type === 'popupFailed'));
  if (failed) assert.fail(`the popup sign-in failed: ${failed.code}`);
  assert.equal(await page.evaluate(() => document.body.dataset.state), 'signed-in', await page.textContent('#error-text'));
}

/** Clicks "Sign in with a popup" (a real click: a user gesture) and returns the popup. */
async function clickPopupSignIn(page) {
  const popup = page.waitForEvent('popup');
  await page.click('#sign-in-popup:not([disabled])');
  return popup;
}

/**
 * Adds a button to the page whose click calls loginWithPopup(options) — in a user gesture, as an app's
 * button does — and records the outcome in window.__popupOutcome. Clicks it; returns the popup.
 */
async function startPopupLogin(page, options) {
  await page.evaluate((opts) => {
    window.__popupOutcome = undefined;
    const b = document.createElement('button');
    b.id = 'test-popup-login';
    b.textContent = 'test popup login';
    b.addEventListener('click', () => {
      // `ownWindow`: the app opens the popup itself, on a page of its own, and passes it.
      const { ownWindow, ...rest } = opts;
      const options = ownWindow ? { ...rest, popup: window.open('/favicon.svg', 'app-popup', 'popup,width=500,height=640') } : rest;
      window.__oidc.loginWithPopup(options).then(
        (r) => { window.__popupOutcome = { ok: true, sub: r.user.sub }; },
        (e) => { window.__popupOutcome = { ok: false, code: e.code, error: e.error ?? null, message: e.message }; },
      );
    });
    document.body.append(b);
  }, options);
  const popup = page.waitForEvent('popup');
  await page.click('#test-popup-login');
  return popup;
}

async function popupOutcome(page) {
  await page.waitForFunction(() => window.__popupOutcome !== undefined);
  return page.evaluate(() => window.__popupOutcome);
}

/** Waits until the popup shows the provider's login page. */
async function atProvider(popup) {
  await popup.waitForURL((u) => u.origin === new URL(op.issuer).origin && u.pathname.startsWith('/interaction/'));
  await popup.waitForSelector('input[name="login"]');
}

/**
 * The user looks at the login page for a moment before closing the popup, long enough for the opener's
 * watch (every 250 ms) to see it there: a popup closed faster than that cannot be told apart from one lost
 * to COOP (js/popup.ts), and the login would end by its timeout instead.
 */
async function linger(page) {
  await page.evaluate(() => new Promise((r) => setTimeout(r, 1000)));
}

/** Signs in on the provider's pages in the popup (consenting when asked); waits until the popup closes. */
async function signInInPopup(popup, username) {
  await atProvider(popup);
  const closed = popup.waitForEvent('close');
  await popup.fill('input[name="login"]', username);
  await popup.fill('input[name="password"]', 'any-password');
  await popup.click('button[type="submit"]');
  const next = await Promise.race([
    closed.then(() => 'closed'),
    popup.waitForSelector('button:has-text("Continue")').then(() => 'consent', () => 'closed'),
  ]);
  if (next === 'consent') await popup.click('button:has-text("Continue")');
  await closed;
}

const authorizationRequests = () => op.requests.filter((r) => r.name === 'authorization' && r.method === 'GET').length;
const codeExchanges = (session) => session.tokenResponses.filter((r) => r.grantType === 'authorization_code');

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

describe('popup sign-in', () => {
  for (const coop of [null, 'same-origin']) {
    const under = coop ? ` under Cross-Origin-Opener-Policy: ${coop}` : '';
    test(`signs in without the opener navigating${under}: user shown, API call works, the relay scrubbed and nothing stored`, { timeout: TEST_TIMEOUT }, async () => {
      configure(coop ? { coop } : {});
      const session = await newSession();
      try {
        await screenshotOnFailure(session.pages, `popup-signin${coop ? '-coop' : ''}`, async () => {
          const page = await session.newTab();
          const response = await page.goto(app.url);
          assert.equal(response.headers()['cross-origin-opener-policy'], coop ?? undefined, 'the app pages carry the COOP header asked for');
          await page.waitForSelector('body[data-state="signed-out"]');
          let navigations = 0;
          page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });

          const popup = await clickPopupSignIn(page);
          await signInInPopup(popup, 'mona');
          await popupSignInEnds(page);

          assert.equal(navigations, 0, 'the opener never navigated');
          assert.equal(page.url(), app.url, 'the opener\'s address is unchanged');
          assert.match(await page.textContent('#signed-in-heading'), /Mona/, 'the user is shown');
          const me = await callSdk(page, STEP_TIMEOUT, 'fetchWithToken', `${api.url}/me`);
          assert.equal(me.ok && me.value.status, 200, `the API call: ${describeOutcome(me, STEP_TIMEOUT)}`);

          // The relay: one message, on the login's channel, posted after the popup's address bar was scrubbed.
          assert.equal(session.relays.length, 1, 'one relay');
          const [relay] = session.relays;
          const state = new URL(relay.response).searchParams.get('state');
          assert.ok(state?.startsWith('p.'), 'a popup login\'s state');
          assert.equal(relay.channel, `oidc-wasm.popup.${state}`);
          const left = RESPONSE_PARAMS.filter((p) => new URL(relay.href).searchParams.has(p));
          assert.deepEqual(left, [], 'the popup\'s address bar held no response parameter when it relayed');
          assert.equal(new URL(relay.href).pathname, '/callback', 'relayed from the redirect URI');
          assert.equal(relay.opener, !coop, coop ? 'under COOP the popup had lost window.opener' : 'without COOP the popup kept its opener');
          assert.ok(popup.isClosed(), 'the popup closed itself');

          // Nothing of the login is stored: the transaction stayed in memory, the tokens too.
          const exchange = await codeExchange(session.tokenResponses);
          const dump = await dumpStorage(page);
          assert.deepEqual(Object.keys(dump.sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.')), [], 'no login transaction in sessionStorage');
          assertStorageHoldsNoSecret(dump, {
            'access token': exchange.body.access_token,
            'refresh token': exchange.body.refresh_token,
            'ID token': exchange.body.id_token,
            'authorization code': new URL(relay.response).searchParams.get('code'),
          }, 'after a popup sign-in');
        });
      } finally {
        await session.context.close();
      }
    });
  }

  test('a popup the browser blocks: popup_blocked, and nothing is asked of the provider', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-blocked', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const before = authorizationRequests();
        // window.open refusing, as a popup blocker makes it (it returns null).
        await page.evaluate(() => { window.open = () => null; });
        await page.click('#sign-in-popup:not([disabled])');
        await page.waitForFunction(() => window.__oidcEvents.some((e) => e.type === 'popupFailed'));
        const failed = await page.evaluate(() => window.__oidcEvents.find((e) => e.type === 'popupFailed'));
        assert.equal(failed.code, 'popup_blocked');
        assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out');
        assert.equal(authorizationRequests(), before, 'no authorization request');
        assert.equal(session.pages().length, 1, 'no window opened');
      });
    } finally {
      await session.context.close();
    }
  });

  test('a popup the user closes at the provider: popup_closed, no token request, and a new popup login works', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-closed', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await clickPopupSignIn(page);
        await atProvider(popup);
        await linger(page);
        await popup.close();
        await page.waitForFunction(() => window.__oidcEvents.some((e) => e.type === 'popupFailed'));
        const failed = await page.evaluate(() => window.__oidcEvents.find((e) => e.type === 'popupFailed'));
        assert.equal(failed.code, 'popup_closed');
        assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out');
        assert.equal(codeExchanges(session).length, 0, 'no code exchange');
        assert.equal(await page.evaluate(() => window.__oidcEvents.some((e) => e.type === 'error')), false, 'no error event');

        await page.evaluate(() => { window.__oidcEvents.length = 0; });
        const again = await clickPopupSignIn(page);
        await signInInPopup(again, 'nils');
        await popupSignInEnds(page);
      });
    } finally {
      await session.context.close();
    }
  });

  test('the page that opened the popup is closed meanwhile: the popup relays, nobody takes it, and it closes itself; no code exchange', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-orphaned', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await clickPopupSignIn(page);
        await atProvider(popup);
        await page.close();
        await signInInPopup(popup, 'nils'); // returns once the popup has closed (within the step timeout)
        assert.equal(session.relays.length, 1, 'the popup relayed the response once');
        assert.equal(codeExchanges(session).length, 0, 'nobody exchanged the code');
      });
    } finally {
      await session.context.close();
    }
  });

  test('under COOP same-origin a closed popup cannot be seen: the login ends with popup_timeout', { timeout: TEST_TIMEOUT }, async () => {
    configure({ coop: 'same-origin' });
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-closed-coop', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await startPopupLogin(page, { timeoutSeconds: 3 });
        await atProvider(popup);
        await linger(page);
        await popup.close();
        const outcome = await popupOutcome(page);
        assert.equal(outcome.code, 'popup_timeout', JSON.stringify(outcome));
        assert.equal(codeExchanges(session).length, 0);
      });
    } finally {
      await session.context.close();
    }
  });

  test('the provider\'s access_denied rejects with authorization_error (access_denied); the popup closes', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-denied', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await startPopupLogin(page, {});
        await atProvider(popup);
        const closed = popup.waitForEvent('close');
        await popup.click('a:has-text("Cancel")'); // the provider's "[ Cancel ]": access_denied to the redirect URI
        const outcome = await popupOutcome(page);
        assert.deepEqual([outcome.ok, outcome.code, outcome.error], [false, 'authorization_error', 'access_denied'], JSON.stringify(outcome));
        await closed;
        assert.equal(session.relays.length, 1, 'the error was relayed');
        assert.equal(codeExchanges(session).length, 0);
        assert.equal(await callSdk(page, STEP_TIMEOUT, 'isAuthenticated').then((r) => r.value), false);
      });
    } finally {
      await session.context.close();
    }
  });

  test('a window the app opened itself is used: no second window, signed in', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-own-window', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await startPopupLogin(page, { ownWindow: true });
        await signInInPopup(popup, 'pia');
        const outcome = await popupOutcome(page);
        assert.deepEqual([outcome.ok, outcome.sub], [true, 'pia'], JSON.stringify(outcome));
        assert.equal(session.context.pages().length, 1, 'only the app\'s own popup was opened, and it closed');
        assert.equal(session.relays.length, 1);
      });
    } finally {
      await session.context.close();
    }
  });

  test('a forged relay with another state is refused while the real one is taken; a second relay changes nothing', { timeout: TEST_TIMEOUT }, async () => {
    configure();
    const session = await newSession();
    try {
      await screenshotOnFailure(session.pages, 'popup-forged', async () => {
        const page = await session.newTab();
        await openSignedOut(page, app);
        const popup = await startPopupLogin(page, {});
        await atProvider(popup);
        const state = session.authorizations.at(-1).searchParams.get('state');
        assert.ok(state?.startsWith('p.'));

        // Same origin, the login's own channel, a response with another state: it reaches the opener (which
        // acknowledges every relay), and the core refuses it.
        const forged = `${app.redirectUri}?code=forged-code&state=p.forged&iss=${encodeURIComponent(op.issuer)}`;
        const acked = await page.evaluate(([name, response]) => new Promise((resolve) => {
          window.__forging = true;
          const ch = new BroadcastChannel(name);
          ch.onmessage = (e) => { if (e.data === 'received') { ch.close(); resolve(true); } };
          ch.postMessage({ response });
        }), [`oidc-wasm.popup.${state}`, forged]);
        assert.equal(acked, true, 'the opener heard the forged relay');
        // One more turn of the page's event loop: the core's answer to it has been applied.
        await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
        assert.equal(await page.evaluate(() => window.__popupOutcome), undefined, 'the login still waits');
        assert.equal(codeExchanges(session).length, 0, 'the forged code was never exchanged');

        await signInInPopup(popup, 'olga');
        const outcome = await popupOutcome(page);
        assert.deepEqual([outcome.ok, outcome.sub], [true, 'olga'], JSON.stringify(outcome));
        const exchanges = codeExchanges(session);
        assert.equal(exchanges.length, 1, 'one code exchange');
        assert.notEqual(exchanges[0].form.get('code'), 'forged-code', 'the real code');

        // The real response relayed a second time: nothing happens.
        const [relay] = session.relays;
        await page.evaluate(([name, response]) => {
          const ch = new BroadcastChannel(name);
          ch.postMessage({ response });
          ch.close();
        }, [relay.channel, relay.response]);
        await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
        assert.equal(codeExchanges(session).length, 1, 'no second code exchange');
        assert.equal(await page.evaluate(() => window.__oidcEvents.some((e) => e.type === 'error')), false, 'no error event');
        assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-in');
      });
    } finally {
      await session.context.close();
    }
  });
});
