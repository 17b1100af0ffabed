// End-to-end tests of sender-constrained tokens (RFC 9449 DPoP, `createClient({ dpop: true })`) and of
// the sealed session (`persistSession: 'sealed'`). The built SDK (dist/) runs in headless Chromium
// against a real OpenID Provider with DPoP (nonces available) and the sample API requiring DPoP.
//
//   node --test tests/e2e/dpop.test.mjs      (needs dist/ from `node scripts/build.mjs`, and Chromium)
//
// In this process, on ephemeral loopback ports:
//   OP    dev/provider.mjs with `dpop: {}`: server nonces available, switched on per test with
//         op.dpop.requireNonce; op.tokenRequests says for each token request whether it carried a proof,
//         with a nonce, and the proof key's thumbprint; op.requests gives the authorization request's dpop_jkt
//   API   dev/api.mjs with `dpop: 'required'`: only DPoP-bound tokens, with a valid proof
//         (signature by the embedded jwk, htm, htu, iat, jti replay cache, ath, cnf.jkt), nonces per test
//   app   examples/server.mjs + the flow-explorer page with test hooks; each test sets `dpop` and
//         `persistSession` in its /config.json
//
// Each test uses a fresh browser context (its own IndexedDB, so its own DPoP key, and its own session at
// the OP). Token responses and the page's requests are captured with Playwright; tokens are compared,
// never printed (assertion messages name a token or show a SHA-256 fingerprint). On failure, screenshots
// go to tests/e2e/artifacts/dpop-*.png.
// Environment: CHROMIUM and E2E_APP_ROOT, as tests/e2e/support.mjs describes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT,
} from 'jose';
import { fingerprint, SAMPLE_API_SCOPE } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';
import {
  assertNoSecrets, assertStorageHoldsNoSecret, callSdk, captureTokenResponses, codeExchange,
  describeOutcome as describeSdkOutcome, dumpStorage, lastTokenResponse, loginAtProvider, openSignedOut, refreshGrant,
  screenshotOnFailure, signInThroughProvider, startAppWithProvider, startBrowser, waitForOutcome,
} from './support.mjs';

const CLIENT_ID = 'dpop-e2e';
// Generous but bounded: the machine may be shared with builds and other browsers.
const STEP_TIMEOUT = 20_000;
const TEST_TIMEOUT = 120_000;
const API_SCOPE = `openid profile email ${SAMPLE_API_SCOPE}`;
// What ends a page load here: a reload may end signed out.
const ANY_STATE = ['signed-in', 'signed-out', 'error'];

let op;
let api;
let app;
let browser;
let tokenEndpoint;
let userinfoEndpoint;

const sha256 = (text) => createHash('sha256').update(text).digest('base64url');
const keyName = (suffix) => `oidc-wasm|${op.issuer}|${CLIENT_ID}|${suffix}`;
/** The stored DPoP key pairs (one per login: `<app>|dpop|<key id>`), by IndexedDB key. */
const dpopKeys = (dump) => storeRecords(dump, 'keys').filter((k) => String(k.key).startsWith(`${keyName('dpop')}|`));

/** The page's config: the API, test hooks, and the SDK options under test. */
function configure({ dpop = true, persistSession, scope = API_SCOPE } = {}) {
  app.configure({
    issuer: op.issuer,
    clientId: CLIENT_ID,
    scope,
    apiUrl: api.url,
    testHooks: true,
    dpop,
    ...(persistSession && { persistSession }),
  });
}

/**
 * A new browser context whose token-endpoint and API traffic is captured:
 *   tokenResponses  { grantType, status, body, proof, at, ... } per POST to the token endpoint
 *   apiRequests     { method, url, scheme, proof, status } per non-preflight request to the API
 * (proof: the DPoP header's value; only compared and decoded, never printed).
 */
async function newContext() {
  const session = await browser.newContext({ stepTimeout: STEP_TIMEOUT });
  const apiRequests = [];
  session.context.on('response', (res) => {
    const req = res.request();
    if (!res.url().startsWith(`${api.origin}/`) || req.method() === 'OPTIONS') return;
    const entry = { method: req.method(), url: res.url(), scheme: null, proof: null, status: res.status() };
    apiRequests.push(entry);
    entry.ready = req.allHeaders().then((h) => {
      entry.scheme = (h.authorization ?? '').split(' ')[0] || null;
      entry.proof = h.dpop ?? null;
    }, () => {});
  });
  return { ...session, tokenResponses: captureTokenResponses(session.context, tokenEndpoint), apiRequests };
}

/** Token responses of a grant type, bodies read. */
async function tokenResponsesOf(session, grantType) {
  const matching = session.tokenResponses.filter((r) => r.grantType === grantType);
  await Promise.all(matching.map((r) => r.ready));
  return matching;
}

/** From the app's start page through the provider's login (and consent) pages; returns the code exchange. */
async function signIn(session, page, username) {
  await signInThroughProvider(page, { app, op, username, states: ANY_STATE });
  return codeExchange(session.tokenResponses);
}

const sdk = (page, method, ...args) => callSdk(page, STEP_TIMEOUT, method, ...args);
const describeOutcome = (r) => describeSdkOutcome(r, STEP_TIMEOUT);

async function apiCall(page, path = '/me', init) {
  const r = await sdk(page, 'fetchWithToken', `${api.url}${path}`, ...(init ? [init] : []));
  assert.ok(r.ok, `fetchWithToken(${api.url}${path}) ${describeOutcome(r)}`);
  return r.value;
}

