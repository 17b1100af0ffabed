// A configurable OpenID Provider for the provider-profile tests (tests/providers/): one instance per
// profile of profiles.mjs, playing that provider as its public documentation describes it — the shape of
// its discovery document, its issuer form, where each endpoint lives (some profiles need more than one
// origin: Cognito's hosted-UI domain, Google's googleapis.com hosts), its token and refresh responses, its
// logout page, the errors it returns — plus a protected API on its own origin that checks access tokens
// the way an API of that provider must (a JWT for its audience, Cognito's `client_id` claim, an opaque
// token looked up like an introspection call).
//
// node:http only, every listener on 127.0.0.1 with an ephemeral port. There is no UI: the authorization
// endpoint answers at once with a 302 to the redirect URI (code, state and — where the provider sends it —
// the RFC 9207 `iss`), or with the profile's error. The generic part below does what every provider does
// (registered client and redirect URIs, PKCE S256 verified at the token endpoint, single-use codes,
// refresh tokens and their families, revocation, CORS for the app's origin); each profile's hooks do
// what makes it that provider (see profiles.mjs for the hooks and what they mean).
//
// Every request is recorded in `op.requests` — origin role, endpoint name, method, path, the query or
// form parameters with every token-like value replaced by its SHA-256 fingerprint, whether an
// Authorization header came (fingerprinted), the Origin header, the status and the times (arrival, answer
// written, answer sent; high-resolution for the first two) — so
// tests can assert what the SDK sent without ever holding or printing a token. `op.issued` lists what
// each token response carried, by fingerprint. `op.maxTokenInFlight` is the largest number of token
// requests the OP was answering at once.
//
//   import { startProfileOp } from './profile-op.mjs';
//   const op = await startProfileOp(profile, { appOrigin: 'http://127.0.0.1:4000' });
//   op.origins.op; op.origins.api; op.issuer; op.requests; await op.close();

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';

/** A short, non-reversible fingerprint of a token (the same form as dev/provider.mjs). */
export function fingerprint(token) {
  return typeof token === 'string' && token ? createHash('sha256').update(token).digest('base64url').slice(0, 16) : null;
}

/** Parameters whose values are secrets or tokens: recorded only as fingerprints. */
const SECRET_PARAMS = new Set([
  'code', 'code_verifier', 'refresh_token', 'access_token', 'id_token', 'id_token_hint', 'token',
  'client_secret', 'assertion', 'client_assertion', 'state', 'nonce', 'logout_hint', 'login_hint',
]);
const MAX_FORM_BYTES = 64 * 1024;

const b64u = (buf) => Buffer.from(buf).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** OIDC Core §3.1.3.6 at_hash for RS256: the left half of SHA-256 of the access token. */
export function atHash(accessToken) {
  const digest = createHash('sha256').update(accessToken).digest();
  return b64u(digest.subarray(0, 16));
}

function recordParams(params) {
  const out = {};
  for (const [k, v] of params) {
    const value = SECRET_PARAMS.has(k) ? fingerprint(v) : v;
    if (k in out) out[k] = [out[k], value].flat();
    else out[k] = value;
  }
  return out;
}

function bearer(req) {
  const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : null;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections?.();
  });
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Starts the profile's OP origins and its API origin.
 * @param {object} profile  one of profiles.mjs
 * @param {{ appOrigin: string }} options  the test app's origin: CORS, and the registered redirect
 *   (`<app>/callback`) and post-logout (`<app>/`) URIs of the profile's client
 */
