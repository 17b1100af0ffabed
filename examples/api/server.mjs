// Sample resource server: the API side of the flow. The SPA calls it with `client.fetchWithToken()`,
// which adds `Authorization: Bearer <access token>`; this server decides whether to believe the token.
//
// node:http plus `jose` for JWS/JWKS. Routes:
//   GET  /api/me     → 200 { sub, scope, client_id, exp } for a valid access token
//   POST /api/echo   → 200 { sub, scope, echo } (the JSON or text body it received, up to 64 KiB)
//   OPTIONS          → CORS preflight for the allowed origins (Authorization and Content-Type allowed)
//
// An access token is accepted only if all of this holds (RFC 9068 JWT access tokens):
//   - it is a JWS signed with a key from the provider's JWKS (the jwks_uri of its discovery document;
//     cached, fetched again when a token names an unknown `kid`), with an asymmetric algorithm;
//   - its header `typ` is `at+jwt` (an ID token is not an access token, even if signed by the same key);
//   - `iss` is the configured issuer, `aud` is this API's own identifier (an ID token has aud = the
//     client id, so it is refused), `exp` has not passed;
//   - `scope` contains the required scope; otherwise 403 insufficient_scope.
// Failures answer as RFC 6750 says: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (the SPA
// refreshes and retries once), 401 without an error code when there is no token at all, 403 with
// `error="insufficient_scope"` when the token is good but does not allow the call. The 401/403 header is
// exposed to the page through CORS (Access-Control-Expose-Headers), or the SDK could not read it.
// When the provider's keys cannot be fetched the answer is 503 (the token is not known to be bad).
//
//   import { startApi } from './examples/api/server.mjs';
//   const api = await startApi({ issuer, allowedOrigins: [app.origin] });
//   api.url  // http://127.0.0.1:<port>/api      api.counters, api.log (no token ever stored)
//
// Tokens are never logged: `log` entries record whether an Authorization header was present and a
// SHA-256 fingerprint of the token (for tests comparing which token arrived), not the value.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';

/** Default identifier of the sample API (the OP's resource indicator and the tokens' `aud`). */
export const SAMPLE_API = 'urn:oidc-wasm:sample-api';
export const SAMPLE_API_SCOPE = 'api:read';

const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const BODY_LIMIT = 64 * 1024;

function fingerprint(token) {
  return createHash('sha256').update(token).digest('base64url').slice(0, 16);
}

/** A quoted-string for an auth-param: no quotes, backslashes or control characters. */
function quoted(text) {
  return `"${String(text).replace(/[\\"\x00-\x1f\x7f]/g, ' ')}"`;
}

class ApiError extends Error {
  constructor(status, error, description, extra = {}) {
    super(description);
    this.status = status;
    this.error = error;
    this.extra = extra;
  }
}

function describeJoseError(err) {
  if (err instanceof joseErrors.JWTExpired) return 'the access token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'the token is not meant for this API (aud)';
    if (err.claim === 'iss') return 'the token comes from another issuer (iss)';
    if (err.claim === 'typ') return 'not an access token (typ must be at+jwt)';
    return `claim check failed (${err.claim})`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (kid)';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'signature algorithm not allowed';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'malformed token';
  return 'the token could not be verified';
}

/**
 * Start the sample API.
 * @param {object} options
 * @param {number} [options.port=0]
 * @param {string} options.issuer             the OP's issuer; its discovery document is read on first use
 * @param {string} [options.audience]         this API's identifier (default SAMPLE_API)
 * @param {string} [options.requiredScope]    default SAMPLE_API_SCOPE
 * @param {string[]} [options.allowedOrigins] origins allowed by CORS (the SPA's); more with allowOrigin()
 * @param {number} [options.clockToleranceSeconds=0]
 */
