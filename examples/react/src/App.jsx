import { useAuth } from 'oidc-wasm/react';

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

export function App() {
  const { isLoading, isAuthenticated, user, error, login, logout } = useAuth();
  const state = isLoading ? 'loading' : isAuthenticated ? 'signed-in' : error ? 'error' : 'signed-out';

  return (
    <main data-state={state}>
      <h1>oidc-wasm · React</h1>
      {isLoading && <p>Loading…</p>}
      {error && (
        <p id="error" role="alert" data-code={error.code}>
          {error.code}: {error.message}
        </p>
      )}
      {!isLoading && !isAuthenticated && (
        <button id="sign-in" type="button" onClick={() => login({ returnTo: '/' })}>
          Sign in
        </button>
      )}
      {isAuthenticated && user && (
        <>
          <h2 id="user-name">Signed in as {user.name ?? user.sub}</h2>
          <table id="claims">
            <caption>Verified ID-token claims</caption>
            <tbody>
              {Object.entries(user).map(([claim, value]) => (
                <tr key={claim} data-claim={claim}>
                  <th scope="row">{claim}</th>
                  <td>{show(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button id="sign-out" type="button" onClick={() => logout()}>
            Sign out
          </button>
        </>
      )}
    </main>
  );
}
