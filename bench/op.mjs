// The benchmark's OpenID Provider: npm `oidc-provider` on 127.0.0.1, set up so that every measured login
// is pure protocol — no login or consent page: the interaction auto-approves (a bench user, a grant for
// the requested scopes) and redirects straight back to the authorization endpoint, which issues the code.
//
// One provider serves all four libraries. It differs from dev/provider.mjs (the project's test OP)
// where the libraries need it to:
//   - the issuer ends with "/" (http://127.0.0.1:PORT/), because @auth0/auth0-spa-js expects the ID
//     token's `iss` to be `${domain}/`; the other libraries take the issuer from discovery as it is;
//   - the routes auth0-spa-js hard-codes are aliases: /authorize → /auth, /oauth/token → /token;
//   - no resource indicators: the access token is the provider's opaque one (the bench API does not
//     verify it; it only has to be sent);
//   - the `bench-storm` client's access tokens live `stormTtl` seconds (refresh-storm measurement).
//
// Counters: `op.counters[name]` per endpoint (name from ROUTES, `<name>_preflight` for OPTIONS), and
// `op.tokenRequests`: { grantType, status, presented } per token request, where `presented` is a
// SHA-256 fingerprint of the refresh token sent (never the token).

import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const ROUTES = [
  ['/.well-known/openid-configuration', 'discovery'],
  ['/auth', 'authorization'],
  ['/token', 'token'],
  ['/jwks', 'jwks'],
  ['/me', 'userinfo'],
  ['/interaction/', 'interaction'],
];
const ALIASES = [['/authorize', '/auth'], ['/oauth/token', '/token']];

function routeName(path) {
  for (const [prefix, name] of ROUTES) {
    if (path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)) return name;
  }
  return 'other';
}

const fingerprint = (t) => (typeof t === 'string' && t ? createHash('sha256').update(t).digest('base64url').slice(0, 16) : null);

async function loadProvider() {
  // oidc-provider 9 warns at import on Node < 22 and at construction about dev-only settings: both intended.
  const warn = console.warn;
  console.warn = (...a) => {
    if (typeof a[0] === 'string' && /Unsupported runtime|in-memory adapter|devInteractions/.test(a[0])) return;
    warn.apply(console, a);
  };
  try {
    return { Provider: (await import('oidc-provider')).default, restore: () => { console.warn = warn; } };
  } catch (e) {
    console.warn = warn;
    throw e;
  }
}

/**
 * @param {object} o
 * @param {{client_id: string, redirect_uris: string[]}[]} o.clients public SPA clients
 * @param {number} [o.stormTtl=8] access-token lifetime (s) of the `bench-storm` client
 */
export async function startBenchOp({ clients, stormTtl = 8 }) {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const issuer = `${origin}/`;
  const origins = new Set(clients.flatMap((c) => c.redirect_uris.map((u) => new URL(u).origin)));

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { Provider, restore } = await loadProvider();
  let provider;
  try {
    provider = new Provider(issuer, {
      clients: clients.map((c) => ({
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        ...c,
      })),
      jwks: { keys: [{ ...rsa.privateKey.export({ format: 'jwk' }), kid: `bench-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' }] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
      conformIdTokenClaims: false, // profile/email claims in the ID token, as the libraries read them there
      findAccount: async (ctx, sub) => ({
        accountId: sub,
        claims: async () => ({ sub, name: 'Bench User', email: 'bench@example.test', email_verified: true }),
      }),
      clientBasedCORS: (ctx, o) => origins.has(o),
      issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
      features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
      ttl: {
        AccessToken: (ctx, token, client) => (client?.clientId === 'bench-storm' ? stormTtl : 3600),
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 24 * 3600,
        Interaction: 600,
        Session: 24 * 3600,
        Grant: 24 * 3600,
      },
    });
  } finally {
    restore();
  }

  const counters = {};
  const tokenRequests = [];
  provider.use(async (ctx, next) => {
    const name = routeName(ctx.path);
    const key = ctx.method === 'OPTIONS' ? `${name}_preflight` : name;
    counters[key] = (counters[key] ?? 0) + 1;
    await next();
    if (name === 'token' && ctx.method === 'POST') {
      const params = ctx.oidc?.params ?? {};
      tokenRequests.push({ at: Date.now(), grantType: params.grant_type ?? null, status: ctx.status, presented: fingerprint(params.refresh_token) });
    }
  });
  provider.on('server_error', (ctx, err) => console.error('[bench op] server_error:', err));

  // Auto-approve: log the bench user in and grant what was asked, with no page.
  async function interaction(req, res) {
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = 'bench-user';
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: details.params.client_id });
      if (details.params.scope) grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (e) {
      console.error('[bench op] interaction failed:', e.message);
      if (!res.headersSent) { res.statusCode = 500; res.end(); }
    }
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = req.url.split('?')[0];
    for (const [from, to] of ALIASES) {
      if (path === from) req.url = to + req.url.slice(from.length);
    }
    if (req.method === 'GET' && routeName(req.url.split('?')[0]) === 'interaction') {
      counters.interaction = (counters.interaction ?? 0) + 1;
      interaction(req, res);
      return;
    }
    callback(req, res);
  });

  return {
    issuer,
    origin,
    counters,
    tokenRequests,
    reset() {
      for (const k of Object.keys(counters)) delete counters[k];
      tokenRequests.length = 0;
    },
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
  };
}
