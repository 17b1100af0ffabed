// The hostile-provider cases: what the OP does wrong (the `op` hooks, run by hostile-op.mjs) and what the
// RP must do about it (`expect`, checked by run.mjs). One case = one issuer http://127.0.0.1:<port>/<name>.
//
// Sources of the cases (see /work/shared/docs/rp-test-plan.md): the OpenID Foundation RP tests
// (`oidcc-client-test-*`, old `rp-*` ids, FAPI 1/2 client tests) and the JOSE/JWT attack catalogue.
//
// Hook reference (all optional):
//   op.algs                 discovery's id_token_signing_alg_values_supported (default RS256, ES256)
//   op.discovery(doc, c)    edit the discovery document
//   op.jwks(c)              the keys array served at jwks_uri (default: rsa-1 and ec-1 public keys), or a
//                           string served as the raw body
//   op.authorize(p, c)      edit the authorization response parameters { code, state, iss } (or error); an
//                           array value repeats the parameter
//   op.idToken(t, c, grant) edit the ID token before it is signed: t = { header, claims, key, sigAlg,
//                           headerText?, payloadText?, payloadBytes?, encode?(buf, part), signature?(buf) -> buf,
//                           hmacSecret?, der?, late?(t) — run after at_hash is filled in, for edits that need
//                           the final claims }
//   op.finish(jwt, c, grant) rewrite the serialized ID token
//   op.tokenResponse(body, c, grant) edit the token response
//   op.tokenHttp(c, grant)  replace the token endpoint's whole HTTP answer: { status, headers, body }
//   op.userinfo(body, c)    edit the UserInfo response
//   op.userinfoHttp(c)      replace the UserInfo endpoint's whole HTTP answer: { status, headers, body }
//   op.api(c, at)           status of the protected resource for this access token (default 200)
//   flow                    the steps the test page runs after handleCallback(): 'userinfo', 'refresh',
//                           'api', 'wait:<ms>'
//   expect                  { outcome: 'accepted' } or { outcome: 'rejected', code, stage } where stage is
//                           createClient | callback | userinfo | refresh | api; `codes` allows a set
//   checks                  { jwksFetches, maxJwksFetches, refreshes, maxRejectMs, oauthError, userinfoClaim }

export const CLIENT_ID = 'conformance-spa';
export const SUB = 'alice';
/** The time some rotation cases wait before the refresh: longer than the SDK's 5 s between JWKS refetches. */
export const JWKS_AGE_WAIT_MS = 5_300;

const A = { outcome: 'accepted' };
const R = (code, stage = 'callback', more = {}) => ({ outcome: 'rejected', code, stage, ...more });

const xor5a = (buf) => Buffer.from(buf.map((b) => b ^ 0x5a));
const noKid = (t) => { delete t.header.kid; };
const es256 = (t) => { t.header.alg = 'ES256'; t.header.kid = 'ec-1'; t.key = 'ec'; };
const bigClaim = (bytes) => (t) => { t.claims.padding = 'x'.repeat(bytes); };

