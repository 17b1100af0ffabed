'use client';
import { useState } from 'react';
import { RequireAuth, useAuth } from 'oidc-wasm/react';

const apiUrl = process.env.NEXT_PUBLIC_API_URL || 'http://127.0.0.1:3002/me';

export function OrdersPanel() {
  return (
    <RequireAuth
      fallback={<p id="guard-wait">Signing you in…</p>}
      errorFallback={(_error, retry) => (
        <p id="guard-error">
          This page needs you signed in, and that failed (above). <button id="retry" type="button" onClick={retry}>Try again</button>
        </p>
      )}
    >
      <CallApi />
    </RequireAuth>
  );
}

// Rendered only signed in. The access token goes to the API from the browser (fetchWithToken); the server
// never has it.
function CallApi() {
  const { user, fetchWithToken } = useAuth();
  const [answer, setAnswer] = useState('');
  async function call() {
    try {
      const res = await fetchWithToken(apiUrl);
      setAnswer(`${res.status} ${await res.text()}`);
    } catch (e) {
      setAnswer(String(e));
    }
  }
  return (
    <section id="protected">
      <p id="protected-user">Hello {user?.name ?? user?.sub}</p>
      <button id="call-api" type="button" onClick={call}>Call the API</button>
      <pre id="api-answer">{answer}</pre>
    </section>
  );
}
