// Provider profiles end to end: the README recipe of each provider, run unchanged against a simulated
// profile of that provider, in headless Chromium.
//
//   node --test --test-concurrency=1 tests/providers/        (needs dist/ from `node scripts/build.mjs`)
//
// For each profile of profiles.mjs (Keycloak, Auth0, Entra ID, Okta, Cognito, Google, Ping, Zitadel,
// Authentik) the test reads README.md, takes the ```ts block after `<!-- provider-config: NAME -->`,
// evaluates the object passed to createClient (plain literals only, recipe.mjs), checks its keys are the
// ones the profile expects, and maps each placeholder https origin to the local server playing it (the
// profile's OP origins, its API, the test page) — nothing else changes. Then, in one headless Chromium,
// one profile after the other, against that profile's OP (profile-op.mjs) and the test page (app/):
//   1. sign in: login() → the OP's authorization endpoint → back to /callback → handleCallback(); the
//      verified user has the profile's claims; what the SDK sent (discovery or not, the authorization
//      request, the code exchange with PKCE) is checked in the OP's request log;
//   2. the API: fetchWithToken to the profile's API (its own origin, its own token rules) → 200;
//   3. refresh: client.refresh() and the profile's refresh behaviour (the same refresh token back,
//      rotation, no refresh token in the answer, no ID token in the answer, a 429 with Retry-After) — or,
//      for Google (no refresh token), the session ending in every tab at the access token's expiry;
//   4. logout: client.logout() and what the OP saw (the end-session request and its parameters, the
//      revocation), ending signed out — or, for Google, a local logout without navigation;
//   and the sign-ins a profile says the SDK must refuse (`expect.refused`): Keycloak without the `iss` it
//   promises (iss_missing), Zitadel with another app as `azp` (claim_azp), Entra ID with a tenant not in the
//   recipe's list (tenant_not_allowed) — each refused at the callback, leaving no session.
//
// The SDK under test is a snapshot of dist/ taken at the start (PROVIDERS_DIST to test another build), so a
// rebuild during the run cannot change it halfway. PROVIDERS_ONLY=keycloak,okta runs some profiles only.
// Tokens are compared by SHA-256 fingerprint, never printed. On failure a screenshot of each tab of the
// profile goes to tests/providers/artifacts/<profile>-<step>[-tabN].png. CHROMIUM: the browser binary.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { startTestApp } from './app/server.mjs';
import { fingerprint, startProfileOp } from './profile-op.mjs';
import { PROFILES } from './profiles.mjs';
import { extractRecipe, mapOrigins } from './recipe.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const ARTIFACTS = join(HERE, 'artifacts');
const STEP_TIMEOUT = 10_000;
const TEST_TIMEOUT = 30_000;
const DIST_WAIT_MS = 60_000;
const GOOGLE_TEST_LIFETIME = 8; // seconds: Google's access token, shortened so the test sees the session end
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description'];

