// Local OpenID Provider for development (`npx oidc-wasm dev-provider`, `npm start`) and the tests.
//
// Wraps the npm package `oidc-provider` with the settings a browser SPA client needs: fresh signing
// keys per start (RS256 used for ID tokens, an ES256 key published beside it), the built-in
// development login/consent pages (any username and password work), CORS for the registered app
// origins, refresh tokens always issued (rotated for public clients), revocation, RP-initiated
// logout, RFC 9207 `iss` in authorization responses, and per-endpoint request counters for tests.
//
// One API (resource server) is known: by default `urn:oidc-wasm:sample-api` with the scope `api:read`
// (the sample API in dev/api.mjs). Resource indicators (RFC 8707) are on: an authorization
// request whose scope includes `api:read` gets that API as its resource even without a `resource`
// parameter, and the granted resource is reused at code exchange and refresh, so its access tokens are
// JWTs for the API (RFC 9068: typ at+jwt, aud = the API's identifier, scope ⊆ api:read). Without the
// API's scope the access token is the provider's opaque one, good for UserInfo only (oidc-provider gives
// one audience per access token: an API token is refused at UserInfo). The API token's lifetime is
// `op.resourceServer.accessTokenTTL`, which tests may change between sign-ins.
//
// More APIs (`resourceServers`: [{ identifier, scope, accessTokenTTL }]) are further resource servers: an
// authorization request that names them (`resource`, RFC 8707 §2.1) gets a grant for each, and a token
// request then names the one its access token is for (§2.2) — a refresh grant with another API's `resource`
// gets that API's token from the same refresh token (`op.resourceServers` lists them all). A token request
// naming a resource its grant lacks gets `invalid_target` before anything is spent (oidc-provider itself
// rotates the refresh token first and checks the resource after, which would spend it on a refused request).
//
// Token-endpoint log for tests (`op.tokenRequests`): grant type, status, OAuth error, and SHA-256
// fingerprints of the refresh token presented and of the one issued, so a test can see that each
// refresh token was used once without ever holding or printing a token. `op.revocations` likewise.
// `op.tokenInFlight.max`: the most token requests the provider was processing at one moment.
//
// DPoP (RFC 9449): oidc-provider's `features.dPoP` is on by default with proofs optional and no nonces;
// a client that sends no `DPoP` header gets Bearer tokens as before. A client that sends a proof gets
// DPoP-bound tokens (`token_type: DPoP`; the API's JWT access tokens carry `cnf.jkt`; refresh tokens of
// public clients are bound to the key too). The `dpop` option of startProvider adds server nonces
// (`op.dpop.requireNonce`, changeable between requests: the token and userinfo endpoints then answer
// `use_dpop_nonce` with a `DPoP-Nonce` header to a proof without a valid nonce) and can make proofs
// mandatory for the clients (`dpop_bound_access_tokens`). Each logged token request also says whether
// it carried a proof (`dpop`), whether the proof had a nonce, and the proof key's RFC 7638 thumbprint.
//
// Its error page names what went wrong in words a developer can act on: an unregistered redirect URI is
// shown beside the registered ones, with the flag that registers another origin.
//
//   import { startProvider } from './dev/provider.mjs';
//   const op = await startProvider({ clients: [{ client_id: 'spa', redirect_uris: ['http://127.0.0.1:3000/callback'] }] });
//   op.issuer; op.counters.token; op.tokenRequests; await op.close();
//
// From the command line: `npx oidc-wasm dev-provider --origin http://localhost:5173` (dev/cli.mjs), which
// also starts the sample API. The npm packages `oidc-provider` and `jose` are loaded through dev/deps.mjs.

