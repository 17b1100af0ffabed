// oidc-wasm/vue: `app.use(createAuth(config))` and `useAuth()` for Vue 3.3+; several clients in one app as
// `app.use(createAuth(config, { name: 'workforce' }))` and `useAuth('workforce')`.
//
// The plugin creates the client when it is installed in a browser (on a server it does nothing, and the
// state stays isLoading), and on the redirect URI handles the callback once: the work is kept in a
// module-level map keyed by the config, so a second app (or a second install) with the same config
// shares the client and never replays the callback. Nothing here touches `window` at import time.

import { OidcError, type OidcClient, type OidcConfig, type User } from './index.js';
import type { CallbackResult, LoginOptions, LogoutOptions, PopupLoginOptions } from './index.js';
import { asOidcError, boot, configKey, loginWithPopup } from './boot.js';
import { registerGuardReporter } from './vue-guard.js';
import { computed, inject, shallowRef, type App, type ComputedRef, type InjectionKey, type Plugin } from 'vue';

/** The whole state in one object, a union on `isAuthenticated` (as React's `useAuth()` returns it). */
export type AuthState =
  | { isLoading: boolean; isAuthenticated: true; user: User; error: OidcError | null; sessionExpiresAt: number | null }
  | { isLoading: boolean; isAuthenticated: false; user: null; error: OidcError | null; sessionExpiresAt: null };

