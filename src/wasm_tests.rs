//! ID-token verification end to end in headless Chromium, through the REAL browser host (`browserHost()`
//! of `js/host.ts`, built to `build/test-host.js` by scripts/test.sh): WebCrypto `importKey`/`verify`
//! and `digest` are the browser's own. Only `http` is replaced, by an in-memory JWKS server
//! (`tests/wasm/fixture.js`), so no server is needed; and `now` (still the real clock) can be moved
//! ahead, so the JWKS refetch interval is tested without sleeping. Tokens are signed with keys
//! WebCrypto generates.
//!
//! Every rejection asserts its exact error code and runs next to an accepting twin (the same setup with
//! the one defect removed), so a rejection cannot come from a broken setup.
//!
//! Run: `node_modules/.bin/esbuild js/host.ts --format=esm --target=es2020 --outfile=build/test-host.js`
//! then `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --lib`.

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

use crate::b64url;
use crate::client::{Client, JWKS_REFETCH_INTERVAL};
use crate::config::Config;
use crate::discovery::ProviderMetadata;
use crate::error::ErrorCode::{self, *};
use crate::host::Host;
use crate::json::Json;
use crate::pkce::RANDOM_BYTES;
use crate::types::{AccessToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier};
use test_host::JsHost;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/wasm/fixture.js")]
extern "C" {
    #[wasm_bindgen(js_name = newKey)]
    fn new_key(alg: &str, kid: &str, rsa_bits: u32, published_alg: Option<String>) -> Promise;
    #[wasm_bindgen(js_name = publicJwk)]
    fn public_jwk(key: &JsValue) -> String;
    #[wasm_bindgen(js_name = signJwt)]
    fn sign_jwt(key: &JsValue, header: &str, payload: &str) -> Promise;
    #[wasm_bindgen(js_name = derSignature)]
    fn der_signature(token: &str) -> String;
    #[wasm_bindgen(js_name = fakeHost)]
    fn fake_host(jwks_uri: &str, jwks_list: Array) -> JsValue;
    #[wasm_bindgen(js_name = httpCalls)]
    fn http_calls(host: &JsValue) -> u32;
    #[wasm_bindgen(js_name = advanceClock)]
    fn advance_clock(host: &JsValue, seconds: f64);
    #[wasm_bindgen(js_name = ed25519Supported)]
    fn ed25519_supported() -> Promise;
}

const ISSUER: &str = "https://op.example";
const CLIENT_ID: &str = "spa-client";
const JWKS_URI: &str = "https://op.example/jwks";
const NONCE: &str = "n-0S6_WzA2Mj";
const ACCESS_TOKEN: &str = "access-token-for-the-api";

fn metadata() -> ProviderMetadata {
    let doc = format!(
        r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/authorize","token_endpoint":"{ISSUER}/token",
        "jwks_uri":"{JWKS_URI}","response_types_supported":["code"],"subject_types_supported":["public"],
        "id_token_signing_alg_values_supported":["RS256","PS256","ES256","EdDSA","Ed25519"],
        "code_challenge_methods_supported":["S256"]}}"#
    );
    ProviderMetadata::from_response(&IssuerUrl::new(ISSUER), &doc).expect("test discovery document")
}

/// A generated key (a JS object from the fixture).
struct Key(JsValue);

async fn key(alg: &str, kid: &str) -> Key {
    key_bits(alg, kid, 2048).await
}

async fn key_bits(alg: &str, kid: &str, bits: u32) -> Key {
    Key(JsFuture::from(new_key(alg, kid, bits, None)).await.expect("WebCrypto generateKey"))
}

/// A key whose JWK says `"alg": published` (no alg member for "").
async fn key_published_as(alg: &str, kid: &str, published: &str) -> Key {
    Key(JsFuture::from(new_key(alg, kid, 2048, Some(published.into()))).await.expect("WebCrypto generateKey"))
}