const only = (process.env.PROVIDERS_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const selected = only.length ? PROFILES.filter((p) => only.includes(p.name)) : PROFILES;

let browser;
let distDir;
let readme;

before(async () => {
  readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const source = resolve(process.env.PROVIDERS_DIST ?? join(REPO, 'dist'));
  distDir = mkdtempSync(join(tmpdir(), 'oidc-wasm-providers-'));
  const shipped = ['index.js', 'oidc_wasm_bg.wasm', 'oidc_wasm_full_bg.wasm'];
  // scripts/build.mjs empties dist/ and writes it again: wait (up to DIST_WAIT_MS) for both files to be
  // there and settled before taking the snapshot.
  const settled = () => shipped.every((f) => existsSync(join(source, f)) && statSync(join(source, f)).mtimeMs < Date.now() - 3000);
  for (const end = Date.now() + DIST_WAIT_MS; !settled();) {
    if (Date.now() > end) throw new Error(`${source} has no settled index.js and wasm modules: build the SDK first (node scripts/build.mjs)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const f of shipped) copyFileSync(join(source, f), join(distDir, f));
  const sums = shipped.map((f) => `${f} ${createHash('sha256').update(readFileSync(join(distDir, f))).digest('hex').slice(0, 12)}`);
  console.log(`SDK under test: ${source}: ${sums.join(', ')}`);
  browser = await launchChromium({ timeout: TEST_TIMEOUT });
}, { timeout: DIST_WAIT_MS + TEST_TIMEOUT });

after(async () => {
  await browser?.close().catch(() => {});
  if (distDir) rmSync(distDir, { recursive: true, force: true });
});

// ---- helpers ------------------------------------------------------------------------------------------

/** Polls `fn` (node side) until it returns a truthy value; fails with `what` after `timeout` ms. */
async function waitUntil(fn, what, timeout = STEP_TIMEOUT) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What the page shows, for failure messages. */
async function pageReport(page) {
  try {
    return await page.evaluate(() => ({
      url: location.href.split('?')[0],
      state: document.body?.dataset.state ?? null,
      lastError: window.__lastError ?? null,
      runError: window.__runError ?? null,
      events: (window.__events ?? []).map((e) => e.type + (e.code ? `:${e.code}` : '')),
    }));
  } catch (err) {
    return { unavailable: String(err.message).split('\n')[0] };
  }
}

/** Waits until body[data-state] is one of `states`; returns it. Fails with what the page shows. */
async function waitForState(page, states, timeout = STEP_TIMEOUT) {
  try {
    await page.waitForSelector(states.map((s) => `body[data-state="${s}"]`).join(', '), { timeout });
  } catch {
    assert.fail(`the page did not reach ${states.join(' | ')} within ${timeout} ms: ${JSON.stringify(await pageReport(page))}`);
  }
  return page.evaluate(() => document.body.dataset.state);
}

/** Runs `window.__oidc[method](...args)` in the page within `limit` ms: { ok, value } | { ok: false, code,
 * message } | { timedOut }. A Response comes back as { status, body, challenge }. */
function sdk(page, method, ...args) {
  return page.evaluate(async ([method, args, limit]) => {
    const run = async () => {
      try {
        const value = await window.__oidc[method](...args);
        if (value instanceof Response) {
          return { ok: true, value: { status: value.status, body: await value.text(), challenge: value.headers.get('WWW-Authenticate') } };
        }
        return { ok: true, value: value ?? null };
      } catch (e) {
        return { ok: false, code: e?.code ?? null, message: String(e?.message ?? e).slice(0, 300) };
      }
    };
    return Promise.race([run(), new Promise((r) => setTimeout(() => r({ timedOut: true }), limit))]);
  }, [method, args, STEP_TIMEOUT]);
}

const describeOutcome = (r) => (r.timedOut ? `no answer within ${STEP_TIMEOUT} ms` : r.ok ? `resolved ${JSON.stringify(r.value)?.slice(0, 200)}` : `rejected ${r.code}: ${r.message}`);
const pageSession = (page) => page.evaluate(() => ({ user: window.__oidc.getUser(), authenticated: window.__oidc.isAuthenticated(), state: document.body.dataset.state }));
const events = (page) => page.evaluate(() => window.__events.map((e) => e.type));

/** Screenshots every tab of the run if `fn` throws. */
async function withScreenshots(run, step, fn) {
  try {
    return await fn();
  } catch (err) {
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [i, page] of run.pages.entries()) {
      const file = join(ARTIFACTS, `${run.profile.name}-${step}${i ? `-tab${i + 1}` : ''}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
        console.error(`  screenshot: ${file}`);
      } catch { /* the page may be gone */ }
    }
    if (run.console.length) console.error(`  console (last lines):\n    ${run.console.slice(-8).join('\n    ')}`);
    throw err;
  }
}

/** Console text with anything token-like (a JWT, a secret query parameter) replaced by its fingerprint. */
function redact(text) {
  return text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, (t) => `<jwt ${fingerprint(t)}>`)
    .replace(/\b(code|state|nonce|token|id_token_hint|refresh_token|access_token|code_verifier)=([^&\s'"]+)/g, (m, k, v) => `${k}=<${fingerprint(v)}>`);
}

/** Opens a tab in the run's browser context, recording its console and main-frame navigations. */
async function openTab(run, context = run.context) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) page.navigations.push(f.url().split('?')[0]); });
  page.on('console', (msg) => {
    const text = redact(`${msg.type()}: ${msg.text()}`).slice(0, 300);
    run.console.push(text);
    if (/Content Security Policy|Refused to connect/i.test(text)) run.cspViolations.push(text);
  });
  page.on('pageerror', (err) => run.console.push(redact(`pageerror: ${err.message}`).slice(0, 300)));
  run.pages.push(page);
  return page;
}

/** Subset check of claims: every expected member equal. */
function assertClaims(user, expected, what) {
  assert.ok(user, `${what}: getUser() returned null`);
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(user[k], v, `${what}: claim ${k}`);
}

/** From the app's start page through the OP and back; returns the final state. */
async function signIn(run, page) {
  await page.goto(run.app.origin + '/');
  const start = await waitForState(page, ['signed-out', 'signed-in', 'error']);
  if (start === 'error') assert.fail(`createClient failed on the start page: ${JSON.stringify(await pageReport(page))}`);
  assert.equal(start, 'signed-out', 'the start page is signed out');
  const seq0 = run.op.lastSeq;
  const navigations = page.navigations.length;
  await page.evaluate(() => window.__run('login'));
  // The authorization endpoint answers with a redirect at once (no page commits there): watch the OP's log.
  await waitUntil(async () => {
    if (run.op.seen('authorize', seq0).length) return true;
    const runError = await page.evaluate(() => window.__runError).catch(() => null);
    if (runError) assert.fail(`login() failed: ${runError.code}: ${runError.message}`);
    return false;
  }, 'the authorization request');
  await waitUntil(() => page.navigations.slice(navigations).includes(`${run.app.origin}/callback`), 'the redirect back to /callback');
  return waitForState(page, ['signed-in', 'error']);
}