import { createHash, generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { SAMPLE_API, SAMPLE_API_SCOPE } from './api.mjs';
import { importJose, importOidcProvider } from './deps.mjs';

const { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } = await importJose();

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
      providerModule = await importOidcProvider();
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

// The sample API's identifier (RFC 8707 resource indicator, `aud` of its tokens) and required scope.
export { SAMPLE_API, SAMPLE_API_SCOPE };

/** A short, non-reversible fingerprint of a token, for comparing tokens in logs without holding them. */
export function fingerprint(token) {
  return typeof token === 'string' && token ? createHash('sha256').update(token).digest('base64url').slice(0, 16) : null;
}

/** What a `DPoP` request header says, unverified (oidc-provider verifies it): for the request log. */
async function describeProof(proof) {
  if (typeof proof !== 'string' || !proof) return { dpop: false, dpopNonce: false, dpopJkt: null };
  try {
    const { jwk } = decodeProtectedHeader(proof);
    const { nonce } = decodeJwt(proof);
    return { dpop: true, dpopNonce: typeof nonce === 'string', dpopJkt: jwk ? await calculateJwkThumbprint(jwk) : null };
  } catch {
    return { dpop: true, dpopNonce: false, dpopJkt: null };
  }
}

const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const originOf = (url) => { try { return new URL(url).origin; } catch { return null; } };

/**
 * The provider's error page (oidc-provider's `renderError`), saying what to do about the errors a developer
 * meets first: a redirect URI or post-logout URI that is not registered (shown beside the registered ones,
 * with the `--origin` flag of the development provider that registers an origin) and an unknown client_id.
 * Everything shown is escaped; no token is ever part of it.
 */
function errorPage(ctx, out, clientList) {
  const params = ctx.oidc?.params ?? {};
  const clientId = ctx.oidc?.client?.clientId ?? params.client_id;
  const client = clientList.find((c) => c.client_id === clientId);
  const code = (v) => `<code>${escapeHtml(v)}</code>`;
  const list = (items) => (items.length ? `<ul>${items.map((i) => `<li>${code(i)}</li>`).join('')}</ul>` : '<p>(none)</p>');
  const originFlag = (url) => {
    const origin = originOf(url);
    return origin ? ` Started with ${code('npx oidc-wasm dev-provider')}? Add ${code(`--origin ${origin}`)} (each ${code('--origin')} registers ${code('<origin>/callback')} and ${code('<origin>/')}). Note that ${code('localhost')} and ${code('127.0.0.1')} are different origins, and so are different ports (Vite: 5173 for ${code('vite')}, 4173 for ${code('vite preview')}).` : '';
  };
  const hints = [];
  const description = String(out.error_description ?? '');
  if (out.error === 'invalid_redirect_uri' && client) {
    hints.push(`<p>The app asked to come back to ${code(params.redirect_uri)}, which is not a redirect URI of the client ${code(client.client_id)}. Registered redirect URIs:</p>${list(client.redirect_uris)}<p>The redirect URI must match one of them exactly (scheme, host, port and path).${originFlag(params.redirect_uri)}</p>`);
  } else if (/post_logout_redirect_uri/.test(description) && client) {
    hints.push(`<p>The app asked to come back to ${code(params.post_logout_redirect_uri)} after logout, which is not registered for the client ${code(client.client_id)}. Registered post-logout redirect URIs:</p>${list(client.post_logout_redirect_uris ?? [])}<p>${originFlag(params.post_logout_redirect_uri)}</p>`);
  } else if (out.error === 'invalid_client' || (clientId && !client)) {
    hints.push(`<p>No client ${code(clientId ?? '(none)')} is registered at this provider. Registered client IDs:</p>${list(clientList.map((c) => c.client_id))}<p>The app's ${code('clientId')} must be one of them (${code('npx oidc-wasm dev-provider')} registers ${code('my-app')} unless given ${code('--client-id')}).</p>`);
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in error: ${escapeHtml(out.error)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:25px auto;max-width:40rem;padding:0 1rem}code{background:#f3f3f3;padding:0 .2em}</style>
</head><body>
<h1>Sign-in error</h1>
<p id="error"><strong>${escapeHtml(out.error)}</strong>${description ? `: ${escapeHtml(description)}` : ''}</p>
<div id="hint">${hints.join('')}</div>
</body></html>`;
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
 * @param {string} [options.issuer]  the public issuer URL when the provider is reached through a reverse
 *                                    proxy (tests/e2e/proxy.mjs); default http://host:port of this server
 * @param {object|false} [options.resourceServer] the API: { identifier, scope, accessTokenTTL } (defaults
 *                                    SAMPLE_API, SAMPLE_API_SCOPE, 3600 s); false turns resource indicators off
 * @param {object[]} [options.resourceServers] more APIs, each { identifier, scope, accessTokenTTL = 3600 }
 * @param {object} [options.dpop]     DPoP nonces and enforcement: { requireNonce = false, required = false }.
 *                                    Without it DPoP stays oidc-provider's default (optional, no nonces).
 *                                    `requireNonce`: proofs at the token and userinfo endpoints need a
 *                                    server nonce (use_dpop_nonce + DPoP-Nonce otherwise); readable and
 *                                    writable later as `op.dpop.requireNonce`. `required`: every client gets
 *                                    `dpop_bound_access_tokens: true` (a token request without a proof is refused).
 * @returns {Promise<{issuer: string, url: string, internalUrl: string, provider: object, counters: object,
 *   requests: object[], tokenRequests: object[], revocations: object[], resourceServer: object|null,
 *   resourceServers: object[], tokenInFlight: {now: number, max: number},
 *   dpop: {requireNonce: boolean, required: boolean}|null, resetCounters(): void, close(): Promise<void>}>}
 */
export async function startProvider({
  port = 0, host = '127.0.0.1', clients = [], ttl, features, issuer: publicIssuer, resourceServer: rsOptions,
  resourceServers: moreResourceServers = [], dpop: dpopOptions,
} = {}) {
  const Provider = await loadProvider();
  const { errors } = providerModule;
  // Read on every proof, so a test can turn nonces on and off between requests.
  const dpop = dpopOptions ? { requireNonce: false, required: false, ...dpopOptions } : null;
  const clientList = clients.map(spaClient).map((c) => (dpop?.required ? { dpop_bound_access_tokens: true, ...c } : c));

  // Listen first: with port 0 the issuer (which contains the port) is only known afterwards.
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const { port: actualPort } = server.address();
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const internalUrl = `http://${hostForUrl}:${actualPort}`;
  const issuer = publicIssuer ? String(publicIssuer).replace(/\/+$/, '') : internalUrl;

  // The API. Read on every token issued, so a test can change accessTokenTTL between sign-ins.
  const resourceServer = rsOptions === false ? null : {
    identifier: SAMPLE_API,
    scope: SAMPLE_API_SCOPE,
    accessTokenTTL: 3600,
    ...rsOptions,
  };
  // Every API by its identifier, the sample API first. Read on every token issued (TTLs may change).
  const resourceServers = resourceServer ? [resourceServer, ...moreResourceServers.map((r) => ({ accessTokenTTL: 3600, ...r }))] : [];

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
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(ctx, out, clientList);
    },
    // Default: only with offline_access + prompt=consent. SPA clients get one whenever they may use it.
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    // The default's rule — rotate on every use for public clients unless sender-constrained (DPoP), after 70%
    // of the lifetime otherwise — after one check that oidc-provider makes only after rotating: a `resource`
    // the refresh token's grant lacks is refused here, before the refresh token is spent (RFC 6749 §5.2: a
    // refused request changes nothing).
    async rotateRefreshToken(ctx) {
      const { RefreshToken: refreshToken, Client: client } = ctx.oidc.entities;
      const requested = ctx.oidc.params.resource;
      if (requested !== undefined && !refreshToken.resourceIndicators.has(requested)) {
        throw new errors.InvalidTarget('the grant does not cover this resource');
      }
      if (refreshToken.totalLifetime() >= 365.25 * 24 * 60 * 60) return false;
      if (client.clientAuthMethod === 'none' && !refreshToken.isSenderConstrained()) return true;
      return refreshToken.ttlPercentagePassed() >= 70;
    },
    features: {
      devInteractions: { enabled: true },
      revocation: {
        enabled: true,
        // A client may revoke only its own tokens; a public client's attempt on another client's token
        // is answered 200 and ignored (RFC 7009 §2.1). The library's default, stated so it stays quiet.
        async allowedPolicy(ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // The library's confirmation page without its web-font @import (no requests leave loopback).
        async logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Logout Request</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:25px auto;max-width:22rem;text-align:center}button{display:block;width:100%;margin:.5rem 0;padding:.5rem;font:inherit;cursor:pointer}</style>
</head><body>
<h1>Do you want to sign out from ${ctx.host.replace(/[^a-zA-Z0-9.:[\]-]/g, '')}?</h1>
${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>
</body></html>`;
        },
      },
      ...(dpop && {
        dPoP: {
          enabled: true,
          // Nonces are signed by the provider (they rotate every minute or so; recent ones stay valid).
          nonceSecret: randomBytes(32),
          requireNonce: () => Boolean(dpop.requireNonce),
        },
      }),
      ...(resourceServer && {
        resourceIndicators: {
          enabled: true,
          // No `resource` parameter: the API when the request asks for the API's scope (so a client
          // that only knows scopes gets API tokens); otherwise none, and the access token is the
          // provider's own opaque one for UserInfo (an API token is refused there: it has an `aud`).
          // An explicit `resource` must name the API (anything else: invalid_target).
          async defaultResource(ctx, client, oneOf) {
            if (oneOf) return oneOf;
            const scope = ctx.oidc.params?.scope;
            const wantsApi = typeof scope === 'string' && scope.split(' ').includes(resourceServer.scope);
            return wantsApi ? resourceServer.identifier : undefined;
          },
          // At code exchange and refresh without `resource`: the resource granted at authorization
          // (without this, an `openid` request would get an opaque token for userinfo instead).
          useGrantedResource: async () => true,
          async getResourceServerInfo(ctx, resourceIndicator) {
            const rs = resourceServers.find((r) => r.identifier === resourceIndicator);
            if (!rs) throw new errors.InvalidTarget();
            return {
              scope: rs.scope,
              audience: rs.identifier,
              accessTokenFormat: 'jwt',
              accessTokenTTL: rs.accessTokenTTL,
            };
          },
        },
      }),
      ...features,
    },
    // Lifetimes in seconds (explicit values also keep oidc-provider from printing a notice for each).
    ttl: {
      // The API's lifetime for its tokens; 3600 s for any other access token.
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
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
  // { method, name, path, status, dpop, dpopJkt } — path only, never the query (it carries state/code);
  // `dpop`: a DPoP proof header came; `dpopJkt`: the authorization request's dpop_jkt (a public key's hash).
  const requests = [];
  // Token requests being processed now, and the most at once since the last reset (tests: one at a time).
  const tokenInFlight = { now: 0, max: 0 };
  provider.use(async (ctx, next) => {
    const name = routeName(ctx.path);
    const key = ctx.method === 'OPTIONS' ? `${name}_preflight` : name;
    counters[key] = (counters[key] ?? 0) + 1;
    const token = name === 'token' && ctx.method === 'POST';
    if (token) tokenInFlight.max = Math.max(tokenInFlight.max, ++tokenInFlight.now);
    const entry = {
      method: ctx.method,
      name,
      path: ctx.path,
      status: 0,
      dpop: Boolean(ctx.get('DPoP')),
      dpopJkt: name === 'authorization' && typeof ctx.query.dpop_jkt === 'string' ? ctx.query.dpop_jkt : null,
    };
    requests.push(entry);
    try {
      await next();
    } finally {
      entry.status = ctx.status;
      if (token) tokenInFlight.now -= 1;
    }
  });
  // Token and revocation requests, by fingerprint only (the body was parsed by oidc-provider: read
  // after it ran, so the request stream is left to it).
  const tokenRequests = []; // { at, grantType, status, error, presented, issued, scope, hasIdToken }
  const revocations = [];   // { at, status, tokenTypeHint, token }
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method !== 'POST') return;
    const name = routeName(ctx.path);
    const params = ctx.oidc?.params ?? ctx.oidc?.body ?? {};
    const body = ctx.body && typeof ctx.body === 'object' ? ctx.body : {};
    if (name === 'token') {
      const entry = {
        at: Date.now(),
        grantType: params.grant_type ?? null,
        status: ctx.status,
        error: body.error ?? null,
        presented: fingerprint(params.refresh_token),
        issued: fingerprint(body.refresh_token),
        scope: body.scope ?? null,
        hasIdToken: typeof body.id_token === 'string',
        tokenType: body.token_type ?? null,
        dpop: false, // a DPoP proof header came
        dpopNonce: false, // the proof carried a nonce
        dpopJkt: null, // RFC 7638 thumbprint of the proof's key
        nonceIssued: Boolean(ctx.response.get('DPoP-Nonce')), // the answer had a DPoP-Nonce header
      };
      tokenRequests.push(entry); // in arrival order; the proof is described below
      Object.assign(entry, await describeProof(ctx.get('DPoP')));
    } else if (name === 'revocation') {
      const entry = {
        at: Date.now(),
        status: ctx.status,
        tokenTypeHint: params.token_type_hint ?? null,
        token: fingerprint(params.token),
        dpop: false,
        dpopNonce: false,
        dpopJkt: null,
      };
      revocations.push(entry);
      Object.assign(entry, await describeProof(ctx.get('DPoP')));
    }
  });
  provider.on('server_error', (ctx, err) => { console.error('[op] server_error:', err); });

  server.on('request', provider.callback());

  return {
    issuer,
    url: `${issuer}/`,
    internalUrl,
    provider,
    counters,
    requests,
    tokenRequests,
    revocations,
    resourceServer,
    resourceServers,
    tokenInFlight,
    dpop,
    resetCounters() {
      for (const k of Object.keys(counters)) {
        if (COUNTER_NAMES.includes(k)) counters[k] = 0; else delete counters[k];
      }
      requests.length = 0;
      tokenRequests.length = 0;
      revocations.length = 0;
      tokenInFlight.max = tokenInFlight.now;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
