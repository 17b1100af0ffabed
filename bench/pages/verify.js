// Verification cost: oidc-wasm's ID-token verification beside bare WebCrypto on the same token, in one page.
//
// The page makes an RS256 key pair and signs an ID token shaped like oidc-provider's (no at_hash, so the
// comparison is signature + claims only). oidc-wasm's core runs through js/core.ts exactly as the SDK runs it
// (`Module`, `Core`: events in, effects out, carried out by a host), over a scripted host: the real browser
// host's WebCrypto (importKey by handle, verify), but discovery, JWKS and the token endpoint answered from
// memory, and the module's storage imports (sessionStorage, the tabs' shared generation in localStorage,
// history.replaceState) replaced by a Map — no network, no Web Storage, no IndexedDB. Each contestant has its
// own instance of the module (compiled once).
//
// What is timed per iteration, with `mode`:
//   hook      core.call('verifyIdToken', { token, nonce }): JWS parse, key from the (cached) JWKS, WebCrypto
//             verify, claims and nonce checks — exactly the verify_id_token a callback runs. Used when the
//             core was built with that method (cargo feature `bench`, see bench/build.mjs).
//   callback  core.call('callback', { url }) with the login transaction put back before each iteration:
//             the same verification plus callback-URL parsing, the transaction read, the token-response parse
//             and the session install. An upper bound, used while the core has no hook.
// Each is measured twice, like for like:
//   uncached  the host imports the JWK on every verification  vs  bare importKey + verify
//   cached    the browser host as shipped (keeps the imported key) vs bare verify with the key imported once
//   no crypto the core with the host's verify answering `true` at once: what oidc-wasm itself costs per
//             token (parsing, checks, the wasm/JS crossings, the effect round trips), a diagnostic beside the
//             two pairs
// Blocks of BLOCK iterations alternate between the contestants; performance.now() is coarse (100 µs outside
// cross-origin isolation), so each block's mean is one sample: median and min–max are over block means.

import { Core, Module } from '../../js/core.ts';
import { browserHost } from '../../js/host.ts';

const q = new URLSearchParams(location.search);
const N = Number(q.get('n') ?? 1000);
const BLOCK = Number(q.get('block') ?? 10);
const WARMUP = 30;

const b64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const randomB64u = (n) => b64u(crypto.getRandomValues(new Uint8Array(n)));
const enc = new TextEncoder();

/** An instance of the core whose storage imports use `store` (a Map) instead of Web Storage and history. */
async function instantiate(compiled, store) {
  const m = new Module();
  const imports = m.imports();
  const str = (p, l) => m.str(p, l);
  const shared = new Map();
  Object.assign(imports.env, {
    storage_get: (kp, kl) => m.putText(store.get(str(kp, kl)) ?? null),
    storage_set: (kp, kl, vp, vl) => { store.set(str(kp, kl), str(vp, vl)); return 1; },
    storage_remove: (kp, kl) => { store.delete(str(kp, kl)); },
    storage_keys: (pp, pl) => { const p = str(pp, pl); return m.putText([...store.keys()].filter((k) => k.startsWith(p)).join('\n')); },
    shared_get: (np, nl, ended) => shared.get(`${str(np, nl)}|${ended}`) ?? 0,
    shared_set: (np, nl, generation, ended) => {
      const name = str(np, nl);
      shared.set(`${name}|0`, generation);
      if (ended) shared.set(`${name}|1`, generation);
    },
    replace_url: () => 1,
  });
  m.ex = (await WebAssembly.instantiate(compiled, imports)).exports;
  return m;
}

