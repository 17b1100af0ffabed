import { useState } from 'react';
import { Link, Route, Routes, useLocation, useParams } from 'react-router-dom';
import { RequireAuth, useAuth } from 'oidc-wasm/react';

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

// The shell: the state for everyone, the routes below it. `/` and `/callback` are public (the callback is
// handled by <AuthProvider>, on whatever route); `/orders/:id` needs a signed-in user.
export function App() {
  const { isLoading, isAuthenticated, error, sessionExpiresAt, loginWithPopup } = useAuth();
  const state = isLoading ? 'loading' : isAuthenticated ? 'signed-in' : error ? 'error' : 'signed-out';

  return (
    <main data-state={state}>
      <h1>oidc-wasm · React</h1>
      <nav>
        <Link id="nav-home" to="/">Home</Link> · <Link id="nav-about" to="/about">About (public)</Link> ·{' '}
        <Link id="nav-order" to="/orders/7?tab=items#note">Order 7 (signed in only)</Link>
      </nav>
      {isLoading && <p>Loading…</p>}
      {sessionExpiresAt && (
        // The provider stated an end no refresh can pass: sign in again in a popup, the page keeps its state.
        <p id="session-expiring" role="status">
          Your session ends at {new Date(sessionExpiresAt).toLocaleTimeString()}.{' '}
          <button type="button" onClick={() => loginWithPopup().catch(() => {})}>Stay signed in</button>
        </p>
      )}
      {error && (
        <p id="error" role="alert" data-code={error.code}>
          {error.code}: {error.message}
        </p>
      )}
      <Routes>
        <Route path="/" element={<Home />} />
        <Route path="/callback" element={<Home />} />
        <Route path="/about" element={<About />} />
        <Route
          path="/orders/:id"
          element={
            <RequireAuth
              fallback={<p id="guard-wait">Signing you in…</p>}
              errorFallback={(_error, retry) => (
                <p id="guard-error">
                  This page needs you signed in, and that failed (above).{' '}
                  <button id="retry" type="button" onClick={retry}>Try again</button>
                </p>
              )}
            >
              <Order />
            </RequireAuth>
          }
        />
      </Routes>
    </main>
  );
}

function Home() {
  const { isLoading, isAuthenticated, user, login, loginWithPopup, logout } = useAuth();
  const [popupError, setPopupError] = useState(null);
  if (isLoading) return null;
  if (!isAuthenticated) {
    return (
      <>
        <button id="sign-in" type="button" onClick={() => login({ returnTo: '/' })}>
          Sign in
        </button>{' '}
        {/* In the click handler, before any await: the popup opens at once. This page stays as it is. */}
        <button id="sign-in-popup" type="button" onClick={() => { setPopupError(null); loginWithPopup().catch(setPopupError); }}>
          Sign in with a popup
        </button>
        {popupError && (
          <p id="popup-error" role="alert" data-code={popupError.code}>
            {popupError.code}: {popupError.message}
          </p>
        )}
      </>
    );
  }
  return (
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
  );
}

function About() {
  return <p id="about">A public page: anyone may see it, signed in or not.</p>;
}

// Rendered by <RequireAuth> only for a signed-in user.
function Order() {
  const { id } = useParams();
  const { pathname, search, hash } = useLocation();
  const { user, logout } = useAuth();
  return (
    <section id="order" data-order={id}>
      <h2>Order {id}</h2>
      <p id="order-user">for {user?.name ?? user?.sub}</p>
      <p>
        route: <code id="order-route">{pathname + search + hash}</code>
      </p>
      <button id="order-sign-out" type="button" onClick={() => logout()}>
        Sign out
      </button>
    </section>
  );
}
