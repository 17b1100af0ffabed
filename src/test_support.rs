//! Test-only fakes shared by the native tests (`client_tests.rs`) and the many-tab simulation (`sim/`):
//! a fake signature scheme and the JWKS and ID tokens made with it.
//!
//! A "signature" is `SHA-256(import_json || signing_input)`: a token verifies only under the key it was
//! made for, which is all the orchestration needs (real signatures are verified by WebCrypto and tested
//! in the browser, `wasm_tests.rs`).

use crate::b64url;
use crate::jwks::tests::rsa_n;
use sha2::{Digest, Sha256};

pub fn fake_sign(key: &str, data: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(data);
    h.finalize().to_vec()
}

pub fn jwks_json(kids: &[&str]) -> String {
    let keys: Vec<String> = kids.iter().map(|k| format!(r#"{{"kty":"RSA","kid":"{k}","n":"{}","e":"AQAB"}}"#, rsa_n(256))).collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

/// The JWK text the client hands to `import_key` for the key `kid` of `jwks_json`.
pub fn import_json(kid: &str) -> String {
    crate::jwks::Jwks::from_response(&jwks_json(&[kid])).ok().unwrap().keys[0].import_json()
}

/// An RS256 ID token with `claims` (JSON text), "signed" with the key `kid`.
pub fn id_token(kid: &str, claims: &str) -> String {
    let h = b64url::encode(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#).as_bytes());
    let p = b64url::encode(claims.as_bytes());
    let input = format!("{h}.{p}");
    let sig = fake_sign(&import_json(kid), input.as_bytes());
    format!("{input}.{}", b64url::encode(&sig))
}