/** A DPoP proof made in this process with `key` (the attacker's own key pair). */
async function attackerProof(key, { htm, htu, accessToken, nonce }) {
  const claims = { htm, htu, jti: randomUUID() };
  if (accessToken) claims.ath = sha256(accessToken);
  if (nonce) claims.nonce = nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
    .setIssuedAt()
    .sign(key.privateKey);
}

async function attackerKey() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/** A nonce the OP handed out (any response may carry one), so the thief's proof fails on the key, not the nonce. */
function stolenNonce(res) {
  return res.headers.get('dpop-nonce') ?? undefined;
}

/** A refresh-token grant straight to the OP, as a thief holding the refresh token would send it. */
function stolenRefresh(refreshToken, proof) {
  return refreshGrant(tokenEndpoint, { clientId: CLIENT_ID, refreshToken, proof });
}

/** Checks a DPoP proof's header and claims; returns its key's RFC 7638 thumbprint. */
async function checkProofShape(proof, { htm, htu, accessToken, label }) {
  assert.equal(typeof proof, 'string', `${label}: a DPoP header was sent`);
  const header = decodeProtectedHeader(proof);
  const claims = decodeJwt(proof);
  assert.equal(header.typ, 'dpop+jwt', `${label}: typ`);
  assert.equal(header.alg, 'ES256', `${label}: alg`);
  assert.equal(header.jwk?.kty, 'EC', `${label}: the jwk is an EC key`);
  assert.equal(header.jwk?.crv, 'P-256', `${label}: on P-256`);
  assert.equal(header.jwk?.d, undefined, `${label}: the jwk is the public key only`);
  assert.equal(claims.htm, htm, `${label}: htm`);
  assert.equal(claims.htu, htu, `${label}: htu (without query or fragment)`);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 30, `${label}: iat is now`);
  assert.ok(typeof claims.jti === 'string' && claims.jti.length >= 16, `${label}: jti`);
  if (accessToken) assert.equal(claims.ath, sha256(accessToken), `${label}: ath = base64url(SHA-256(access token))`);
  else assert.equal(claims.ath, undefined, `${label}: no ath`);
  return calculateJwkThumbprint(header.jwk);
}

/** The secrets of captured token responses: each token, and the signature part of each JWT. */
function secretsOf(responses) {
  const secrets = {};
  responses.forEach((r, i) => {
    for (const field of ['access_token', 'refresh_token', 'id_token']) {
      const value = r.body?.[field];
      if (typeof value !== 'string') continue;
      secrets[`${field} #${i + 1} (${r.grantType})`] = value;
      const parts = value.split('.');
      if (parts.length === 3) secrets[`${field} #${i + 1} signature`] = parts[2];
    }
  });
  return secrets;
}

/** The records of one IndexedDB store of the `oidc-wasm` database in a dump. */
function storeRecords(dump, store) {
  return dump.indexedDB.find((d) => d.name === 'oidc-wasm')?.stores?.[store] ?? [];
}

/**
 * In the page: the sealed record, opened with the stored (non-extractable, but usable) key, reduced to
 * its member names and the SHA-256 fingerprints of its string members. Shows which refresh token the seal
 * holds without the test ever holding the plaintext.
 */
function sealedFingerprints(page, name) {
  return page.evaluate(async (name) => {
    const db = await new Promise((res, rej) => {
      const req = indexedDB.open('oidc-wasm');
      req.onsuccess = () => res(req.result);
      req.onerror = () => rej(req.error);
    });
    const get = (store, key) => new Promise((res, rej) => {
      const tx = db.transaction(store, 'readonly');
      const req = tx.objectStore(store).get(key);
      tx.oncomplete = () => res(req.result);
      tx.onerror = () => rej(tx.error);
    });
    try {
      const box = await get('sealed', name);
      const key = await get('keys', `${name}|key`);
      if (!box || !key) return null;
      const text = new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv }, key, box.ciphertext));
      const members = JSON.parse(text);
      const fp = async (s) => {
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)));
        return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '').slice(0, 16);
      };
      const fingerprints = [];
      for (const v of Object.values(members)) if (typeof v === 'string') fingerprints.push(await fp(v));
      return { names: Object.keys(members).sort(), fingerprints };
    } finally {
      db.close();
    }
  }, name);
}

before(async () => {
  ({ app, op } = await startAppWithProvider(CLIENT_ID, { resourceServer: { accessTokenTTL: 3600 }, dpop: { requireNonce: false } }));
  api = await startApi({ issuer: op.issuer, allowedOrigins: [app.origin], dpop: 'required' });
  const meta = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
  tokenEndpoint = meta.token_endpoint;
  userinfoEndpoint = meta.userinfo_endpoint;
  assert.ok(meta.dpop_signing_alg_values_supported?.includes('ES256'), 'the OP announces DPoP with ES256');
  configure();
  browser = await startBrowser({ timeout: 30_000 });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close();
  await Promise.allSettled([app?.close(), op?.close(), api?.close()]);
}, { timeout: 30_000 });

