// oidc-wasm/react: <AuthProvider config={...}> and useAuth() for React 18 and 19; several clients in one app
// as <AuthProvider name="workforce" …> and useAuth('workforce').
//
// One client per config for the life of the page (createClient loads the wasm, fetches discovery and
// joins the app's other tabs: doing that twice would be waste and a second tab presence). On the redirect
// URI, handleCallback runs exactly once, even when StrictMode mounts, unmounts and mounts again: the work
// is kept in a module-level map keyed by the config, and whichever mounted provider is alive when it
// settles applies the result. Nothing here touches `window` at import time or while rendering, so the
// module can be imported and the provider rendered on a server (state: isLoading).

import { OidcError, type OidcClient, type OidcConfig, type User } from './index.js';
import type { CallbackResult, LoginOptions, LogoutOptions, PopupLoginOptions } from './index.js';
import { asOidcError, boot, configKey, loginWithPopup } from './boot.js';
import { createContext, createElement, useContext, useEffect, useMemo, useRef, useState, type ReactElement, type ReactNode } from 'react';

interface AuthStatus {
  /** True until the client is ready and, on the redirect URI, the callback has been handled. */
  isLoading: boolean;
  /** The last failure: creating the client (the provider unreachable: `network_error` naming the URL), the
   * callback, or a background refresh (`error` event). Show it: without it a failed start looks like a
   * Sign in button that does nothing. */
  error: OidcError | null;
  /** When the session ends for good (unix ms), once the `sessionExpiring` event has said so: the provider
   * stated an end no refresh can pass (`sessionExpiringSeconds` ahead of it). Offer a new sign-in then
   * (`loginWithPopup` keeps the page). `null` otherwise, and again after a new sign-in. */
  sessionExpiresAt: number | null;
}

/** Signed in: `user` holds the verified ID-token claims. */
export interface SignedIn extends AuthStatus {
  isAuthenticated: true;
  user: User;
}

/** Signed out (or still loading): no user. */
export interface SignedOut extends AuthStatus {
  isAuthenticated: false;
  user: null;
}

/** The state, as a union on `isAuthenticated`: after `if (auth.isAuthenticated)` (or an early return on
 * `!auth.isAuthenticated`), TypeScript knows `auth.user` is a `User`. Destructuring keeps that
 * (`const { isAuthenticated, user } = useAuth()`: TypeScript 4.6+ narrows destructured unions). */
export type AuthState = SignedIn | SignedOut;

export interface AuthActions {
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
  client: OidcClient | null;
}

/** What `useAuth()` returns: the state (a union that narrows `user` on `isAuthenticated`) and the actions. */
export type Auth = AuthState & AuthActions;

export interface AuthProviderProps {
  config: OidcConfig;
  /** Several clients in one app (two providers, or two client ids of one): give each provider a name and read
   * it with `useAuth(name)`. Default: the unnamed provider, `useAuth()`. Providers nest; each adds its name. */
  name?: string;
  /** Called after a successful callback with the `returnTo` given to login(). Default:
   * `history.replaceState(null, '', returnTo ?? '/')`. With a router, navigate with it instead. */
  onRedirectCallback?: (returnTo: string | undefined) => void;
  children?: ReactNode;
}

function defaultRedirect(returnTo: string | undefined): void {
  history.replaceState(null, '', returnTo ?? '/');
}

// The providers above a component, by name ('' for the unnamed one): a nested <AuthProvider> adds its own.
const AuthContext = createContext<ReadonlyMap<string, Auth>>(new Map());

const LOADING: AuthState = { isLoading: true, isAuthenticated: false, user: null, error: null, sessionExpiresAt: null };

/** The state for a user (signed in) or none (signed out): the union's two halves, never a mix. */
function stateOf(isLoading: boolean, user: User | null, error: OidcError | null, sessionExpiresAt: number | null = null): AuthState {
  return user
    ? { isLoading, isAuthenticated: true, user, error, sessionExpiresAt }
    : { isLoading, isAuthenticated: false, user: null, error, sessionExpiresAt: null };
}

/** Makes `useAuth()` available below it. Create the config outside the component or memoize it; an
 * equal config (same JSON) is the same client. */