fn jwks(keys: &[&Key]) -> String {
    let list: Vec<String> = keys.iter().map(|k| public_jwk(&k.0)).collect();
    format!(r#"{{"keys":[{}]}}"#, list.join(","))
}

/// A client over the real browser host whose `http` serves `jwks_list` (n-th request, last repeats).
struct Setup {
    client: Client<JsHost>,
    host: JsValue,
    meta: ProviderMetadata,
}

impl Setup {
    fn new(jwks_list: &[String]) -> Setup {
        let list = Array::new();
        for j in jwks_list {
            list.push(&JsValue::from_str(j));
        }
        let host = fake_host(JWKS_URI, list);
        let config = Config::from_json(&format!(
            r#"{{"issuer":"{ISSUER}","clientId":"{CLIENT_ID}","redirectUri":"https://app.example/callback"}}"#
        ))
        .expect("test config");
        let client = Client::new(config, host.clone().unchecked_into::<JsHost>());
        Setup { client, host, meta: metadata() }
    }

    fn http_calls(&self) -> u32 {
        http_calls(&self.host)
    }

    async fn verify(&self, token: &str) -> Result<(Json, String), ErrorCode> {
        self.client
            .verify_id_token(&self.meta, token, Some(&Nonce::new(NONCE)), &AccessToken::new(ACCESS_TOKEN))
            .await
            .map_err(|e| e.code)
    }

    /// Accepted, and the claims handed back are the token's.
    async fn accepts(&self, token: &str) {
        let (claims, text) = match self.verify(token).await {
            Ok(c) => c,
            Err(code) => panic!("expected the token to be accepted, got {}", code.as_str()),
        };
        assert_eq!(claims.str_member("sub"), Some("user-1"));
        assert_eq!(claims.str_member("iss"), Some(ISSUER));
        assert_eq!(claims.str_member("nonce"), Some(NONCE));
        assert!(text.contains("\"sub\":\"user-1\""), "claims text is the payload");
    }

    async fn rejects(&self, token: &str, code: ErrorCode) {
        match self.verify(token).await {
            Ok(_) => panic!("expected {}, but the token was accepted", code.as_str()),
            Err(got) => assert_eq!(got.as_str(), code.as_str()),
        }
    }
}

/// Wall-clock seconds; claims are made at the real time (the host's clock only ever moves a few seconds
/// ahead, well within exp and the clock tolerance).
fn now() -> f64 {
    (js_sys::Date::now() / 1000.0).floor()
}

/// Valid claims for this client and login: iss, aud, sub, exp in the future, iat now, nonce; `extra` is
/// appended inside the object (`,"at_hash":"..."`).
fn claims(extra: &str) -> String {
    let t = now();
    format!(
        r#"{{"iss":"{ISSUER}","aud":"{CLIENT_ID}","sub":"user-1","exp":{},"iat":{},"nonce":"{NONCE}"{extra}}}"#,
        t + 300.0,
        t
    )
}

fn header(alg: &str, kid: &str) -> String {
    format!(r#"{{"alg":"{alg}","kid":"{kid}","typ":"JWT"}}"#)
}

async fn sign(key: &Key, header: &str, payload: &str) -> String {
    JsFuture::from(sign_jwt(&key.0, header, payload)).await.expect("WebCrypto sign").as_string().expect("token text")
}

/// A token for `alg` under `kid` with valid claims, signed by `key`.
async fn token(key: &Key, alg: &str, kid: &str) -> String {
    sign(key, &header(alg, kid), &claims("")).await
}

/// The token with one byte in the middle of its signature flipped.
fn flip_signature_byte(token: &str) -> String {
    let dot = token.rfind('.').expect("three parts");
    let mut sig = b64url::decode(&token[dot + 1..]).expect("base64url signature");
    let mid = sig.len() / 2;
    sig[mid] ^= 0x01;
    format!("{}.{}", &token[..dot], b64url::encode(&sig))
}

async fn good_signature_accepted(alg: &str) {
    let k = key(alg, "k1").await;
    let s = Setup::new(&[jwks(&[&k])]);
    s.accepts(&token(&k, alg, "k1").await).await;
    assert_eq!(s.http_calls(), 1, "one JWKS fetch");
}

async fn flipped_signature_byte_rejected(alg: &str) {
    let k = key(alg, "k1").await;
    let s = Setup::new(&[jwks(&[&k])]);
    let t = token(&k, alg, "k1").await;
    s.accepts(&t).await;
    s.rejects(&flip_signature_byte(&t), SignatureInvalid).await;
    s.accepts(&t).await;
}

#[wasm_bindgen_test]
async fn rs256_good_signature_is_accepted() {
    good_signature_accepted("RS256").await;
}

#[wasm_bindgen_test]
async fn ps256_good_signature_is_accepted() {
    good_signature_accepted("PS256").await;
}

#[wasm_bindgen_test]
async fn es256_good_signature_is_accepted() {
    good_signature_accepted("ES256").await;
}

#[wasm_bindgen_test]
async fn rs256_flipped_signature_byte_is_signature_invalid() {
    flipped_signature_byte_rejected("RS256").await;
}

#[wasm_bindgen_test]
async fn ps256_flipped_signature_byte_is_signature_invalid() {
    flipped_signature_byte_rejected("PS256").await;
}

#[wasm_bindgen_test]
async fn es256_flipped_signature_byte_is_signature_invalid() {
    flipped_signature_byte_rejected("ES256").await;
}

#[wasm_bindgen_test]
async fn token_signed_by_another_key_with_the_same_kid_is_signature_invalid() {
    for alg in ["RS256", "ES256"] {
        let published = key(alg, "k1").await;
        let attacker = key(alg, "k1").await;
        let s = Setup::new(&[jwks(&[&published])]);
        s.accepts(&token(&published, alg, "k1").await).await;
        s.rejects(&token(&attacker, alg, "k1").await, SignatureInvalid).await;
    }
}

#[wasm_bindgen_test]
async fn key_of_the_wrong_type_under_the_kid_is_no_matching_key() {
    let rsa = key("RS256", "k1").await;
    let ec = key("ES256", "k1").await;
    let t = token(&rsa, "RS256", "k1").await;
    // Only an EC key is published under the token's kid while the token says RS256.
    let wrong = Setup::new(&[jwks(&[&ec])]);
    wrong.rejects(&t, NoMatchingKey).await;
    assert_eq!(wrong.http_calls(), 1, "a set fetched just now is not refetched");
    // Twin: the RSA key published under that kid.
    Setup::new(&[jwks(&[&rsa])]).accepts(&t).await;
}

#[wasm_bindgen_test]
async fn rsa_1024_key_is_no_matching_key() {
    let weak = key_bits("RS256", "k1", 1024).await;
    let s = Setup::new(&[jwks(&[&weak])]);
    s.rejects(&token(&weak, "RS256", "k1").await, NoMatchingKey).await;
    // Twin: the same setup with a 2048-bit key.
    let strong = key_bits("RS256", "k1", 2048).await;
    Setup::new(&[jwks(&[&strong])]).accepts(&token(&strong, "RS256", "k1").await).await;
}

#[wasm_bindgen_test]
async fn es256_der_signature_is_rejected() {
    let k = key("ES256", "k1").await;
    let s = Setup::new(&[jwks(&[&k])]);
    let t = token(&k, "ES256", "k1").await;
    let der = der_signature(&t);
    let der_len = b64url::decode(&der[der.rfind('.').unwrap() + 1..]).unwrap().len();
    assert!((70..=72).contains(&der_len), "the fixture made a DER signature ({der_len} bytes)");
    s.rejects(&der, SignatureInvalid).await;
    s.accepts(&t).await; // twin: the same signature as R‖S
}

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token (computed here with
/// the `sha2` crate, independently of the WebCrypto digest the client uses).
fn at_hash(access_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(access_token.as_bytes());
    b64url::encode(&d[..16])
}

#[wasm_bindgen_test]
async fn at_hash_is_checked_with_webcrypto_digest() {
    for alg in ["RS256", "ES256"] {
        let k = key(alg, "k1").await;
        let s = Setup::new(&[jwks(&[&k])]);
        let right = sign(&k, &header(alg, "k1"), &claims(&format!(r#","at_hash":"{}""#, at_hash(ACCESS_TOKEN)))).await;
        s.accepts(&right).await;
        let wrong = sign(&k, &header(alg, "k1"), &claims(&format!(r#","at_hash":"{}""#, at_hash("another-token")))).await;
        s.rejects(&wrong, AtHashMismatch).await;
        // The full digest instead of its left half is wrong too.
        let full = {
            use sha2::{Digest, Sha256};
            b64url::encode(&Sha256::digest(ACCESS_TOKEN.as_bytes()))
        };
        let long = sign(&k, &header(alg, "k1"), &claims(&format!(r#","at_hash":"{full}""#))).await;
        s.rejects(&long, AtHashMismatch).await;
    }
}

#[wasm_bindgen_test]
async fn key_rotation_refetches_the_jwks_exactly_once() {
    let old = key("RS256", "old").await;
    let new = key("RS256", "new").await;
    // The provider serves first a set without the new kid, then (after rotating) one with it.
    let s = Setup::new(&[jwks(&[&old]), jwks(&[&old, &new])]);
    s.accepts(&token(&old, "RS256", "old").await).await;
    assert_eq!(s.http_calls(), 1);
    // Right after (no earlier refetch to space from), a token with the unknown kid triggers exactly
    // one refetch and is accepted.
    let t = token(&new, "RS256", "new").await;
    s.accepts(&t).await;
    assert_eq!(s.http_calls(), 2, "exactly one refetch");
    // The refreshed set is cached: neither key costs another request.
    s.accepts(&t).await;
    s.accepts(&token(&old, "RS256", "old").await).await;
    assert_eq!(s.http_calls(), 2);
}

#[wasm_bindgen_test]
async fn key_rotation_refetch_is_rate_limited() {
    let old = key("RS256", "old").await;
    let new = key("RS256", "new").await;
    let stranger = key("RS256", "stranger").await;
    // The provider publishes the new key only from the third request on.
    let s = Setup::new(&[jwks(&[&old]), jwks(&[&old]), jwks(&[&old, &new])]);
    s.accepts(&token(&old, "RS256", "old").await).await;
    // A kid the provider never publishes costs one refetch, then no_matching_key ...
    s.rejects(&token(&stranger, "RS256", "stranger").await, NoMatchingKey).await;
    assert_eq!(s.http_calls(), 2, "one refetch");
    // ... and within the interval after that refetch, an unknown kid causes no request, even one the
    // provider has started to publish meanwhile.
    advance_clock(&s.host, JWKS_REFETCH_INTERVAL - 1.0);
    s.rejects(&token(&new, "RS256", "new").await, NoMatchingKey).await;
    s.rejects(&token(&stranger, "RS256", "stranger").await, NoMatchingKey).await;
    assert_eq!(s.http_calls(), 2, "no refetch within the interval");
    // Twin: past it, one refetch brings the new key.
    advance_clock(&s.host, 2.0);
    s.accepts(&token(&new, "RS256", "new").await).await;
    assert_eq!(s.http_calls(), 3);
    s.accepts(&token(&new, "RS256", "new").await).await;
    assert_eq!(s.http_calls(), 3, "the refetched set is cached");
}

// RFC 7636 Appendix B.
const PKCE_OCTETS: [u8; RANDOM_BYTES] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240,
    91, 88, 5, 88, 83, 132, 141, 121,
];

#[wasm_bindgen_test]
async fn pkce_challenge_through_the_browser_digest_is_rfc7636_appendix_b() {
    let s = Setup::new(&[]);
    let verifier = PkceCodeVerifier::from_random(&PKCE_OCTETS);
    assert_eq!(verifier.as_str(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    let sha = s.client.host.digest("SHA-256", verifier.as_str().as_bytes()).await.expect("WebCrypto digest");
    assert_eq!(PkceCodeChallenge::from_sha256(&sha).as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    assert_eq!(s.http_calls(), 0);
}

/// The test browser (Debian's Chromium) has Ed25519 in WebCrypto; a browser without it fails these tests
/// rather than skipping them (an app on such a browser gets `crypto_unavailable` for EdDSA tokens).
async fn ed25519_available() -> bool {
    let ok = JsFuture::from(ed25519_supported()).await.ok().and_then(|v| v.as_bool()) == Some(true);
    assert!(ok, "Ed25519 is not available in this browser's WebCrypto");
    ok
}

#[wasm_bindgen_test]
async fn ed25519_good_signature_is_accepted() {
    if !ed25519_available().await {
        return;
    }
    // The polymorphic name `EdDSA` (RFC 8037) and the fully-specified `Ed25519` (RFC 9864), each with a
    // JWK that names the same alg, and with a JWK that names none.
    for (alg, published) in [("EdDSA", "EdDSA"), ("Ed25519", "Ed25519"), ("EdDSA", ""), ("Ed25519", "")] {
        let k = key_published_as(alg, "ed", published).await;
        let s = Setup::new(&[jwks(&[&k])]);
        s.accepts(&token(&k, alg, "ed").await).await;
        // at_hash with SHA-512 for Ed25519 (OIDC Core §3.1.3.6 as amended by errata set 2).
        let right = {
            use sha2::{Digest, Sha512};
            b64url::encode(&Sha512::digest(ACCESS_TOKEN.as_bytes())[..32])
        };
        s.accepts(&sign(&k, &header(alg, "ed"), &claims(&format!(r#","at_hash":"{right}""#))).await).await;
        // SHA-256's left half is the wrong at_hash for Ed25519.
        let sha256 = at_hash(ACCESS_TOKEN);
        s.rejects(&sign(&k, &header(alg, "ed"), &claims(&format!(r#","at_hash":"{sha256}""#))).await, AtHashMismatch).await;
    }
}

#[wasm_bindgen_test]
async fn ed25519_flipped_signature_byte_is_signature_invalid() {
    if !ed25519_available().await {
        return;
    }
    for alg in ["EdDSA", "Ed25519"] {
        let k = key(alg, "ed").await;
        let s = Setup::new(&[jwks(&[&k])]);
        let t = token(&k, alg, "ed").await;
        s.accepts(&t).await;
        s.rejects(&flip_signature_byte(&t), SignatureInvalid).await;
    }
}

// ---- The real browser host (js/host.ts), bound for these tests --------------------------------------
//
// The shipped module reaches js/host.ts through its effect interpreter (js/core.ts); these tests call the
// host's WebCrypto and fetch functions directly from a `Host` bound with wasm-bindgen (a dev-dependency:
// nothing of it is in the shipped module).
mod test_host {
    use js_sys::Promise;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    use crate::alg::WebCryptoParams;
    use crate::error::{ErrorCode, OidcError, Result};
    use crate::host::{Host, HttpResponse};

    #[wasm_bindgen]
    extern "C" {
        pub type JsHost;
        #[wasm_bindgen(method)]
        fn now(this: &JsHost) -> f64;
        #[wasm_bindgen(method)]
        fn http(this: &JsHost, method: &str, url: &str, body: Option<String>, authorization: Option<String>, dpop: Option<String>) -> Promise;
        #[wasm_bindgen(method)]
        fn digest(this: &JsHost, hash: &str, data: &[u8]) -> Promise;
        #[wasm_bindgen(method, js_name = importKey)]
        fn import_key(this: &JsHost, handle: u32, name: &str, hash: &str, curve: &str, salt: u32, jwk: &str);
        #[wasm_bindgen(method)]
        fn verify(this: &JsHost, key: u32, data: &[u8], sig: &[u8]) -> Promise;
        #[wasm_bindgen(method, js_name = nextKey)]
        fn next_key(this: &JsHost) -> u32;

        type HttpResult;
        #[wasm_bindgen(method, getter)]
        fn status(this: &HttpResult) -> u16;
        #[wasm_bindgen(method, getter)]
        fn body(this: &HttpResult) -> String;
    }

    fn crypto_error(_: JsValue) -> OidcError {
        OidcError::new(ErrorCode::CryptoUnavailable, "WebCrypto refused the key or the algorithm")
    }

    impl Host for JsHost {
        fn now(&self) -> f64 {
            JsHost::now(self)
        }
        fn random32(&self) -> [u8; 32] {
            [7; 32]
        }
        async fn get(&self, url: &str, authorization: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse> {
            let r = JsFuture::from(JsHost::http(self, "GET", url, None, authorization.map(String::from), dpop.map(String::from)))
                .await
                .map_err(|_| OidcError::new(ErrorCode::NetworkError, "network"))?;
            let r: HttpResult = r.unchecked_into();
            Ok(HttpResponse { status: r.status(), body: r.body(), dpop_nonce: None, retry_after: None, date: None })
        }
        fn prefetch(&self, _: &str) {}
        async fn post_form(&self, _: &str, _: &str, _: Option<&str>) -> Result<HttpResponse> {
            Err(OidcError::new(ErrorCode::NetworkError, "not in these tests"))
        }
        async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>> {
            let v = JsFuture::from(JsHost::digest(self, hash, data)).await.map_err(crypto_error)?;
            Ok(js_sys::Uint8Array::new(&v).to_vec())
        }
        fn import_key(&self, p: WebCryptoParams, jwk: &str) -> u32 {
            let handle = self.next_key();
            JsHost::import_key(self, handle, p.name, p.hash, p.named_curve, p.salt_length, jwk);
            handle
        }
        async fn verify(&self, key: u32, data: &[u8], sig: &[u8]) -> Result<bool> {
            let v = JsFuture::from(JsHost::verify(self, key, data, sig)).await.map_err(crypto_error)?;
            Ok(v.as_bool() == Some(true))
        }
        fn storage_get(&self, _: &str) -> Option<String> {
            None
        }
        fn storage_set(&self, _: &str, _: &str) -> bool {
            false
        }
        fn storage_remove(&self, _: &str) {}
        fn storage_keys(&self, _: &str) -> Vec<String> {
            Vec::new()
        }
        fn replace_url(&self, _: &str) -> bool {
            true
        }
        type Lock = ();
        async fn lock(&self, _: &str) {}
        fn unlock(&self, _: ()) {}
        fn shared_generation(&self, _: &str) -> (u64, u64) {
            (0, 0)
        }
        fn set_shared_generation(&self, _: &str, _: u64, _: bool) {}
        fn broadcast(&self, _: &str) {}
        async fn sleep(&self, _: u32) {}
        async fn dpop_public_jwk(&self, _: &str, _: bool) -> Result<String> {
            Err(crypto_error(JsValue::NULL))
        }
        async fn dpop_sign(&self, _: &str, _: &[u8]) -> Result<Vec<u8>> {
            Err(crypto_error(JsValue::NULL))
        }
        async fn dpop_forget(&self, _: &str) {}
        async fn seal(&self, _: &str, _: &str) -> bool {
            false
        }
        async fn unseal(&self, _: &str) -> Option<String> {
            None
        }
        async fn unseal_clear(&self, _: &str) {}
        fn trace(&self, _: &str) -> bool {
            true
        }
    }
}