async function main() {
  const compiled = await WebAssembly.compileStreaming(fetch(new URL('./core.wasm', import.meta.url)));
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const pair = await crypto.subtle.generateKey({ ...alg, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify']);
  const { kty, n, e } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk = { kty, n, e, kid: 'bench-rs256', alg: 'RS256', use: 'sig' };

  const issuer = 'https://op.bench.example';
  const clientId = 'bench-verify';
  const redirectUri = `${location.origin}/verify/callback`;
  const nonce = randomB64u(32);
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: jwk.kid };
  const payload = {
    sub: 'bench-user', email: 'bench@example.test', email_verified: true, name: 'Bench User',
    nonce, auth_time: now, sid: randomB64u(16), iat: now, exp: now + 3600, aud: clientId, iss: issuer,
  };
  const signingInput = `${b64u(enc.encode(JSON.stringify(header)))}.${b64u(enc.encode(JSON.stringify(payload)))}`;
  const signature = new Uint8Array(await crypto.subtle.sign(alg, pair.privateKey, enc.encode(signingInput)));
  const token = `${signingInput}.${b64u(signature)}`;
  const data = enc.encode(signingInput);

  // The scripted host.
  const discovery = JSON.stringify({
    issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
  });
  const jwks = JSON.stringify({ keys: [jwk] });
  const tokenResponse = JSON.stringify({ access_token: randomB64u(32), token_type: 'Bearer', expires_in: 3600, id_token: token, scope: 'openid profile email' });
  const makeHost = (cached, stub) => {
    const host = {
      ...browserHost(), // WebCrypto as shipped: importKey by handle, verify with the kept key
      async http(method, url) {
        const body = url.endsWith('/.well-known/openid-configuration') ? discovery : url.endsWith('/jwks') ? jwks : tokenResponse;
        return { status: 200, body };
      },
      prefetch() {}, // the scripted http answers at once: nothing to start early (and no real request)
      lock: async () => () => {},
      broadcast() {},
    };
    if (stub) {
      host.verify = async () => true; // diagnostic: the core's own work, with WebCrypto taken out
    } else if (!cached) {
      // The shipped host's verify without its key cache: importKey + verify every time, from the JWK the core
      // handed over with the handle (the shipped host imports once per handle and keeps the CryptoKey).
      const imported = [];
      host.importKey = (handle, name, hash, namedCurve, saltLength, jwkText) => {
        imported[handle] = { alg: { name, hash, namedCurve, saltLength }, jwk: JSON.parse(jwkText) };
      };
      host.verify = async (handle, bytes, sig) => {
        const input = bytes.slice();
        const s = sig.slice();
        const { alg: a, jwk: j } = imported[handle];
        const key = await crypto.subtle.importKey('jwk', j, a, false, ['verify']);
        return crypto.subtle.verify(a, key, s, input);
      };
    }
    return host;
  };

  let mode = 'hook';
  const makeCore = async (cached, stub = false) => {
    const store = new Map();
    const m = await instantiate(compiled, store);
    const core = new Core(m, JSON.stringify({ issuer, clientId, redirectUri, appOrigin: location.origin }), makeHost(cached, stub));
    await core.call('discover');
    if (mode === 'hook') {
      try {
        const claims = await core.call('verifyIdToken', { token, nonce });
        if (claims?.sub !== payload.sub) throw new Error('verifyIdToken did not answer the token\'s claims');
        return async () => { await core.call('verifyIdToken', { token, nonce }); };
      } catch (e) {
        if (!(Array.isArray(e) && e[0] === 'invalid_config')) throw e;
        mode = 'callback'; // a core without the method (built without the `bench` feature): "unknown call"
      }
    }
    const state = randomB64u(32);
    const tx = JSON.stringify({ v: 1, state, code_verifier: randomB64u(32), nonce, issuer, client_id: clientId, expires_at: now + 600 });
    const url = `${redirectUri}?code=${randomB64u(16)}&state=${state}`;
    return async () => {
      store.set(`oidc-wasm.tx.${issuer}|${clientId}|${state}`, tx); // the login transaction's key (src/transaction.rs)
      await core.call('callback', { url });
    };
  };

  const wasmUncached = await makeCore(false);
  const wasmCached = await makeCore(true);
  const wasmNoCrypto = await makeCore(true, true);
  const importKey = () => crypto.subtle.importKey('jwk', jwk, alg, false, ['verify']);
  const bareUncached = async () => {
    if (!(await crypto.subtle.verify(alg, await importKey(), signature, data))) throw new Error('bare verify failed');
  };
  const key = await importKey();
  const bareCached = async () => {
    if (!(await crypto.subtle.verify(alg, key, signature, data))) throw new Error('bare verify failed');
  };

  // Correctness first: oidc-wasm must accept this token (a rejection fails the page).
  for (const f of [wasmUncached, wasmCached, wasmNoCrypto, bareUncached, bareCached]) for (let i = 0; i < WARMUP; i += 1) await f();

  const contestants = { wasmUncached, bareUncached, wasmCached, bareCached, wasmNoCrypto };
  const samples = Object.fromEntries(Object.keys(contestants).map((k) => [k, []]));
  const names = Object.keys(contestants);
  for (let b = 0; b < Math.max(1, Math.round(N / BLOCK)); b += 1) {
    const order = b % 2 ? [...names].reverse() : names; // alternate the order, so no one always goes first
    for (const name of order) {
      const f = contestants[name];
      const t0 = performance.now();
      for (let i = 0; i < BLOCK; i += 1) await f();
      samples[name].push(((performance.now() - t0) / BLOCK) * 1000); // µs per verification
    }
  }
  return { mode, n: Math.max(1, Math.round(N / BLOCK)) * BLOCK, block: BLOCK, samples, crossOriginIsolated };
}

window.__bench = {};
main().then((r) => { window.__bench.result = r; }, (e) => {
  const err = Array.isArray(e) ? `${e[0]} ${e[1]}` : `${String(e?.code ?? '')} ${String(e?.message ?? e)}`;
  window.__bench.error = err;
});
