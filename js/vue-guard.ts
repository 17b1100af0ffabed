// oidc-wasm/vue route guard: createAuthGuard(auth), a vue-router navigation guard for `router.beforeEach`
// or a route's `beforeEnter`.
//
// For a route that needs a signed-in user (`meta.requiresAuth`, by default) it waits until the client is
// ready and any callback has been handled; signed in, the navigation goes on; signed out, it starts the
// login with `returnTo` the route's `fullPath` (the plugin's onRedirectCallback, `router.replace`, brings
// the user back to it) and cancels the navigation, the browser being on its way to the provider; signed
// out with an error in the auth state (a failed callback, the provider unreachable), no login
// (./guard.ts: no redirect loop): `onError` decides, by default the navigation is cancelled and the
// error stays in the auth state for the app to show. vue-router is not imported: the guard's types are
// the parts of a route it reads, so it fits vue-router 4 and 5.

import { watch } from 'vue';
import type { LoginOptions, OidcError } from './index.js';
import type { Auth } from './vue.js';
import { asOidcError } from './boot.js';
import { guardStep } from './guard.js';

/** What the guard reads of vue-router's target route (`RouteLocationNormalized`). */
export interface GuardRoute {
  fullPath: string;
  /** vue-router merges the `meta` of the matched routes, parents first, into the target's. */
  meta?: Record<string | number | symbol, unknown>;
}

export interface AuthGuardOptions {
  /** Which navigations need a signed-in user. Default: those whose route has a truthy `meta.requiresAuth`
   * (on it or on a parent route). `() => true` guards every route the guard is given. */
  requiresAuth?: (to: GuardRoute) => boolean;
  /** Where the login comes back to, a path on this origin. Default: `to.fullPath`. */
  returnTo?: (to: GuardRoute) => string;
  /** Further login options (`extraParams`). */
  loginOptions?: Omit<LoginOptions, 'returnTo'>;
  /** Signed out with an error (in the auth state, or the login could not start — then it is put into the
   * auth state too): what the navigation does. `false` cancels it; a path redirects there (an error page
   * that shows `state.error`); `true` lets it go on. Default: `() => false`. */
  onError?: (error: OidcError, to: GuardRoute) => boolean | string;
}

/** A navigation guard: `router.beforeEach(guard)` or `{ path, component, beforeEnter: guard }`. */
export type AuthGuard = (to: GuardRoute) => Promise<boolean | string>;

const reporters = new WeakMap<Auth, (error: OidcError) => void>();
const leaving = new WeakSet<Auth>();

/** Called by createAuth: where a guard puts a login that could not start. Not part of the public API. */
export function registerGuardReporter(auth: Auth, report: (error: OidcError) => void): void {
  reporters.set(auth, report);
}

function settled(auth: Auth): Promise<void> {
  if (!auth.isLoading.value) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = watch(auth.isLoading, (loading) => {
      if (loading) return;
      stop();
      resolve();
    }, { flush: 'sync' });
  });
}

const byMeta = (to: GuardRoute): boolean => !!to.meta?.requiresAuth;

/** A vue-router navigation guard that signs the user in for the routes that need it (AuthGuardOptions).
 * `auth`: what `createAuth` returned, or `useAuth()`'s result. */
export function createAuthGuard(auth: Auth | { auth: Auth }, options: AuthGuardOptions = {}): AuthGuard {
  const a: Auth = 'auth' in auth ? auth.auth : auth;
  const requiresAuth = options.requiresAuth ?? byMeta;
  const onError = options.onError ?? (() => false);
  return async (to) => {
    if (!requiresAuth(to)) return true;
    // Server rendering: the plugin does nothing there and the state stays loading; the page renders that.
    if (typeof window === 'undefined') return true;
    await settled(a);
    const s = a.state.value;
    const step = guardStep(s);
    if (step === 'allow') {
      leaving.delete(a); // signed in: a later sign-out may log in again
      return true;
    }
    if (step === 'error' && s.error) return onError(s.error, to);
    if (step !== 'login') return false;
    if (leaving.has(a)) return false; // a login already under way: the page is leaving
    leaving.add(a);
    try {
      await a.login({ ...options.loginOptions, returnTo: options.returnTo ? options.returnTo(to) : to.fullPath });
    } catch (e) {
      leaving.delete(a);
      const error = asOidcError(e);
      reporters.get(a)?.(error);
      return onError(error, to);
    }
    return false; // the browser is on its way to the provider
  };
}