export function AuthProvider({ config, name, onRedirectCallback, children }: AuthProviderProps): ReactElement {
  const key = configKey(config);
  const [state, setState] = useState<AuthState>(LOADING);
  const [client, setClient] = useState<OidcClient | null>(null);
  const configRef = useRef(config);
  configRef.current = config;
  const redirectRef = useRef(onRedirectCallback);
  redirectRef.current = onRedirectCallback;

  useEffect(() => {
    let live = true;
    let unsubscribe: (() => void)[] = [];
    setState(LOADING); // a new config: a new client (no-op on the first mount)
    setClient(null);
    const b = boot(key, configRef.current);
    const sync = (c: OidcClient, error: OidcError | null) => {
      setState(stateOf(false, c.isAuthenticated() ? c.getUser() : null, error));
    };
    (async () => {
      let c: OidcClient;
      try {
        c = await b.client;
      } catch (e) {
        if (live) setState({ ...LOADING, isLoading: false, error: asOidcError(e) });
        return;
      }
      if (!live) return;
      setClient(c);
      unsubscribe = [
        c.on('userChanged', (user) => {
          setState((s) => stateOf(s.isLoading && !!b.callback, user && c.isAuthenticated() ? user : null, user ? null : s.error));
        }),
        c.on('tokensRefreshed', () => setState((s) => stateOf(s.isLoading, c.isAuthenticated() ? c.getUser() : null, s.error, s.sessionExpiresAt))),
        c.on('sessionExpiring', ({ secondsLeft }) => setState((s) => stateOf(s.isLoading, s.user, s.error, Date.now() + secondsLeft * 1000))),
        c.on('sessionEnded', () => setState((s) => stateOf(s.isLoading, null, s.error))),
        c.on('error', (error) => setState((s) => ({ ...s, error }))),
      ];
      const callback = b.callback;
      if (!callback) {
        sync(c, null);
        // A silent session check answered on this load and put the app's URL back: tell the router too.
        if (c.sessionCheck) (redirectRef.current ?? defaultRedirect)(c.sessionCheck.returnTo);
        return;
      }
      let result: CallbackResult | undefined;
      let error: OidcError | null = null;
      try {
        result = await callback;
      } catch (e) {
        error = asOidcError(e);
      }
      // Only a provider still mounted applies the result, and only once (StrictMode's first mount
      // has been unmounted by now; its twin, mounted again, gets here).
      if (!live || b.callback !== callback) return;
      b.callback = undefined;
      sync(c, error);
      if (result) (redirectRef.current ?? defaultRedirect)(result.returnTo);
    })();
    return () => {
      live = false;
      for (const u of unsubscribe) u();
    };
  }, [key]);

  const actions = useMemo(() => {
    const current = () => boot(key, configRef.current);
    return {
      login: async (options?: LoginOptions) => (await current().client).login(options),
      loginWithPopup: (options?: PopupLoginOptions) => loginWithPopup(current(), options),
      logout: async (options?: LogoutOptions) => (await current().client).logout(options),
      fetchWithToken: async (input: RequestInfo | URL, init?: RequestInit) => (await current().ready).fetchWithToken(input, init),
      getAccessToken: async (options?: { api?: string }) => (await current().ready).getAccessToken(options),
    };
  }, [key]);

  const value = useMemo<Auth>(() => ({ ...state, ...actions, client }), [state, actions, client]);
  const outer = useContext(AuthContext);
  const providers = useMemo(() => new Map(outer).set(name ?? '', value), [outer, name, value]);
  return createElement(AuthContext.Provider, { value: providers }, children);
}

/** The auth state and actions of the nearest unnamed <AuthProvider>, or with `name` of the nearest
 * <AuthProvider name={name}>. */
export function useAuth(name?: string): Auth {
  const auth = useContext(AuthContext).get(name ?? '');
  if (!auth) {
    throw new Error(name === undefined
      ? 'useAuth() must be used inside <AuthProvider config={...}> (oidc-wasm/react)'
      : `useAuth(${JSON.stringify(name)}) must be used inside <AuthProvider name=${JSON.stringify(name)} config={...}> (oidc-wasm/react)`);
  }
  return auth;
}

export { OidcError };
export type { OidcClient, OidcConfig, User, LoginOptions, LogoutOptions, PopupLoginOptions, CallbackResult };

export { RequireAuth, withAuthenticationRequired } from './react-guard.js';
export type { RequireAuthOptions, RequireAuthProps } from './react-guard.js';
