// Sample resource server: the API side of the flow. The SPA calls it with `client.fetchWithToken()`,
// which adds `Authorization: Bearer <access token>` (or, with DPoP, `Authorization: DPoP <access token>`
// and a `DPoP` proof); this server decides whether to believe the token.
//
// node:http plus `jose` for JWS/JWKS. Routes:
//   GET  /api/me     → 200 { sub, scope, client_id, exp } for a valid access token
//   POST /api/echo   → 200 { sub, scope, echo } (the JSON or text body it received, up to 64 KiB)
//   OPTIONS          → CORS preflight for the allowed origins (Authorization, Content-Type and DPoP allowed)
//
// An access token is accepted only if all of this holds (RFC 9068 JWT access tokens):
//   - it is a JWS signed with a key from the provider's JWKS (the jwks_uri of its discovery document;
//     cached, fetched again when a token names an unknown `kid`), with an asymmetric algorithm;
//   - its header `typ` is `at+jwt` (an ID token is not an access token, even if signed by the same key);
//   - `iss` is the configured issuer, `aud` is this API's own identifier (an ID token has aud = the
//     client id, so it is refused), `exp` has not passed;
//   - `scope` contains the required scope; otherwise 403 insufficient_scope;
//   - DPoP (RFC 9449 §7): a token bound to a key (`cnf.jkt`) must come as `Authorization: DPoP <token>`
//     with a `DPoP` proof: a JWS (typ dpop+jwt, ES256) that verifies with the public `jwk` in its own
//     header, whose RFC 7638 thumbprint is `cnf.jkt`, with `htm` = the request method, `htu` = this
//     URL without query and fragment, `iat` within ±60 s, a `jti` not seen before (replay cache), `ath`
//     = base64url(SHA-256(token)) and, when nonces are required, a `nonce` this server issued (else
//     401 `WWW-Authenticate: DPoP error="use_dpop_nonce"` with a fresh nonce in `DPoP-Nonce`, §9). A
//     bound token sent as `Bearer` is refused, and so is an unbound token sent as `DPoP`. With
//     `dpop: 'required'` unbound (plain Bearer) tokens are refused altogether; with 'allowed' (the
//     default) they work as before.
// Failures answer as RFC 6750 says: 401 with `WWW-Authenticate: Bearer error="invalid_token"` (the SPA
// refreshes and retries once), 401 without an error code when there is no token at all, 403 with
// `error="insufficient_scope"` when the token is good but does not allow the call. The 401/403 header is
// exposed to the page through CORS (Access-Control-Expose-Headers: WWW-Authenticate, DPoP-Nonce), or the
// SDK could not read it. Proof failures answer `DPoP error="invalid_dpop_proof"` (no refresh helps).
// When the provider's keys cannot be fetched the answer is 503 (the token is not known to be bad).
//
//   import { startApi } from './dev/api.mjs';
//   const api = await startApi({ issuer, allowedOrigins: [app.origin] });
//   api.url  // http://127.0.0.1:<port>/api      api.counters, api.log (no token ever stored)
//
// Tokens are never logged: `log` entries record whether an Authorization header was present and a
// SHA-256 fingerprint of the token (for tests comparing which token arrived), not the value; with DPoP
// also the scheme, whether a proof came and whether it carried a nonce.

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { importJose } from './deps.mjs';

const { calculateJwkThumbprint, createRemoteJWKSet, EmbeddedJWK, errors: joseErrors, jwtVerify } = await importJose();

/** Default identifier of the sample API (the OP's resource indicator and the tokens' `aud`). */
export const SAMPLE_API = 'urn:oidc-wasm:sample-api';
export const SAMPLE_API_SCOPE = 'api:read';

const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const BODY_LIMIT = 64 * 1024;
// DPoP proofs: the algorithms accepted (and announced in the challenge's `algs`), how far `iat` may be
// from now, how long a seen `jti` is remembered (longer than the iat window, so a proof cannot be
// replayed while its iat is still acceptable), and how long an issued nonce stays good.
const DPOP_ALGORITHMS = ['ES256'];
const DPOP_IAT_WINDOW_SECONDS = 60;
const DPOP_JTI_MEMORY_MS = 2 * (DPOP_IAT_WINDOW_SECONDS + 5) * 1000;
const DPOP_NONCE_LIFETIME_MS = 5 * 60_000;

