import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// The app's settings come at build time (NEXT_PUBLIC_*: inlined into the browser bundle). The defaults
// match `npm run op` (the development provider on 127.0.0.1:3001, its sample API on :3002) and
// `npm run dev` / `npm start` on http://127.0.0.1:3000.
const settings = {
  issuer: process.env.NEXT_PUBLIC_OIDC_ISSUER || 'http://127.0.0.1:3001',
  apiUrl: process.env.NEXT_PUBLIC_API_URL || 'http://127.0.0.1:3002/me',
};

// Content-Security-Policy: the SDK needs 'wasm-unsafe-eval' (WebAssembly) and connect-src for the provider
// and the API. Next's own inline scripts need 'unsafe-inline' on statically rendered pages (or a nonce set
// by proxy.ts, which makes every page dynamic); its development server also needs 'unsafe-eval'.
const development = process.env.NODE_ENV === 'development';
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'${development ? " 'unsafe-eval'" : ''}`,
  "style-src 'self' 'unsafe-inline'",
  `connect-src 'self' ${new URL(settings.issuer).origin} ${new URL(settings.apiUrl).origin}`,
].join('; ');

/** @type {import('next').NextConfig} */
const nextConfig = {
  // This folder is the app's root (the repository around it has a lockfile of its own).
  turbopack: { root: dirname(fileURLToPath(import.meta.url)) },
  async headers() {
    return [{
      source: '/:path*',
      headers: [
        { key: 'Content-Security-Policy', value: csp },
        { key: 'Referrer-Policy', value: 'no-referrer' },
      ],
    }];
  },
};

export default nextConfig;