describe('DPoP (RFC 9449): tokens bound to a non-extractable key', () => {
  test('sign-in binds the tokens to the key: dpop_jkt, a proof on the code exchange and refresh, token_type DPoP, cnf.jkt; the API answers 200', { timeout: TEST_TIMEOUT }, async (t) => {
    configure({ dpop: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-bound', async () => {
      const page = await session.newTab();
      const authzBefore = op.requests.length;
      const tokensBefore = op.tokenRequests.length;
      const exchange = await signIn(session, page, 'dora');

      // The code exchange: one request, with a proof (no ath: there is no token yet), answered DPoP.
      const exchanges = op.tokenRequests.slice(tokensBefore);
      assert.deepEqual(exchanges.map((r) => [r.grantType, r.status, r.dpop]), [['authorization_code', 200, true]], 'one code exchange, with a DPoP proof');
      const jkt = await checkProofShape(exchange.proof, { htm: 'POST', htu: tokenEndpoint, label: 'the code exchange proof' });
      assert.equal(exchange.body.token_type, 'DPoP', 'the OP issued a DPoP token');
      assert.equal(exchanges[0].tokenType, 'DPoP');
      assert.equal(exchanges[0].dpopJkt, jkt, 'the OP saw the same key');

      // The authorization request bound the code to the same key (dpop_jkt, RFC 9449 §10).
      const authz = op.requests.slice(authzBefore).filter((r) => r.path === '/auth'); // not the /auth/<uid> resumes
      assert.equal(authz.length, 1, 'one authorization request');
      assert.equal(authz[0].dpopJkt, jkt, 'dpop_jkt is the thumbprint of the proof key');

      // The access token (a JWT for the API) is bound to the key.
      const at = decodeJwt(exchange.body.access_token);
      assert.equal(at.cnf?.jkt, jkt, 'the access token carries cnf.jkt = the key thumbprint');

      // fetchWithToken: Authorization: DPoP + a proof for this request (htu without the query, ath).
      const apiBefore = api.log.length;
      const capturedBefore = session.apiRequests.length;
      const me = await apiCall(page, '/me?with=query#and-fragment');
      assert.equal(me.status, 200, `GET /api/me answered ${me.status} ${me.challenge ?? ''}`);
      assert.equal(JSON.parse(me.body).sub, 'dora');
      const echo = await apiCall(page, '/echo', { method: 'POST', body: JSON.stringify({ hello: 'dpop' }), headers: { 'Content-Type': 'application/json' } });
      assert.equal(echo.status, 200, `POST /api/echo answered ${echo.status} ${echo.challenge ?? ''}`);
      assert.deepEqual(JSON.parse(echo.body).echo, { hello: 'dpop' });
      const logged = api.log.slice(apiBefore);
      assert.deepEqual(logged.map((e) => [e.method, e.scheme, e.dpop, e.bound, e.status]), [['GET', 'DPoP', true, true, 200], ['POST', 'DPoP', true, true, 200]]);
      const sent = session.apiRequests.slice(capturedBefore);
      await Promise.all(sent.map((r) => r.ready));
      assert.deepEqual(sent.map((r) => r.scheme), ['DPoP', 'DPoP'], 'Authorization: DPoP <token>');
      assert.equal(await checkProofShape(sent[0].proof, { htm: 'GET', htu: `${api.url}/me`, accessToken: exchange.body.access_token, label: 'the GET proof' }), jkt);
      assert.equal(await checkProofShape(sent[1].proof, { htm: 'POST', htu: `${api.url}/echo`, accessToken: exchange.body.access_token, label: 'the POST proof' }), jkt);

      // Twenty calls at once: twenty distinct proofs (the API's replay cache would refuse a repeated jti).
      const burstBefore = api.log.length;
      const statuses = await page.evaluate(async ([url, limit]) => {
        const all = Promise.all(Array.from({ length: 20 }, () => window.__oidc.fetchWithToken(url).then((r) => r.status, () => 0)));
        return Promise.race([all, new Promise((r) => setTimeout(() => r(null), limit))]);
      }, [`${api.url}/me`, STEP_TIMEOUT]);
      assert.deepEqual(statuses, Array(20).fill(200), 'twenty concurrent calls all got 200');
      assert.equal(api.log.length - burstBefore, 20, 'and needed no retry');

      // A refresh: a proof (same key), answered DPoP, the new access token bound to the same key.
      const refreshBefore = op.tokenRequests.length;
      const r = await sdk(page, 'refresh');
      assert.ok(r.ok, `refresh() ${describeOutcome(r)}`);
      const refreshes = op.tokenRequests.slice(refreshBefore);
      assert.deepEqual(refreshes.map((x) => [x.grantType, x.status, x.dpop, x.dpopJkt, x.tokenType]), [['refresh_token', 200, true, jkt, 'DPoP']]);
      const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
      await checkProofShape(refreshed.proof, { htm: 'POST', htu: tokenEndpoint, label: 'the refresh proof' });
      assert.equal(decodeJwt(refreshed.body.access_token).cnf?.jkt, jkt, 'the refreshed access token is bound to the same key');
      assert.equal((await apiCall(page)).status, 200, 'the API accepts the refreshed token');
      t.diagnostic(`key thumbprint ${jkt}; API requests: ${api.log.length - apiBefore}`);
    });
  });

  test('a stolen access or refresh token is useless without the key: no proof, Bearer, another key\'s proof, a replayed proof → refused', { timeout: TEST_TIMEOUT }, async () => {
    configure({ dpop: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-stolen', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'mallory-victim');
      const token = exchange.body.access_token;
      const capturedBefore = session.apiRequests.length;
      assert.equal((await apiCall(page)).status, 200, 'the page itself gets 200');
      const [legit] = session.apiRequests.slice(capturedBefore);
      await legit.ready;

      const call = (headers) => fetch(`${api.url}/me`, { headers });
      const challenge = (res) => res.headers.get('www-authenticate') ?? '';

      // The token alone, with the DPoP scheme but no proof.
      const noProof = await call({ Authorization: `DPoP ${token}` });
      assert.equal(noProof.status, 401, 'DPoP scheme without a proof → 401');
      assert.match(challenge(noProof), /^DPoP .*error="invalid_dpop_proof"/);
      // The token as a Bearer token.
      const bearer = await call({ Authorization: `Bearer ${token}` });
      assert.equal(bearer.status, 401, 'a DPoP-bound token sent as Bearer → 401');
      assert.match(challenge(bearer), /^DPoP .*error="invalid_token"/);
      // Bearer with the attacker's proof beside it changes nothing.
      const thief = await attackerKey();
      assert.notEqual(thief.jkt, decodeJwt(token).cnf.jkt);
      const bearerWithProof = await call({ Authorization: `Bearer ${token}`, DPoP: await attackerProof(thief, { htm: 'GET', htu: `${api.url}/me`, accessToken: token }) });
      assert.equal(bearerWithProof.status, 401, 'Bearer + any proof → 401');
      // A correct-looking proof (typ, alg, jwk, htm, htu, iat, jti, ath all right) made with another key.
      const otherKey = await call({ Authorization: `DPoP ${token}`, DPoP: await attackerProof(thief, { htm: 'GET', htu: `${api.url}/me`, accessToken: token }) });
      assert.equal(otherKey.status, 401, 'a proof by another key → 401');
      assert.match(challenge(otherKey), /error="invalid_dpop_proof".*cnf\.jkt/, 'refused because the key is not the bound one');
      // The page's own proof, captured on the wire and replayed with the token.
      const replayed = await call({ Authorization: `DPoP ${token}`, DPoP: legit.proof });
      assert.equal(replayed.status, 401, 'the page\'s proof replayed → 401');
      assert.match(challenge(replayed), /error="invalid_dpop_proof".*jti/, 'refused as a replay (jti seen)');
      // …and the page's proof for GET /api/me does not fit another request either.
      const otherRoute = await fetch(`${api.url}/echo`, { method: 'POST', headers: { Authorization: `DPoP ${token}`, DPoP: legit.proof }, body: 'x' });
      assert.equal(otherRoute.status, 401, 'the page\'s proof on another method and URL → 401');

      // The refresh token is bound too (public client): refused at the OP without the key, and the
      // attempts do not hurt the real session.
      const stolenNoProof = await stolenRefresh(exchange.body.refresh_token);
      assert.equal(stolenNoProof.status, 400);
      assert.equal(stolenNoProof.body.error, 'invalid_grant', 'refresh token without a proof → invalid_grant');
      const stolenOtherKey = await stolenRefresh(exchange.body.refresh_token, await attackerProof(thief, { htm: 'POST', htu: tokenEndpoint }));
      assert.equal(stolenOtherKey.status, 400);
      assert.equal(stolenOtherKey.body.error, 'invalid_grant', 'refresh token with another key\'s proof → invalid_grant');
      const r = await sdk(page, 'refresh');
      assert.ok(r.ok, `the page's own refresh() still works ${describeOutcome(r)}`);
      assert.equal((await apiCall(page)).status, 200, 'and the API still answers the page');
    });
  });

  test('the DPoP private key is a non-extractable CryptoKey in IndexedDB; its public half is the bound key', { timeout: TEST_TIMEOUT }, async () => {
    configure({ dpop: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-non-extractable', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'kim');
      const names = dpopKeys(await dumpStorage(page)).map((k) => k.key);
      assert.equal(names.length, 1, `one DPoP key pair stored under ${keyName('dpop')}|<key id>`);
      const info = await page.evaluate(async (name) => {
        const db = await new Promise((res, rej) => {
          const req = indexedDB.open('oidc-wasm');
          req.onsuccess = () => res(req.result);
          req.onerror = () => rej(req.error);
        });
        const stored = await new Promise((res, rej) => {
          const tx = db.transaction('keys', 'readonly');
          const req = tx.objectStore('keys').get(name);
          tx.oncomplete = () => res(req.result);
          tx.onerror = () => rej(tx.error);
        });
        db.close();
        if (!stored) return { found: false };
        const { privateKey, publicKey } = stored;
        const refusal = async (format) => {
          try {
            await crypto.subtle.exportKey(format, privateKey);
            return 'exported';
          } catch (e) {
            return e?.name ?? 'error';
          }
        };
        const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new Uint8Array([1, 2, 3]));
        return {
          found: true,
          isCryptoKey: privateKey instanceof CryptoKey,
          type: privateKey.type,
          extractable: privateKey.extractable,
          algorithm: { ...privateKey.algorithm },
          usages: privateKey.usages,
          exportJwk: await refusal('jwk'),
          exportPkcs8: await refusal('pkcs8'),
          usable: signature.byteLength === 64,
          publicJwk: await crypto.subtle.exportKey('jwk', publicKey),
        };
      }, names[0]);
      assert.ok(info.found, `the key pair is stored under ${names[0]}`);
      assert.equal(info.isCryptoKey, true, 'stored as a CryptoKey object');
      assert.equal(info.type, 'private');
      assert.equal(info.extractable, false, 'privateKey.extractable === false');
      assert.deepEqual(info.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
      assert.deepEqual(info.usages, ['sign']);
      assert.equal(info.exportJwk, 'InvalidAccessError', 'exportKey(\'jwk\', privateKey) rejects');
      assert.equal(info.exportPkcs8, 'InvalidAccessError', 'exportKey(\'pkcs8\', privateKey) rejects');
      assert.equal(info.usable, true, 'the key can sign (in this origin only)');
      assert.equal(info.publicJwk.d, undefined);
      const { kty, crv, x, y } = info.publicJwk;
      assert.equal(await calculateJwkThumbprint({ kty, crv, x, y }), decodeJwt(exchange.body.access_token).cnf.jkt, 'the stored key is the one the token is bound to');
    });
  });

  test('nonce challenges (RFC 9449 §8, §9) are met with exactly one retry, at the API and at the OP; a second challenge goes back to the caller', { timeout: TEST_TIMEOUT }, async (t) => {
    configure({ dpop: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-nonce', async () => {
      const page = await session.newTab();
      op.dpop.requireNonce = true;
      let exchange;
      const tokensBefore = op.tokenRequests.length;
      try {
        exchange = await signIn(session, page, 'nora');
        // The OP: the code exchange without a nonce is answered use_dpop_nonce, the retry with it succeeds.
        const exchanges = op.tokenRequests.slice(tokensBefore);
        assert.deepEqual(
          exchanges.map((r) => [r.grantType, r.status, r.error, r.dpopNonce]),
          [['authorization_code', 400, 'use_dpop_nonce', false], ['authorization_code', 200, null, true]],
          'the code exchange: one use_dpop_nonce, one retry with the nonce',
        );
        assert.ok(exchanges[0].nonceIssued, 'the OP sent a DPoP-Nonce');
        // A refresh now uses the nonce it has: one request.
        const refreshBefore = op.tokenRequests.length;
        const r = await sdk(page, 'refresh');
        assert.ok(r.ok, `refresh() with nonces required ${describeOutcome(r)}`);
        assert.deepEqual(op.tokenRequests.slice(refreshBefore).map((x) => [x.grantType, x.status, x.dpopNonce]), [['refresh_token', 200, true]], 'one refresh request, with the nonce');
      } finally {
        op.dpop.requireNonce = false;
      }
      assert.equal(exchange.body.token_type, 'DPoP');

      const tokensAfterSignIn = op.tokenRequests.length;
      api.dpop.requireNonce = true;
      try {
        // First call: the API asks for a nonce, the SDK retries once with it.
        let before = api.log.length;
        const first = await apiCall(page);
        assert.equal(first.status, 200, `the call after a nonce challenge: ${first.status} ${first.challenge ?? ''}`);
        assert.deepEqual(api.log.slice(before).map((e) => [e.status, e.error, e.dpopNonce]), [[401, 'use_dpop_nonce', false], [200, null, true]], 'one challenge, one retry with the nonce');
        // Second call: the remembered nonce is good, one request.
        before = api.log.length;
        assert.equal((await apiCall(page)).status, 200);
        assert.deepEqual(api.log.slice(before).map((e) => [e.status, e.dpopNonce]), [[200, true]], 'the nonce is reused: no challenge');
        // The API forgets its nonces: one challenge, one retry.
        api.rotateDpopNonces();
        before = api.log.length;
        assert.equal((await apiCall(page)).status, 200);
        assert.deepEqual(api.log.slice(before).map((e) => [e.status, e.error]), [[401, 'use_dpop_nonce'], [200, null]], 'after the API rotated its nonces: one challenge, one retry');
        // An API that challenges the retry too: no second retry, the 401 is the caller's answer.
        api.challengeNextDpopProofs(2);
        before = api.log.length;
        const looped = await apiCall(page);
        assert.equal(looped.status, 401, 'the second challenge goes back to the caller');
        assert.match(looped.challenge ?? '', /^DPoP .*error="use_dpop_nonce"/, 'the caller can read the challenge');
        assert.ok(looped.nonce, 'and the DPoP-Nonce header (exposed through CORS)');
        assert.equal(api.log.length - before, 2, 'exactly one retry, no loop');
        // No refresh was spent on any of this.
        assert.equal(op.tokenRequests.length, tokensAfterSignIn + 0, 'a nonce challenge causes no refresh');
        assert.equal((await apiCall(page)).status, 200, 'the next call works');
        t.diagnostic(`API nonce challenges: ${api.counters.dpopNonceChallenges}`);
      } finally {
        api.dpop.requireNonce = false;
        api.challengeNextDpopProofs(0);
      }
    });
  });

  test('UserInfo with a DPoP-bound token: Authorization: DPoP and a proof (with the OP\'s nonce when required)', { timeout: TEST_TIMEOUT }, async (t) => {
    // Without the API's scope the access token is the OP's own, good for UserInfo.
    configure({ dpop: true, scope: 'openid profile email' });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-userinfo', async () => {
      const page = await session.newTab();
      op.dpop.requireNonce = true;
      try {
        const exchange = await signIn(session, page, 'uma');
        assert.equal(exchange.body.token_type, 'DPoP');
        const before = op.requests.length;
        const r = await sdk(page, 'getUserInfo');
        assert.ok(r.ok, `getUserInfo() ${describeOutcome(r)}`);
        assert.equal(r.value.sub, 'uma');
        assert.equal(r.value.email, 'uma@example.test');
        const calls = op.requests.slice(before).filter((x) => x.name === 'userinfo' && x.method !== 'OPTIONS');
        assert.deepEqual(calls.map((x) => [x.status, x.dpop]), [[200, true]], 'one UserInfo request, with a proof');
        // The same token without its proof, or as a Bearer token, is refused by the OP (oidc-provider
        // answers 400 invalid_request or 401 invalid_token, depending on what is missing).
        const stolen = await fetch(userinfoEndpoint, { headers: { Authorization: `DPoP ${exchange.body.access_token}` } });
        assert.ok([400, 401].includes(stolen.status), `UserInfo refuses the token without a proof (${stolen.status} ${stolen.headers.get('www-authenticate')})`);
        const asBearer = await fetch(userinfoEndpoint, { headers: { Authorization: `Bearer ${exchange.body.access_token}` } });
        assert.ok([400, 401].includes(asBearer.status), `UserInfo refuses the token as Bearer (${asBearer.status} ${asBearer.headers.get('www-authenticate')})`);
        // The thief's own key, meeting the OP's nonce challenge like the SDK would: refused on the key.
        const thief = await attackerKey();
        const withThiefProof = async (nonce) => fetch(userinfoEndpoint, {
          headers: {
            Authorization: `DPoP ${exchange.body.access_token}`,
            DPoP: await attackerProof(thief, { htm: 'GET', htu: userinfoEndpoint, accessToken: exchange.body.access_token, nonce }),
          },
        });
        let otherKey = await withThiefProof();
        if (stolenNonce(otherKey)) otherKey = await withThiefProof(stolenNonce(otherKey));
        assert.ok([400, 401].includes(otherKey.status), `UserInfo refuses the token with another key's proof (${otherKey.status} ${otherKey.headers.get('www-authenticate')})`);
        t.diagnostic(`UserInfo without proof: ${stolen.status} ${stolen.headers.get('www-authenticate')}; as Bearer: ${asBearer.status}; another key: ${otherKey.status} ${otherKey.headers.get('www-authenticate')}`);
      } finally {
        op.dpop.requireNonce = false;
      }
    });
  });

  test('a Bearer answer to a DPoP token request is refused as a downgrade (token_response_invalid)', { timeout: TEST_TIMEOUT }, async () => {
    configure({ dpop: true, persistSession: 'sealed' });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-downgrade', async () => {
      // Between the page and the OP, something rewrites token_type: DPoP → Bearer.
      let rewritten = 0;
      await session.context.route((url) => url.href === tokenEndpoint, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch();
        const body = await response.json();
        if (body.token_type) {
          body.token_type = 'Bearer';
          rewritten += 1;
        }
        return route.fulfill({ response, json: body });
      });
      const page = await session.newTab();
      await openSignedOut(page, app);
      await loginAtProvider(page, { app, op, username: 'dan' });
      assert.equal(await waitForOutcome(page, ANY_STATE), 'error', 'the callback ends in an error');
      assert.ok(rewritten >= 1, 'the token response was rewritten');
      assert.equal(await page.getAttribute('#error', 'data-code'), 'token_response_invalid');
      assert.equal(await page.evaluate(() => window.__oidc.getUser()), null, 'nobody is signed in');
      assert.equal(storeRecords(await dumpStorage(page), 'sealed').length, 0, 'nothing was sealed');
    });
  });
  test('a second tab gets the session by hand-off and signs its requests with the same key', { timeout: TEST_TIMEOUT }, async () => {
    configure({ dpop: true });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-handoff', async () => {
      const tab1 = await session.newTab();
      const exchange = await signIn(session, tab1, 'hana');
      const tokensBefore = op.tokenRequests.length;
      const tab2 = await session.newTab();
      await tab2.goto(app.url);
      assert.equal(await waitForOutcome(tab2, ANY_STATE), 'signed-in', 'tab 2 is signed in through the hand-off');
      assert.equal(op.tokenRequests.length, tokensBefore, 'the hand-off made no token request');
      const capturedBefore = session.apiRequests.length;
      assert.equal((await apiCall(tab2)).status, 200, 'the API answers tab 2');
      const [sent] = session.apiRequests.slice(capturedBefore);
      await sent.ready;
      assert.equal(await checkProofShape(sent.proof, { htm: 'GET', htu: `${api.url}/me`, accessToken: exchange.body.access_token, label: 'tab 2\'s proof' }),
        decodeJwt(exchange.body.access_token).cnf.jkt, 'tab 2 proves possession of the same key');
      const r = await sdk(tab2, 'refresh');
      assert.ok(r.ok, `tab 2 refresh() ${describeOutcome(r)}`);
      assert.equal((await apiCall(tab1)).status, 200, 'tab 1 uses the tokens tab 2 refreshed');
    });
  });

  test('UserInfo in a tab that got the session by hand-off, with the OP requiring nonces: one use_dpop_nonce, one retry', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    configure({ dpop: true, scope: 'openid profile email' });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-userinfo-nonce', async () => {
      const tab1 = await session.newTab();
      await signIn(session, tab1, 'ursula');
      op.dpop.requireNonce = true;
      try {
        // Tab 2 has made no request to the OP yet: it knows no nonce.
        const tab2 = await session.newTab();
        await tab2.goto(app.url);
        assert.equal(await waitForOutcome(tab2, ANY_STATE), 'signed-in', 'tab 2 is signed in through the hand-off');
        const before = op.requests.length;
        const r = await sdk(tab2, 'getUserInfo');
        const calls = op.requests.slice(before).filter((x) => x.name === 'userinfo' && x.method !== 'OPTIONS');
        assert.ok(r.ok, `getUserInfo() ${describeOutcome(r)}; UserInfo answers: ${JSON.stringify(calls.map((x) => x.status))}`);
        assert.equal(r.value.sub, 'ursula');
        assert.deepEqual(calls.map((x) => x.status), [401, 200], 'one challenge, one retry');
      } finally {
        op.dpop.requireNonce = false;
      }
    });
  });
});

