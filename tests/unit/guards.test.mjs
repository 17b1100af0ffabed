// The route guards' decision (js/guard.ts) and the vue-router guard (js/vue-guard.ts), in Node: the guard
// is bundled from its TypeScript with esbuild (vue stays external: the repository's own devDependency)
// and driven with an Auth made of Vue refs, so each case sets the state exactly and counts the logins.
// React's <RequireAuth> makes the same decision; it is driven in a browser by tests/consumers (react-router
// and Next.js).
//
//   node --test tests/unit/

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let guard; // { guardStep, createAuthGuard, registerGuardReporter, OidcError }
let vue;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-wasm-guards-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `export { guardStep } from ${JSON.stringify(join(REPO, 'js', 'guard.ts'))};\nexport { createAuthGuard, registerGuardReporter } from ${JSON.stringify(join(REPO, 'js', 'vue-guard.ts'))};\nexport { OidcError } from ${JSON.stringify(join(REPO, 'js', 'errors.ts'))};\n`);
  const out = join(REPO, 'build', 'test-guards.mjs'); // under the repository, so `vue` resolves from its node_modules
  execFileSync(join(REPO, 'node_modules', '.bin', 'esbuild'), [entry, '--bundle', '--format=esm', '--platform=neutral', '--external:vue', `--outfile=${out}`, '--log-level=warning']);
  guard = await import(pathToFileURL(out).href);
  vue = await import('vue');
  globalThis.window = globalThis; // a browser, as far as the guard looks (one test takes it away: a server)
});

/** An Auth as createAuth makes it, with the state set by the test and the logins recorded. */
function fakeAuth({ isLoading = false, user = null, error = null, loginFails } = {}) {
  const { computed, shallowRef } = vue;
  const refs = { isLoading: shallowRef(isLoading), user: shallowRef(user), error: shallowRef(error) };
  const logins = [];
  const auth = {
    state: computed(() => (refs.user.value
      ? { isLoading: refs.isLoading.value, isAuthenticated: true, user: refs.user.value, error: refs.error.value }
      : { isLoading: refs.isLoading.value, isAuthenticated: false, user: null, error: refs.error.value })),
    isLoading: computed(() => refs.isLoading.value),
    isAuthenticated: computed(() => refs.user.value !== null),
    user: computed(() => refs.user.value),
    error: computed(() => refs.error.value),
    client: computed(() => null),
    async login(options) {
      logins.push(options);
      if (loginFails) throw loginFails;
    },
    async logout() {},
    async fetchWithToken() { throw new Error('not here'); },
  };
  return { auth, refs, logins };
}

const route = (fullPath, meta = {}) => ({ fullPath, meta });
const oidcError = (code) => new guard.OidcError(code, `an ${code} error`);

describe('guardStep: the one decision of both guards', () => {
  test('loading waits, signed in allows, an error is shown, signed out without an error logs in', () => {
    const { guardStep } = guard;
    assert.equal(guardStep({ isLoading: true, isAuthenticated: false, error: null }), 'wait');
    assert.equal(guardStep({ isLoading: true, isAuthenticated: true, error: null }), 'wait', 'the callback is still being handled');
    assert.equal(guardStep({ isLoading: false, isAuthenticated: true, error: null }), 'allow');
    assert.equal(guardStep({ isLoading: false, isAuthenticated: true, error: oidcError('network_error') }), 'allow', 'a background failure while signed in keeps the page');
    assert.equal(guardStep({ isLoading: false, isAuthenticated: false, error: oidcError('authorization_error') }), 'error', 'a failed callback: no login (no loop)');
    assert.equal(guardStep({ isLoading: false, isAuthenticated: false, error: null }), 'login');
  });
});