export interface Auth {
  /** The state as one read-only ref whose value narrows: in a template, inside
   * `v-if="state.isAuthenticated"` (or the `v-else` of `v-if="!state.isAuthenticated"`) `state.user` is a
   * `User`; in script, `const s = state.value; if (s.isAuthenticated) s.user.name`. The separate refs below
   * cannot narrow each other: `isAuthenticated` being true says nothing to TypeScript about `user`. */
  state: ComputedRef<AuthState>;
  /** True until the client is ready and, on the redirect URI, the callback has been handled. */
  isLoading: ComputedRef<boolean>;
  isAuthenticated: ComputedRef<boolean>;
  /** The verified ID-token claims, or null. */
  user: ComputedRef<User | null>;
  /** The last failure: creating the client (the provider unreachable: `network_error` naming the URL), the
   * callback, or a background refresh (`error` event). Show it. */
  error: ComputedRef<OidcError | null>;
  /** When the session ends for good (unix ms), once the `sessionExpiring` event has said so: the provider
   * stated an end no refresh can pass (`sessionExpiringSeconds` ahead of it). Offer a new sign-in then
   * (`loginWithPopup` keeps the page). `null` otherwise, and again after a new sign-in. */
  sessionExpiresAt: ComputedRef<number | null>;
  /** Navigates to the provider (waits for the client if it is still loading). */
  login(options?: LoginOptions): Promise<void>;
  /** `client.loginWithPopup`: signs in in a popup while the page stays. Call it in the click handler: the
   * popup opens at once, also while the client is still loading. Resolves like `handleCallback()`; the state
   * follows (`userChanged`). */
  loginWithPopup(options?: PopupLoginOptions): Promise<CallbackResult>;
  logout(options?: LogoutOptions): Promise<void>;
  /** `client.fetchWithToken`, after the client is ready and any callback in progress has finished. */
  fetchWithToken(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** `client.getAccessToken` (needs `exposeAccessToken: true`), after the client is ready and any callback in
   * progress has finished. */
  getAccessToken(options?: { api?: string }): Promise<string>;
  /** The client itself once ready (getUserInfo, refresh, on), else null. */
  client: ComputedRef<OidcClient | null>;
}

export interface AuthOptions {
  /** Several clients in one app (two providers, or two client ids of one): install one plugin per client, each
   * with its name, and read it with `useAuth(name)`. Default: the unnamed one, `useAuth()`. */
  name?: string;
  /** Called after a successful callback with the `returnTo` given to login(). Default:
   * `history.replaceState(null, '', returnTo ?? '/')`. With vue-router: `(to) => router.replace(to ?? '/')`. */
  onRedirectCallback?: (returnTo: string | undefined) => void;
}

// One injection key per name ('' for the unnamed plugin).
const keys = new Map<string, InjectionKey<Auth>>();
function keyOf(name = ''): InjectionKey<Auth> {
  let key = keys.get(name);
  if (!key) {
    key = Symbol(name ? `oidc-wasm:${name}` : 'oidc-wasm');
    keys.set(name, key);
  }
  return key;
}

/** The plugin: `createApp(App).use(createAuth(config)).mount('#app')`. */
export function createAuth(config: OidcConfig, options: AuthOptions = {}): Plugin & { auth: Auth } {
  const key = configKey(config);
  const isLoading = shallowRef(true);
  const user = shallowRef<User | null>(null);
  const error = shallowRef<OidcError | null>(null);
  const client = shallowRef<OidcClient | null>(null);
  const authenticated = shallowRef(false);
  const expiresAt = shallowRef<number | null>(null);
  const current = () => boot(key, config);

  const auth: Auth = {
    state: computed<AuthState>(() => {
      const u = authenticated.value ? user.value : null;
      return u
        ? { isLoading: isLoading.value, isAuthenticated: true, user: u, error: error.value, sessionExpiresAt: expiresAt.value }
        : { isLoading: isLoading.value, isAuthenticated: false, user: null, error: error.value, sessionExpiresAt: null };
    }),
    isLoading: computed(() => isLoading.value),
    isAuthenticated: computed(() => authenticated.value),
    user: computed(() => user.value),
    error: computed(() => error.value),
    sessionExpiresAt: computed(() => (authenticated.value ? expiresAt.value : null)),
    client: computed(() => client.value),
    login: async (o) => (await current().client).login(o),
    loginWithPopup: (o) => loginWithPopup(current(), o),
    logout: async (o) => (await current().client).logout(o),
    fetchWithToken: async (input, init) => (await current().ready).fetchWithToken(input, init),
    getAccessToken: async (options) => (await current().ready).getAccessToken(options),
  };

  registerGuardReporter(auth, (e) => { error.value = e; }); // a guard's login that could not start

  let started = false;
  async function start(): Promise<void> {
    const b = current();
    let c: OidcClient;
    try {
      c = await b.client;
    } catch (e) {
      started = false; // a later install may try again
      error.value = asOidcError(e);
      isLoading.value = false;
      return;
    }
    client.value = c;
    const sync = () => {
      user.value = c.getUser();
      authenticated.value = c.isAuthenticated();
    };
    c.on('userChanged', (u) => { sync(); expiresAt.value = null; if (u) error.value = null; });
    c.on('tokensRefreshed', sync);
    c.on('sessionEnded', sync);
    c.on('sessionExpiring', ({ secondsLeft }) => { expiresAt.value = Date.now() + secondsLeft * 1000; });
    c.on('error', (e) => { error.value = e; });
    const callback = b.callback;
    if (callback) {
      let result: CallbackResult | undefined;
      try {
        result = await callback;
      } catch (e) {
        error.value = asOidcError(e);
      }
      if (b.callback === callback) {
        b.callback = undefined;
        sync();
        isLoading.value = false;
        if (result) (options.onRedirectCallback ?? defaultRedirect)(result.returnTo);
        return;
      }
    }
    sync();
    isLoading.value = false;
    // A silent session check answered on this load and put the app's URL back: tell the router too.
    if (c.sessionCheck) (options.onRedirectCallback ?? defaultRedirect)(c.sessionCheck.returnTo);
  }

  return {
    auth,
    install(app: App) {
      app.provide(keyOf(options.name), auth);
      if (typeof window === 'undefined' || started) return; // server render: stays isLoading
      started = true;
      void start();
    },
  };
}

function defaultRedirect(returnTo: string | undefined): void {
  history.replaceState(null, '', returnTo ?? '/');
}

/** The auth state (read-only refs) and actions of the app's createAuth plugin; with `name`, of the plugin
 * created with that name. */
export function useAuth(name?: string): Auth {
  const auth = inject(keyOf(name), null);
  if (!auth) {
    throw new Error(name === undefined
      ? 'useAuth() needs the plugin: app.use(createAuth(config)) (oidc-wasm/vue)'
      : `useAuth(${JSON.stringify(name)}) needs the plugin: app.use(createAuth(config, { name: ${JSON.stringify(name)} })) (oidc-wasm/vue)`);
  }
  return auth;
}

export { OidcError };
export type { OidcClient, OidcConfig, User, LoginOptions, LogoutOptions, PopupLoginOptions, CallbackResult };

export { createAuthGuard } from './vue-guard.js';
export type { AuthGuard, AuthGuardOptions, GuardRoute } from './vue-guard.js';
