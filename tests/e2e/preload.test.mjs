// preload(): an app starts loading the core first thing in its entry module, before its framework
// renders, and the client it creates later uses what is already under way.
//
//   node --test tests/e2e/preload.test.mjs   (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// The page is a plain document of the app's origin (no app code of its own) that imports the built SDK, so
// every request it makes is the SDK's. Counts and order come from the page's resource timing; nothing is
// timed against a limit (speed is measured by `npm run bench`).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshotOnFailure, startAppWithProvider, startBrowser } from './support.mjs';

const CLIENT_ID = 'preload-e2e';
const TEST_TIMEOUT = 30_000;

let op;
let app;
let browser;

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID));
  app.configure({ issuer: op.issuer, clientId: CLIENT_ID });
  browser = await startBrowser({ timeout: TEST_TIMEOUT });
}, { timeout: TEST_TIMEOUT });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close()]);
}, { timeout: TEST_TIMEOUT });

/** In a fresh context: optionally preload(), let the "app" boot for a while, then createClient(). */
async function boot({ preload }) {
  const { newTab, pages } = await browser.newContext({ stepTimeout: 10_000 });
  const page = await newTab();
  let result;
  await screenshotOnFailure(pages(), `preload-${preload}`, async () => {
    // A same-origin document with no script of its own (the SDK's type declarations, served as text).
    await page.goto(`${app.origin}/dist/index.d.ts`);
    result = await page.evaluate(async ({ issuer, clientId, redirectUri, preload: early }) => {
      const sdk = await import('/dist/index.js');
      if (early) sdk.preload({ issuer });
      await new Promise((r) => setTimeout(r, 300)); // the app's own start-up
      const created = performance.now();
      const client = await sdk.createClient({ issuer, clientId, redirectUri });
      const requests = performance.getEntriesByType('resource')
        .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime }))
        .filter((r) => r.path.endsWith('.wasm') || r.path.endsWith('/.well-known/openid-configuration'));
      return { created, requests, signedIn: client.isAuthenticated() };
    }, { issuer: op.issuer, clientId: CLIENT_ID, redirectUri: app.redirectUri, preload });
  });
  return result;
}

describe('preload() starts the core before createClient', () => {
  test('with preload: the wasm and the discovery document are requested once each, before createClient is called', { timeout: TEST_TIMEOUT }, async () => {
    const r = await boot({ preload: true });
    const wasm = r.requests.filter((q) => q.path.endsWith('.wasm'));
    const discovery = r.requests.filter((q) => q.path.endsWith('openid-configuration'));
    assert.equal(wasm.length, 1, 'one wasm request: createClient used the preloaded core');
    assert.equal(discovery.length, 1, 'one discovery request: createClient took the preloaded answer');
    assert.ok(wasm[0].start < r.created && discovery[0].start < r.created, 'both started before createClient');
    assert.equal(r.signedIn, false);
  });

  test('twin without preload: the same two requests, started only by createClient', { timeout: TEST_TIMEOUT }, async () => {
    const r = await boot({ preload: false });
    assert.deepEqual(r.requests.map((q) => q.path.endsWith('.wasm') ? 'wasm' : 'discovery').sort(), ['discovery', 'wasm']);
    assert.ok(r.requests.every((q) => q.start >= r.created), 'nothing was requested before createClient');
  });
});
