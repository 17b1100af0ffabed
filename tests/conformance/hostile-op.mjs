// A hostile OpenID Provider for the conformance suite: node:http on 127.0.0.1 (ephemeral port), one issuer
// per case, `http://127.0.0.1:<port>/<case>`, each with its own discovery document, JWKS, authorization
// endpoint (no UI: it answers at once with a 302 to the redirect URI), token endpoint (authorization_code
// with PKCE S256, and refresh_token with rotation), UserInfo, a protected resource (`/api`) and an
// "attacker" corner (`/attacker/*`) that the SDK must never fetch. Each case's faults come from its hooks
// in cases.mjs.
//
// The OP checks the RP's side of the protocol too (PKCE S256 verifier, client_id, exact redirect_uri,
// state/nonce sent, the newest refresh token, the access token in the Authorization header only) and
// records every breach in `violations`. Per case it records the sequence of requests by endpoint name
// only (never a body, never a token), so the runner can check that after a bad artefact the RP made
// no further request.
//
//   import { startHostileOp } from './hostile-op.mjs';
//   const op = await startHostileOp({ appOrigin: 'http://127.0.0.1:4000' });
//   op.reset('invalid-iss'); op.issuerFor('invalid-iss'); op.stateOf('invalid-iss').log; await op.close();

import { createHash, createHmac, generateKeyPair, randomBytes, sign as cryptoSign, constants } from 'node:crypto';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { CASES, CLIENT_ID, SUB, caseByName } from './cases.mjs';

const generateKeyPairAsync = promisify(generateKeyPair);
const b64u = (buf) => Buffer.from(buf).toString('base64url');
const random = () => b64u(randomBytes(32));
const now = () => Math.floor(Date.now() / 1000);
const MAX_FORM_BYTES = 64 * 1024;
const AT_HASH_AUTO = Symbol('at_hash');

/** OIDC Core §3.1.3.6: left half of the hash named by alg; SHA-512 for EdDSA on Ed25519 (OpenID
 * connect issue 1125, as the SDK and most libraries implement it). */
function atHash(alg, accessToken) {
  const bits = /(256|384|512)$/.exec(alg)?.[1] ?? (alg === 'EdDSA' || alg === 'Ed25519' ? '512' : '256');
  const digest = createHash(`sha${bits}`).update(accessToken).digest();
  return b64u(digest.subarray(0, digest.length / 2));
}

/** The signing keys: name → { kid, privateKey, publicKey }. */
async function generateKeys() {
  const rsa = (bits) => generateKeyPairAsync('rsa', { modulusLength: bits });
  const ec = (namedCurve) => generateKeyPairAsync('ec', { namedCurve });
  const specs = {
    rsa: ['rsa-1', rsa(2048)],
    rsa2: ['rsa-2', rsa(2048)],
    rsa3: ['rsa-3', rsa(2048)],
    attacker: ['attacker-1', rsa(2048)],
    weak: ['rsa-weak', rsa(1024)],
    ec: ['ec-1', ec('P-256')],
    ec2: ['ec-2', ec('P-256')],
    ec3: ['ec-3', ec('P-256')],
    k1: ['k1-1', ec('secp256k1')],
    ed: ['ed-1', generateKeyPairAsync('ed25519')],
  };
  const keys = {};
  for (const [name, [kid, pending]] of Object.entries(specs)) {
    const { privateKey, publicKey } = await pending;
    keys[name] = { kid, privateKey, publicKey };
  }
  return keys;
}

/** Signs `input` for the JWS alg `alg` (the real algorithm, whatever the header claims). */
function signJws(alg, input, t, keys) {
  const data = Buffer.from(input);
  if (alg === 'none') return Buffer.alloc(0);
  if (alg.startsWith('HS')) return createHmac(`sha${alg.slice(2)}`, t.hmacSecret).update(data).digest();
  const key = keys[t.key]?.privateKey;
  if (!key) throw new Error(`unknown signing key ${t.key}`);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('RS')) return cryptoSign(hash, data, key);
  if (alg.startsWith('PS')) return cryptoSign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  if (alg.startsWith('ES')) return cryptoSign(hash, data, { key, dsaEncoding: t.der ? 'der' : 'ieee-p1363' });
  if (alg === 'EdDSA' || alg === 'Ed25519') return cryptoSign(null, data, key);
  throw new Error(`cannot sign ${alg}`);
}

