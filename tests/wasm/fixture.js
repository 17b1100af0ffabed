// Fixture for the in-browser wasm tests (src/wasm_tests.rs): the REAL browser host of js/host.ts with
// only `http` replaced by an in-memory JWKS server, and a WebCrypto token signer.
//
// The import path is absolute on purpose: wasm-bindgen copies this file verbatim into
// `snippets/<crate>-<hash>/tests/wasm/`, so a relative `../../build/test-host.js` would resolve inside
// the snippets folder. wasm-bindgen-test-runner's server falls back to the crate folder for paths it
// did not generate, so `/build/test-host.js` is the file that scripts/test.sh builds from js/host.ts
// (`esbuild js/host.ts --format=esm --outfile=build/test-host.js`).
import { browserHost } from '/build/test-host.js';

const enc = new TextEncoder();

function b64u(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64u(text) {
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

const RSA = (name, bits) => ({
  name, modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256',
});

// JWS alg -> [generateKey params, sign params]
const ALGS = {
  RS256: (bits) => [RSA('RSASSA-PKCS1-v1_5', bits), { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: (bits) => [RSA('RSA-PSS', bits), { name: 'RSA-PSS', saltLength: 32 }],
  ES256: () => [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  EdDSA: () => [{ name: 'Ed25519' }, { name: 'Ed25519' }],
  Ed25519: () => [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

/// A fresh key pair for `alg` (RS256, PS256, ES256, EdDSA, Ed25519), published under `kid` with
/// `"alg": publishedAlg` (default: `alg`; an empty string publishes no alg member). `rsaBits` is the RSA
/// modulus length (ignored for EC/OKP).
export async function newKey(alg, kid, rsaBits, publishedAlg) {
  const make = ALGS[alg];
  if (!make) throw new Error('fixture: unknown alg ' + alg);
  const [gen, sign] = make(rsaBits || 2048);
  const pair = await crypto.subtle.generateKey(gen, true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  // What a provider publishes: the public members plus kid, use and alg (WebCrypto's export also has
  // key_ops and ext, and an alg of its own choosing: "Ed25519" for every Ed25519 key, none for EC).
  const pub = { ...jwk, kid, use: 'sig', alg: publishedAlg ?? alg };
  if (pub.alg === '') delete pub.alg;
  return { alg, sign, privateKey: pair.privateKey, publicJwk: JSON.stringify(pub) };
}

/// The public JWK (JSON text) of a key from `newKey`.
export function publicJwk(key) {
  return key.publicJwk;
}

/// A compact JWS: `header` and `payload` are JSON texts, signed with `key` whatever the header says.
/// ECDSA signatures come out of WebCrypto as R‖S (IEEE P1363), the JWS form (RFC 7518 §3.4).
export async function signJwt(key, header, payload) {
  const input = b64u(enc.encode(header)) + '.' + b64u(enc.encode(payload));
  const sig = new Uint8Array(await crypto.subtle.sign(key.sign, key.privateKey, enc.encode(input)));
  return input + '.' + b64u(sig);
}

function derInt(bytes) {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v = Array.from(bytes.slice(i));
  if (v[0] & 0x80) v = [0, ...v];
  return [0x02, v.length, ...v];
}

/// The same token with its R‖S ECDSA signature re-encoded as ASN.1 DER (what OpenSSL/Java produce).
export function derSignature(token) {
  const dot = token.lastIndexOf('.');
  const raw = unb64u(token.slice(dot + 1));
  const half = raw.length / 2;
  const body = [...derInt(raw.slice(0, half)), ...derInt(raw.slice(half))];
  return token.slice(0, dot + 1) + b64u(new Uint8Array([0x30, body.length, ...body]));
}

/// The browser host of js/host.ts with `http` answering GETs of `jwksUri` from an in-memory list of
/// JWKS texts: the n-th request gets `jwksList[n]` (the last one repeats). Any other URL or method gets
/// a 404. `httpCalls(host)` counts every request. `now` is the real host's clock plus an offset that
/// `advanceClock` moves forward (so tests of the JWKS refetch interval need not sleep).
export function fakeHost(jwksUri, jwksList) {
  const host = browserHost();
  const state = { calls: 0, offset: 0, keys: 0 };
  // The clock (an import of the shipped module, in js/core.ts) and key handles (given by the core):
  // supplied here for the test host.
  host.now = () => Date.now() / 1000 + state.offset;
  host.nextKey = () => state.keys++;
  host.http = async (method, url, _body) => {
    const n = state.calls++;
    if (method !== 'GET' || url !== jwksUri) return { status: 404, body: '' };
    return { status: 200, body: jwksList[Math.min(n, jwksList.length - 1)] };
  };
  host.__fixture = state;
  return host;
}

export function httpCalls(host) {
  return host.__fixture.calls;
}

export function advanceClock(host, seconds) {
  host.__fixture.offset += seconds;
}

/// Whether this browser's WebCrypto can generate and use Ed25519 keys.
export async function ed25519Supported() {
  try {
    await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    return true;
  } catch {
    return false;
  }
}
