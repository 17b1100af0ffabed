// The development provider for any app: the local OpenID Provider (./provider.mjs) and the sample API
// (./api.mjs), both on 127.0.0.1 only, with one public client registered for the app's origins.
// `npx oidc-wasm dev-provider` (./cli.mjs) and `npm start` (examples/dev.mjs) both run it.
//
// For each origin: the redirect URI `<origin>/callback` (or --redirect-path), the post-logout redirect
// URI `<origin>/`, and CORS on the token, UserInfo and revocation endpoints and on the sample API. Any
// username and password sign in. The provider's state (sessions, grants) lives in memory only.
//
//   import { startDevProvider } from './dev/dev-provider.mjs';
//   const dev = await startDevProvider({ origins: ['http://localhost:5173'] });
//   dev.issuer; dev.apiUrl; dev.config; await dev.close();

import { startProvider } from './provider.mjs';
import { SAMPLE_API_SCOPE, startApi } from './api.mjs';
import { parseOrigin } from './origin.mjs';

export { parseOrigin };

export const DEFAULTS = Object.freeze({
  port: 3001,
  apiPort: 3002,
  clientId: 'my-app',
  redirectPath: '/callback',
  scope: `openid profile email ${SAMPLE_API_SCOPE}`,
});

/** The one interface both servers listen on. Never anything but loopback. */
export const HOST = '127.0.0.1';

/**
 * The TypeScript config object to paste into the app, exactly as the README's quick start shows it for the
 * default ports (tests/consumers compare the two).
 */
export function configSnippet({ issuer, clientId, apiOrigin, redirectPath = DEFAULTS.redirectPath, scope = DEFAULTS.scope }) {
  return [
    'const config: OidcConfig = {',
    `  issuer: '${issuer}',`,
    `  clientId: '${clientId}',`,
    `  redirectUri: \`\${location.origin}${redirectPath}\`,`,
    '  postLogoutRedirectUri: `${location.origin}/`,',
    `  scope: '${scope}',`,
    `  apiOrigins: ['${apiOrigin}'],`,
    '};',
  ].join('\n');
}

/**
 * Starts the provider and the sample API.
 * @param {object} options
 * @param {string[]} options.origins         the app's origins (at least one), e.g. http://localhost:5173
 * @param {number} [options.port=3001]       the provider's port (0: any free port)
 * @param {number} [options.apiPort=3002]    the sample API's port (0: any free port)
 * @param {string} [options.clientId='my-app']
 * @param {string} [options.redirectPath='/callback']
 * @param {number} [options.accessTokenTTL=3600] lifetime of the API's access tokens, in seconds
 * @returns {Promise<{issuer: string, apiOrigin: string, apiUrl: string, clientId: string, origins: string[],
 *   redirectUris: string[], postLogoutRedirectUris: string[], scope: string, config: string, op: object,
 *   api: object, close(): Promise<void>}>}  `config` is configSnippet()'s text.
 *   A port in use rejects with an Error whose code is EADDRINUSE and whose `server` is 'provider' or 'API'.
 */
export async function startDevProvider({
  origins, port = DEFAULTS.port, apiPort = DEFAULTS.apiPort, clientId = DEFAULTS.clientId,
  redirectPath = DEFAULTS.redirectPath, accessTokenTTL = 3600,
} = {}) {
  const list = [...new Set((origins ?? []).map(parseOrigin))];
  if (list.length === 0) throw new TypeError('the development provider needs at least one app origin (--origin http://localhost:5173)');
  if (!/^\/[^?#]*$/.test(redirectPath)) throw new TypeError(`--redirect-path ${redirectPath}: a path such as /callback`);
  const redirectUris = list.map((o) => `${o}${redirectPath}`);
  const postLogoutRedirectUris = list.map((o) => `${o}/`);
  const labelled = (server) => (err) => { err.server = server; throw err; };
  const op = await startProvider({
    port,
    host: HOST,
    clients: [{ client_id: clientId, redirect_uris: redirectUris, post_logout_redirect_uris: postLogoutRedirectUris }],
    resourceServer: { accessTokenTTL },
  }).catch(labelled('provider'));
  let api;
  try {
    api = await startApi({ port: apiPort, issuer: op.issuer, allowedOrigins: list }).catch(labelled('API'));
  } catch (err) {
    await op.close();
    throw err;
  }
  const scope = DEFAULTS.scope;
  return {
    issuer: op.issuer,
    apiOrigin: api.origin,
    apiUrl: `${api.url}/me`,
    clientId,
    origins: list,
    redirectUris,
    postLogoutRedirectUris,
    scope,
    config: configSnippet({ issuer: op.issuer, clientId, apiOrigin: api.origin, redirectPath, scope }),
    op,
    api,
    async close() {
      await Promise.allSettled([op.close(), api.close()]);
    },
  };
}

/** What the command prints once both servers listen: where they are, the config to paste, the notes. */
export function describe(dev) {
  const width = Math.max(...dev.origins.map((o) => o.length));
  const lines = [
    '',
    'oidc-wasm development provider: for development only. Anyone can sign in, with any username and password.',
    `It listens on ${HOST} (loopback) only: nothing outside this machine can reach it.`,
    '',
    `  OpenID Provider  ${dev.issuer}   (discovery: ${dev.issuer}/.well-known/openid-configuration)`,
    `  Sample API       ${dev.apiUrl}   (needs an access token with the scope ${SAMPLE_API_SCOPE})`,
    `  Client ID        ${dev.clientId}, registered for:`,
    ...dev.origins.map((o, i) => `    ${o.padEnd(width)}   redirect URI ${dev.redirectUris[i]}, after logout ${dev.postLogoutRedirectUris[i]}`),
    '  These origins may call the token, UserInfo and revocation endpoints and the sample API (CORS).',
    '',
    'Paste into your app (import type { OidcConfig } from \'oidc-wasm\'):',
    '',
    ...dev.config.split('\n').map((l) => `  ${l}`),
    '',
    `  // and call the sample API with the access token: await fetchWithToken('${dev.apiUrl}')`,
    '',
    'Notes:',
    '  - Open the app at exactly a registered origin: http://localhost:5173 and http://127.0.0.1:5173 are',
    '    different origins, and so are the ports of `vite` (5173) and `vite preview` (4173). Register each one',
    '    you open with its own --origin (an unregistered one gets the error page "invalid_redirect_uri").',
    '  - Signing in shows the provider\'s login page (any username and password), then, the first time, a',
    '    consent page (Continue). Signing out shows a confirmation page ("Yes, sign me out").',
    `  - Under a Content-Security-Policy, connect-src must list ${dev.issuer} and ${dev.apiOrigin}.`,
    '',
    'Ctrl-C stops the provider and the API.',
    '',
  ];
  return lines.join('\n');
}