/**
 * @param {{ appOrigin: string, port?: number }} options  appOrigin: the test page's origin (CORS, redirect URIs)
 */
export async function startHostileOp({ appOrigin, port = 0 }) {
  const keys = await generateKeys();
  const states = new Map(); // case name → per-run state
  let origin = '';

  const issuerFor = (name) => `${origin}/${name}`;
  const redirectUriFor = (name) => `${appOrigin}/callback/${name}`;

  function reset(name) {
    const s = {
      log: [], // endpoint names in order
      violations: [], // the RP broke the protocol (PKCE, redirect_uri, stale refresh token, ...)
      codes: new Map(),
      accessTokens: new Map(), // access token → { grant }
      refreshToken: null,
      rotated: false,
      randomJwksPath: `keys-${random().slice(0, 12)}`,
      tokenResponseAt: [], // Date.now() when each token response was fully sent
      authorizeParams: null,
    };
    states.set(name, s);
    return s;
  }

  /** The context handed to a case's hooks. */
  function context(name, s) {
    return {
      name,
      issuer: issuerFor(name),
      clientId: CLIENT_ID,
      state: s,
      pub(keyName, extra = {}) {
        const k = keys[keyName];
        const jwk = { ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, ...extra };
        for (const [m, v] of Object.entries(jwk)) if (v === undefined) delete jwk[m];
        return jwk;
      },
      publicPem: (keyName) => keys[keyName].publicKey.export({ format: 'pem', type: 'spki' }),
    };
  }

  function buildIdToken(cs, c, grant, { nonce, accessToken }) {
    const iat = now();
    const claims = {
      iss: c.issuer,
      sub: SUB,
      aud: CLIENT_ID,
      exp: iat + 300,
      iat,
      auth_time: c.state.authTime,
      ...(nonce !== undefined ? { nonce } : {}),
      at_hash: AT_HASH_AUTO, // computed below with the hash of the final alg
      name: 'Alice Example',
      email: 'alice@example.test',
    };
    const t = { header: { alg: 'RS256', typ: 'JWT', kid: keys.rsa.kid }, claims, key: 'rsa' };
    cs.op?.idToken?.(t, c, grant);
    if (t.claims.at_hash === AT_HASH_AUTO) t.claims.at_hash = atHash(t.sigAlg ?? t.header.alg, accessToken);
    t.late?.(t); // edits that need the final claims (serialization tricks)
    const encode = (buf, part) => (t.encode ? t.encode(buf, part) : b64u(buf));
    const h = encode(Buffer.from(t.headerText ?? JSON.stringify(t.header)), 'header');
    const p = encode(t.payloadBytes ?? Buffer.from(t.payloadText ?? JSON.stringify(t.claims)), 'payload');
    let sig = signJws(t.sigAlg ?? t.header.alg, `${h}.${p}`, t, keys);
    if (t.signature) sig = t.signature(sig);
    const jwt = `${h}.${p}.${encode(sig, 'signature')}`;
    return cs.op?.finish ? cs.op.finish(jwt, c, grant) : jwt;
  }

  function cors(res) {
    res.setHeader('Access-Control-Allow-Origin', appOrigin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
    res.setHeader('Timing-Allow-Origin', appOrigin);
    res.setHeader('Cache-Control', 'no-store');
  }

  function json(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
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

  function bearer(req) {
    const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return m ? m[1] : null;
  }

  function discovery(cs, c) {
    const doc = {
      issuer: c.issuer,
      authorization_endpoint: `${c.issuer}/authorize`,
      token_endpoint: `${c.issuer}/token`,
      userinfo_endpoint: `${c.issuer}/userinfo`,
      jwks_uri: `${c.issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: cs.op?.algs ?? ['RS256', 'ES256'],
      token_endpoint_auth_methods_supported: ['none'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'name', 'email'],
      authorization_response_iss_parameter_supported: true,
    };
    cs.op?.discovery?.(doc, c);
    return doc;
  }

  function authorize(req, res, url, cs, c, s) {
    const q = url.searchParams;
    const expectedRedirect = redirectUriFor(c.name);
    const redirectUri = q.get('redirect_uri');
    if (redirectUri !== expectedRedirect) {
      s.violations.push('authorization request: redirect_uri is not the registered one');
      return json(res, 400, { error: 'invalid_request' });
    }
    const need = (cond, what) => { if (!cond) s.violations.push(`authorization request: ${what}`); };
    need(q.get('response_type') === 'code', 'response_type is not code');
    need(q.get('client_id') === CLIENT_ID, 'wrong client_id');
    need(q.get('code_challenge_method') === 'S256', 'code_challenge_method is not S256');
    need(/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? ''), 'no S256 code_challenge');
    need((q.get('state') ?? '').length >= 16, 'no state (or a short one)');
    need((q.get('nonce') ?? '').length >= 16, 'no nonce (or a short one)');
    need((q.get('scope') ?? '').split(' ').includes('openid'), 'scope lacks openid');
    need(!q.has('code_verifier'), 'the code_verifier was sent in the front channel');
    for (const name of new Set(q.keys())) need(q.getAll(name).length === 1, `parameter ${name} repeated`);
    const code = random();
    s.authTime = now();
    s.codes.set(code, { challenge: q.get('code_challenge'), nonce: q.get('nonce') ?? undefined, redirectUri, used: false });
    let params = { code, state: q.get('state'), iss: c.issuer };
    if (q.get('state') === null) delete params.state;
    params = cs.op?.authorize?.(params, c) ?? params;
    const location = new URL(redirectUri);
    for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) location.searchParams.append(k, one);
    res.writeHead(302, { Location: location.href, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    res.end();
  }

  async function token(req, res, cs, c, s) {
    let form;
    try {
      form = await readForm(req);
    } catch {
      return json(res, 400, { error: 'invalid_request' });
    }
    const grant = form.get('grant_type');
    s.log.push(grant === 'refresh_token' ? 'refresh' : 'token');
    const override = cs.op?.tokenHttp?.(c, grant);
    if (override) {
      res.writeHead(override.status, override.headers ?? {});
      return res.end(override.body ?? '');
    }
    const refuse = (why) => {
      s.violations.push(`token request: ${why}`);
      return json(res, 400, { error: 'invalid_grant' });
    };
    if (form.get('client_id') !== CLIENT_ID) return refuse('wrong or missing client_id');
    if (form.has('client_secret') || req.headers.authorization) return refuse('a public client sent client credentials');
    let nonce;
    if (grant === 'authorization_code') {
      const entry = s.codes.get(form.get('code') ?? '');
      if (!entry) return refuse('unknown code');
      if (entry.used) return refuse('the code was used twice');
      entry.used = true;
      if (form.get('redirect_uri') !== entry.redirectUri) return refuse('redirect_uri differs from the authorization request');
      const verifier = form.get('code_verifier') ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse('no valid code_verifier');
      if (b64u(createHash('sha256').update(verifier).digest()) !== entry.challenge) return refuse('code_verifier does not match the S256 challenge');
      nonce = entry.nonce;
    } else if (grant === 'refresh_token') {
      if (!s.refreshToken || form.get('refresh_token') !== s.refreshToken) return refuse('not the newest refresh token (rotation)');
    } else {
      return refuse(`unexpected grant_type ${grant}`);
    }
    const accessToken = random();
    const refreshToken = random();
    s.accessTokens.set(accessToken, { grant });
    s.refreshToken = refreshToken;
    const body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: refreshToken,
      scope: 'openid profile email',
      id_token: buildIdToken(cs, c, grant, { nonce, accessToken }),
    };
    cs.op?.tokenResponse?.(body, c, grant);
    res.on('finish', () => s.tokenResponseAt.push(Date.now()));
    return json(res, 200, body, { Pragma: 'no-cache' });
  }

  function userinfo(req, res, url, cs, c, s) {
    if (url.searchParams.has('access_token')) s.violations.push('userinfo: the access token was sent in the query');
    const at = bearer(req);
    if (!at || !s.accessTokens.has(at)) {
      return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    const override = cs.op?.userinfoHttp?.(c);
    if (override) {
      res.writeHead(override.status, override.headers ?? {});
      return res.end(override.body ?? '');
    }
    const body = { sub: SUB, name: 'Alice Example', email: 'alice@example.test', email_verified: true };
    cs.op?.userinfo?.(body, c);
    return json(res, 200, body);
  }

  function api(req, res, cs, c, s) {
    const at = bearer(req);
    const info = at ? s.accessTokens.get(at) : undefined;
    const status = info ? (cs.op?.api?.(c, info) ?? 200) : 401;
    if (status === 401) return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    return json(res, status, { ok: status === 200 });
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url, origin);
      const [, name, ...rest] = url.pathname.split('/');
      const cs = caseByName(name);
      const s = states.get(name);
      if (!cs || !s) return json(res, 404, { error: 'unknown case' });
      const c = context(name, s);
      const endpoint = rest.join('/');
      // Referrer-Policy: no-referrer — no request may carry the callback URL (code, state) in Referer.
      if (/[?&](code|state|iss)=/.test(req.headers.referer ?? '')) s.violations.push(`a request to ${endpoint} carried the callback URL in Referer`);
      cors(res);
      if (req.method === 'OPTIONS') {
        s.log.push(`preflight:${endpoint}`);
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': 'authorization, content-type, accept',
          'Access-Control-Max-Age': '0',
        });
        return res.end();
      }
      if (endpoint === '.well-known/openid-configuration' && req.method === 'GET') {
        s.log.push('discovery');
        return json(res, 200, discovery(cs, c));
      }
      if ((endpoint === 'jwks' || endpoint === s.randomJwksPath) && req.method === 'GET') {
        const served = cs.name === 'discovery-jwks-uri-keys' ? s.randomJwksPath : 'jwks';
        s.log.push(endpoint === served ? 'jwks' : 'jwks:wrong-path');
        const keysArray = cs.op?.jwks ? cs.op.jwks(c) : [c.pub('rsa'), c.pub('ec')];
        return json(res, 200, typeof keysArray === 'string' ? keysArray : { keys: keysArray });
      }
      if (endpoint === 'authorize' && req.method === 'GET') {
        s.log.push('authorize');
        return authorize(req, res, url, cs, c, s);
      }
      if (endpoint === 'token' && req.method === 'POST') return await token(req, res, cs, c, s);
      if (endpoint === 'userinfo' && (req.method === 'GET' || req.method === 'POST')) {
        s.log.push('userinfo');
        return userinfo(req, res, url, cs, c, s);
      }
      if (endpoint === 'api' && req.method === 'GET') {
        s.log.push('api');
        return api(req, res, cs, c, s);
      }
      if (endpoint.startsWith('attacker/')) {
        s.log.push('attacker');
        if (endpoint === 'attacker/jwks') return json(res, 200, { keys: [c.pub('attacker')] });
        res.writeHead(200, { 'Content-Type': 'application/pem-certificate-chain' });
        return res.end('-----BEGIN CERTIFICATE-----\nMIIBogus\n-----END CERTIFICATE-----\n');
      }
      s.log.push(`unknown:${req.method}:${endpoint.slice(0, 40)}`);
      return json(res, 404, { error: 'not found' });
    } catch (err) {
      console.error('[hostile-op] error', req.method, req.url?.split('?')[0], err?.message);
      if (!res.headersSent) json(res, 500, { error: 'server_error' });
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    cases: CASES,
    issuerFor,
    redirectUriFor,
    reset,
    stateOf: (name) => states.get(name),
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
