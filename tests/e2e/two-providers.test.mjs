// End-to-end tests of two providers on one page (issue 14, item 4): two oidc-wasm clients side by side — a
// workforce provider and a customer provider (two issuers), and two client ids of one provider — sharing the
// redirect URI /callback. Their logins, tabs' hand-offs, sealed sessions, logouts and API calls never mix,
// and a callback is completed by the client whose login it is: the other refuses it
// (`callback_not_for_this_client`) without consuming or scrubbing anything, in either order.
//
//   node --test tests/e2e/two-providers.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   OP A   dev/provider.mjs on 127.0.0.1, the client workforce-e2e
//   OP B   dev/provider.mjs on localhost (its cookies apart from OP A's), the clients customers-e2e and
//          partners-e2e
//   APIs   dev/api.mjs for each provider (each accepts only its provider's tokens)
//   app    examples/two-providers/ (served by examples/plain/serve.mjs's static server, with the built SDK at
//          /dist/), test hooks on: window.__clients (name → client), window.__events; and a Vue app with two
//          named oidc-wasm/vue plugins (tests/e2e/two-providers-vue/, bundled here with esbuild)
// Tokens are compared by fingerprint, never printed. Environment: CHROMIUM and E2E_APP_ROOT (support.mjs).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { fingerprint, SAMPLE_API_SCOPE, startProvider } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import { startStaticServer } from '../../examples/plain/serve.mjs';
import {
  APP_ROOT, REPO, assertStorageHoldsNoSecret, captureTokenResponses, dumpStorage, loginAtProvider, screenshotOnFailure, startBrowser,
} from './support.mjs';

const STEP_TIMEOUT = 15_000;
const TEST_TIMEOUT = 120_000;
const SCOPE = `openid profile email ${SAMPLE_API_SCOPE}`;

let app;
let opA;
let opB;
let apiA;
let apiB;
let browser;
const tokenEndpoint = {};

/** The clients: name → { issuer's OP, client id, API }. */
const CLIENTS = {
  workforce: () => ({ op: opA, clientId: 'workforce-e2e', api: apiA }),
  customers: () => ({ op: opB, clientId: 'customers-e2e', api: apiB }),
  partners: () => ({ op: opB, clientId: 'partners-e2e', api: apiB }),
};

/** Serves the page with `names` as its clients. */
function configure(names, { persistSession, manualCallback = false } = {}) {
  app.configure({
    config: {
      testHooks: true,
      manualCallback,
      clients: names.map((name) => {
        const { op, clientId, api } = CLIENTS[name]();
        return { name, label: name, issuer: op.issuer, clientId, scope: SCOPE, apiUrl: api.url, ...(persistSession && { persistSession }) };
      }),
    },
  });
}

async function newContext() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  return {
    ...session,
    tokens: { A: captureTokenResponses(session.context, tokenEndpoint.A), B: captureTokenResponses(session.context, tokenEndpoint.B) },
  };
}

const section = (name, state) => `section[data-client="${name}"]${state ? `[data-state="${state}"]` : ''}`;

async function openApp(page, url = app.url) {
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"]');
}

/** Signs `name` in from the open page, through its provider's pages, and waits for the page to be back. */
async function signIn(page, name, username, { complete = true } = {}) {
  const { op } = CLIENTS[name]();
  await loginAtProvider(page, { app, op, username, signIn: `${section(name)} .sign-in:not([hidden])` });
  await page.waitForSelector('body[data-state="ready"]');
  if (complete) await page.waitForSelector(section(name, 'signed-in'));
}

/** Signs `name` in where its provider already has the user's session (another client of it signed in):
 * straight back, or through the consent page; the page is left on the callback, not completed. */