// ---- the tooling has teeth --------------------------------------------------------------------------

test('recipe extraction: string-aware braces, literals only, every https host mapped or refused', async () => {
  const md = [
    'text', '<!-- provider-config: demo -->', '```ts', 'createClient({',
    "  issuer: 'https://op.example.com/t/',", "  logoutUrl: 'https://op.example.com/logout?c={client_id}&r={post_logout_redirect_uri}',",
    "  apiOrigins: ['https://api.example.com'],", '  metadata: { a: 1, b: true },', '});', '```',
  ].join('\n');
  const { config } = extractRecipe(md, 'demo');
  assert.deepEqual(Object.keys(config), ['issuer', 'logoutUrl', 'apiOrigins', 'metadata']);
  const mapped = mapOrigins(config, { 'op.example.com': 'op', 'api.example.com': 'api' }, { op: 'http://127.0.0.1:1', api: 'http://127.0.0.1:2' });
  assert.equal(mapped.issuer, 'http://127.0.0.1:1/t/');
  assert.equal(mapped.logoutUrl, 'http://127.0.0.1:1/logout?c={client_id}&r={post_logout_redirect_uri}');
  assert.deepEqual(mapped.apiOrigins, ['http://127.0.0.1:2']);
  assert.throws(() => mapOrigins(config, { 'op.example.com': 'op' }, { op: 'x' }), /api\.example\.com.*no local server/);
  assert.throws(() => extractRecipe(md.replace("apiOrigins: ['https://api.example.com']", 'apiOrigins: [location.origin]'), 'demo'), /not a plain object literal/);
  assert.throws(() => extractRecipe(md.replace('b: true', 'b: Math.random()'), 'demo'), /not a plain object literal/);
  assert.throws(() => extractRecipe(md.replace('b: true', 'b: undefined'), 'demo'), /identifier undefined/);
  assert.throws(() => extractRecipe(md.replace('a: 1', '...x'), 'demo'), /not a plain/);
  assert.throws(() => extractRecipe(md, 'other'), /has no <!-- provider-config: other -->/);
});

// ---- one describe per profile -----------------------------------------------------------------------

