// A server component: the page's frame. The provider is a client component; everything else here, and
// every page's server components, render on the server as usual (they cannot see the session: the tokens
// live in the browser's memory only).
import type { ReactNode } from 'react';
import Link from 'next/link';
import { AppAuthProvider } from './auth-provider';
import { SessionStatus } from './session';

export const metadata = { title: 'oidc-wasm · Next.js' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: '40rem', margin: '2rem auto', padding: '0 1rem' }}>
        <AppAuthProvider>
          <h1>oidc-wasm · Next.js</h1>
          <nav>
            <Link id="nav-home" href="/">Home</Link> · <Link id="nav-protected" href="/protected?tab=api">Protected (signed in only)</Link>
          </nav>
          <SessionStatus />
          {children}
        </AppAuthProvider>
      </body>
    </html>
  );
}