async function signInWithProviderSession(page, name) {
  const { op } = CLIENTS[name]();
  await page.click(`${section(name)} .sign-in:not([hidden])`);
  await page.waitForURL((u) => u.origin === app.origin || (u.origin === new URL(op.issuer).origin && u.pathname.startsWith('/interaction/')));
  if (new URL(page.url()).origin !== app.origin) {
    await page.click('button:has-text("Continue")');
    await page.waitForURL((u) => u.origin === app.origin);
  }
  await page.waitForSelector('body[data-state="ready"]');
}

/** Runs `window.__clients[name][method](...args)`; { ok, value } or { ok: false, code, message }. */
function sdk(page, name, method, ...args) {
  return page.evaluate(async ([n, m, a]) => {
    try {
      const value = await window.__clients[n][m](...a);
      if (value instanceof Response) return { ok: true, value: { status: value.status, body: await value.text() } };
      return { ok: true, value: value ?? null };
    } catch (e) {
      return { ok: false, code: e?.code ?? null, message: String(e?.message ?? e) };
    }
  }, [name, method, args]);
}

const user = async (page, name) => (await sdk(page, name, 'getUser')).value;
const responseParams = (url) => [...new URL(url).searchParams.keys()].filter((k) => ['code', 'state', 'iss'].includes(k));
const txKeys = (page) => page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('oidc-wasm.tx.')));

/** The app-wide name of a client's locks, channel, generation and seal (the core's `name`). */
const nameOf = (client) => { const { op, clientId } = CLIENTS[client](); return `oidc-wasm|${op.issuer}|${clientId}`; };

/** Calls `client`'s API with fetchWithToken: the answer, and the token fingerprint the API saw. */
async function callApi(page, client, api = CLIENTS[client]().api) {
  const before = api.log.length;
  const r = await sdk(page, client, 'fetchWithToken', `${api.url}/me`);
  assert.ok(r.ok, `${client}.fetchWithToken(${api.url}/me): ${r.message}`);
  return { status: r.value.status, body: r.value.status === 200 ? JSON.parse(r.value.body) : null, token: api.log.slice(before).map((e) => e.token) };
}

/** The access token this context got last from a provider (the code exchange or a refresh). */
async function lastAccessToken(responses) {
  const last = responses.filter((r) => r.status === 200).at(-1);
  assert.ok(last, 'a token response was captured');
  await last.ready;
  return last.body.access_token;
}

before(async () => {
  app = await startStaticServer({ root: join(REPO, 'examples', 'two-providers'), mounts: { '/dist/': join(APP_ROOT, 'dist') } });
  const registration = { redirect_uris: [`${app.origin}/callback`], post_logout_redirect_uris: [app.url] };
  opA = await startProvider({ clients: [{ client_id: 'workforce-e2e', ...registration }] });
  opB = await startProvider({ host: 'localhost', clients: [{ client_id: 'customers-e2e', ...registration }, { client_id: 'partners-e2e', ...registration }] });
  apiA = await startApi({ issuer: opA.issuer, allowedOrigins: [app.origin] });
  apiB = await startApi({ issuer: opB.issuer, allowedOrigins: [app.origin] });
  app.configure({ connectSrc: [opA.issuer, opB.issuer, apiA.url, apiB.url] });
  for (const [k, op] of [['A', opA], ['B', opB]]) {
    tokenEndpoint[k] = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()).token_endpoint;
  }
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), opA?.close(), opB?.close(), apiA?.close(), apiB?.close()]);
}, { timeout: 30_000 });