describe('persistSession: \'sealed\': the session survives a reload, with no token readable in storage', () => {
  for (const dpop of [false, true]) {
    test(`reload → signed in again with no authorization request and one refresh; storage holds no token in clear (dpop: ${dpop})`, { timeout: TEST_TIMEOUT }, async (t) => {
      configure({ dpop, persistSession: 'sealed' });
      // The API requires DPoP; the Bearer run talks to it as a DPoP-allowing API.
      api.dpop.mode = dpop ? 'required' : 'allowed';
      const session = await newContext();
      try {
        await screenshotOnFailure(session.pages, `dpop-sealed-${dpop ? 'dpop' : 'bearer'}`, async () => {
          const page = await session.newTab();
          const exchange = await signIn(session, page, dpop ? 'sealed-dpop' : 'sealed-bearer');
          assert.equal(exchange.body.token_type, dpop ? 'DPoP' : 'Bearer');
          assert.equal((await apiCall(page)).status, 200);
          const sealName = keyName('session');

          // Sealed right after sign-in: { iv, ciphertext }, holding the refresh token from the exchange.
          let dump = await dumpStorage(page);
          let sealed = storeRecords(dump, 'sealed');
          assert.deepEqual(sealed.map((r) => r.key), [sealName], 'one sealed record, under the app\'s name');
          assert.deepEqual(Object.keys(sealed[0].value).sort(), ['ciphertext', 'iv']);
          const firstCiphertext = sealed[0].value.ciphertext.$bytes;
          assert.equal(Buffer.from(sealed[0].value.iv.$bytes, 'base64').length, 12, 'a 96-bit IV');
          const opened = await sealedFingerprints(page, sealName);
          assert.ok(opened?.fingerprints.includes(fingerprint(exchange.body.refresh_token)), 'the seal holds the refresh token of the sign-in');
          assert.ok(!opened.fingerprints.includes(fingerprint(exchange.body.access_token)), 'the seal holds no access token');
          t.diagnostic(`sealed members: ${opened.names.join(', ')}`);
          const keys = storeRecords(dump, 'keys');
          const sessionKey = keys.find((k) => k.key === `${sealName}|key`)?.value?.$cryptoKey;
          assert.ok(sessionKey, 'the sealing key is stored');
          assert.equal(sessionKey.extractable, false, 'the sealing key is non-extractable');
          assert.equal(sessionKey.algorithm.name, 'AES-GCM');
          assert.equal(dpopKeys(dump).length, dpop ? 1 : 0, dpop ? 'a DPoP key exists' : 'no DPoP key without dpop: true');

          // Reload: restored by one refresh, no authorization request, no login page.
          const authzBefore = op.counters.authorization;
          const tokensBefore = op.tokenRequests.length;
          await page.reload();
          assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-in', 'signed in after the reload');
          assert.equal(new URL(page.url()).origin, app.origin, 'no redirect to the OP');
          assert.equal(op.counters.authorization, authzBefore, 'no authorization request');
          const restored = op.tokenRequests.slice(tokensBefore);
          assert.deepEqual(restored.map((r) => [r.grantType, r.status]), [['refresh_token', 200]], 'exactly one token request: a refresh');
          assert.equal(restored[0].presented, fingerprint(exchange.body.refresh_token), 'it presented the sealed refresh token');
          assert.equal(restored[0].dpop, dpop, dpop ? 'with a DPoP proof' : 'without a proof');
          if (dpop) assert.equal(restored[0].dpopJkt, decodeJwt(exchange.body.access_token).cnf.jkt, 'by the same key as before the reload');
          assert.equal((await page.evaluate(() => window.__oidc.getUser()))?.sub, dpop ? 'sealed-dpop' : 'sealed-bearer');
          const refreshed = await lastTokenResponse(session.tokenResponses, 'refresh_token');
          const apiBefore = api.log.length;
          assert.equal((await apiCall(page)).status, 200, 'the API answers after the reload');
          assert.deepEqual(api.log.slice(apiBefore).map((e) => e.token), [fingerprint(refreshed.body.access_token)], 'with the refreshed access token');

          // The refresh replaced the sealed copy. oidc-provider rotates the refresh tokens of public
          // clients unless they are sender-constrained: with DPoP the same (key-bound) one comes back.
          dump = await dumpStorage(page);
          sealed = storeRecords(dump, 'sealed');
          assert.equal(sealed.length, 1, 'still one sealed record');
          assert.notEqual(sealed[0].value.ciphertext.$bytes, firstCiphertext, 'sealed again after the refresh');
          const reopened = await sealedFingerprints(page, sealName);
          const current = refreshed.body.refresh_token ?? exchange.body.refresh_token;
          assert.equal(refreshed.body.refresh_token !== exchange.body.refresh_token, !dpop, dpop ? 'a DPoP-bound refresh token is not rotated' : 'the refresh token was rotated');
          assert.ok(reopened.fingerprints.includes(fingerprint(current)), 'the seal holds the current refresh token');
          if (!dpop) assert.ok(!reopened.fingerprints.includes(fingerprint(exchange.body.refresh_token)), 'not the used one');

          // No token in clear: localStorage, sessionStorage, every IndexedDB store (strings and bytes),
          // document.cookie and the app origin's cookies, Cache Storage, window.name.
          const secrets = secretsOf([...await tokenResponsesOf(session, 'authorization_code'), ...await tokenResponsesOf(session, 'refresh_token')]);
          assert.ok(Object.keys(secrets).length >= 6, 'the tokens of the sign-in and of the refresh are known to the test');
          assertStorageHoldsNoSecret(dump, secrets);
          assertNoSecrets('the sealed ciphertext', Buffer.from(sealed[0].value.ciphertext.$bytes, 'base64').toString('latin1'), secrets);
          assertNoSecrets('the console output', session.consoleMessages, secrets);
          t.diagnostic(`IndexedDB stores: ${dump.indexedDB.map((d) => `${d.name}{${Object.entries(d.stores).map(([s, r]) => `${s}:${r.length}`).join(', ')}}`).join(' ')}`);

          // A second tab opened now gets the session (hand-off or restore), still with one refresh at most.
          const tab2 = await session.newTab();
          const beforeTab2 = op.tokenRequests.length;
          await tab2.goto(app.url);
          assert.equal(await waitForOutcome(tab2, ANY_STATE), 'signed-in', 'a second tab is signed in');
          assert.ok(op.tokenRequests.length - beforeTab2 <= 1, 'with at most one token request');
          assert.deepEqual(op.tokenRequests.slice(tokensBefore).filter((r) => r.error).map((r) => r.error), [], 'no token request failed');
        });
      } finally {
        api.dpop.mode = 'required';
      }
    });
  }

  test('browser restart with two tabs: both restore the sealed session at once, no refresh token is replayed (no invalid_grant)', { timeout: TEST_TIMEOUT }, async (t) => {
    // Bearer tokens: the OP rotates the refresh token on each use and revokes the grant on a replay, so
    // two tabs unsealing the same refresh token must not both use it.
    configure({ dpop: false, persistSession: 'sealed' });
    api.dpop.mode = 'allowed';
    const session = await newContext();
    try {
      await screenshotOnFailure(session.pages, 'dpop-sealed-two-tabs', async () => {
        const first = await session.newTab();
        const exchange = await signIn(session, first, 'twin');
        await first.close(); // no open tab left to hand the session over
        const tokensBefore = op.tokenRequests.length;
        const authzBefore = op.counters.authorization;
        const [tab1, tab2] = [await session.newTab(), await session.newTab()];
        await Promise.all([tab1.goto(app.url), tab2.goto(app.url)]);
        const outcomes = await Promise.all([waitForOutcome(tab1, ANY_STATE), waitForOutcome(tab2, ANY_STATE)]);
        const requests = op.tokenRequests.slice(tokensBefore);
        t.diagnostic(`token requests: ${JSON.stringify(requests.map((r) => [r.grantType, r.status, r.error]))}`);
        assert.deepEqual(requests.filter((r) => r.error).map((r) => r.error), [], 'no token request was refused');
        assert.deepEqual(outcomes, ['signed-in', 'signed-in'], 'both tabs are signed in');
        assert.equal(op.counters.authorization, authzBefore, 'no authorization request');
        const presented = requests.map((r) => r.presented);
        assert.equal(new Set(presented).size, presented.length, 'no refresh token was presented twice');
        assert.equal(presented[0], fingerprint(exchange.body.refresh_token), 'the first refresh used the sealed refresh token');
        assert.equal((await apiCall(tab1)).status, 200);
        assert.equal((await apiCall(tab2)).status, 200);
      });
    } finally {
      api.dpop.mode = 'required';
    }
  });

  test('logout clears the sealed record and deletes the DPoP key pair, a reload stays signed out, the next login gets a new key; a refused refresh token (invalid_grant) clears both too', { timeout: TEST_TIMEOUT }, async (t) => {
    configure({ dpop: true, persistSession: 'sealed' });
    const session = await newContext();
    await screenshotOnFailure(session.pages, 'dpop-sealed-logout', async () => {
      const page = await session.newTab();
      const exchange = await signIn(session, page, 'lou');
      assert.equal(storeRecords(await dumpStorage(page), 'sealed').length, 1, 'sealed after sign-in');
      const firstKeys = dpopKeys(await dumpStorage(page)).map((k) => k.key);
      assert.equal(firstKeys.length, 1, 'one DPoP key pair for the session');
      const firstJkt = decodeJwt(exchange.body.access_token).cnf?.jkt;

      // Logout: revocation (with a proof), then the OP's logout page, back to the app.
      const revocationsBefore = op.revocations.length;
      await page.click('#sign-out');
      await page.waitForURL((u) => u.origin === new URL(op.issuer).origin);
      const revocations = op.revocations.slice(revocationsBefore);
      assert.ok(revocations.some((r) => r.status === 200 && r.token === fingerprint(exchange.body.refresh_token)), 'the refresh token was revoked');
      t.diagnostic(`revocation requests carried a DPoP proof: ${revocations.map((r) => r.dpop).join(', ')}`);
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL((u) => u.origin === app.origin);
      assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out');
      assert.deepEqual(storeRecords(await dumpStorage(page), 'sealed'), [], 'the sealed record is gone');
      assert.deepEqual(dpopKeys(await dumpStorage(page)), [], 'the session\'s DPoP key pair is deleted');
      const tokensBefore = op.tokenRequests.length;
      await page.reload();
      assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out', 'a reload is signed out');
      assert.equal(op.tokenRequests.length, tokensBefore, 'and made no token request');

      // Sign in again, then the OP stops accepting the refresh token (revoked behind the page's back).
      const second = await signIn(session, page, 'lou');
      assert.equal(storeRecords(await dumpStorage(page), 'sealed').length, 1, 'sealed again');
      const secondKeys = dpopKeys(await dumpStorage(page)).map((k) => k.key);
      assert.equal(secondKeys.length, 1);
      assert.notEqual(secondKeys[0], firstKeys[0], 'a new login, a new key pair');
      assert.notEqual(decodeJwt(second.body.access_token).cnf?.jkt, firstJkt, 'the new tokens are bound to another thumbprint');
      const revoke = await fetch(`${op.issuer}/token/revocation`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: second.body.refresh_token, token_type_hint: 'refresh_token', client_id: CLIENT_ID }),
      });
      assert.equal(revoke.status, 200, 'revoked at the OP');
      const beforeReload = op.tokenRequests.length;
      await page.reload();
      assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out', 'the reload ends signed out');
      assert.deepEqual(op.tokenRequests.slice(beforeReload).map((r) => [r.grantType, r.error]), [['refresh_token', 'invalid_grant']], 'one refresh, refused');
      assert.deepEqual(storeRecords(await dumpStorage(page), 'sealed'), [], 'invalid_grant cleared the sealed record');
      assert.deepEqual(dpopKeys(await dumpStorage(page)), [], 'and deleted the session\'s DPoP key pair');
      const beforeSecondReload = op.tokenRequests.length;
      await page.reload();
      assert.equal(await waitForOutcome(page, ANY_STATE), 'signed-out');
      assert.equal(op.tokenRequests.length, beforeSecondReload, 'the next reload tries nothing: no loop');
    });
  });
});
