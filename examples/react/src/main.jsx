import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, useNavigate } from 'react-router-dom';
import { handlePopupCallback, preload } from 'oidc-wasm';
import { AuthProvider } from 'oidc-wasm/react';
import { App } from './App.jsx';
import './style.css';

// Build-time settings (Vite env): VITE_OIDC_ISSUER, VITE_OIDC_CLIENT_ID. The defaults match `npm run op`.
const config = {
  issuer: import.meta.env.VITE_OIDC_ISSUER || 'http://127.0.0.1:3001',
  clientId: import.meta.env.VITE_OIDC_CLIENT_ID || 'react-example',
  redirectUri: `${location.origin}/callback`,
  postLogoutRedirectUri: `${location.origin}/`,
  scope: 'openid profile email',
};

// In a sign-in popup back from the provider: hand its answer to the page that opened it (the window then
// closes), and start nothing else.
const popup = handlePopupCallback();

// Start loading the core (wasm and discovery) now, while React starts; AuthProvider's client takes it over.
if (!popup) preload({ issuer: config.issuer });

// Inside the router, so that the callback's returnTo is a router navigation (the route renders), not a
// bare history.replaceState that react-router would not notice.
function AuthWithRouter({ children }) {
  const navigate = useNavigate();
  return (
    <AuthProvider config={config} onRedirectCallback={(returnTo) => navigate(returnTo ?? '/', { replace: true })}>
      {children}
    </AuthProvider>
  );
}

if (!popup) createRoot(document.getElementById('root')).render(
  <StrictMode>
    <BrowserRouter>
      <AuthWithRouter>
        <App />
      </AuthWithRouter>
    </BrowserRouter>
  </StrictMode>,
);
