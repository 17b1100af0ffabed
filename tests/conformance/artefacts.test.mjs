// Checks the hostile OP itself, without a browser: each bad artefact must carry its one fault and no other,
// or a rejection could be right for the wrong reason. The ID tokens are fetched over HTTP as an RP would
// (authorization request, PKCE code exchange, refresh) and their signatures checked with node:crypto over
// the exact signing input, with the key the case means. Also: the RP-side checks of the OP (PKCE,
// redirect_uri, newest refresh token) pass for a correct client.
//   node --test tests/conformance/artefacts.test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { CLIENT_ID } from './cases.mjs';
import { startHostileOp } from './hostile-op.mjs';

const b64u = (b) => Buffer.from(b).toString('base64url');
let op;
before(async () => { op = await startHostileOp({ appOrigin: 'http://127.0.0.1:9' }); });
after(() => op?.close());

/** Runs the code flow (and a refresh, if asked) in node; returns the last ID token and the keys. */
async function fetchIdToken(name, { refresh = false } = {}) {
  op.reset(name);
  const issuer = op.issuerFor(name);
  const redirectUri = op.redirectUriFor(name);
  const verifier = b64u(randomBytes(32));
  const query = new URLSearchParams({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: redirectUri, scope: 'openid', state: b64u(randomBytes(16)),
    nonce: b64u(randomBytes(16)), code_challenge: b64u(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  const authz = await fetch(`${issuer}/authorize?${query}`, { redirect: 'manual' });
  const code = new URL(authz.headers.get('location')).searchParams.get('code');
  const post = async (form) => (await fetch(`${issuer}/token`, { method: 'POST', body: new URLSearchParams({ client_id: CLIENT_ID, ...form }) })).json();
  let tokens = await post({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  if (refresh) tokens = await post({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  const jwks = (await (await fetch(`${issuer}/jwks`)).json()).keys;
  const attacker = (await (await fetch(`${issuer}/attacker/jwks`)).json()).keys[0];
  const { violations } = op.stateOf(name);
  return { jwt: tokens.id_token, jwks, attacker, violations };
}

function signatureVerifies(jwt, jwk, alg, { der = false, lenient = false } = {}) {
  const dot = jwt.lastIndexOf('.');
  const input = Buffer.from(jwt.slice(0, dot));
  const sig = Buffer.from(jwt.slice(dot + 1), lenient ? 'base64' : 'base64url');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (alg === 'EdDSA') return verify(null, input, key, sig);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('PS')) return verify(hash, input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  if (alg.startsWith('ES')) return verify(hash, input, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' }, sig);
  return verify(hash, input, key, sig);
}

const kid = (keys, id) => keys.find((k) => k.kid === id);
const part = (jwt, i) => jwt.split('.')[i];

/** case → what must hold of its ID token (besides the fault the case is about). */
const ORACLES = {
  'code-flow-rs256': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'idtoken-sig-ps256': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'PS256'),
  'idtoken-sig-eddsa': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'ed-1'), 'EdDSA'),
  'invalid-sig-rs256': (r) => !signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'jku-injection': (r) => signatureVerifies(r.jwt, r.attacker, 'RS256') && !kid(r.jwks, 'attacker-1'),
  'x5u-injection': (r) => signatureVerifies(r.jwt, r.attacker, 'RS256'),
  'jwk-header-injection': (r) => signatureVerifies(r.jwt, JSON.parse(Buffer.from(part(r.jwt, 0), 'base64url')).jwk, 'RS256'),
  'duplicate-header-member': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'duplicate-claim-member': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'base64-standard-alphabet': (r) => /[+/]/.test(part(r.jwt, 1)) && signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'base64-padding': (r) => part(r.jwt, 1).endsWith('=') && signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'base64-non-canonical': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256', { lenient: true })
    && b64u(Buffer.from(part(r.jwt, 2), 'base64url')) !== part(r.jwt, 2),
  'utf8-bom-payload': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'utf16-payload': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'oversized-100k': (r) => r.jwt.length > 100_000 && r.jwt.length < 250_000 && signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'oversized-1mb': (r) => r.jwt.length > 1_000_000 && signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'es256-der-signature': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'ec-1'), 'ES256', { der: true }),
  'rsa-1024': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-weak'), 'RS256'),
  'es256-by-secp256k1-key': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'k1-1'), 'ES256'),
  'kid-of-other-kty': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'jwk-alg-mismatch': (r) => signatureVerifies(r.jwt, r.jwks[0], 'RS256'),
  'jwk-use-enc-only': (r) => signatureVerifies(r.jwt, r.jwks[0], 'RS256'),
  'kid-absent-multiple-jwks': (r) => r.jwks.filter((k) => k.kty === 'RSA').length === 3
    && signatureVerifies(r.jwt, r.jwks[2], 'RS256') && !signatureVerifies(r.jwt, r.jwks[0], 'RS256'),
  'crit-header': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'typ-at-jwt': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'at-hash-invalid': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
  'iat-week-old': (r) => signatureVerifies(r.jwt, kid(r.jwks, 'rsa-1'), 'RS256'),
};

for (const [name, oracle] of Object.entries(ORACLES)) {
  test(`${name}: the artefact has its one fault only`, async () => {
    const r = await fetchIdToken(name);
    assert.deepEqual(r.violations, [], 'the OP saw a correct client');
    assert.ok(oracle(r), `${name}: the served ID token is not what the case means`);
  });
}

test('signing-key-rotation: the refreshed ID token is signed by rsa-2, and the JWKS then lists rsa-2 only', async () => {
  const r = await fetchIdToken('signing-key-rotation', { refresh: true });
  const after = (await (await fetch(`${op.issuerFor('signing-key-rotation')}/jwks`)).json()).keys;
  assert.deepEqual(r.violations, []);
  assert.deepEqual(after.map((k) => k.kid), ['rsa-2']);
  assert.ok(signatureVerifies(r.jwt, after[0], 'RS256'));
});
