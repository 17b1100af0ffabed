// oidc-wasm/react route guards: <RequireAuth> and withAuthenticationRequired(Component).
//
// Inside <AuthProvider>: while the client loads or the callback is handled, the `fallback`; signed in,
// the children; signed out, one login per mount with `returnTo` the current path (so the callback's
// onRedirectCallback brings the user back here); signed out with an error in the auth state (a failed
// callback, the provider unreachable), the error and no login (./guard.ts: no redirect loop). Rendering
// touches no browser API: on a server the guard renders its `fallback`.

import { createElement, Fragment, useEffect, useRef, useState, type ComponentType, type ReactElement, type ReactNode } from 'react';
import type { LoginOptions, OidcError } from './index.js';
import { asOidcError } from './boot.js';
import { currentPath } from './callback-url.js';
import { guardStep } from './guard.js';
import { useAuth } from './react.js';

export interface RequireAuthOptions {
  /** Shown while the client loads, the callback is handled, or the login is starting. Default: nothing. */
  fallback?: ReactNode;
  /** Shown instead of the children when the user is signed out and the auth state has an error (a failed
   * callback, the provider unreachable), or when the login could not start: no login is started then.
   * A function gets the error and `retry`, which starts the login (a user's click). Default: a
   * `<p role="alert">` with the error's code and message. */
  errorFallback?: ReactNode | ((error: OidcError, retry: () => void) => ReactNode);
  /** Called once for each error the guard shows. */
  onError?: (error: OidcError) => void;
  /** Where the login comes back to (a path on this origin). Default: the current path, query and
   * fragment (`location`), which is the route with react-router's `BrowserRouter`. */
  returnTo?: string;
  /** Further login options (`extraParams`). */
  loginOptions?: Omit<LoginOptions, 'returnTo'>;
  /** Which client guards (two providers on one page: the `name` of its `<AuthProvider>`). Default: the
   * unnamed one. */
  name?: string;
}

export interface RequireAuthProps extends RequireAuthOptions {
  children?: ReactNode;
}

function defaultError(error: OidcError): ReactNode {
  return createElement('p', { role: 'alert', 'data-oidc-error': error.code }, `${error.code}: ${error.message}`);
}

/** Renders its children only for a signed-in user; starts the login otherwise (see RequireAuthOptions). */
export function RequireAuth({ children, fallback = null, errorFallback, onError, returnTo, loginOptions, name }: RequireAuthProps): ReactElement {
  const auth = useAuth(name);
  const [loginError, setLoginError] = useState<OidcError | null>(null);
  const started = useRef(false); // kept across StrictMode's second mount: one login per mount
  const signedIn = useRef(false);
  const step = guardStep({ isLoading: auth.isLoading, isAuthenticated: auth.isAuthenticated, error: auth.error ?? loginError });
  const error = step === 'error' ? auth.error ?? loginError : null;
  const optionsRef = useRef({ returnTo, loginOptions, onError });
  optionsRef.current = { returnTo, loginOptions, onError };
  const login = auth.login;

  const start = (): void => {
    const o = optionsRef.current;
    setLoginError(null);
    login({ ...o.loginOptions, returnTo: o.returnTo ?? currentPath() }).catch((e: unknown) => setLoginError(asOidcError(e)));
  };

  useEffect(() => {
    // Once per mount. Signed out after having been signed in here (logout() in this tab, whose own
    // navigation a login would override, or in another tab), no login either: the fallback shows.
    if (step === 'allow') signedIn.current = true;
    if (step !== 'login' || started.current || signedIn.current) return;
    started.current = true;
    start();
  }, [step]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (error) optionsRef.current.onError?.(error);
  }, [error]);

  let shown: ReactNode;
  if (step === 'allow') shown = children;
  else if (error) shown = typeof errorFallback === 'function' ? errorFallback(error, start) : errorFallback ?? defaultError(error);
  else shown = fallback;
  return createElement(Fragment, null, shown);
}

/** `Component` behind <RequireAuth> with these options: `export default withAuthenticationRequired(Orders)`. */
export function withAuthenticationRequired<P extends object>(Component: ComponentType<P>, options: RequireAuthOptions = {}): (props: P) => ReactElement {
  const Guarded = (props: P): ReactElement => createElement(RequireAuth, options, createElement(Component, props));
  Guarded.displayName = `withAuthenticationRequired(${Component.displayName ?? Component.name ?? 'Component'})`;
  return Guarded;
}