describe('createAuthGuard (vue-router)', () => {
  test('a public route passes without waiting for the client and without a login', async () => {
    const { auth, logins } = fakeAuth({ isLoading: true });
    const result = await guard.createAuthGuard(auth)(route('/about'));
    assert.equal(result, true);
    assert.deepEqual(logins, []);
  });

  test('signed out: one login with returnTo = to.fullPath, the navigation cancelled', async () => {
    const { auth, logins } = fakeAuth();
    const g = guard.createAuthGuard(auth);
    assert.equal(await g(route('/orders/7?tab=items#note', { requiresAuth: true })), false);
    assert.deepEqual(logins, [{ returnTo: '/orders/7?tab=items#note' }]);
    // A second navigation while the page is leaving for the provider starts no second login.
    assert.equal(await g(route('/orders/8', { requiresAuth: true })), false);
    assert.equal(logins.length, 1);
  });

  test('waits while the client loads or the callback is handled, then decides on the settled state', async () => {
    const { auth, refs, logins } = fakeAuth({ isLoading: true });
    let settled = false;
    const pending = guard.createAuthGuard({ auth }).call(undefined, route('/orders/7', { requiresAuth: true })).then((r) => { settled = true; return r; });
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'still loading: the navigation waits');
    refs.user.value = { sub: 'ada' };
    refs.isLoading.value = false;
    assert.equal(await pending, true, 'the callback signed the user in: the navigation goes on');
    assert.deepEqual(logins, [], 'no login');
  });

  test('a failed callback: no login (no redirect loop); onError decides, by default the navigation is cancelled', async () => {
    const denied = oidcError('authorization_error');
    const { auth, refs, logins } = fakeAuth({ isLoading: true });
    const pending = guard.createAuthGuard(auth)(route('/orders/7', { requiresAuth: true }));
    refs.error.value = denied;
    refs.isLoading.value = false;
    assert.equal(await pending, false);
    const seen = [];
    const toErrorPage = guard.createAuthGuard(auth, { onError: (e, to) => { seen.push([e, to.fullPath]); return '/signin-failed'; } });
    assert.equal(await toErrorPage(route('/orders/8', { requiresAuth: true })), '/signin-failed');
    assert.deepEqual(seen, [[denied, '/orders/8']]);
    assert.deepEqual(logins, [], 'never a login while the error is in the state');
    // The happy twin: without the error, the same route logs in.
    refs.error.value = null;
    assert.equal(await guard.createAuthGuard(auth)(route('/orders/7', { requiresAuth: true })), false);
    assert.deepEqual(logins, [{ returnTo: '/orders/7' }]);
  });

  test('a login that cannot start goes to the auth state and to onError, and a later navigation may try again', async () => {
    const bad = oidcError('invalid_config');
    const { auth, refs, logins } = fakeAuth({ loginFails: bad });
    guard.registerGuardReporter(auth, (e) => { refs.error.value = e; });
    const seen = [];
    const g = guard.createAuthGuard(auth, { onError: (e) => { seen.push(e.code); return false; }, returnTo: () => '/home', loginOptions: { extraParams: { prompt: 'login' } } });
    assert.equal(await g(route('/x', { requiresAuth: true })), false);
    assert.deepEqual(logins, [{ extraParams: { prompt: 'login' }, returnTo: '/home' }]);
    assert.equal(refs.error.value, bad, 'the failure is in the auth state, for the app to show');
    assert.deepEqual(seen, ['invalid_config']);
    refs.error.value = null;
    await g(route('/x', { requiresAuth: true }));
    assert.equal(logins.length, 2, 'not stuck: the failed login did not leave the guard "leaving"');
  });

  test('server rendering (no window): the navigation goes on at once, no waiting for a client that never starts, no login', async () => {
    const { auth, logins } = fakeAuth({ isLoading: true });
    const saved = globalThis.window;
    delete globalThis.window;
    try {
      assert.equal(await guard.createAuthGuard(auth)(route('/orders/7', { requiresAuth: true })), true);
    } finally {
      globalThis.window = saved;
    }
    assert.deepEqual(logins, []);
  });

  test('requiresAuth: meta from a parent route (merged by vue-router), a custom predicate; signed in passes', async () => {
    const { auth, logins } = fakeAuth({ user: { sub: 'ada' } });
    assert.equal(await guard.createAuthGuard(auth)(route('/admin/users', { requiresAuth: 'yes' })), true);
    const { auth: out, logins: outLogins } = fakeAuth();
    assert.equal(await guard.createAuthGuard(out, { requiresAuth: () => true })(route('/anything')), false);
    assert.deepEqual(outLogins, [{ returnTo: '/anything' }]);
    assert.equal(await guard.createAuthGuard(out, { requiresAuth: () => false })(route('/anything', { requiresAuth: true })), true);
    assert.deepEqual(logins, []);
  });

  test('signed in after a login, signed out again (another tab): the guard may log in again', async () => {
    const { auth, refs, logins } = fakeAuth();
    const g = guard.createAuthGuard(auth);
    await g(route('/a', { requiresAuth: true }));
    refs.user.value = { sub: 'ada' };
    assert.equal(await g(route('/a', { requiresAuth: true })), true);
    refs.user.value = null;
    await g(route('/b', { requiresAuth: true }));
    assert.deepEqual(logins.map((l) => l.returnTo), ['/a', '/b']);
  });
});
