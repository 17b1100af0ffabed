import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { preload } from 'oidc-wasm';
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

// Start loading the core (wasm and discovery) now, while React starts; AuthProvider's client takes it over.
preload({ issuer: config.issuer });

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <AuthProvider config={config}>
      <App />
    </AuthProvider>
  </StrictMode>,
);