export async function startProfileOp(profile, { appOrigin }) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `${profile.name}-${randomUUID().slice(0, 8)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };

  const servers = {};
  const origins = {};
  const requests = [];
  const issued = [];
  const codes = new Map(); // code → { grant, challenge, redirectUri, used }
  const grants = new Map(); // id → { id, sub, scope[], params, nonce, authTime, sid, revoked }
  const accessTokens = new Map(); // token → { grant, exp, claims?, revoked, ... }
  const refreshTokens = new Map(); // token → { grant, used, revoked }
  const idTokens = new Map(); // fingerprint → { grant, aud }
  let seq = 0;
  let tokenInFlight = 0;

  const client = {
    clientId: profile.client.clientId,
    redirectUris: [`${appOrigin}/callback`],
    postLogoutRedirectUris: [`${appOrigin}/`],
  };

  // The context handed to the profile's hooks.
  const ctx = {
    profile,
    appOrigin,
    client,
    origins,
    /** Mutable per-run settings a test may change (e.g. Entra's tenant of the user). */
    state: { ...(profile.initialState ?? {}) },
    get issuer() { return profile.issuer(origins, ctx); },
    url(name) {
      const ep = profile.endpoints(origins, ctx)[name];
      if (!ep) throw new Error(`${profile.name}: no endpoint ${name}`);
      return `${origins[ep.role]}${ep.path}`;
    },
    has(name) { return Boolean(profile.endpoints(origins, ctx)[name]); },
    now: nowSeconds,
    opaque(prefix = '', bytes = 32) { return `${prefix}${b64u(randomBytes(bytes))}`; },
    atHash,
    async jwt(claims, header = {}) {
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', ...header }).sign(privateKey);
    },
    /** Verifies a JWT this OP signed; returns its claims or throws. Checks iss when given. */
    async verify(token, { issuer } = {}) {
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], ...(issuer && { issuer }) });
      return payload;
    },
    accessRecord: (token) => accessTokens.get(token),
    idTokenRecord: (hint) => idTokens.get(fingerprint(hint)),
    isPostLogoutUri: (uri) => client.postLogoutRedirectUris.includes(uri),
    jwk,
  };

  // ---- helpers ---------------------------------------------------------------------------------------

  function record(role, endpoint, req, url, params) {
    const entry = {
      seq: ++seq,
      role,
      endpoint,
      method: req.method,
      path: url.pathname,
      params: recordParams(params ?? url.searchParams),
      origin: req.headers.origin ?? null,
      authorization: fingerprint(bearer(req)),
      startedAt: Date.now(),
      startedHr: performance.now(), // high-resolution, for timing the gaps between requests
      respondedHr: null, // when the answer's head was written (the client cannot have it earlier)
      endedAt: null,
      status: null,
    };
    requests.push(entry);
    return entry;
  }

  function corsHeaders(endpoint) {
    if (profile.noCors?.includes(endpoint)) return {};
    return {
      'Access-Control-Allow-Origin': appOrigin,
      Vary: 'Origin',
      'Access-Control-Expose-Headers': (profile.exposeHeaders ?? ['WWW-Authenticate']).join(', '),
    };
  }

  function send(res, entry, status, headers, body) {
    const text = body === undefined || body === null ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'object' && body !== null ? { 'Content-Type': 'application/json; charset=utf-8' } : {};
    res.on('finish', () => { if (entry) entry.endedAt = Date.now(); });
    if (entry) {
      entry.status = status;
      entry.respondedHr = performance.now();
    }
    res.writeHead(status, { 'Cache-Control': 'no-store', ...type, 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  function page(res, entry, status, title, text) {
    const html = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(text)}</p>`;
    send(res, entry, status, { 'Content-Type': 'text/html; charset=utf-8' }, html);
  }

  function redirect(res, entry, location) {
    if (entry) entry.redirect = location.split('?')[0];
    send(res, entry, 302, { Location: location, 'Referrer-Policy': 'no-referrer' });
  }

  function oauthError(res, entry, status, error, description, headers = {}, extra = {}) {
    if (entry) entry.error = error;
    send(res, entry, status, headers, { error, ...(description && { error_description: description }), ...extra });
  }

  // ---- endpoints -------------------------------------------------------------------------------------

  function discovery(req, res, entry) {
    send(res, entry, 200, {}, profile.discovery(ctx));
  }

  function jwks(req, res, entry) {
    send(res, entry, 200, {}, { keys: [jwk] });
  }

  function authorize(req, res, entry, url) {
    const q = url.searchParams;
    // An unknown client or an unregistered redirect URI is never redirected to (RFC 6749 §4.1.2.1).
    if (q.get('client_id') !== client.clientId) return page(res, entry, 400, 'Invalid client', `unknown client_id`);
    const redirectUri = q.get('redirect_uri');
    if (!client.redirectUris.includes(redirectUri)) return page(res, entry, 400, 'Invalid redirect_uri', 'the redirect_uri is not registered for this client');
    const back = (params) => {
      const location = new URL(redirectUri);
      if (q.has('state')) location.searchParams.set('state', q.get('state'));
      if (profile.sendIss && !ctx.state.omitIss) location.searchParams.set('iss', ctx.issuer);
      for (const [k, v] of Object.entries(params)) location.searchParams.set(k, v);
      entry.response = { params: [...location.searchParams.keys()], iss: location.searchParams.get('iss') };
      redirect(res, entry, location.href);
    };
    const fail = (error, description) => { entry.error = error; back({ error, ...(description && { error_description: description }) }); };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type');
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) {
      return fail('invalid_request', 'PKCE with S256 is required for this client');
    }
    const scope = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const refused = profile.authorizeError?.(ctx, q, scope);
    if (refused) return fail(refused.error, refused.error_description);
    const grant = {
      id: randomUUID(),
      scope,
      params: Object.fromEntries(['audience', 'resource', 'prompt'].filter((p) => q.has(p)).map((p) => [p, q.get(p)])),
      nonce: q.get('nonce') ?? undefined,
      authTime: nowSeconds(),
      sid: randomUUID(),
      revoked: false,
      user: profile.user(ctx),
    };
    grants.set(grant.id, grant);
    const code = ctx.opaque(profile.codePrefix ?? '');
    codes.set(code, { grant, challenge: q.get('code_challenge'), redirectUri, used: false });
    back({ code });
  }

  async function issue(grant, grantType, presented) {
    const lifetime = ctx.state.accessTokenLifetime ?? profile.accessTokenLifetime;
    const exp = nowSeconds() + lifetime;
    const at = await profile.accessToken(ctx, grant, { exp, lifetime });
    accessTokens.set(at.token, { ...at, grant, exp, revoked: false });
    const body = { access_token: at.token, token_type: profile.tokenType ?? 'Bearer', expires_in: lifetime };

    let refreshToken = null; // the refresh token the response carries
    if (grantType === 'authorization_code') {
      if (profile.issuesRefreshToken(ctx, grant)) {
        refreshToken = ctx.opaque(profile.refreshPrefix ?? '');
        refreshTokens.set(refreshToken, { grant, used: false, revoked: false });
      }
    } else if (profile.refresh.rotation === 'rotate') {
      refreshTokens.get(presented).used = true;
      refreshToken = ctx.opaque(profile.refreshPrefix ?? '');
      refreshTokens.set(refreshToken, { grant, used: false, revoked: false });
    } else if (profile.refresh.rotation === 'same') {
      refreshToken = presented; // the same refresh token comes back; it stays valid
    } // 'omit': no refresh_token in the answer; the presented one stays valid
    if (refreshToken) body.refresh_token = refreshToken;

    let idToken = null;
    if (grantType === 'authorization_code' || profile.refresh.idToken !== false) {
      const claims = profile.idTokenClaims(ctx, grant, { grantType, accessToken: at.token });
      idToken = await ctx.jwt(claims, profile.idTokenHeader ?? {});
      idTokens.set(fingerprint(idToken), { grant, aud: claims.aud });
      body.id_token = idToken;
    }
    Object.assign(body, profile.tokenExtras?.(ctx, grant, grantType) ?? {});
    issued.push({
      grantType,
      at: Date.now(),
      access: fingerprint(at.token),
      refresh: fingerprint(refreshToken),
      presented: fingerprint(presented),
      id: fingerprint(idToken),
      keys: Object.keys(body),
    });
    return body;
  }

  async function token(req, res, entry, form) {
    const cors = corsHeaders('token');
    const grantType = form.get('grant_type');
    const early = await profile.tokenHook?.(ctx, { req, form, grantType });
    if (early) {
      entry.error = early.body?.error ?? early.body?.errorCode ?? `http_${early.status}`;
      return send(res, entry, early.status, { ...cors, ...early.headers }, early.body);
    }
    const noStore = { ...cors, Pragma: 'no-cache' };
    if (form.get('client_id') !== client.clientId) return oauthError(res, entry, 401, 'invalid_client', 'unknown client', noStore);
    if (form.has('client_secret') || req.headers.authorization) return oauthError(res, entry, 401, 'invalid_client', 'a public client has no secret', noStore);
    if (grantType === 'authorization_code') {
      const c = codes.get(form.get('code') ?? '');
      if (!c) return oauthError(res, entry, 400, 'invalid_grant', 'unknown code', noStore);
      if (c.used) {
        c.grant.revoked = true; // RFC 6749 §4.1.2: a code used twice revokes what it gave
        return oauthError(res, entry, 400, 'invalid_grant', 'code already used', noStore);
      }
      c.used = true;
      if (form.get('redirect_uri') !== c.redirectUri) return oauthError(res, entry, 400, 'invalid_grant', 'redirect_uri mismatch', noStore);
      const verifier = form.get('code_verifier') ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || b64u(createHash('sha256').update(verifier).digest()) !== c.challenge) {
        return oauthError(res, entry, 400, 'invalid_grant', 'PKCE verification failed', noStore);
      }
      return send(res, entry, 200, noStore, await issue(c.grant, grantType, null));
    }
    if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const rt = refreshTokens.get(presented);
      if (!rt || rt.revoked || rt.grant.revoked) return oauthError(res, entry, 400, 'invalid_grant', 'unknown or revoked refresh token', noStore);
      if (rt.used) {
        // Reuse of a rotated refresh token: the whole family is revoked (Auth0, Okta, Zitadel ... ).
        rt.grant.revoked = true;
        entry.reuse = true;
        return oauthError(res, entry, 400, 'invalid_grant', 'refresh token reused', noStore);
      }
      return send(res, entry, 200, noStore, await issue(rt.grant, grantType, presented));
    }
    return oauthError(res, entry, 400, 'unsupported_grant_type', undefined, noStore);
  }

  function userinfo(req, res, entry) {
    const cors = corsHeaders('userinfo');
    const at = accessTokens.get(bearer(req) ?? '');
    const usable = at && !at.revoked && !at.grant.revoked && at.exp > nowSeconds() && at.userinfo !== false;
    if (!usable) return send(res, entry, 401, { ...cors, 'WWW-Authenticate': 'Bearer error="invalid_token"' }, { error: 'invalid_token' });
    return send(res, entry, 200, cors, profile.userinfoClaims?.(ctx, at.grant) ?? { sub: at.grant.user.sub });
  }

  function revocation(req, res, entry, form) {
    const cors = corsHeaders('revocation');
    if (form.get('client_id') !== client.clientId) return oauthError(res, entry, 401, 'invalid_client', undefined, cors);
    const value = form.get('token') ?? '';
    const rt = refreshTokens.get(value);
    const at = accessTokens.get(value);
    if (rt) {
      rt.revoked = true;
      rt.grant.revoked = true; // the grant and every token of it (RFC 7009 §2.1)
      entry.revoked = 'refresh_token';
    } else if (at) {
      at.revoked = true;
      entry.revoked = 'access_token';
    } else {
      entry.revoked = 'unknown'; // RFC 7009 §2.2: an unknown token is answered 200 as well
    }
    send(res, entry, 200, cors, profile.revocationBody ?? '');
  }

  function endSession(req, res, entry, url) {
    const decision = profile.endSession(ctx, url.searchParams);
    entry.decision = decision.redirect ? 'redirect' : `page ${decision.status}`;
    if (decision.grantEnded) {
      const hint = ctx.idTokenRecord(url.searchParams.get('id_token_hint') ?? '');
      if (hint) hint.grant.sessionEnded = true;
    }
    if (decision.redirect) return redirect(res, entry, decision.redirect);
    return page(res, entry, decision.status, decision.title ?? 'Logout', decision.text ?? '');
  }

  async function api(req, res, entry, url) {
    const cors = {
      'Access-Control-Allow-Origin': appOrigin,
      Vary: 'Origin',
      'Access-Control-Expose-Headers': 'WWW-Authenticate',
    };
    if (req.method === 'OPTIONS') {
      return send(res, entry, 204, {
        ...cors,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'authorization, content-type',
        'Access-Control-Max-Age': '0',
      });
    }
    if (url.pathname !== '/api/me' || req.method !== 'GET') return send(res, entry, 404, cors, { error: 'not_found' });
    const token = bearer(req);
    if (!token) return send(res, entry, 401, { ...cors, 'WWW-Authenticate': 'Bearer' }, { error: 'unauthorized' });
    let verdict;
    try {
      verdict = await profile.api(ctx, token);
    } catch (err) {
      verdict = { ok: false, why: `token refused: ${err?.code ?? err?.message ?? err}` };
    }
    entry.why = verdict.why ?? null;
    if (!verdict.ok) {
      return send(res, entry, 401, { ...cors, 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${verdict.why}"` }, { error: 'invalid_token', why: verdict.why });
    }
    return send(res, entry, 200, cors, { sub: verdict.sub, profile: profile.name, checked: verdict.checked });
  }

  // ---- routing ---------------------------------------------------------------------------------------

  const FORM_ENDPOINTS = new Set(['token', 'revocation']);
  const CORS_ENDPOINTS = new Set(['discovery', 'jwks', 'token', 'userinfo', 'revocation']);

  function handlerFor(role) {
    return async (req, res) => {
      let entry = null;
      try {
        const url = new URL(req.url, origins[role]);
        if (role === 'api') {
          entry = record(role, req.method === 'OPTIONS' ? 'api:preflight' : 'api', req, url);
          return await api(req, res, entry, url);
        }
        const eps = profile.endpoints(origins, ctx);
        const name = Object.keys(eps).find((n) => eps[n].role === role && eps[n].path === url.pathname);
        if (req.method === 'OPTIONS') {
          entry = record(role, `preflight:${name ?? 'unknown'}`, req, url);
          if (!name || !CORS_ENDPOINTS.has(name) || profile.noCors?.includes(name)) return send(res, entry, 200, {}, '');
          return send(res, entry, 204, {
            ...corsHeaders(name),
            'Access-Control-Allow-Methods': 'GET, POST',
            'Access-Control-Allow-Headers': 'authorization, content-type, dpop',
            'Access-Control-Max-Age': '0',
          });
        }
        let form = null;
        if (name && FORM_ENDPOINTS.has(name) && req.method === 'POST') form = await readForm(req);
        entry = record(role, name ?? 'unknown', req, url, form ?? undefined);
        if (!name) return send(res, entry, 404, {}, { error: 'not_found' });
        const cors = CORS_ENDPOINTS.has(name) ? corsHeaders(name) : {};
        for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
        switch (name) {
          case 'discovery': return req.method === 'GET' ? discovery(req, res, entry) : send(res, entry, 405, cors, '');
          case 'jwks': return req.method === 'GET' ? jwks(req, res, entry) : send(res, entry, 405, cors, '');
          case 'authorize': return req.method === 'GET' ? authorize(req, res, entry, url) : send(res, entry, 405, {}, '');
          case 'token': {
            if (req.method !== 'POST') return send(res, entry, 405, cors, '');
            tokenInFlight += 1;
            op.maxTokenInFlight = Math.max(op.maxTokenInFlight, tokenInFlight);
            entry.inFlight = tokenInFlight;
            res.on('close', () => { tokenInFlight -= 1; });
            return await token(req, res, entry, form);
          }
          case 'userinfo': return userinfo(req, res, entry);
          case 'revocation': return req.method === 'POST' ? revocation(req, res, entry, form) : send(res, entry, 405, cors, '');
          case 'endSession': return endSession(req, res, entry, url);
          default: return send(res, entry, 404, {}, { error: 'not_found' });
        }
      } catch (err) {
        console.error(`[profile-op ${profile.name}/${role}] error`, req.method, req.url?.split('?')[0], err?.message);
        if (!res.headersSent) send(res, entry, 500, {}, { error: 'server_error' });
        else res.destroy();
      }
    };
  }

  const op = {
    profile,
    origins,
    ctx,
    client,
    requests,
    issued,
    maxTokenInFlight: 0,
    get issuer() { return ctx.issuer; },
    get state() { return ctx.state; },
    url: (name) => ctx.url(name),
    /** Requests to one endpoint (by name), optionally only those after `since` (a seq number). */
    seen(endpoint, since = 0) { return requests.filter((r) => r.endpoint === endpoint && r.seq > since); },
    get lastSeq() { return seq; },
    /** Whether the grant that issued the refresh token with this fingerprint has been revoked. */
    refreshRevoked(fp) {
      for (const [t, rt] of refreshTokens) if (fingerprint(t) === fp) return rt.revoked || rt.grant.revoked;
      return null;
    },
    async close() {
      await Promise.all(Object.values(servers).map(closeServer));
    },
  };

  try {
    for (const role of [...profile.roles, 'api']) {
      servers[role] = createServer(handlerFor(role));
      origins[role] = await listen(servers[role]);
    }
  } catch (err) {
    await op.close();
    throw err;
  }
  return op;
}