for (const profile of selected) {
  describe(`${profile.title} (${profile.name})`, () => {
    const expect = profile.expect;
    const run = { profile, pages: [], console: [], cspViolations: [], app: null, op: null, context: null, config: null };
    const state = {}; // what the steps hand on: signedIn, seq marks, current token fingerprints

    before(async () => {
      run.app = await startTestApp({ distDir });
      run.op = await startProfileOp(profile, { appOrigin: run.app.origin });
      if (profile.name === 'google') run.op.state.accessTokenLifetime = GOOGLE_TEST_LIFETIME;
      run.context = await browser.newContext();
    }, { timeout: TEST_TIMEOUT });

    after(async () => {
      for (const context of new Set(run.pages.map((p) => p.context()))) await context.close().catch(() => {});
      await run.context?.close().catch(() => {});
      await Promise.allSettled([run.op?.close(), run.app?.close()]);
      const counts = {};
      for (const r of run.op?.requests ?? []) counts[r.endpoint] = (counts[r.endpoint] ?? 0) + 1;
      console.log(`${profile.name}: OP requests ${JSON.stringify(counts)}; most token requests at once: ${run.op?.maxTokenInFlight}`);
    }, { timeout: TEST_TIMEOUT });

    const needs = (t, ...keys) => {
      const missing = keys.filter((k) => !state[k]);
      if (missing.length) { t.skip(`an earlier step failed (${missing.join(', ')})`); return false; }
      return true;
    };

    test(`the README recipe is the ${profile.title} configuration (keys, origins mapped, nothing else changed)`, () => {
      const { config } = extractRecipe(readme, profile.name);
      assert.deepEqual(Object.keys(config).sort(), [...profile.recipeKeys].sort(), `the keys of the ${profile.name} recipe`);
      if (profile.metadataKeys) assert.deepEqual(Object.keys(config.metadata).sort(), [...profile.metadataKeys].sort(), 'the keys of its metadata');
      const origins = { ...run.op.origins, app: run.app.origin };
      const mapped = mapOrigins(config, profile.hosts, origins);
      // Only origins changed: mapping the local origins back gives the recipe again.
      const hostOf = Object.fromEntries(Object.entries(profile.hosts).map(([host, role]) => [origins[role], host]));
      const back = JSON.parse(JSON.stringify(mapped), (k, v) => (typeof v !== 'string' ? v
        : v.replace(/http:\/\/127\.0\.0\.1:[0-9]+/g, (o) => (hostOf[o] ? `https://${hostOf[o]}` : o))));
      assert.deepEqual(back, config, 'nothing but the origins changed');
      assert.equal(mapped.clientId, profile.client.clientId, 'the recipe\'s clientId is the client registered at the profile OP');
      assert.equal(mapped.issuer, run.op.issuer, 'the recipe\'s issuer is the profile OP\'s');
      assert.equal(mapped.redirectUri, `${run.app.origin}/callback`, 'the redirect URI is the test page\'s /callback');
      run.config = mapped;
      const connect = [...profile.roles.map((r) => run.op.origins[r]), run.op.origins.api];
      run.app.configure(mapped, connect);
      state.recipe = true;
    });

    test(`${profile.title}: ${signInTitle(profile)}`, { timeout: TEST_TIMEOUT }, async (t) => {
      if (!needs(t, 'recipe')) return;
      await withScreenshots(run, 'signin', async () => {
        const page = await openTab(run);
        const seq0 = run.op.lastSeq;
        const outcome = await signIn(run, page);
        if (outcome !== 'signed-in') assert.fail(`sign-in ended in ${outcome}: ${JSON.stringify(await pageReport(page))}`);
        state.page = page;
        const { user, authenticated } = await pageSession(page);
        assert.equal(authenticated, true, 'isAuthenticated()');
        assertClaims(user, expect.user, 'the verified ID token');
        assert.equal(user.iss, expect.userIss?.(run.op.ctx) ?? run.op.issuer, 'iss of the verified ID token');
        assert.ok([user.aud].flat().includes(profile.client.clientId), 'aud contains the client_id');
        assert.deepEqual(RESPONSE_PARAMS.filter((p) => new URL(page.url()).searchParams.has(p)), [], 'the callback URL is cleaned');

        // Discovery: from the page (Origin = the app) unless the recipe's metadata names every endpoint.
        const discovery = run.op.seen('discovery', seq0);
        if (expect.discoveryFromPage) {
          assert.ok(discovery.some((r) => r.origin === run.app.origin && r.status === 200), 'the page fetched the discovery document');
        } else {
          assert.deepEqual(discovery.map((r) => `${r.method} from ${r.origin}`), [], 'no discovery request at all (it has no CORS; the recipe\'s metadata names the endpoints)');
        }

        // The authorization request.
        const [authz, ...moreAuthz] = run.op.seen('authorize', seq0);
        assert.ok(authz, 'the OP saw an authorization request');
        assert.equal(moreAuthz.length, 0, 'one authorization request');
        const q = authz.params;
        assert.equal(q.client_id, profile.client.clientId);
        assert.equal(q.redirect_uri, run.config.redirectUri);
        assert.equal(q.response_type, 'code');
        assert.equal(q.code_challenge_method, 'S256', 'PKCE S256 (sent even where discovery lists no methods)');
        assert.match(q.code_challenge ?? '', /^[A-Za-z0-9_-]{43}$/);
        assert.ok(q.state && q.nonce, 'state and nonce sent');
        assert.deepEqual(new Set(q.scope.split(' ')), new Set(run.config.scope.split(' ')), 'the recipe\'s scope');
        for (const [k, v] of Object.entries(expect.authorizeParams?.(run.op.ctx) ?? {})) assert.equal(q[k], v, `authorization parameter ${k}`);
        assert.equal(authz.status, 302);
        if (expect.issInResponse) assert.equal(authz.response?.iss, run.op.issuer, 'the OP sent the RFC 9207 iss, and the SDK accepted it');
        else assert.equal(authz.response?.iss ?? null, null, 'this provider sends no iss');

        // The code exchange.
        const tokens = run.op.seen('token', seq0);
        assert.deepEqual(tokens.map((r) => `${r.params.grant_type} ${r.status}`), ['authorization_code 200'], 'one code exchange, answered 200');
        assert.equal(tokens[0].origin, run.app.origin, 'the code was redeemed cross-origin from the page');
        assert.ok(tokens[0].params.code_verifier, 'the code_verifier was sent');
        const exchange = run.op.issued.at(-1);
        state.refresh = exchange.refresh; // fingerprint of the refresh token the session holds (null: none)
        state.idToken = exchange.id;
        state.access = exchange.access;
        state.user = user;
        if (expect.refresh === 'none') assert.equal(exchange.refresh, null, 'no refresh token is issued to this browser client');
        else assert.ok(exchange.refresh, 'the code exchange brought a refresh token');
        assert.deepEqual(run.cspViolations, [], 'no CSP violation');
        state.afterSignIn = run.op.lastSeq;
        state.signedInAt = exchange.at;
        state.signedIn = true;
      });
    });

    test(`${profile.title}: fetchWithToken calls the profile's API (its own origin and token rules) → 200`, { timeout: TEST_TIMEOUT }, async (t) => {
      if (!needs(t, 'signedIn')) return;
      await withScreenshots(run, 'api', async () => {
        const seq0 = run.op.lastSeq;
        const r = await sdk(state.page, 'fetchWithToken', `${run.op.origins.api}/api/me`);
        assert.ok(r.ok, `fetchWithToken ${describeOutcome(r)}`);
        const calls = run.op.seen('api', seq0);
        assert.equal(r.value.status, 200, `the API answered ${r.value.status}: ${calls.map((c) => c.why).filter(Boolean).join('; ')}`);
        assert.equal(JSON.parse(r.value.body).sub, state.user.sub, 'the API saw the signed-in user');
        assert.equal(calls.length, 1, 'one API request');
        assert.equal(calls[0].authorization, state.access, 'the API got the access token of the code exchange');
        assert.deepEqual(run.op.seen('token', seq0).map((x) => x.params.grant_type), [], 'no token request was needed');
        state.apiOk = true;
      });
    });

    if (expect.refresh === 'none') {
      test(`${profile.title}: no refresh token — the session ends in every tab at the access token's expiry (sessionEnded, no token request)`, { timeout: TEST_TIMEOUT + GOOGLE_TEST_LIFETIME * 1000 }, async (t) => {
        if (!needs(t, 'signedIn')) return;
        await withScreenshots(run, 'expiry', async () => {
          const tab2 = await openTab(run);
          await tab2.goto(run.app.origin + '/');
          assert.equal(await waitForState(tab2, ['signed-in', 'signed-out', 'error']), 'signed-in', 'tab 2 got the session from tab 1');
          const ends = [];
          for (const page of [state.page, tab2]) {
            await waitForState(page, ['signed-out'], (GOOGLE_TEST_LIFETIME + 10) * 1000);
            ends.push(Date.now());
          }
          const elapsed = Math.min(...ends) - state.signedInAt;
          assert.ok(elapsed >= (GOOGLE_TEST_LIFETIME - 1) * 1000, `the session ended at the expiry, not before (after ${elapsed} ms; lifetime ${GOOGLE_TEST_LIFETIME} s)`);
          for (const [i, page] of [state.page, tab2].entries()) {
            const s = await pageSession(page);
            assert.equal(s.user, null, `tab ${i + 1}: getUser() is null`);
            assert.equal(s.authenticated, false, `tab ${i + 1}: isAuthenticated() is false`);
            assert.ok((await events(page)).includes('sessionEnded'), `tab ${i + 1}: sessionEnded was emitted`);
          }
          assert.deepEqual(run.op.seen('token', state.afterSignIn).map((r) => r.params.grant_type), [], 'no token request (there is no refresh token)');
          assert.deepEqual(run.op.seen('authorize', state.afterSignIn).length, 0, 'no new login was started');
          state.tab2 = tab2;
          state.ended = true;
        });
      });

      test(`${profile.title}: refuses offline_access (invalid_scope), which the recipe does not ask for`, async () => {
        assert.ok(!run.config.scope.split(' ').includes('offline_access'), 'the recipe asks for no offline_access');
        const url = new URL(run.op.url('authorize'));
        for (const [k, v] of Object.entries({ client_id: profile.client.clientId, redirect_uri: run.config.redirectUri, response_type: 'code', scope: 'openid offline_access', state: 'x'.repeat(22), nonce: 'y'.repeat(22), code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) url.searchParams.set(k, v);
        const res = await fetch(url, { redirect: 'manual' });
        assert.equal(res.status, 302);
        assert.equal(new URL(res.headers.get('location')).searchParams.get('error'), 'invalid_scope');
      });
    } else {
      test(`${profile.title}: refresh() — ${refreshTitle(expect)}`, { timeout: TEST_TIMEOUT }, async (t) => {
        if (!needs(t, 'signedIn')) return;
        await withScreenshots(run, 'refresh', async () => {
          if (expect.rateLimitedRefresh) return rateLimitedRefresh(run, state);
          const page = state.page;
          const before = await pageSession(page);
          for (const round of [1, 2]) {
            const seq0 = run.op.lastSeq;
            const issuedBefore = run.op.issued.length;
            const r = await sdk(page, 'refresh');
            assert.ok(r.ok, `refresh() #${round} ${describeOutcome(r)}`);
            const reqs = run.op.seen('token', seq0);
            assert.deepEqual(reqs.map((x) => `${x.params.grant_type} ${x.status}`), ['refresh_token 200'], `refresh #${round}: one refresh request, answered 200`);
            assert.equal(reqs[0].params.refresh_token, state.refresh, `refresh #${round} presented the refresh token the session holds`);
            assert.equal(reqs[0].params.client_id, profile.client.clientId);
            const answer = run.op.issued[issuedBefore];
            // The session now holds what the answer brought (kept up to date first, so that a failed
            // assertion here does not make the later steps look for stale tokens).
            const presented = state.refresh;
            if (answer.refresh) state.refresh = answer.refresh;
            if (answer.id) state.idToken = answer.id;
            state.access = answer.access;
            if (expect.refresh === 'same') {
              assert.equal(answer.refresh, presented, 'the same refresh token came back (rotation off)');
            } else if (expect.refresh === 'rotate') {
              assert.ok(answer.refresh && answer.refresh !== presented, 'a new refresh token came back (rotation)');
              assert.equal(run.op.refreshRevoked(answer.refresh), false, 'no reuse: the token family is alive');
            } else if (expect.refresh === 'omit') {
              assert.equal(answer.refresh, null, 'the refresh answer carried no refresh token');
              assert.ok(!answer.keys.includes('refresh_token'));
            }
            if (expect.refreshWithoutIdToken) {
              assert.equal(answer.id, null, 'the refresh answer carried no ID token');
              assert.deepEqual((await pageSession(page)).user, before.user, 'the verified claims are kept as they were');
            } else {
              assert.ok(answer.id, 'the refresh answer carried an ID token');
              const after = (await pageSession(page)).user;
              assert.equal(after?.sub, before.user.sub, 'same user after the refresh');
              assertClaims(after, expect.user, 'the refreshed ID token');
            }
          }
          assert.equal((await pageSession(page)).authenticated, true, 'still signed in');
          assert.ok((await events(page)).includes('tokensRefreshed'), 'tokensRefreshed was emitted');
          assert.equal(run.op.seen('token').filter((x) => x.error).length, 0, 'no token request was refused (no invalid_grant, no reuse)');
          // The API takes the newest access token.
          const seq1 = run.op.lastSeq;
          const api = await sdk(page, 'fetchWithToken', `${run.op.origins.api}/api/me`);
          assert.ok(api.ok && api.value.status === 200, `the API after the refreshes: ${describeOutcome(api)}`);
          assert.equal(run.op.seen('api', seq1)[0]?.authorization, state.access, 'the API got the newest access token');
          state.refreshed = true;
        });
      });
    }

    if (expect.logout.kind === 'local') {
      test(`${profile.title}: logout() is local — no navigation, every tab signed out, no end-session request`, { timeout: TEST_TIMEOUT }, async (t) => {
        if (!needs(t, 'signedIn')) return;
        await withScreenshots(run, 'logout', async () => {
          run.op.state.accessTokenLifetime = 120; // a session that lasts through this step
          const page = state.page;
          const outcome = await signIn(run, page);
          if (outcome !== 'signed-in') assert.fail(`the second sign-in ended in ${outcome}: ${JSON.stringify(await pageReport(page))}`);
          const tab2 = state.tab2 ?? await openTab(run);
          await tab2.goto(run.app.origin + '/');
          assert.equal(await waitForState(tab2, ['signed-in', 'signed-out', 'error']), 'signed-in', 'tab 2 got the session');
          const seq0 = run.op.lastSeq;
          const url = page.url();
          const navigations = page.navigations.length;
          const r = await sdk(page, 'logout');
          assert.ok(r.ok, `logout() ${describeOutcome(r)}`);
          await new Promise((res) => setTimeout(res, 500)); // a navigation, if any, would have started
          assert.equal(page.navigations.length, navigations, `no navigation (saw ${page.navigations.slice(navigations).join(', ')})`);
          assert.equal(page.url(), url, 'the page stays where it was');
          for (const [i, p] of [page, tab2].entries()) {
            assert.equal(await waitForState(p, ['signed-out']), 'signed-out', `tab ${i + 1} shows signed out`);
            const s = await pageSession(p);
            assert.equal(s.user, null, `tab ${i + 1}: getUser() is null`);
            assert.equal(s.authenticated, false, `tab ${i + 1}: isAuthenticated() is false`);
          }
          const seen = run.op.requests.filter((x) => x.seq > seq0).map((x) => `${x.endpoint} ${x.status}`);
          assert.ok(!seen.some((s) => /^(endSession|authorize|unknown)/.test(s)), `no request to the provider's pages (saw ${seen.join(', ') || 'nothing'})`);
          t.diagnostic(`requests at logout: ${seen.join(', ') || 'none'}`);
        });
      });
    } else {
      test(`${profile.title}: logout() — ${logoutTitle(profile)}; the page ends signed out`, { timeout: TEST_TIMEOUT }, async (t) => {
        if (!needs(t, 'signedIn')) return;
        await withScreenshots(run, 'logout', async () => {
          const page = state.page;
          const others = run.pages.filter((p) => p !== page && !p.isClosed());
          const seq0 = run.op.lastSeq;
          const postLogout = run.config.postLogoutRedirectUri;
          const navigations = page.navigations.length;
          await page.evaluate(() => window.__run('logout'));
          const [end] = await waitUntil(async () => {
            const e = run.op.seen('endSession', seq0);
            if (e.length) return e;
            const err = await page.evaluate(() => window.__runError).catch(() => null);
            if (err) assert.fail(`logout() failed: ${err.code}: ${err.message}`);
            return null;
          }, 'the request to the provider\'s logout page');
          const eps = profile.endpoints(run.op.origins, run.op.ctx);
          assert.equal(end.role, expect.logout.role, `the logout page is on the ${expect.logout.role} origin`);
          assert.equal(end.path, eps.endSession.path, 'the logout page\'s path');
          const want = { idToken: state.idToken, clientId: profile.client.clientId, postLogout };
          for (const [param, kind] of Object.entries(expect.logout.params)) {
            assert.ok(param in end.params, `the logout request has ${param} (it has ${Object.keys(end.params).join(', ')})`);
            assert.equal(end.params[param], want[kind], `${param} is the ${kind === 'idToken' ? 'newest ID token (by fingerprint)' : kind}`);
          }
          for (const param of expect.logout.absent) assert.ok(!(param in end.params), `the logout request has no ${param}`);
          assert.equal(end.decision, 'redirect', `the provider honoured the request (it showed: ${end.decision})`);
          assert.equal(end.redirect, postLogout.split('?')[0], 'and sent the browser back to the post-logout URI');

          await waitUntil(() => page.navigations.slice(navigations).includes(postLogout), 'the return to the post-logout URI');
          assert.equal(await waitForState(page, ['signed-out', 'signed-in', 'error']), 'signed-out', 'the page ends signed out');
          const s = await pageSession(page);
          assert.equal(s.user, null, 'getUser() is null');
          assert.equal(s.authenticated, false, 'isAuthenticated() is false');
          for (const [i, other] of others.entries()) assert.equal(await waitForState(other, ['signed-out']), 'signed-out', `tab ${i + 2} is signed out too`);

          const revocations = run.op.seen('revocation', seq0);
          if (expect.revocation) {
            assert.ok(revocations.length >= 1, 'the refresh token was revoked');
            const rt = revocations.find((x) => x.params.token === state.refresh);
            assert.ok(rt, `the revocation carried the newest refresh token (saw ${revocations.map((x) => x.revoked).join(', ')})`);
            assert.equal(rt.role, eps.revocation.role, `at the revocation endpoint's origin (${eps.revocation.role})`);
            assert.equal(rt.path, eps.revocation.path, 'at the revocation endpoint');
            assert.equal(rt.params.client_id, profile.client.clientId, 'with the client_id');
            assert.equal(rt.status, 200);
            assert.ok(rt.seq < end.seq, 'revoked before leaving for the logout page');
            assert.equal(run.op.refreshRevoked(state.refresh), true, 'the OP revoked it');
          } else {
            assert.deepEqual(revocations, [], 'no revocation request: the provider has no revocation endpoint');
            const stray = run.op.requests.filter((x) => x.seq > seq0 && x.endpoint.includes('unknown'));
            assert.deepEqual(stray.map((x) => `${x.method} ${x.path}`), [], 'no request to an endpoint the provider does not have');
          }
          state.loggedOut = true;
        });
      });
    }

    for (const refusal of expect.refused ?? []) {
      test(`${profile.title}: ${refusal.what} is refused at the callback (${refusal.code}), leaving no session`, { timeout: TEST_TIMEOUT }, async (t) => {
        if (!needs(t, 'recipe')) return;
        await withScreenshots(run, refusal.code, async () => {
          const saved = Object.fromEntries(Object.keys(refusal.state).map((k) => [k, run.op.state[k]]));
          Object.assign(run.op.state, refusal.state);
          try {
            const page = await openTab(run, await browser.newContext()); // a browser with no session of this app
            const seq0 = run.op.lastSeq;
            const outcome = await signIn(run, page);
            const report = await pageReport(page);
            assert.equal(outcome, 'error', `the callback fails (${JSON.stringify(report)})`);
            assert.equal(report.lastError?.code, refusal.code, `the OidcError code (${report.lastError?.message})`);
            const s = await pageSession(page);
            assert.equal(s.user, null, 'no user');
            assert.equal(s.authenticated, false, 'no session');
            assert.deepEqual(run.op.seen('token', seq0).map((x) => x.params.grant_type), refusal.exchanged ? ['authorization_code'] : [],
              refusal.exchanged ? 'the code was exchanged once (the ID token is refused after)' : 'the code was not exchanged');
            assert.deepEqual(run.op.seen('api', seq0), [], 'the API was not called');
          } finally {
            Object.assign(run.op.state, saved);
          }
        });
      });
    }
  });
}

function signInTitle(profile) {
  const e = profile.expect;
  return [
    'signs in with the recipe: one authorization request (PKCE S256, state, nonce, the recipe\'s scope',
    e.authorizeParams ? ', audience = the API' : '',
    ')',
    e.issInResponse ? ', the RFC 9207 iss sent and accepted' : '',
    e.discoveryFromPage ? '' : ', no discovery request (the recipe\'s metadata)',
    ', one code exchange from the page; the verified user has the profile\'s claims',
    e.userIss ? ' and its iss' : '',
  ].join('');
}

function refreshTitle(expect) {
  if (expect.rateLimitedRefresh) return 'a 429 with Retry-After: 1 is waited for and retried once, one token request at a time, across two tabs';
  const rt = { same: 'the same refresh token comes back and is used again (rotation off)', rotate: 'a new refresh token each time, the newest one used (rotation)', omit: 'no refresh token in the answer: the old one is kept and used again' }[expect.refresh];
  return `${rt}${expect.refreshWithoutIdToken ? '; no ID token in the answer: the verified claims are kept' : '; a new ID token, verified'}; the API gets the newest access token`;
}

function logoutTitle(profile) {
  const l = profile.expect.logout;
  const path = profile.endpoints({}, {}).endSession.path;
  return `${path} on the ${l.role} origin with ${Object.keys(l.params).join(', ')}${l.absent.length ? ` and no ${l.absent.join('/')}` : ''}${profile.expect.revocation ? ', the refresh token revoked first' : ', no revocation (none exists)'}`;
}

/** Okta: the first refresh gets 429 + Retry-After: 1. Tab 1 and tab 2 call refresh() 100 ms apart. */
async function rateLimitedRefresh(run, state) {
  const tab1 = state.page;
  const tab2 = await openTab(run);
  await tab2.goto(run.app.origin + '/');
  assert.equal(await waitForState(tab2, ['signed-in', 'signed-out', 'error']), 'signed-in', 'tab 2 got the session from tab 1');
  const seq0 = run.op.lastSeq;
  const refreshIn = (page, delay) => page.evaluate(async ([delay, limit]) => {
    await new Promise((r) => setTimeout(r, delay));
    const started = Date.now();
    const run = window.__oidc.refresh().then(() => ({ ok: true }), (e) => ({ ok: false, code: e?.code ?? null, message: String(e?.message ?? e) }));
    const r = await Promise.race([run, new Promise((res) => setTimeout(() => res({ timedOut: true }), limit))]);
    return { ...r, ms: Date.now() - started };
  }, [delay, STEP_TIMEOUT]);
  const [r1, r2] = await Promise.all([refreshIn(tab1, 0), refreshIn(tab2, 100)]);
  assert.ok(r1.ok, `tab 1 refresh() ${describeOutcome(r1)}`);
  assert.ok(r2.ok, `tab 2 refresh() ${describeOutcome(r2)}`);
  const reqs = run.op.seen('token', seq0);
  assert.ok(reqs.every((x) => x.params.grant_type === 'refresh_token'), 'only refresh requests');
  const [first, retry, ...rest] = reqs;
  assert.ok(first && first.status === 429, `the first refresh was answered 429 (saw ${reqs.map((x) => x.status).join(', ')})`);
  assert.equal(first.params.refresh_token, state.refresh, 'it presented the session\'s refresh token');
  assert.ok(retry, 'the SDK tried again');
  assert.equal(retry.params.refresh_token, first.params.refresh_token, 'the retry presented the same refresh token (the 429 did not spend it)');
  const waited = Math.round(retry.startedHr - first.respondedHr);
  console.log(`okta: the retry arrived ${waited} ms after the 429 was answered`);
  assert.ok(waited >= 1000, `the retry waited for Retry-After: 1 (waited ${waited} ms)`);
  assert.ok(waited < 5000, `the retry came soon after Retry-After: 1 ran out, not after a longer back-off (waited ${waited} ms)`);
  assert.equal(retry.status, 200, 'the retry was answered 200');
  assert.equal(reqs.filter((x) => x.params.refresh_token === first.params.refresh_token).length, 2, 'exactly one retry');
  assert.equal(reqs.filter((x) => x.status === 429).length, 1, 'one 429');
  const answer = run.op.issued.find((x) => x.presented === first.params.refresh_token && x.grantType === 'refresh_token');
  assert.ok(answer.refresh && answer.refresh !== state.refresh, 'the retry brought a new refresh token (rotation)');
  let current = answer.refresh;
  for (const x of rest) { // tab 2 may refresh once more after tab 1 — with the newest token
    assert.equal(x.params.refresh_token, current, 'a later refresh presented the newest refresh token');
    assert.equal(x.status, 200);
    current = run.op.issued.find((i) => i.presented === current)?.refresh;
  }
  assert.ok(rest.length <= 1, `at most one more refresh after the retry (saw ${rest.length})`);
  assert.equal(run.op.maxTokenInFlight, 1, 'never more than one token request at once');
  assert.ok(Math.max(r1.ms, r2.ms) >= 1000, 'refresh() resolved after the wait');
  state.refresh = current;
  state.idToken = run.op.issued.at(-1).id;
  state.access = run.op.issued.at(-1).access;
  for (const [i, page] of [tab1, tab2].entries()) {
    const seq1 = run.op.lastSeq;
    const api = await sdk(page, 'fetchWithToken', `${run.op.origins.api}/api/me`);
    assert.ok(api.ok && api.value.status === 200, `tab ${i + 1}: the API after the refresh: ${describeOutcome(api)}`);
    assert.equal(run.op.seen('api', seq1)[0]?.authorization, state.access, `tab ${i + 1} sent the newest access token`);
  }
  assert.equal(run.op.requests.filter((x) => x.endpoint === 'token' && x.error && x.status !== 429).length, 0, 'no token request was refused');
  state.refreshed = true;
}
