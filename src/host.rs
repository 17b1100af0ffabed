//! The one boundary between the protocol and the browser. Everything the core needs from the outside
//! world is here: HTTP, WebCrypto (digest, signature verification), randomness, the clock, the
//! single-use login-transaction storage, and the address bar. `wasm.rs` implements it with the
//! browser's APIs (through the small JavaScript object in `js/host.ts`); native tests implement it with
//! a scripted fake. No protocol module calls the browser directly.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::alg::WebCryptoParams;
use crate::error::Result;

/// The detail of the error for a response body over the host's cap (1 MiB, `js/host.ts`), refused before it
/// reaches the core. A token endpoint's answer that big is a `token_response_invalid`.
pub const RESPONSE_TOO_LARGE: &str = "the response is larger than 1 MiB";

pub struct HttpResponse {
    pub status: u16,
    pub body: String,
    /// The `DPoP-Nonce` response header (RFC 9449 §8), if any.
    pub dpop_nonce: Option<String>,
    /// The `Retry-After` and `Date` headers, when the browser lets us read them (a cross-origin provider
    /// must expose them).
    pub retry_after: Option<String>,
    pub date: Option<String>,
}

#[allow(async_fn_in_trait)] // single-threaded by design: wasm futures are !Send
pub trait Host {
    /// Unix time in seconds.
    fn now(&self) -> f64;
    /// 32 bytes from the platform CSPRNG (`crypto.getRandomValues`).
    fn random32(&self) -> [u8; 32];
    /// GET with `Accept: application/json` and, when given, an `Authorization` header (UserInfo).
    /// `Err(network_error)` when no response arrived.
    /// `dpop`, when given, is sent as the `DPoP` header.
    async fn get(&self, url: &str, authorization: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse>;
    /// Starts a plain GET of `url` (no Authorization, no DPoP) now, so that a later `get` of the same URL
    /// takes its answer instead of waiting a round trip: the JWKS while the code is being exchanged. The
    /// answer is checked as usual when the core reads it.
    fn prefetch(&self, url: &str);
    /// POST an `application/x-www-form-urlencoded` body (with a `DPoP` header when given).
    async fn post_form(&self, url: &str, body: &str, dpop: Option<&str>) -> Result<HttpResponse>;
    /// `crypto.subtle.digest(hash, data)`.
    async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>>;
    /// Starts `crypto.subtle.importKey('jwk', jwk, params, false, ['verify'])` and returns a handle for
    /// `verify`; the core keeps it with the JWK, so each key is imported once. A refused import is
    /// reported by `verify`.
    fn import_key(&self, params: WebCryptoParams, jwk: &str) -> u32;
    /// `crypto.subtle.verify` with the imported key `key`; `Ok(false)` for a signature that does not
    /// verify, `Err` when WebCrypto refused the key.
    async fn verify(&self, key: u32, data: &[u8], signature: &[u8]) -> Result<bool>;
    /// The login-transaction store (sessionStorage in the browser): never given a token.
    fn storage_get(&self, key: &str) -> Option<String>;
    /// `false` when the store refused the write.
    fn storage_set(&self, key: &str, value: &str) -> bool;
    fn storage_remove(&self, key: &str);
    /// Keys of the store that start with `prefix`.
    fn storage_keys(&self, prefix: &str) -> Vec<String>;
    /// `history.replaceState` to `url`: the current entry's URL is replaced, no navigation. `false` when the
    /// browser refused (Safari rate-limits it).
    fn replace_url(&self, url: &str) -> bool;

    // Coordination between tabs of the same app (Web Locks, localStorage, BroadcastChannel), so that a
    // refresh token is spent by one tab at a time and the new tokens reach the others.

    /// What `lock` hands back; given to `unlock` to release.
    type Lock;
    /// Waits for the exclusive cross-tab lock `name` (`navigator.locks.request`).
    async fn lock(&self, name: &str) -> Self::Lock;
    fn unlock(&self, lock: Self::Lock);
    /// A counter shared by all tabs (localStorage: synchronous, so consistent under the lock): the
    /// generation of the newest session state any tab has made, and the generation of the newest end of a
    /// session (a logout, a refused refresh token; 0: none). Numbers, never a token.
    fn shared_generation(&self, name: &str) -> (u64, u64);
    /// Records `generation` as the newest state; `ended`: it is the end of a session.
    fn set_shared_generation(&self, name: &str, generation: u64, ended: bool);
    /// Posts a message to the other tabs of this app (BroadcastChannel).
    fn broadcast(&self, message: &str);
    /// Resolves after `ms` milliseconds.
    async fn sleep(&self, ms: u32);

    // Keys that never leave WebCrypto: the DPoP key pair and the key that seals a persisted session.
    // Both are generated non-extractable and kept as CryptoKey objects in IndexedDB.

    /// The public JWK of the DPoP key pair `name` (ES256); with `create` (a new login) it is made when
    /// missing, else a missing pair is an error (its session ended and the pair was deleted: a key is never
    /// made again under the old name).
    async fn dpop_public_jwk(&self, name: &str, create: bool) -> Result<String>;
    /// An ES256 signature (R‖S) over `data` with the private DPoP key `name`; an error when it is missing.
    async fn dpop_sign(&self, name: &str, data: &[u8]) -> Result<Vec<u8>>;
    /// Deletes the DPoP key pair `name` (the session it served has ended).
    async fn dpop_forget(&self, name: &str);
    /// Encrypts `plaintext` with the AES-GCM key `name` (created on first use) and stores the ciphertext.
    async fn seal(&self, name: &str, plaintext: &str) -> bool;
    /// Decrypts what `seal` stored under `name`.
    async fn unseal(&self, name: &str) -> Option<String>;
    /// Deletes the ciphertext stored under `name`.
    async fn unseal_clear(&self, name: &str);

    /// Hands one step of the opt-in learning trace (JSON text, tokens already truncated) to the app.
    /// `false` when the app's trace function threw.
    fn trace(&self, step: &str) -> bool;
}
