// Local OpenID Provider for development and end-to-end tests.
//
// Wraps the npm package `oidc-provider` with the settings a browser SPA client needs: fresh signing
// keys per start (RS256 used for ID tokens, an ES256 key published beside it), the built-in
// development login/consent pages (any username and password work), CORS for the registered app
// origins, refresh tokens always issued (rotated for public clients), revocation, RP-initiated
// logout, RFC 9207 `iss` in authorization responses, and per-endpoint request counters for tests.
//
//   import { startProvider } from './tests/op/provider.mjs';
//   const op = await startProvider({ clients: [{ client_id: 'spa', redirect_uris: ['http://127.0.0.1:3000/callback'] }] });
//   op.issuer; op.counters.token; await op.close();
//
// As a script (manual use):
//   node tests/op/provider.mjs [--port 3001] [--client-id flow-explorer] [--redirect-uri http://127.0.0.1:3000/callback]
//                              [--post-logout-redirect-uri http://127.0.0.1:3000/]

import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';

const generateKeyPairAsync = promisify(generateKeyPair);

// oidc-provider 9.x warns at import time on Node < 22 ("Unsupported runtime"); it works on Node 20.
// Drop exactly that warning so it does not read as a failure in test and dev output.
let providerModule;
async function loadProvider() {
  if (!providerModule) {
    const warn = console.warn;
    console.warn = (...args) => {
      if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
      warn.apply(console, args);
    };
    try {
      providerModule = await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  }
  return providerModule.default;
}

// Endpoint names for the counters, keyed by oidc-provider's default route paths.
const ROUTES = [
  ['/.well-known/openid-configuration', 'discovery'],
  ['/auth', 'authorization'],
  ['/token/revocation', 'revocation'],
  ['/token/introspection', 'introspection'],
  ['/token', 'token'],
  ['/jwks', 'jwks'],
  ['/me', 'userinfo'],
  ['/session/end', 'end_session'],
  ['/interaction/', 'interaction'],
];
const COUNTER_NAMES = [...new Set(ROUTES.map(([, name]) => name)), 'other'];

function routeName(path) {
  for (const [prefix, name] of ROUTES) {
    if (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) return name;
  }
  return 'other';
}

async function signingKeys() {
  const [rsa, ec] = await Promise.all([
    generateKeyPairAsync('rsa', { modulusLength: 2048 }),
    generateKeyPairAsync('ec', { namedCurve: 'P-256' }),
  ]);
  // The first key for an algorithm is the one oidc-provider signs with.
  return {
    keys: [
      { ...rsa.privateKey.export({ format: 'jwk' }), kid: `rs256-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' },
      { ...ec.privateKey.export({ format: 'jwk' }), kid: `es256-${randomUUID().slice(0, 8)}`, alg: 'ES256', use: 'sig' },
    ],
  };
}

// Any login name is an account. Claims are derived from it so tests can predict them.
export function accountClaims(login) {
  const sub = String(login);
  const local = sub.toLowerCase().replace(/[^a-z0-9._-]+/g, '.').replace(/^\.+|\.+$/g, '') || 'user';
  return {
    sub,
    name: sub.charAt(0).toUpperCase() + sub.slice(1),
    email: `${local}@example.test`,
    email_verified: true,
  };
}

function spaClient(meta) {
  if (!meta?.client_id) throw new TypeError('each client needs a client_id');
  if (!Array.isArray(meta.redirect_uris) || meta.redirect_uris.length === 0) {
    throw new TypeError(`client ${meta.client_id} needs redirect_uris`);
  }
  return {
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    post_logout_redirect_uris: [],
    ...meta,
  };
}

/**
 * Start the provider on loopback.
 * @param {object} options
 * @param {number} [options.port=0]   0 picks a free port
 * @param {string} [options.host='127.0.0.1']
 * @param {object[]} options.clients  client metadata; public SPA defaults are filled in
 * @param {object} [options.ttl]      oidc-provider `ttl` overrides in seconds (e.g. { AccessToken: 5 })
 * @param {object} [options.features] extra oidc-provider `features` entries, merged over ours
 * @returns {Promise<{issuer: string, url: string, provider: object, counters: object, requests: object[], resetCounters(): void, close(): Promise<void>}>}
 */
export async function startProvider({ port = 0, host = '127.0.0.1', clients = [], ttl, features } = {}) {
  const Provider = await loadProvider();
  const clientList = clients.map(spaClient);

  // Listen first: with port 0 the issuer (which contains the port) is only known afterwards.
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const { port: actualPort } = server.address();
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const issuer = `http://${hostForUrl}:${actualPort}`;

  // CORS for the token, userinfo and revocation endpoints: only the origins of registered redirect URIs.
  const originsByClient = new Map(clientList.map((c) => [
    c.client_id,
    new Set([...c.redirect_uris, ...(c.post_logout_redirect_uris ?? [])].map((u) => new URL(u).origin)),
  ]));

  const configuration = {
    clients: clientList,
    jwks: await signingKeys(),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // Scope → claims. `profile` and `email` scopes are enabled by listing them here.
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    // Put the scope's claims into the ID token too (default: only in userinfo when an access token
    // is issued), so the SPA can show them from the verified ID token alone.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() { return accountClaims(sub); },
      };
    },
    clientBasedCORS(ctx, origin, client) {
      return originsByClient.get(client.clientId)?.has(origin) ?? false;
    },
    // Default: only with offline_access + prompt=consent. SPA clients get one whenever they may use it.
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // rotateRefreshToken: the default rotates on every use for public clients; kept.
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      ...features,
    },
    // Lifetimes in seconds (explicit values also keep oidc-provider from printing a notice for each).
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      ...ttl,
    },
  };

  const warn = console.warn;
  let provider;
  // At construction oidc-provider warns that devInteractions and the in-memory adapter are for
  // development only; both are intended here.
  console.warn = (...args) => {
    if (typeof args[0] === 'string' && /devInteractions|in-memory adapter/.test(args[0])) return;
    warn.apply(console, args);
  };
  try {
    provider = new Provider(issuer, configuration);
  } finally {
    console.warn = warn;
  }

  const counters = Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0]));
  const requests = []; // { method, name, path, status } — path only, never the query (it carries state/code)
  provider.use(async (ctx, next) => {
    const name = routeName(ctx.path);
    const key = ctx.method === 'OPTIONS' ? `${name}_preflight` : name;
    counters[key] = (counters[key] ?? 0) + 1;
    const entry = { method: ctx.method, name, path: ctx.path, status: 0 };
    requests.push(entry);
    try {
      await next();
    } finally {
      entry.status = ctx.status;
    }
  });
  provider.on('server_error', (ctx, err) => { console.error('[op] server_error:', err); });

  server.on('request', provider.callback());

  return {
    issuer,
    url: `${issuer}/`,
    provider,
    counters,
    requests,
    resetCounters() {
      for (const k of Object.keys(counters)) {
        if (COUNTER_NAMES.includes(k)) counters[k] = 0; else delete counters[k];
      }
      requests.length = 0;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 1) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unknown argument ${argv[i]}`);
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = parseArgs(process.argv.slice(2));
  const port = Number(args.port ?? process.env.OP_PORT ?? 3001);
  const clientId = args['client-id'] ?? 'flow-explorer';
  const redirectUri = args['redirect-uri'] ?? 'http://127.0.0.1:3000/callback';
  const postLogout = args['post-logout-redirect-uri'] ?? `${new URL(redirectUri).origin}/`;
  const op = await startProvider({
    port,
    clients: [{ client_id: clientId, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogout] }],
  });
  console.log(`OpenID Provider: ${op.issuer}  (discovery: ${op.issuer}/.well-known/openid-configuration)`);
  console.log(`client_id=${clientId}  redirect_uri=${redirectUri}  — any username/password signs in. Ctrl-C stops.`);
  const stop = () => op.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