function sha256(text) {
  return createHash('sha256').update(text).digest('base64url');
}

function fingerprint(token) {
  return sha256(token).slice(0, 16);
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
 * @param {'allowed'|'required'} [options.dpop='allowed']  'required': only DPoP-bound tokens (cnf.jkt)
 *                                            are accepted; 'allowed': bound tokens need their proof,
 *                                            unbound ones work as Bearer tokens. Changeable: api.dpop.mode
 * @param {boolean} [options.dpopNonce=false] proofs must carry a nonce this server issued (RFC 9449 §9);
 *                                            changeable: api.dpop.requireNonce
 */
export async function startApi({
  port = 0, issuer, audience = SAMPLE_API, requiredScope = SAMPLE_API_SCOPE, allowedOrigins = [],
  clockToleranceSeconds = 0, dpop: dpopMode = 'allowed', dpopNonce = false,
} = {}) {
  if (!issuer) throw new TypeError('startApi needs the issuer');
  if (!['allowed', 'required'].includes(dpopMode)) throw new TypeError("startApi: dpop must be 'allowed' or 'required'");
  const origins = new Set(allowedOrigins);
  const counters = {
    requests: 0, preflights: 0, withAuthorization: 0, withoutAuthorization: 0,
    ok: 0, unauthorized: 0, forbidden: 0, unavailable: 0,
    withDpopProof: 0, dpopNonceChallenges: 0, dpopRejected: 0,
  };
  // { at, method, path, hasAuthorization, scheme, dpop (a proof came), dpopNonce (it had a nonce),
  //   bound (the token has cnf.jkt), token (fingerprint), status, error, sub }
  const log = [];
  // DPoP settings, read on every request (tests may change them), and state.
  const dpop = { mode: dpopMode, requireNonce: Boolean(dpopNonce) };
  const seenJti = new Map(); // jti → forget after (ms)
  const nonces = new Map(); // nonce → valid until (ms)
  let forcedNonceChallenges = 0;
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

  function issueNonce() {
    const now = Date.now();
    for (const [n, until] of nonces) if (until <= now) nonces.delete(n);
    const nonce = randomBytes(16).toString('base64url');
    nonces.set(nonce, now + DPOP_NONCE_LIFETIME_MS);
    return nonce;
  }

  /** Remembers a proof's jti; false if it was seen before (a replayed proof). */
  function firstUseOf(jti) {
    const now = Date.now();
    for (const [j, until] of seenJti) if (until <= now) seenJti.delete(j); else break; // insertion order ≈ expiry order
    if (seenJti.has(jti)) return false;
    seenJti.set(jti, now + DPOP_JTI_MEMORY_MS);
    return true;
  }

  /**
   * RFC 9449 §4.3 and §7.1: the `DPoP` proof for a request that presents `token`, bound to `jkt`.
   * Throws ApiError 401 invalid_dpop_proof, or use_dpop_nonce (with a fresh nonce) when a nonce is due.
   */
  async function checkProof(req, token, jkt, entry) {
    const bad = (why) => Object.assign(new ApiError(401, 'invalid_dpop_proof', why, { dpop: true }), { entry });
    const proof = req.headers.dpop;
    if (proof === undefined) throw bad('a DPoP proof is required for this token');
    // Node joins repeated headers with ", "; a compact JWS has no comma. Exactly one proof (§4.3).
    if (typeof proof !== 'string' || proof.includes(',')) throw bad('exactly one DPoP header is allowed');
    let payload;
    let protectedHeader;
    try {
      // The key is the proof's own embedded public JWK (a private key there is refused).
      ({ payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS }));
    } catch (err) {
      throw bad(err instanceof joseErrors.JOSEAlgNotAllowed ? 'DPoP proof algorithm not allowed'
        : err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ' ? 'the DPoP proof typ must be dpop+jwt'
          : 'the DPoP proof does not verify with its jwk');
    }
    entry.dpopNonce = typeof payload.nonce === 'string';
    if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > DPOP_IAT_WINDOW_SECONDS) {
      throw bad('the DPoP proof iat is not recent');
    }
    if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) throw bad('the DPoP proof has no jti');
    if (!firstUseOf(payload.jti)) throw bad('the DPoP proof was used before (jti)');
    if (payload.htm !== req.method) throw bad('the DPoP proof htm does not match the request method');
    // This server's own URL for the request's path (not a Host header or absolute-form target it was sent).
    const expected = new URL(new URL(req.url, 'http://x').pathname, origin).href;
    let htu = null;
    try {
      htu = typeof payload.htu === 'string' ? new URL(payload.htu) : null;
    } catch { /* not a URL */ }
    if (htu) { htu.search = ''; htu.hash = ''; }
    if (!htu || htu.href !== expected) throw bad('the DPoP proof htu does not match the request URL');
    if (payload.ath !== sha256(token)) throw bad('the DPoP proof ath does not match the access token');
    if (await calculateJwkThumbprint(protectedHeader.jwk) !== jkt) {
      throw bad('the DPoP proof key is not the key the token is bound to (cnf.jkt)');
    }
    // Nonces last: a proof that fails anything above is refused as such, not sent round for a nonce.
    if (forcedNonceChallenges > 0 || (dpop.requireNonce && !(nonces.get(payload.nonce) > Date.now()))) {
      if (forcedNonceChallenges > 0) forcedNonceChallenges -= 1;
      counters.dpopNonceChallenges += 1;
      throw Object.assign(new ApiError(401, 'use_dpop_nonce', 'a DPoP nonce is required: use the one in DPoP-Nonce',
        { dpop: true, nonce: issueNonce() }), { entry });
    }
  }

  async function authorize(req, entry) {
    const header = req.headers.authorization;
    if (header === undefined) throw new ApiError(401, null, 'an access token is required');
    const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match) throw new ApiError(400, 'invalid_request', 'the Authorization header is not a Bearer or DPoP token');
    const scheme = match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2];
    entry.scheme = scheme;
    entry.token = fingerprint(token);
    // A DPoP challenge for a request made with the DPoP scheme (the client speaks DPoP).
    const extra = { dpop: scheme === 'DPoP' };
    if (forcedInvalid > 0 || revoked?.(entry.token)) {
      if (forcedInvalid > 0) forcedInvalid -= 1;
      throw Object.assign(new ApiError(401, 'invalid_token', 'the token was revoked', extra), { entry });
    }
    let keys;
    try {
      keys = await getKeySet();
    } catch (cause) {
      throw Object.assign(new ApiError(503, 'temporarily_unavailable', 'the issuer\'s keys are unavailable', { cause }), { entry });
    }
    let payload;
    try {
      // The audience first, so an ID token sent here is refused for what it is: a token for another
      // party (aud = the app's client_id). Then the type: an access token is `at+jwt` (RFC 9068 §2.1).
      let protectedHeader;
      ({ payload, protectedHeader } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: ALGORITHMS,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
      if (!['at+jwt', 'application/at+jwt'].includes(String(protectedHeader.typ).toLowerCase())) {
        throw Object.assign(new joseErrors.JWTClaimValidationFailed('unexpected "typ" JWT header value', payload, 'typ', 'check_failed'));
      }
    } catch (err) {
      if (err instanceof joseErrors.JWKSTimeout || (err instanceof TypeError && /fetch/i.test(err.message))) {
        throw Object.assign(new ApiError(503, 'temporarily_unavailable', 'the issuer\'s keys are unavailable'), { entry });
      }
      throw Object.assign(new ApiError(401, 'invalid_token', describeJoseError(err), extra), { entry });
    }
    const jkt = payload.cnf && typeof payload.cnf === 'object' ? payload.cnf.jkt : undefined;
    entry.bound = jkt !== undefined;
    if (jkt !== undefined) {
      if (typeof jkt !== 'string' || !jkt) {
        throw Object.assign(new ApiError(401, 'invalid_token', 'malformed cnf.jkt', { dpop: true }), { entry });
      }
      if (scheme !== 'DPoP') {
        throw Object.assign(new ApiError(401, 'invalid_token', 'a DPoP-bound token must be sent with the DPoP scheme and a proof', { dpop: true }), { entry });
      }
      await checkProof(req, token, jkt, entry);
    } else if (scheme === 'DPoP') {
      throw Object.assign(new ApiError(401, 'invalid_token', 'the token is not DPoP-bound (no cnf.jkt)', { dpop: true }), { entry });
    } else if (dpop.mode === 'required') {
      throw Object.assign(new ApiError(401, 'invalid_token', 'this API accepts DPoP-bound tokens only', { dpop: true }), { entry });
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(requiredScope)) {
      throw Object.assign(new ApiError(403, 'insufficient_scope', `the token lacks the scope ${requiredScope}`, { ...extra, scope: requiredScope }), { entry });
    }
    return { ...entry, payload };
  }

  function corsHeaders(req) {
    const origin = req.headers.origin;
    if (!origin || !origins.has(origin)) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce',
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
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, DPoP',
          'Access-Control-Max-Age': '600',
        }),
      });
      return res.end();
    }
    counters.requests += 1;
    const hasAuthorization = req.headers.authorization !== undefined;
    counters[hasAuthorization ? 'withAuthorization' : 'withoutAuthorization'] += 1;
    const hasProof = req.headers.dpop !== undefined;
    if (hasProof) counters.withDpopProof += 1;
    const entry = {
      at: Date.now(), method: req.method, path, hasAuthorization, scheme: null, dpop: hasProof, dpopNonce: false,
      bound: false, token: null, status: 0, error: null, sub: null,
    };
    log.push(entry);
    try {
      const route = routes[`${req.method} ${path}`];
      if (!route) {
        const known = Object.keys(routes).some((r) => r.endsWith(` ${path}`));
        throw new ApiError(known ? 405 : 404, known ? 'method_not_allowed' : 'not_found', 'no such route');
      }
      const auth = await authorize(req, entry);
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
      entry.status = err.status;
      entry.error = err.error;
      const headers = {};
      if (err.status === 401 || err.status === 403) {
        const params = [`realm=${quoted('sample-api')}`];
        // A DPoP challenge (RFC 9449 §7.1) when the request or the token is DPoP, or DPoP is required.
        const dpopChallenge = err.extra.dpop || dpop.mode === 'required';
        if (dpopChallenge) params.push(`algs=${quoted(DPOP_ALGORITHMS.join(' '))}`);
        if (err.error) params.push(`error=${quoted(err.error)}`, `error_description=${quoted(err.message)}`);
        if (err.extra.scope) params.push(`scope=${quoted(err.extra.scope)}`);
        headers['WWW-Authenticate'] = dpopChallenge ? `DPoP ${params.join(', ')}`
          // No token and DPoP allowed: both schemes are offered (§7.2).
          : `Bearer ${params.join(', ')}${err.error ? '' : `, DPoP algs=${quoted(DPOP_ALGORITHMS.join(' '))}`}`;
      }
      if (err.extra.nonce) headers['DPoP-Nonce'] = err.extra.nonce;
      if (err.error === 'invalid_dpop_proof' || (err.status === 401 && entry.bound)) counters.dpopRejected += 1;
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
    /** DPoP settings: { mode: 'allowed'|'required', requireNonce: boolean }, read on every request. */
    dpop,
    /** Tests: forget every nonce issued so far (the next proof with one gets a use_dpop_nonce challenge). */
    rotateDpopNonces() { nonces.clear(); },
    /** Tests: the next n requests with an otherwise valid DPoP proof get use_dpop_nonce with a fresh nonce. */
    challengeNextDpopProofs(n = 1) { forcedNonceChallenges = n; },
    resetCounters() {
      for (const k of Object.keys(counters)) counters[k] = 0;
      log.length = 0;
      forcedInvalid = 0;
      revoked = null;
      forcedNonceChallenges = 0;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