export const CASES = [
  // ---- the normal flow ------------------------------------------------------------------------------
  {
    name: 'code-flow-rs256',
    ref: 'oidcc-client-test / rp-response_type-code; refresh-token (RT rotated, newest used); userinfo-bearer-header; scope-userinfo-claims',
    what: 'normal code flow, RS256; userinfo; two refreshes with a rotating refresh token; userinfo again',
    flow: ['userinfo', 'refresh', 'refresh', 'userinfo'],
    expect: A,
    checks: { userinfoClaim: ['email', 'alice@example.test'] },
  },
  {
    name: 'idtoken-sig-rs256', ref: 'oidcc-client-test-idtoken-sig-rs256 / rp-id_token-sig-rs256',
    what: 'RS256-only metadata and JWKS', op: { algs: ['RS256'], jwks: (c) => [c.pub('rsa')] }, flow: ['userinfo'], expect: A,
  },
  {
    name: 'idtoken-sig-es256', ref: 'rp-id_token-sig-es256',
    what: 'ES256-only metadata and JWKS', op: { algs: ['ES256'], jwks: (c) => [c.pub('ec')], idToken: es256 }, flow: ['userinfo'], expect: A,
  },
  {
    name: 'idtoken-sig-ps256', ref: 'FAPI (PS256)',
    what: 'PS256-only metadata', op: { algs: ['PS256'], jwks: (c) => [c.pub('rsa')], idToken: (t) => { t.header.alg = 'PS256'; } }, expect: A,
  },
  {
    name: 'idtoken-sig-eddsa', ref: 'RFC 8037 (EdDSA)',
    what: 'EdDSA-only metadata, Ed25519 key',
    op: { algs: ['EdDSA'], jwks: (c) => [c.pub('ed')], idToken: (t) => { t.header.alg = 'EdDSA'; t.header.kid = 'ed-1'; t.key = 'ed'; } },
    expect: A,
  },

  // ---- signatures and algorithms --------------------------------------------------------------------
  {
    name: 'invalid-sig-rs256', ref: 'oidcc-client-test-invalid-sig-rs256 / rp-id_token-bad-sig-rs256',
    what: 'RS256 signature bytes XOR 0x5A', op: { idToken: (t) => { t.signature = xor5a; } }, expect: R('signature_invalid'),
  },
  {
    name: 'invalid-sig-es256', ref: 'oidcc-client-test-invalid-sig-es256 / rp-id_token-bad-sig-es256',
    what: 'ES256 signature bytes XOR 0x5A', op: { idToken: (t) => { es256(t); t.signature = xor5a; } }, expect: R('signature_invalid'),
  },
  {
    name: 'invalid-sig-hs256', ref: 'oidcc-client-test-invalid-sig-hs256 / rp-id_token-bad-sig-hs256',
    what: 'HS256 (advertised) with a bad MAC; a public client has no secret',
    op: { algs: ['RS256', 'HS256'], idToken: (t) => { t.header.alg = 'HS256'; delete t.header.kid; t.hmacSecret = 'a-guessed-client-secret'; t.signature = xor5a; } },
    expect: R('alg_not_allowed'),
  },
  {
    name: 'idtoken-sig-none', ref: 'oidcc-client-test-idtoken-sig-none / rp-id_token-sig-none; FAPI2 invalid-null-alg',
    what: 'alg none, advertised by the provider', op: { algs: ['RS256', 'none'], idToken: (t) => { t.header.alg = 'none'; delete t.header.kid; } },
    expect: R('alg_not_allowed'),
  },
  {
    name: 'alg-none-case-variant', ref: 'RFC 8725 §3.1; 8725bis §2.11',
    what: 'alg "nOnE", advertised as such', op: { algs: ['RS256', 'nOnE'], idToken: (t) => { t.header.alg = 'nOnE'; t.sigAlg = 'none'; delete t.header.kid; } },
    expect: R('alg_not_allowed'),
  },
  {
    name: 'hs256-rsa-public-key-as-secret', ref: 'RFC 8725 §2.1, §3.1 (key confusion)',
    what: 'HS256 keyed with the PEM of the provider\'s RSA public key, kid of that key; HS256 advertised',
    op: { algs: ['RS256', 'HS256'], idToken: (t, c) => { t.header.alg = 'HS256'; t.hmacSecret = c.publicPem('rsa'); } },
    expect: R('alg_not_allowed'),
  },
  {
    name: 'alg-not-advertised', ref: 'FAPI2 invalid-alternate-alg; Core 3.1.3.7 step 7',
    what: 'metadata says ES256 only; the token is a valid RS256 token from a key in the JWKS',
    op: { algs: ['ES256'] }, expect: R('alg_not_allowed'),
  },

  // ---- claims -----------------------------------------------------------------------------------------
  { name: 'invalid-iss', ref: 'oidcc-client-test-invalid-iss / rp-id_token-issuer-mismatch', what: 'iss + "1"', op: { idToken: (t) => { t.claims.iss += '1'; } }, expect: R('claim_iss') },
  { name: 'missing-iss', ref: 'FAPI2 invalid-missing-iss', what: 'iss removed', op: { idToken: (t) => { delete t.claims.iss; } }, expect: R('claim_iss') },
  { name: 'iss-trailing-slash', ref: 'Core 3.1.3.7 step 2 (exact match)', what: 'iss + "/"', op: { idToken: (t) => { t.claims.iss += '/'; } }, expect: R('claim_iss') },
  {
    name: 'iss-case-variant', ref: 'Core 3.1.3.7 step 2 (exact match)', what: 'iss with an upper-case path',
    op: { idToken: (t) => { const u = new URL(t.claims.iss); t.claims.iss = `${u.origin}${u.pathname.toUpperCase()}`; } }, expect: R('claim_iss'),
  },
  { name: 'invalid-aud', ref: 'oidcc-client-test-invalid-aud / rp-id_token-aud', what: 'aud + "1"', op: { idToken: (t) => { t.claims.aud += '1'; } }, expect: R('claim_aud') },
  { name: 'missing-aud', ref: 'oidcc-client-test-missing-aud', what: 'aud removed', op: { idToken: (t) => { delete t.claims.aud; } }, expect: R('claim_aud') },
  { name: 'aud-as-array', ref: 'FAPI2 valid-aud-as-array', what: 'aud = [client_id]', op: { idToken: (t) => { t.claims.aud = [CLIENT_ID]; } }, expect: A },
  {
    name: 'aud-secondary-no-azp', ref: 'FAPI2 invalid-secondary-aud; Core 3.1.3.7 steps 3-5', what: 'aud = [client_id, client_id+"1"], no azp',
    op: { idToken: (t) => { t.claims.aud = [CLIENT_ID, `${CLIENT_ID}1`]; } }, expect: R('claim_azp'),
  },
  {
    name: 'aud-secondary-wrong-azp', ref: 'Core 3.1.3.7 step 5', what: 'aud = [client_id, other], azp = other',
    op: { idToken: (t) => { t.claims.aud = [CLIENT_ID, `${CLIENT_ID}1`]; t.claims.azp = `${CLIENT_ID}1`; } }, expect: R('claim_azp'),
  },
  {
    name: 'aud-secondary-azp-client', ref: 'Core 3.1.3.7 steps 4-5', what: 'aud = [client_id, other], azp = client_id',
    op: { idToken: (t) => { t.claims.aud = [CLIENT_ID, `${CLIENT_ID}1`]; t.claims.azp = CLIENT_ID; } }, expect: A,
  },
  { name: 'missing-sub', ref: 'oidcc-client-test-missing-sub / rp-id_token-sub', what: 'sub removed', op: { idToken: (t) => { delete t.claims.sub; } }, expect: R('claim_sub') },
  { name: 'missing-iat', ref: 'oidcc-client-test-missing-iat / rp-id_token-iat', what: 'iat removed', op: { idToken: (t) => { delete t.claims.iat; } }, expect: R('claim_iat') },
  { name: 'iat-future', ref: 'Core 3.1.3.7 step 10', what: 'iat = now + 1 h', op: { idToken: (t) => { t.claims.iat += 3600; } }, expect: R('claim_iat') },
  { name: 'iat-week-old', ref: 'FAPI1 iat-is-week-in-past', what: 'iat = now - 7 days (exp still ahead)', op: { idToken: (t) => { t.claims.iat -= 7 * 86400; } }, expect: R('claim_iat') },
  { name: 'iat-string', ref: 'RFC 7519 §2 NumericDate', what: 'iat = "<now>" (a string)', op: { idToken: (t) => { t.claims.iat = String(t.claims.iat); } }, expect: R('claim_iat') },
  { name: 'exp-past', ref: 'FAPI2 invalid-expired-exp', what: 'exp = now - 6 min', op: { idToken: (t) => { t.claims.exp = t.claims.iat - 360; t.claims.iat -= 600; } }, expect: R('claim_exp') },
  { name: 'exp-missing', ref: 'FAPI2 invalid-missing-exp', what: 'exp removed', op: { idToken: (t) => { delete t.claims.exp; } }, expect: R('claim_exp') },
  { name: 'exp-string', ref: 'RFC 7519 §2, §4.1.4', what: 'exp = "<now+300>" (a string)', op: { idToken: (t) => { t.claims.exp = String(t.claims.exp); } }, expect: R('claim_exp') },
  { name: 'nbf-future', ref: 'RFC 7519 §4.1.5', what: 'nbf = now + 10 min', op: { idToken: (t) => { t.claims.nbf = t.claims.iat + 600; } }, expect: R('claim_nbf') },
  { name: 'nonce-invalid', ref: 'oidcc-client-test-nonce-invalid / rp-nonce-invalid', what: 'nonce + "1"', op: { idToken: (t) => { t.claims.nonce += '1'; } }, expect: R('claim_nonce') },
  { name: 'nonce-missing', ref: 'Core 3.1.3.7 step 11', what: 'nonce removed', op: { idToken: (t) => { delete t.claims.nonce; } }, expect: R('claim_nonce') },
  { name: 'at-hash-invalid', ref: 'oidcc-client-test-invalid-athash (code flow: present → checked); Core 3.1.3.8', what: 'at_hash of another access token', op: { idToken: (t) => { t.claims.at_hash = 'AAAAAAAAAAAAAAAAAAAAAA'; } }, expect: R('at_hash_mismatch') },
  { name: 'at-hash-absent', ref: 'Core 3.1.3.8 (optional in code flow)', what: 'no at_hash', op: { idToken: (t) => { delete t.claims.at_hash; } }, expect: A },

  // ---- keys ------------------------------------------------------------------------------------------
  {
    name: 'kid-absent-single-jwks', ref: 'oidcc-client-test-kid-absent-single-jwks',
    what: 'no kid; JWKS = 1 RSA + 1 P-256 + 1 secp256k1 + 1 Ed25519 key, none with a kid',
    op: {
      algs: ['RS256', 'ES256', 'EdDSA'],
      jwks: (c) => ['rsa', 'ec', 'k1', 'ed'].map((k) => c.pub(k, { kid: undefined })),
      idToken: noKid,
    },
    expect: A,
  },
  {
    name: 'kid-absent-multiple-jwks', ref: 'oidcc-client-test-kid-absent-multiple-jwks',
    what: 'no kid; JWKS = 3 RSA + 3 P-256 keys without kid, the signing RSA key listed last (the SDK must try each candidate)',
    op: {
      jwks: (c) => ['rsa2', 'rsa3', 'rsa', 'ec2', 'ec3', 'ec'].map((k) => c.pub(k, { kid: undefined })),
      idToken: noKid,
    },
    expect: A,
  },
  {
    name: 'signing-key-rotation', ref: 'oidcc-client-test-signing-key-rotation / rp-key-rotation-op-sign-key',
    what: `login with rsa-1; the OP then publishes only rsa-2; after ${JWKS_AGE_WAIT_MS} ms a refresh brings an ID token with kid rsa-2`,
    op: {
      jwks: (c) => [c.pub(c.state.rotated ? 'rsa2' : 'rsa')],
      idToken: (t, c, grant) => { if (grant === 'refresh_token') { t.key = 'rsa2'; t.header.kid = 'rsa-2'; c.state.rotated = true; } },
    },
    flow: [`wait:${JWKS_AGE_WAIT_MS}`, 'refresh', 'userinfo'],
    expect: A, checks: { jwksFetches: 2 },
  },
  {
    name: 'signing-key-rotation-just-before-signing', ref: 'oidcc-client-test-signing-key-rotation-just-before-signing / rp-key-rotation-op-sign-key-native',
    what: 'the OP rotates to rsa-2 right before signing the first ID token; the SDK requests the JWKS during the code exchange, so it gets the old set (then one refetch) or the new one, depending on which request the OP answers first',
    op: {
      jwks: (c) => [c.pub(c.state.rotated ? 'rsa2' : 'rsa')],
      idToken: (t, c) => { t.key = 'rsa2'; t.header.kid = 'rsa-2'; c.state.rotated = true; },
    },
    // The refetch itself is pinned deterministically by the wasm test key_rotation_refetches_the_jwks_exactly_once.
    expect: A, checks: { maxJwksFetches: 2 },
  },
  {
    name: 'rotation-right-after-login', ref: 'Core §10.1.1; SDK rule: one refetch per unknown kid, refetches at least 5 s apart',
    what: 'as signing-key-rotation, but the refresh comes at once (the JWKS fetched a moment ago): still one refetch, accepted',
    op: {
      jwks: (c) => [c.pub(c.state.rotated ? 'rsa2' : 'rsa')],
      idToken: (t, c, grant) => { if (grant === 'refresh_token') { t.key = 'rsa2'; t.header.kid = 'rsa-2'; c.state.rotated = true; } },
    },
    flow: ['refresh', 'userinfo'], expect: A, checks: { jwksFetches: 2 },
  },
  {
    name: 'unknown-kid-one-refetch', ref: 'Core §10.1.1 (one refetch, then reject)',
    what: `after ${JWKS_AGE_WAIT_MS} ms a refreshed ID token names kid rsa-9, in no JWKS`,
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') { t.key = 'rsa2'; t.header.kid = 'rsa-9'; } } },
    flow: [`wait:${JWKS_AGE_WAIT_MS}`, 'refresh'], expect: R('no_matching_key', 'refresh'), checks: { jwksFetches: 2 },
  },
  {
    name: 'ignores-unparseable-key-in-jwks', ref: 'oidcc-client-test-ignores-unparseable-key-in-jwks; RFC 7517 §5',
    what: 'JWKS also holds kty AKP (ML-DSA), a made-up kty, use=enc, key_ops without verify, secp256k1, oct, X25519',
    op: {
      jwks: (c) => [
        { kty: 'AKP', alg: 'ML-DSA-44', kid: 'pq-1', pub: 'bm90LWEtcmVhbC1rZXk' },
        { kty: 'QUANTUM-FOAM', kid: 'made-up', x: 'AAAA' },
        c.pub('rsa2', { kid: 'enc-1', use: 'enc' }),
        c.pub('rsa3', { kid: 'ops-1', key_ops: ['encrypt', 'wrapKey'] }),
        c.pub('k1'),
        { kty: 'oct', kid: 'oct-1', k: 'c2VjcmV0' },
        { kty: 'OKP', crv: 'X25519', kid: 'x-1', x: 'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo' },
        c.pub('rsa'),
        c.pub('ec'),
      ],
    },
    expect: A,
  },
  { name: 'jwk-use-enc-only', ref: 'RFC 7517 §4.2', what: 'the only key is the signing key marked use=enc', op: { jwks: (c) => [c.pub('rsa', { use: 'enc' })] }, expect: R('no_matching_key') },
  { name: 'jwk-key-ops-without-verify', ref: 'RFC 7517 §4.3', what: 'the only key is the signing key with key_ops ["encrypt"]', op: { jwks: (c) => [c.pub('rsa', { key_ops: ['encrypt'] })] }, expect: R('no_matching_key') },
  { name: 'rsa-1024', ref: 'RFC 7518 §3.3', what: 'signed with an RSA-1024 key published in the JWKS', op: { jwks: (c) => [c.pub('weak'), c.pub('ec')], idToken: (t) => { t.key = 'weak'; t.header.kid = 'rsa-weak'; } }, expect: R('no_matching_key') },
  { name: 'kid-of-other-kty', ref: '8725bis §3.1', what: 'RS256 token whose kid names the P-256 key', op: { idToken: (t) => { t.header.kid = 'ec-1'; } }, expect: R('no_matching_key') },
  {
    name: 'jwk-alg-mismatch', ref: 'RFC 7517 §4.4; 8725bis §3.1', what: 'the key is published with alg PS256; the token is RS256 by that key',
    op: { algs: ['RS256', 'PS256'], jwks: (c) => [c.pub('rsa', { alg: 'PS256' })] }, expect: R('no_matching_key'),
  },
  {
    name: 'es256-by-secp256k1-key', ref: 'RFC 7518 §3.4; RFC 8725 §3.4', what: 'alg ES256, signed by a secp256k1 key, kid of that key',
    op: { jwks: (c) => [c.pub('k1'), c.pub('rsa'), c.pub('ec')], idToken: (t) => { t.header.alg = 'ES256'; t.header.kid = 'k1-1'; t.key = 'k1'; } },
    expect: R('no_matching_key'),
  },

  // ---- keys from the token itself (never trusted) ---------------------------------------------------
  {
    name: 'jku-injection', ref: 'Core 3.1.3.7 step 6, §10.1; RFC 8725 §3.10', what: 'signed by an attacker key; header jku → the attacker\'s JWKS (served, counted), kid of that key',
    op: { idToken: (t, c) => { t.key = 'attacker'; t.header.kid = 'attacker-1'; t.header.jku = `${c.issuer}/attacker/jwks`; } },
    expect: R('no_matching_key'),
  },
  {
    name: 'x5u-injection', ref: 'Core §10.1; RFC 8725 §3.10', what: 'signed by an attacker key; header x5u → the attacker\'s certificate URL (served, counted)',
    op: { idToken: (t, c) => { t.key = 'attacker'; t.header.kid = 'attacker-1'; t.header.x5u = `${c.issuer}/attacker/cert.pem`; } },
    expect: R('no_matching_key'),
  },
  {
    name: 'jwk-header-injection', ref: 'Core §10.1; RFC 8725 §3.10', what: 'signed by an attacker key embedded as header jwk (+ bogus x5c), kid of that key',
    op: { idToken: (t, c) => { t.key = 'attacker'; t.header.kid = 'attacker-1'; t.header.jwk = c.pub('attacker'); t.header.x5c = ['MIIBogus']; } },
    expect: R('no_matching_key'),
  },
  {
    name: 'jwk-header-injection-no-kid', ref: 'Core §10.1; RFC 8725 §3.10', what: 'as jwk-header-injection without kid: the real keys are tried and none verifies',
    op: { idToken: (t, c) => { t.key = 'attacker'; delete t.header.kid; t.header.jwk = c.pub('attacker', { kid: undefined }); } },
    expect: R('signature_invalid'),
  },

  // ---- JOSE header ----------------------------------------------------------------------------------
  { name: 'crit-header', ref: 'RFC 7515 §4.1.11', what: 'crit ["urn:example:ext"] with that member', op: { idToken: (t) => { t.header.crit = ['urn:example:ext']; t.header['urn:example:ext'] = true; } }, expect: R('header_unsupported') },
  { name: 'b64-false', ref: 'RFC 7797 §7', what: 'b64 false, listed in crit', op: { idToken: (t) => { t.header.b64 = false; t.header.crit = ['b64']; } }, expect: R('header_unsupported') },
  { name: 'typ-at-jwt', ref: 'RFC 8725 §3.11; RFC 9068', what: 'typ at+jwt (an access token passed off as an ID token)', op: { idToken: (t) => { t.header.typ = 'at+jwt'; } }, expect: R('header_unsupported') },
  {
    name: 'typ-logout-jwt', ref: 'RFC 8725 §3.12; Back-Channel Logout §2.4', what: 'typ logout+jwt with an events claim',
    op: { idToken: (t) => { t.header.typ = 'logout+jwt'; t.claims.events = { 'http://schemas.openid.net/event/backchannel-logout': {} }; } },
    expect: R('header_unsupported'),
  },

  // ---- JWS serialization ----------------------------------------------------------------------------
  {
    name: 'duplicate-header-member', ref: 'RFC 7515 §4; RFC 7519 §4', what: 'header {"alg":"none",…,"alg":"RS256"}, validly RS256-signed',
    op: { idToken: (t) => { t.headerText = '{"alg":"none","typ":"JWT","kid":"rsa-1","alg":"RS256"}'; } }, expect: R('jwt_malformed'),
  },
  {
    name: 'duplicate-claim-member', ref: 'RFC 7519 §4', what: 'claims {"sub":"mallory",…,"sub":"alice"}, validly signed',
    op: { idToken: (t) => { t.late = () => { t.payloadText = JSON.stringify(t.claims).replace('{', '{"sub":"mallory",'); }; } }, expect: R('jwt_malformed'),
  },
  {
    name: 'base64-standard-alphabet', ref: 'RFC 7515 §2, App. C; 8725bis §3.14', what: 'payload in standard base64 (with + and /), validly signed over that',
    op: {
      idToken: (t) => {
        t.late = () => {
          let i = 0;
          do { t.claims.filler = '\u00ff?>'.repeat(++i); } while (!/[+/]/.test(Buffer.from(JSON.stringify(t.claims)).toString('base64').replace(/=+$/, '')));
        };
        t.encode = (buf, part) => (part === 'payload' ? buf.toString('base64').replace(/=+$/, '') : buf.toString('base64url'));
      },
    },
    expect: R('jwt_malformed'),
  },
  {
    name: 'base64-padding', ref: 'RFC 7515 §2', what: 'payload base64url with "=" padding, validly signed over that',
    op: {
      idToken: (t) => {
        t.late = () => {
          t.claims.filler = '';
          while (Buffer.byteLength(JSON.stringify(t.claims)) % 3 === 0) t.claims.filler += 'x';
        };
        t.encode = (buf, part) => (part === 'payload' ? buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_') : buf.toString('base64url'));
      },
    },
    expect: R('jwt_malformed'),
  },
  {
    name: 'base64-non-canonical', ref: 'RFC 4648 §3.5; 8725bis §3.14', what: 'the signature\'s last character has non-zero unused bits (same bytes to a lenient decoder)',
    op: {
      finish: (jwt) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(jwt.at(-1));
        return jwt.slice(0, -1) + alphabet[last | 0x0f]; // RS256-2048: 256 bytes → the last char carries 2 bits
      },
    },
    expect: R('jwt_malformed'),
  },
  { name: 'whitespace-in-token', ref: 'RFC 7515 §7.1', what: 'a space inside the payload part', op: { finish: (jwt) => { const i = jwt.indexOf('.') + 10; return `${jwt.slice(0, i)} ${jwt.slice(i)}`; } }, expect: R('jwt_malformed') },
  { name: 'two-parts', ref: 'RFC 7515 §7.1', what: 'header.payload', op: { finish: (jwt) => jwt.slice(0, jwt.lastIndexOf('.')) }, expect: R('jwt_malformed') },
  { name: 'four-parts', ref: 'RFC 7515 §7.1', what: 'header.payload.signature.extra', op: { finish: (jwt) => `${jwt}.${jwt.split('.')[2]}` }, expect: R('jwt_malformed') },
  {
    name: 'five-parts-jwe', ref: 'RFC 7519 §7.2; 8725bis §2.13', what: 'a five-part JWE-shaped token (alg RSA-OAEP, enc A256GCM)',
    op: { finish: () => [Buffer.from('{"alg":"RSA-OAEP","enc":"A256GCM","kid":"rsa-1"}').toString('base64url'), 'AAAA', 'AAAAAAAAAAAAAAAA', 'AAAA', 'AAAAAAAAAAAAAAAAAAAAAA'].join('.') },
    expect: R('jwt_malformed'),
  },
  {
    name: 'json-serialization', ref: 'RFC 7515 §7.2 (not for ID tokens); 8725bis §3.3', what: 'the ID token as a flattened JWS JSON object',
    op: { finish: (jwt) => { const [h, p, s] = jwt.split('.'); return JSON.stringify({ protected: h, payload: p, signature: s }); } },
    expect: R('jwt_malformed'),
  },
  {
    name: 'utf8-bom-payload', ref: 'RFC 8259 §8.1; RFC 8725 §3.7', what: 'claims JSON starting with a UTF-8 BOM, validly signed',
    op: { idToken: (t) => { t.late = () => { t.payloadText = `\ufeff${JSON.stringify(t.claims)}`; }; } }, expect: R('jwt_malformed'),
  },
  {
    name: 'utf16-payload', ref: 'RFC 8725 §3.7', what: 'claims JSON in UTF-16LE with a BOM, validly signed',
    op: { idToken: (t) => { t.late = () => { t.payloadBytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(t.claims), 'utf16le')]); }; } },
    expect: R('jwt_malformed'),
  },
  {
    name: 'oversized-100k', ref: '8725bis §3.15 (by analogy); SDK cap 64 KiB', what: 'a validly signed ID token of about 100 KB',
    op: { idToken: bigClaim(100_000) }, expect: R('jwt_malformed'), checks: { maxRejectMs: 1000 },
  },
  {
    name: 'oversized-1mb', ref: '8725bis §3.15 (by analogy)', what: 'a validly signed ID token of about 1 MB',
    op: { idToken: bigClaim(1_000_000) },
    // The browser binding refuses a body over 1 MiB unread (by its Content-Length); the core caps the token
    // response at 256 KiB before the ID token's 64 KiB cap.
    expect: R('jwt_malformed', 'callback', { codes: ['jwt_malformed', 'token_response_invalid'] }), checks: { maxRejectMs: 1000 },
  },
  { name: 'es256-der-signature', ref: 'RFC 7518 §3.4', what: 'a valid ES256 signature in DER instead of R‖S', op: { idToken: (t) => { es256(t); t.der = true; } }, expect: R('signature_invalid') },
  { name: 'es256-zero-signature', ref: 'RFC 7518 §3.4 (r = s = 0)', what: '64 zero bytes as ES256 signature', op: { idToken: (t) => { es256(t); t.signature = () => Buffer.alloc(64); } }, expect: R('signature_invalid') },
  { name: 'es256-short-signature', ref: 'RFC 7518 §3.4', what: 'a 63-byte ES256 signature', op: { idToken: (t) => { es256(t); t.signature = (b) => b.subarray(0, 63); } }, expect: R('signature_invalid') },

  // ---- discovery --------------------------------------------------------------------------------------
  {
    name: 'discovery-issuer-mismatch', ref: 'oidcc-client-test-discovery-issuer-mismatch / rp-discovery-issuer-not-matching-config',
    what: 'discovery issuer + "INVALID": no authorization request may follow', op: { discovery: (d) => { d.issuer += 'INVALID'; } },
    expect: R('issuer_mismatch', 'createClient'),
  },
  {
    name: 'discovery-jwks-uri-keys', ref: 'oidcc-client-test-discovery-jwks-uri-keys / -openid-config',
    what: 'jwks_uri at a random path (the SDK must use the metadata\'s jwks_uri)',
    op: { discovery: (d, c) => { d.jwks_uri = `${c.issuer}/${c.state.randomJwksPath}`; } }, expect: A,
  },

  {
    name: 'pkce-not-supported', ref: 'RFC 9700 §2.1.1; RFC 8414 §2', what: 'code_challenge_methods_supported ["plain"]: no authorization request may follow',
    op: { discovery: (d) => { d.code_challenge_methods_supported = ['plain']; } }, expect: R('pkce_unsupported', 'createClient'),
  },
  {
    name: 'discovery-foreign-http-endpoint', ref: 'OIDC Discovery §3; RFC 9700 §2.6', what: 'token_endpoint on plain http to a non-loopback host',
    op: { discovery: (d) => { d.token_endpoint = 'http://op.example.test/token'; } }, expect: R('discovery_invalid', 'createClient'),
  },
  { name: 'jwks-keys-not-array', ref: 'RFC 7517 §5', what: 'the JWKS is {"keys":{}}', op: { jwks: () => '{"keys":{}}' }, expect: R('jwks_invalid') },

  // ---- the authorization response -------------------------------------------------------------------
  {
    name: 'authorization-response-duplicate-code', ref: 'RFC 6749 §3.1 (parameters must not repeat)', what: 'the callback carries code twice (the second an attacker\'s)',
    op: { authorize: (p) => { p.code = [p.code, 'attacker-code']; } }, expect: R('callback_invalid'),
  },
  { name: 'state-invalid', ref: 'FAPI2 ensure-authorization-response-with-invalid-state-fails', what: 'state + "1"', op: { authorize: (p) => { p.state += '1'; } }, expect: R('state_unknown') },
  { name: 'state-missing', ref: 'FAPI2 ensure-authorization-response-with-invalid-missing-state-fails', what: 'state removed', op: { authorize: (p) => { delete p.state; } }, expect: R('state_missing') },
  { name: 'authorization-response-iss-invalid', ref: 'FAPI2 invalid-authorization-response-iss; RFC 9207 §2.4', what: 'iss + "1" (iss parameter promised)', op: { authorize: (p) => { p.iss += '1'; } }, expect: R('iss_mismatch') },
  { name: 'authorization-response-iss-missing', ref: 'FAPI2 remove-authorization-response-iss; RFC 9207 §2.4', what: 'iss removed (iss parameter promised)', op: { authorize: (p) => { delete p.iss; } }, expect: R('iss_missing') },
  {
    name: 'authorization-response-iss-not-promised', ref: 'RFC 9207 §2.4', what: 'no iss and authorization_response_iss_parameter_supported absent',
    op: { discovery: (d) => { delete d.authorization_response_iss_parameter_supported; }, authorize: (p) => { delete p.iss; } }, expect: A,
  },
  {
    name: 'authorization-error-access-denied', ref: 'RFC 6749 §4.1.2.1', what: 'error=access_denied with the right state and iss',
    op: { authorize: (p) => { delete p.code; p.error = 'access_denied'; p.error_description = 'The user said no'; } },
    expect: R('authorization_error'), checks: { oauthError: 'access_denied' },
  },
  {
    name: 'authorization-error-wrong-iss', ref: 'RFC 9207 §2.4 (error responses too); RFC 9700 §4.4.2', what: 'error=access_denied with iss + "1"',
    op: { authorize: (p) => { delete p.code; p.error = 'access_denied'; p.iss += '1'; } }, expect: R('iss_mismatch'),
  },

  // ---- the token response -----------------------------------------------------------------------------
  { name: 'token-type-case-insensitivity', ref: 'FAPI2 token-type-case-insensitivity; RFC 6749 §5.1', what: 'token_type "bEARER"', op: { tokenResponse: (b) => { b.token_type = 'bEARER'; } }, flow: ['userinfo'], expect: A },
  { name: 'token-response-without-expires-in', ref: 'FAPI2 token-endpoint-response-without-expires_in', what: 'no expires_in', op: { tokenResponse: (b) => { delete b.expires_in; } }, flow: ['userinfo'], expect: A },
  { name: 'no-scope-in-token-response', ref: 'FAPI2 no-scope-in-token-endpoint-response', what: 'no scope', op: { tokenResponse: (b) => { delete b.scope; } }, flow: ['userinfo'], expect: A },

  {
    name: 'token-response-without-id-token', ref: 'OIDC Core §3.1.3.3', what: 'no id_token in the token response',
    op: { tokenResponse: (b) => { delete b.id_token; } }, expect: R('token_response_invalid'),
  },
  { name: 'token-type-not-bearer', ref: 'RFC 6749 §5.1, §7.1', what: 'token_type "mac"', op: { tokenResponse: (b) => { b.token_type = 'mac'; } }, expect: R('token_response_invalid') },
  {
    name: 'token-endpoint-invalid-grant', ref: 'RFC 6749 §5.2', what: 'the token endpoint answers 400 invalid_grant',
    op: { tokenHttp: () => ({ status: 400, headers: { 'Content-Type': 'application/json' }, body: '{"error":"invalid_grant","error_description":"the code has expired"}' }) },
    expect: R('token_error'), checks: { oauthError: 'invalid_grant' },
  },
  {
    name: 'token-endpoint-redirect', ref: 'RFC 9700 §4.12 (307 redirects carry the body)', what: 'the token endpoint answers 307 to the attacker: the code and verifier must not follow',
    op: { tokenHttp: (c) => ({ status: 307, headers: { Location: `${c.issuer}/attacker/token` } }) },
    expect: R('network_error'),
  },

  // ---- UserInfo ---------------------------------------------------------------------------------------
  {
    name: 'userinfo-redirect', ref: 'RFC 9449 §7.1 (the DPoP header is not dropped on a redirect); RFC 6750 §5.3',
    what: 'UserInfo answers 302 to the attacker: a request carrying the access token must not follow',
    op: { userinfoHttp: (c) => ({ status: 302, headers: { Location: `${c.issuer}/attacker/userinfo` } }) }, flow: ['userinfo'],
    expect: R('redirect_refused', 'userinfo'),
  },
  {
    name: 'userinfo-oversized', ref: 'issue #11 (bodies capped before the wasm)', what: 'a 2 MB UserInfo response',
    op: { userinfoHttp: () => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sub: 'alice', pad: 'x'.repeat(2_000_000) }) }) },
    flow: ['userinfo'], expect: R('http_error', 'userinfo'),
  },
  { name: 'userinfo-invalid-sub', ref: 'oidcc-client-test-userinfo-invalid-sub / rp-userinfo-bad-sub-claim; Core 5.3.2', what: 'UserInfo sub + "invalid"', op: { userinfo: (b) => { b.sub += 'invalid'; } }, flow: ['userinfo'], expect: R('userinfo_sub_mismatch', 'userinfo') },

  // ---- refresh ----------------------------------------------------------------------------------------
  {
    name: 'refresh-token-invalid-issuer', ref: 'oidcc-client-test-refresh-token-invalid-issuer; Core 12.2', what: 'refreshed ID token iss + "1"',
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') t.claims.iss += '1'; } }, flow: ['refresh'], expect: R('claim_iss', 'refresh'),
  },
  {
    name: 'refresh-token-invalid-sub', ref: 'oidcc-client-test-refresh-token-invalid-sub; Core 12.2', what: 'refreshed ID token sub + "1"',
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') t.claims.sub += '1'; } }, flow: ['refresh'], expect: R('refresh_id_token_mismatch', 'refresh'),
  },
  {
    name: 'refresh-token-invalid-aud', ref: 'oidcc-client-test-refresh-token-invalid-aud (854b0b0); Core 12.2', what: 'refreshed ID token aud + "1"',
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') t.claims.aud += '1'; } }, flow: ['refresh'], expect: R('claim_aud', 'refresh'),
  },
  {
    name: 'refresh-token-azp-added', ref: 'oidcc-client-test-refresh-token-invalid-azp (854b0b0); Core 12.2', what: 'refreshed ID token gains azp = client_id (the first had none)',
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') t.claims.azp = CLIENT_ID; } }, flow: ['refresh'], expect: R('refresh_id_token_mismatch', 'refresh'),
  },
  {
    name: 'refresh-token-invalid-signature', ref: 'Core 12.2 (verified as in 3.1.3.7)', what: 'refreshed ID token signature XOR 0x5A',
    op: { idToken: (t, c, grant) => { if (grant === 'refresh_token') t.signature = xor5a; } }, flow: ['refresh'], expect: R('signature_invalid', 'refresh'),
  },
  {
    name: 'fapi2-refresh-token-test', ref: 'FAPI2 refresh-token-test; RFC 6750 §3.1',
    what: 'the API answers 401 invalid_token to the first access token: fetchWithToken refreshes and retries; then a second refresh (rotated RT) and the API again',
    op: { api: (c, at) => (at.grant === 'authorization_code' ? 401 : 200) },
    flow: ['api', 'refresh', 'api'], expect: A, checks: { refreshes: 2 },
  },
];

/** The default flow after the callback when a case names none. */
export const DEFAULT_FLOW = ['userinfo'];

export function caseByName(name) {
  return CASES.find((c) => c.name === name);
}
