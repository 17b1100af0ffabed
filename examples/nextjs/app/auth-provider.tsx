'use client';
// The one client component the sign-in needs: <AuthProvider> around the app, in app/layout.tsx. Its
// config is built at module scope from build-time settings, not from `location` (this module also runs on
// the server, where there is no location); the server renders the loading state and the browser takes
// over. After the callback, the router goes back to where the login started (returnTo).

import type { ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import type { OidcConfig } from 'oidc-wasm';
import { AuthProvider } from 'oidc-wasm/react';

const appOrigin = process.env.NEXT_PUBLIC_APP_ORIGIN || 'http://127.0.0.1:3000';
const apiUrl = process.env.NEXT_PUBLIC_API_URL || 'http://127.0.0.1:3002/me';

const config: OidcConfig = {
  issuer: process.env.NEXT_PUBLIC_OIDC_ISSUER || 'http://127.0.0.1:3001',
  clientId: process.env.NEXT_PUBLIC_OIDC_CLIENT_ID || 'my-app',
  redirectUri: `${appOrigin}/callback`,
  postLogoutRedirectUri: `${appOrigin}/`,
  scope: 'openid profile email api:read',
  apiOrigins: [new URL(apiUrl).origin],
};

export function AppAuthProvider({ children }: { children: ReactNode }) {
  const router = useRouter();
  return (
    <AuthProvider config={config} onRedirectCallback={(returnTo) => router.replace(returnTo ?? '/')}>
      {children}
    </AuthProvider>
  );
}