describe('two providers on one page', () => {
  test('both sign in (sealed): each API call carries its own client\'s token, storage holds no token and only keys of the two clients, a reload restores each its own', { timeout: TEST_TIMEOUT }, async () => {
    configure(['workforce', 'customers'], { persistSession: 'sealed' });
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'two-providers-sealed', async () => {
        const page = await session.newTab();
        await openApp(page);
        await page.waitForSelector(section('workforce', 'signed-out'));
        await page.waitForSelector(section('customers', 'signed-out'));
        await signIn(page, 'workforce', 'wanda');
        assert.equal(await page.getAttribute(section('customers'), 'data-state'), 'signed-out', 'the other client stays signed out');
        // The second sign-in leaves the page; back on the callback, the workforce client restores its own seal
        // (the response in the address bar is not its own) while the customer client completes the login.
        const refreshesA = opA.tokenRequests.length;
        await signIn(page, 'customers', 'carl');
        await page.waitForSelector(section('workforce', 'signed-in'));
        assert.deepEqual(opA.tokenRequests.slice(refreshesA).map((r) => r.grantType), ['refresh_token'], 'the workforce session restored from its seal at its provider');
        assert.equal((await user(page, 'workforce')).sub, 'wanda');
        assert.equal((await user(page, 'workforce')).iss, opA.issuer);
        assert.equal((await user(page, 'customers')).sub, 'carl');
        assert.equal((await user(page, 'customers')).iss, opB.issuer);

        const a = await callApi(page, 'workforce');
        assert.equal(a.status, 200);
        assert.equal(a.body.client_id, 'workforce-e2e');
        assert.deepEqual(a.token, [fingerprint(await lastAccessToken(session.tokens.A))], 'the workforce API got the workforce access token');
        const b = await callApi(page, 'customers');
        assert.equal(b.status, 200);
        assert.equal(b.body.client_id, 'customers-e2e');
        assert.deepEqual(b.token, [fingerprint(await lastAccessToken(session.tokens.B))], 'the customer API got the customer access token');
        // Neither client sends its token to the other's API (not on its apiOrigins).
        const crossA = await callApi(page, 'workforce', apiB);
        assert.deepEqual([crossA.status, crossA.token], [401, [null]], 'the workforce client sent no token to the customer API');
        const crossB = await callApi(page, 'customers', apiA);
        assert.deepEqual([crossB.status, crossB.token], [401, [null]], 'the customer client sent no token to the workforce API');

        // Storage: no token anywhere, and every key is one of the two clients'.
        const secrets = {};
        for (const [k, list] of Object.entries(session.tokens)) {
          for (const [i, r] of list.entries()) {
            await r.ready;
            for (const f of ['access_token', 'refresh_token', 'id_token']) secrets[`${f} #${i} of provider ${k}`] = r.body?.[f];
          }
        }
        const dump = await dumpStorage(page);
        assertStorageHoldsNoSecret(dump, secrets);
        const names = [nameOf('workforce'), nameOf('customers')];
        assert.deepEqual(Object.keys(dump.localStorage).filter((k) => k.startsWith('oidc-wasm')).sort(), names.map((n) => `oidc-wasm.generation.${n}`).sort(), 'one generation per client');
        assert.deepEqual(Object.keys(dump.sessionStorage).filter((k) => k.startsWith('oidc-wasm')), [], 'both logins used up');
        const db = dump.indexedDB.find((d) => d.name === 'oidc-wasm');
        assert.ok(db, 'the sealed sessions are in IndexedDB');
        const sealed = db.stores.sealed.map((r) => r.key).sort();
        assert.deepEqual(sealed, names.map((n) => `${n}|session`).sort(), 'one sealed session per client, under its name');
        for (const r of db.stores.keys) assert.ok(names.some((n) => String(r.key).startsWith(`${n}|`)), `the key ${r.key} is one of the two clients'`);

        // A reload restores both, each from its own seal at its own provider.
        const [beforeA, beforeB] = [opA.tokenRequests.length, opB.tokenRequests.length];
        await openApp(page);
        await page.waitForSelector(section('workforce', 'signed-in'));
        await page.waitForSelector(section('customers', 'signed-in'));
        assert.deepEqual(opA.tokenRequests.slice(beforeA).map((r) => [r.grantType, r.status]), [['refresh_token', 200]]);
        assert.deepEqual(opB.tokenRequests.slice(beforeB).map((r) => [r.grantType, r.status]), [['refresh_token', 200]]);
        assert.deepEqual([(await user(page, 'workforce')).sub, (await user(page, 'customers')).sub], ['wanda', 'carl']);
      });
    } finally {
      await session.context.close();
    }
  });

  test('a new tab gets both sessions handed over, each its own; logging one out leaves the other signed in, in every tab', { timeout: TEST_TIMEOUT }, async () => {
    configure(['workforce', 'customers']);
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'two-providers-tabs', async () => {
        const tab1 = await session.newTab();
        await openApp(tab1);
        await signIn(tab1, 'workforce', 'wanda');
        // Memory only: a second tab keeps the workforce session while the first leaves for the other provider.
        const tab2 = await session.newTab();
        await openApp(tab2);
        await tab2.waitForSelector(section('workforce', 'signed-in'));
        await signIn(tab1, 'customers', 'carl');
        await tab1.waitForSelector(section('workforce', 'signed-in'));
        await tab2.waitForSelector(section('customers', 'signed-in'));

        const tab3 = await session.newTab();
        const before = [opA.tokenRequests.length, opB.tokenRequests.length];
        await openApp(tab3);
        await tab3.waitForSelector(section('workforce', 'signed-in'));
        await tab3.waitForSelector(section('customers', 'signed-in'));
        assert.deepEqual([opA.tokenRequests.length, opB.tokenRequests.length], before, 'handed over, memory to memory: no token request');
        assert.deepEqual([(await user(tab3, 'workforce')).sub, (await user(tab3, 'customers')).sub], ['wanda', 'carl'], 'each client got its own session');
        const a = await callApi(tab3, 'workforce');
        const b = await callApi(tab3, 'customers');
        assert.deepEqual([a.status, a.body.client_id, a.body.sub], [200, 'workforce-e2e', 'wanda']);
        assert.deepEqual([b.status, b.body.client_id, b.body.sub], [200, 'customers-e2e', 'carl']);
        assert.deepEqual(a.token, [fingerprint(await lastAccessToken(session.tokens.A))]);
        assert.deepEqual(b.token, [fingerprint(await lastAccessToken(session.tokens.B))]);

        const revokedA = opA.revocations.length;
        const revokedB = opB.revocations.length;
        const out = await sdk(tab3, 'workforce', 'logout', { local: true });
        assert.ok(out.ok, out.message);
        for (const tab of [tab1, tab2, tab3]) {
          await tab.waitForSelector(section('workforce', 'signed-out'));
          assert.equal(await tab.getAttribute(section('customers'), 'data-state'), 'signed-in', 'the customer session stays');
        }
        assert.ok(opA.revocations.length > revokedA, 'the workforce refresh token was revoked at its provider');
        assert.equal(opB.revocations.length, revokedB, 'nothing was revoked at the customer provider');
        const still = await callApi(tab1, 'customers');
        assert.deepEqual([still.status, still.body.sub], [200, 'carl'], 'the customer client still calls its API');
        const events = await tab2.evaluate(() => window.__events.filter((e) => e.type === 'sessionEnded').map((e) => e.client));
        assert.deepEqual(events, ['workforce'], 'the other tabs heard of the workforce logout only');
      });
    } finally {
      await session.context.close();
    }
  });

  test('shared redirect URI, two issuers: the other client first refuses and leaves the response, the right one completes it; in the other order the URL is clean; a state nobody knows is refused and scrubbed', { timeout: TEST_TIMEOUT }, async () => {
    configure(['workforce', 'customers'], { manualCallback: true });
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'two-providers-callback', async () => {
        const page = await session.newTab();
        await openApp(page);
        await signIn(page, 'workforce', 'wanda', { complete: false });
        const callbackUrl = page.url();
        assert.deepEqual(responseParams(callbackUrl).sort(), ['code', 'iss', 'state']);
        const state = new URL(callbackUrl).searchParams.get('state');
        assert.deepEqual(await txKeys(page), [`oidc-wasm.tx.${opA.issuer}|workforce-e2e|${state}`], 'the login waits under its client\'s key');
        const tokensBefore = [opA.tokenRequests.length, opB.tokenRequests.length];

        const wrong = await sdk(page, 'customers', 'handleCallback');
        assert.equal(wrong.code, 'callback_not_for_this_client', `the customer client refuses it: ${wrong.message}`);
        assert.equal(page.url(), callbackUrl, 'the address bar still holds the code and state');
        assert.equal((await txKeys(page)).length, 1, 'the workforce login is untouched');
        assert.deepEqual([opA.tokenRequests.length, opB.tokenRequests.length], tokensBefore, 'no token request');

        const right = await sdk(page, 'workforce', 'handleCallback');
        assert.ok(right.ok, `the workforce client completes it: ${right.message}`);
        assert.equal(right.value.user.sub, 'wanda');
        assert.deepEqual(responseParams(page.url()), [], 'then the address bar is scrubbed');
        assert.deepEqual(await txKeys(page), []);
        assert.deepEqual(opA.tokenRequests.slice(tokensBefore[0]).map((r) => [r.grantType, r.status]), [['authorization_code', 200]]);

        // The right client first: it completes, and the other then finds no response in the address bar.
        await signIn(page, 'customers', 'carl', { complete: false });
        const first = await sdk(page, 'customers', 'handleCallback');
        assert.ok(first.ok, first.message);
        assert.deepEqual(responseParams(page.url()), []);
        const after = await sdk(page, 'workforce', 'handleCallback');
        assert.equal(after.code, 'callback_invalid', 'nothing left for the other client');
        assert.equal((await user(page, 'customers')).sub, 'carl');

        // A state neither client knows: whichever handles it refuses it and scrubs the address bar.
        const counts = [opA.tokenRequests.length, opB.tokenRequests.length];
        await openApp(page, `${app.origin}/callback?code=stolen&state=forged&iss=${encodeURIComponent(opA.issuer)}`);
        const forged = await sdk(page, 'customers', 'handleCallback');
        assert.equal(forged.code, 'state_unknown');
        assert.deepEqual(responseParams(page.url()), [], 'scrubbed');
        assert.equal((await sdk(page, 'workforce', 'handleCallback')).code, 'callback_invalid');
        assert.deepEqual([opA.tokenRequests.length, opB.tokenRequests.length], counts, 'no token request anywhere');
      });
    } finally {
      await session.context.close();
    }
  });

  test('one provider, two client ids: a callback for one is refused by the other without spending its code, in both orders', { timeout: TEST_TIMEOUT }, async () => {
    configure(['customers', 'partners'], { manualCallback: true });
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'two-providers-one-issuer', async () => {
        const page = await session.newTab();
        await openApp(page);
        await signIn(page, 'partners', 'pia', { complete: false });
        const url = page.url();
        const before = opB.tokenRequests.length;
        const wrong = await sdk(page, 'customers', 'handleCallback');
        assert.equal(wrong.code, 'callback_not_for_this_client', wrong.message);
        assert.equal(page.url(), url, 'the response stays in the address bar');
        assert.equal(opB.tokenRequests.length, before, 'the code was not spent by the wrong client');
        const right = await sdk(page, 'partners', 'handleCallback');
        assert.ok(right.ok, right.message);
        assert.equal(right.value.user.aud, 'partners-e2e');
        assert.deepEqual(opB.tokenRequests.slice(before).map((r) => [r.grantType, r.status]), [['authorization_code', 200]]);

        // The other client id of the same provider, for the same user (the provider's session): its callback.
        await signInWithProviderSession(page, 'customers');
        const mine = await sdk(page, 'customers', 'handleCallback');
        assert.ok(mine.ok, mine.message);
        assert.equal(mine.value.user.aud, 'customers-e2e');
        assert.equal((await sdk(page, 'partners', 'handleCallback')).code, 'callback_invalid', 'the URL was clean for the other');
        const b = await callApi(page, 'customers');
        assert.deepEqual([b.status, b.body.client_id, b.body.sub], [200, 'customers-e2e', 'pia']);
        const keys = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('oidc-wasm')));
        assert.ok(keys.includes(`oidc-wasm.generation.${nameOf('customers')}`) && keys.includes(`oidc-wasm.generation.${nameOf('partners')}`), `one generation per client id: ${keys}`);
      });
    } finally {
      await session.context.close();
    }
  });

  test('oidc-wasm/vue: two named plugins on one page, useAuth(name) each; a callback is completed by its client while the other shows no error, whichever plugin comes first', { timeout: TEST_TIMEOUT }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'two-providers-vue-'));
    const source = join(REPO, 'tests', 'e2e', 'two-providers-vue');
    await esbuild.build({
      entryPoints: [join(source, 'main.js')], bundle: true, format: 'esm', target: 'es2022', outfile: join(dir, 'bundle.js'), logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"', __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
    });
    copyFileSync(join(source, 'index.html'), join(dir, 'index.html'));
    for (const wasm of ['oidc_wasm_bg.wasm', 'oidc_wasm_full_bg.wasm']) copyFileSync(join(APP_ROOT, 'dist', wasm), join(dir, wasm));
    const vueConfig = (names) => ({
      clients: names.map((name) => {
        const { op, clientId, api } = CLIENTS[name]();
        return { name, issuer: op.issuer, clientId, scope: SCOPE, apiUrl: api.url };
      }),
    });
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'two-providers-vue', async () => {
        const page = await session.newTab();
        for (const [names, signingIn, other, username] of [
          [['workforce', 'customers'], 'workforce', 'customers', 'wanda'],
          [['workforce', 'customers'], 'customers', 'workforce', 'carl'],
          [['customers', 'workforce'], 'workforce', 'customers', 'wanda'],
          [['customers', 'workforce'], 'customers', 'workforce', 'carl'],
        ]) {
          app.configure({ root: dir, config: vueConfig(names) });
          await openApp(page);
          await page.waitForSelector(section(signingIn, 'signed-out'));
          const { op } = CLIENTS[signingIn]();
          await page.click(`${section(signingIn)} .sign-in:not([hidden])`);
          // The provider's login page, or (its session from an earlier round) straight back.
          await page.waitForURL((u) => (u.origin === new URL(op.issuer).origin && u.pathname.startsWith('/interaction/')) || u.pathname === '/callback');
          if (new URL(page.url()).origin !== app.origin) {
            if (await page.locator('input[name="login"]').count()) {
              await page.fill('input[name="login"]', username);
              await page.fill('input[name="password"]', 'any-password');
              await page.click('button[type="submit"]');
              await page.waitForURL((u) => u.origin === app.origin || (u.pathname.startsWith('/interaction/') && u.search === ''));
            }
            if (new URL(page.url()).origin !== app.origin) {
              await page.click('button:has-text("Continue")');
              await page.waitForURL((u) => u.origin === app.origin);
            }
          }
          await page.waitForSelector(section(signingIn, 'signed-in'));
          await page.waitForSelector(`${section(other)}:not([data-state="loading"])`);
          const shown = await page.getAttribute(section(other), 'data-state');
          const error = await page.getAttribute(section(other), 'data-error');
          assert.deepEqual([shown, error], ['signed-out', ''], `plugins ${names}: ${signingIn}'s callback leaves ${other} signed out without an error`);
          assert.deepEqual(responseParams(page.url()), [], 'the address bar is clean');
          assert.equal(new URL(page.url()).pathname, '/', 'and back at returnTo');
        }
      });
    } finally {
      await session.context.close();
      app.configure({ root: join(REPO, 'examples', 'two-providers') });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
