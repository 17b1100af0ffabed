'use client';
// The session as the browser sees it, in the layout: loading (also what the server renders), signed in
// or out, and the last error (a failed callback, the provider unreachable).
import { useAuth } from 'oidc-wasm/react';

export function SessionStatus() {
  const { isLoading, isAuthenticated, user, error, login, logout } = useAuth();
  const state = isLoading ? 'loading' : isAuthenticated ? 'signed-in' : error ? 'error' : 'signed-out';
  return (
    <section id="session" data-state={state}>
      {isLoading && <p>Loading…</p>}
      {error && <p id="error" role="alert" data-code={error.code}>{error.code}: {error.message}</p>}
      {!isLoading && !isAuthenticated && <button id="sign-in" type="button" onClick={() => login({ returnTo: '/' })}>Sign in</button>}
      {isAuthenticated && (
        <>
          <p id="user-name">Signed in as {user.name ?? user.sub}</p>
          <button id="sign-out" type="button" onClick={() => logout()}>Sign out</button>
        </>
      )}
    </section>
  );
}