export async function startApi({
  port = 0, issuer, audience = SAMPLE_API, requiredScope = SAMPLE_API_SCOPE, allowedOrigins = [],
  clockToleranceSeconds = 0,
} = {}) {
  if (!issuer) throw new TypeError('startApi needs the issuer');
  const origins = new Set(allowedOrigins);
  const counters = {
    requests: 0, preflights: 0, withAuthorization: 0, withoutAuthorization: 0,
    ok: 0, unauthorized: 0, forbidden: 0, unavailable: 0,
  };
  const log = []; // { at, method, path, hasAuthorization, token (fingerprint), status, error, sub }
  // Tests: answer invalid_token to the next n requests that carry a token, and to tokens whose
  // fingerprint the predicate matches (as if the API had learnt they were revoked).
  let forcedInvalid = 0;
  let revoked = null;

  // The key set, from discovery. Both are fetched lazily (the provider may start after the API) and
  // discovery is fetched again after a failure.
  let keySet = null;
  async function getKeySet() {
    if (keySet) return keySet;
    const res = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) throw new Error(`discovery: HTTP ${res.status}`);
    const meta = await res.json();
    if (meta.issuer !== issuer) throw new Error('discovery: issuer mismatch');
    if (typeof meta.jwks_uri !== 'string') throw new Error('discovery: no jwks_uri');
    // createRemoteJWKSet caches the keys and fetches again when a token names an unknown kid
    // (at most every 30 s, so a stream of forged kids cannot make it hammer the provider).
    keySet = createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 5_000 });
    return keySet;
  }

  async function authorize(req) {
    const header = req.headers.authorization;
    if (header === undefined) throw new ApiError(401, null, 'an access token is required');
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) throw new ApiError(400, 'invalid_request', 'the Authorization header is not a Bearer token');
    const token = match[1];
    const entry = { token: fingerprint(token) };
    if (forcedInvalid > 0 || revoked?.(entry.token)) {
      if (forcedInvalid > 0) forcedInvalid -= 1;
      throw Object.assign(new ApiError(401, 'invalid_token', 'the token was revoked'), { entry });
    }
    let keys;
    try {
      keys = await getKeySet();
    } catch (cause) {
      throw Object.assign(new ApiError(503, 'temporarily_unavailable', 'the issuer\'s keys are unavailable', { cause }), { entry });
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: ALGORITHMS,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWKSTimeout || (err instanceof TypeError && /fetch/i.test(err.message))) {
        throw Object.assign(new ApiError(503, 'temporarily_unavailable', 'the issuer\'s keys are unavailable'), { entry });
      }
      throw Object.assign(new ApiError(401, 'invalid_token', describeJoseError(err)), { entry });
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(requiredScope)) {
      throw Object.assign(new ApiError(403, 'insufficient_scope', `the token lacks the scope ${requiredScope}`, { scope: requiredScope }), { entry });
    }
    return { ...entry, payload };
  }

  function corsHeaders(req) {
    const origin = req.headers.origin;
    if (!origin || !origins.has(origin)) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': 'WWW-Authenticate',
      Vary: 'Origin',
    };
  }

  function send(req, res, status, body, headers = {}) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...corsHeaders(req),
      ...headers,
    });
    res.end(text);
  }

  async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > BODY_LIMIT) throw new ApiError(413, 'invalid_request', 'body too large');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      try {
        return JSON.parse(text);
      } catch {
        throw new ApiError(400, 'invalid_request', 'the body is not JSON');
      }
    }
    return text;
  }

  const routes = {
    'GET /api/me': async (req, auth) => ({
      sub: auth.payload.sub,
      scope: auth.payload.scope,
      client_id: auth.payload.client_id,
      exp: auth.payload.exp,
    }),
    'POST /api/echo': async (req, auth) => ({
      sub: auth.payload.sub,
      scope: auth.payload.scope,
      echo: await readBody(req),
    }),
  };

  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'OPTIONS') {
      counters.preflights += 1;
      const allowed = corsHeaders(req);
      res.writeHead(204, {
        ...allowed,
        ...(allowed['Access-Control-Allow-Origin'] && {
          'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type',
          'Access-Control-Max-Age': '600',
        }),
      });
      return res.end();
    }
    counters.requests += 1;
    const hasAuthorization = req.headers.authorization !== undefined;
    counters[hasAuthorization ? 'withAuthorization' : 'withoutAuthorization'] += 1;
    const entry = { at: Date.now(), method: req.method, path, hasAuthorization, token: null, status: 0, error: null, sub: null };
    log.push(entry);
    try {
      const route = routes[`${req.method} ${path}`];
      if (!route) {
        const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
        throw new ApiError(known ? 405 : 404, known ? 'method_not_allowed' : 'not_found', 'no such route');
      }
      const auth = await authorize(req);
      entry.token = auth.token;
      entry.sub = auth.payload.sub;
      const body = await route(req, auth);
      entry.status = 200;
      counters.ok += 1;
      send(req, res, 200, body);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        console.error('[api] error serving', req.method, path, err);
        entry.status = 500;
        if (!res.headersSent) send(req, res, 500, { error: 'server_error' });
        return;
      }
      entry.token = err.entry?.token ?? null;
      entry.status = err.status;
      entry.error = err.error;
      const headers = {};
      if (err.status === 401 || err.status === 403) {
        const params = [`realm=${quoted('sample-api')}`];
        if (err.error) params.push(`error=${quoted(err.error)}`, `error_description=${quoted(err.message)}`);
        if (err.extra.scope) params.push(`scope=${quoted(err.extra.scope)}`);
        headers['WWW-Authenticate'] = `Bearer ${params.join(', ')}`;
      }
      if (err.status === 401) counters.unauthorized += 1;
      if (err.status === 403) counters.forbidden += 1;
      if (err.status === 503) counters.unavailable += 1;
      send(req, res, err.status, { error: err.error ?? 'unauthorized', error_description: err.message }, headers);
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    url: `${origin}/api`,
    audience,
    requiredScope,
    counters,
    log,
    allowOrigin(o) { origins.add(o); },
    /** Tests: the next n requests carrying a token get 401 invalid_token whatever the token. */
    rejectNextTokens(n = 1) { forcedInvalid = n; },
    /** Tests: tokens whose fingerprint (SHA-256, base64url, 16 chars) matches get 401 invalid_token; null stops. */
    rejectTokens(predicate) { revoked = predicate; },
    resetCounters() {
      for (const k of Object.keys(counters)) counters[k] = 0;
      log.length = 0;
      forcedInvalid = 0;
      revoked = null;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
