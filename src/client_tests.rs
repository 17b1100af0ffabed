//! The whole flow natively, over a scripted host: what is requested, in what order, what is stored,
//! and that a bad callback stops before any token request (the OpenID Foundation's scoring rule).

use super::*;
use crate::alg::WebCryptoParams;
use crate::b64url;
use crate::error::ErrorCode;
use crate::host::HttpResponse;
use crate::jwks::tests::rsa_n;
use crate::test_support::{fake_sign, id_token, jwks_json};
use core::cell::{Cell, RefCell};
use core::future::Future;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::collections::BTreeMap;

const ISSUER: &str = "https://op.example";
const NOW: f64 = 1_700_000_000.0;

/// A fake browser. Signatures are `SHA-256(import_json || signing_input)`: a token verifies only under
/// the key it was "signed" for, which is all the orchestration needs.
#[derive(Default)]
struct FakeHost {
    now: Cell<f64>,
    counter: Cell<u8>,
    routes: RefCell<BTreeMap<String, (u16, String)>>,
    token_response: RefCell<(u16, String)>,
    /// sessionStorage: shared by the clients of one page (`client_on_page`).
    storage: std::rc::Rc<RefCell<BTreeMap<String, String>>>,
    /// Every observable effect, in order: "GET url", "POST url body", "replace url".
    log: RefCell<Vec<String>>,
    /// When closed, token requests wait until it opens (to hold a refresh in flight).
    gate: Gate,
    /// The Retry-After of queued 429/503 answers, and the Date of token responses.
    retry_after: RefCell<Option<String>>,
    date: RefCell<Option<String>>,
    /// Milliseconds slept, in order.
    slept: RefCell<Vec<u32>>,
    /// Closed while the cross-tab lock is held.
    lock_free: Gate,
    /// When closed, `seal` waits until it opens (a slow IndexedDB).
    seal_gate: Gate,
    shared_generation: Cell<u64>,
    shared_ended: Cell<u64>,
    /// history.replaceState refuses (Safari's rate limit); the app's trace function throws.
    replace_refused: Cell<bool>,
    trace_throws: Cell<bool>,
    broadcasts: RefCell<Vec<String>>,
    locks: Cell<u32>,
    dpop_proofs: RefCell<Vec<String>>,
    /// Token-endpoint answers served before `token_response`: (status, body, DPoP-Nonce).
    queued: RefCell<std::collections::VecDeque<(u16, String, Option<String>)>>,
    /// What `seal` stored (the fake keeps it as is; the browser encrypts it).
    sealed: RefCell<Option<String>>,
    traces: RefCell<Vec<String>>,
    /// The JWKs given to `import_key`, by handle.
    imported: RefCell<Vec<String>>,
    /// The DPoP key names proofs were signed with, in order.
    dpop_keys_used: RefCell<Vec<String>>,
    /// sessionStorage refuses writes (disabled, full, a sandboxed frame).
    storage_refused: Cell<bool>,
}

#[derive(Default)]
struct Gate {
    closed: Cell<bool>,
    wakers: RefCell<Vec<core::task::Waker>>,
}

impl Gate {
    fn open(&self) {
        self.closed.set(false);
        for w in self.wakers.borrow_mut().drain(..) {
            w.wake();
        }
    }
    fn wait(&self) -> impl core::future::Future<Output = ()> + '_ {
        core::future::poll_fn(move |cx| {
            if self.closed.get() {
                self.wakers.borrow_mut().push(cx.waker().clone());
                core::task::Poll::Pending
            } else {
                core::task::Poll::Ready(())
            }
        })
    }
}

impl Host for FakeHost {
    fn now(&self) -> f64 {
        self.now.get()
    }
    fn random32(&self) -> [u8; 32] {
        self.counter.set(self.counter.get() + 1);
        [self.counter.get(); 32]
    }
    async fn get(&self, url: &str, authorization: Option<&str>, _dpop: Option<&str>) -> Result<HttpResponse> {
        match authorization {
            Some(a) => self.log.borrow_mut().push(format!("GET {url} [{a}]")),
            None => self.log.borrow_mut().push(format!("GET {url}")),
        }
        match self.routes.borrow().get(url) {
            Some((status, body)) => Ok(HttpResponse { status: *status, body: body.clone(), dpop_nonce: None, retry_after: None, date: None }),
            None => Ok(HttpResponse { status: 404, body: String::new(), dpop_nonce: None, retry_after: None, date: None }),
        }
    }
    fn prefetch(&self, url: &str) {
        self.log.borrow_mut().push(format!("prefetch {url}"));
    }
    async fn post_form(&self, url: &str, body: &str, dpop: Option<&str>) -> Result<HttpResponse> {
        self.log.borrow_mut().push(format!("POST {url} {body}"));
        if let Some(p) = dpop {
            self.dpop_proofs.borrow_mut().push(p.to_string());
        }
        self.gate.wait().await;
        if let Some((status, body, dpop_nonce)) = self.queued.borrow_mut().pop_front() {
            let retry_after = if matches!(status, 429 | 503) { self.retry_after.borrow().clone() } else { None };
            return Ok(HttpResponse { status, body, dpop_nonce, retry_after, date: self.date.borrow().clone() });
        }
        let (status, body) = self.token_response.borrow().clone();
        Ok(HttpResponse { status, body, dpop_nonce: None, retry_after: None, date: self.date.borrow().clone() })
    }
    async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>> {
        Ok(match hash {
            "SHA-256" => Sha256::digest(data).to_vec(),
            "SHA-384" => Sha384::digest(data).to_vec(),
            _ => Sha512::digest(data).to_vec(),
        })
    }
    fn import_key(&self, _: WebCryptoParams, jwk: &str) -> u32 {
        let mut keys = self.imported.borrow_mut();
        keys.push(jwk.to_string());
        (keys.len() - 1) as u32
    }
    async fn verify(&self, key: u32, data: &[u8], sig: &[u8]) -> Result<bool> {
        let jwk = self.imported.borrow()[key as usize].clone();
        // A key WebCrypto would refuse to import (the fake marks it by its exponent "AQAC").
        if jwk.contains("\"e\":\"AQAC\"") {
            return Err(crate::error::OidcError::new(ErrorCode::CryptoUnavailable, "refused"));
        }
        Ok(fake_sign(&jwk, data) == sig)
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        self.storage.borrow().get(key).cloned()
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        if self.storage_refused.get() {
            return false;
        }
        self.storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn storage_remove(&self, key: &str) {
        self.storage.borrow_mut().remove(key);
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        self.storage.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
    fn replace_url(&self, url: &str) -> bool {
        self.log.borrow_mut().push(format!("replace {url}"));
        !self.replace_refused.get()
    }
    type Lock = ();
    /// An exclusive lock, as Web Locks: a second request waits until the first is released.
    async fn lock(&self, _: &str) {
        self.lock_free.wait().await;
        self.lock_free.closed.set(true);
        self.locks.set(self.locks.get() + 1);
    }
    fn unlock(&self, _: ()) {
        self.lock_free.open();
    }
    fn shared_generation(&self, _: &str) -> (u64, u64) {
        (self.shared_generation.get(), self.shared_ended.get())
    }
    fn set_shared_generation(&self, _: &str, g: u64, ended: bool) {
        self.shared_generation.set(g);
        if ended {
            self.shared_ended.set(g);
        }
    }
    fn broadcast(&self, m: &str) {
        self.broadcasts.borrow_mut().push(m.to_string());
    }
    async fn sleep(&self, ms: u32) {
        self.slept.borrow_mut().push(ms);
    }
    async fn dpop_public_jwk(&self, _: &str, _: bool) -> Result<String> {
        Ok(r#"{"kty":"EC","crv":"P-256","x":"WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis","y":"y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE","ext":true}"#.into())
    }
    async fn dpop_sign(&self, name: &str, data: &[u8]) -> Result<Vec<u8>> {
        self.dpop_keys_used.borrow_mut().push(name.to_string());
        Ok(fake_sign("dpop", data).repeat(2))
    }
    async fn dpop_forget(&self, name: &str) {
        self.log.borrow_mut().push(format!("forget {name}"));
    }
    async fn seal(&self, _: &str, plaintext: &str) -> bool {
        self.seal_gate.wait().await;
        *self.sealed.borrow_mut() = Some(plaintext.to_string());
        true
    }
    async fn unseal(&self, _: &str) -> Option<String> {
        self.sealed.borrow().clone()
    }
    async fn unseal_clear(&self, _: &str) {
        *self.sealed.borrow_mut() = None;
    }
    fn trace(&self, step: &str) -> bool {
        self.traces.borrow_mut().push(step.to_string());
        !self.trace_throws.get()
    }
}

impl From<BTreeMap<String, (u16, String)>> for FakeHost {
    fn from(routes: BTreeMap<String, (u16, String)>) -> Self {
        let h = FakeHost { routes: RefCell::new(routes), ..FakeHost::default() };
        h.now.set(NOW);
        h
    }
}


/// Runs a future whose awaits are all ready at once (the fake host never waits).
fn block_on<F: core::future::Future>(f: F) -> F::Output {
    let mut f = core::pin::pin!(f);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(v) => v,
        core::task::Poll::Pending => panic!("the fake host never waits"),
    }
}




fn claims(nonce: &str) -> String {
    format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","name":"Alice","exp":{},"iat":{},"nonce":"{nonce}"}}"#, NOW + 300.0, NOW)
}

fn token_body(id_token: &str) -> String {
    format!(r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"refresh_token":"RT-1","id_token":"{id_token}"}}"#)
}

fn client() -> Client<FakeHost> {
    client_with("")
}

/// A client whose config has `extra` members appended (`,"dpop":true` ...).
fn client_with(extra: &str) -> Client<FakeHost> {
    let host = FakeHost::default();
    host.now.set(NOW);
    let doc = crate::discovery::tests::document(|_| {});
    host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, jwks_json(&["k1"])));
    let cfg = Config::from_json(&format!(r#"{{"issuer":"{ISSUER}","clientId":"spa","redirectUri":"https://app.example/cb","apiOrigins":["https://api.example"],"postLogoutRedirectUri":"https://app.example/bye","appOrigin":"https://app.example"{extra}}}"#)).ok().unwrap();
    Client::new(cfg, host)
}

/// Starts a login; returns (state, nonce) as sent in the authorization URL.
fn start_login(c: &Client<FakeHost>) -> (String, String) {
    let url = block_on(c.login(Some("/after".into()), &[])).ok().unwrap();
    (query_values(&url, "state")[0].clone(), query_values(&url, "nonce")[0].clone())
}

/// The decoded values of the query parameter `name` of `url` (RFC 8707 `resource` may repeat).
fn query_values(url: &str, name: &str) -> Vec<String> {
    let q = crate::url::query_of(url);
    q.split('&').filter_map(|p| p.split_once('=')).filter(|(k, _)| *k == name).map(|(_, v)| crate::url::decode_component(v).unwrap()).collect()
}

fn callback_url(state: &str) -> String {
    format!("https://app.example/cb?code=C-1&state={state}&iss=https%3A%2F%2Fop.example")
}

fn posts(c: &Client<FakeHost>) -> usize {
    c.host.log.borrow().iter().filter(|l| l.starts_with("POST")).count()
}

fn code(r: Result<CallbackResult>) -> Option<ErrorCode> {
    r.err().map(|e| e.code)
}

#[test]
fn login_then_callback_signs_the_user_in() {
    let c = client();
    let (state, nonce) = start_login(&c);
    assert_eq!(c.host.storage.borrow().len(), 1, "one transaction stored");
    let stored = c.host.storage.borrow().values().next().unwrap().clone();
    assert!(!stored.contains("AT-") && !stored.contains("RT-"), "no token in storage");

    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    let r = block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let claims_text = r.claims_text.unwrap();
    assert!(claims_text.contains("\"sub\":\"alice\""));
    assert!(!r.silent);
    assert_eq!(r.return_to.as_deref(), Some("/after"));
    assert_eq!(c.user().as_deref(), Some(claims_text.as_str()));
    assert!(c.host.storage.borrow().is_empty(), "transaction deleted after use");

    let log = c.host.log.borrow();
    let replace = log.iter().position(|l| l.starts_with("replace")).unwrap();
    let post = log.iter().position(|l| l.starts_with("POST")).unwrap();
    assert!(replace < post, "the URL is scrubbed before any request");
    assert_eq!(log[replace], "replace https://app.example/cb");
    assert!(log[post].contains("code=C-1") && log[post].contains("code_verifier="));
}

#[test]
fn the_jwks_is_fetched_during_the_code_exchange() {
    let c = client();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    assert!(block_on(c.handle_callback(&callback_url(&state))).is_ok());
    let log = c.host.log.borrow();
    let prefetch = log.iter().position(|l| l == "prefetch https://op.example/jwks").unwrap();
    let post = log.iter().position(|l| l.starts_with("POST")).unwrap();
    let get = log.iter().position(|l| l == "GET https://op.example/jwks").unwrap();
    assert!(prefetch < post && post < get, "started before the token request, read after it: {log:?}");
}

#[test]
fn a_refused_callback_prefetches_nothing() {
    let c = client();
    let (state, _) = start_login(&c);
    let url = format!("https://app.example/cb?error=access_denied&state={state}&iss=https%3A%2F%2Fop.example");
    assert!(block_on(c.handle_callback(&url)).is_err());
    assert!(!c.host.log.borrow().iter().any(|l| l.starts_with("prefetch")));
}

#[test]
fn discovery_is_fetched_once() {
    let c = client();
    start_login(&c);
    start_login(&c);
    let discovery = c.host.log.borrow().iter().filter(|l| l.contains("openid-configuration")).count();
    assert_eq!(discovery, 1);
}

#[test]
fn a_replayed_callback_is_refused_without_a_token_request() {
    let c = client();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    assert!(block_on(c.handle_callback(&callback_url(&state))).is_ok());
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::StateUnknown));
    assert_eq!(posts(&c), 1, "the replay made no token request");
}

#[test]
fn a_forged_state_is_refused_and_the_url_still_scrubbed() {
    let c = client();
    start_login(&c);
    assert_eq!(code(block_on(c.handle_callback(&callback_url("forged")))), Some(ErrorCode::StateUnknown));
    assert_eq!(code(block_on(c.handle_callback("https://app.example/cb?code=C-1"))), Some(ErrorCode::StateMissing));
    assert_eq!(posts(&c), 0);
    assert!(c.host.log.borrow().iter().filter(|l| l.starts_with("replace")).all(|l| l == "replace https://app.example/cb"));
    assert_eq!(c.host.storage.borrow().len(), 1, "the real pending login is untouched by a forged callback");
}

#[test]
fn an_expired_login_is_refused_and_deleted() {
    let c = client();
    let (state, _) = start_login(&c);
    c.host.now.set(NOW + 601.0);
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::TransactionExpired));
    assert!(c.host.storage.borrow().is_empty());
    assert_eq!(posts(&c), 0);
}

#[test]
fn a_new_login_purges_abandoned_ones() {
    let c = client();
    start_login(&c);
    c.host.now.set(NOW + 700.0);
    start_login(&c);
    assert_eq!(c.host.storage.borrow().len(), 1);
}

#[test]
fn a_mixed_up_response_is_refused_before_the_token_request() {
    let c = client();
    let (state, _) = start_login(&c);
    let url = format!("https://app.example/cb?code=C-1&state={state}&iss=https%3A%2F%2Fevil.example");
    assert_eq!(code(block_on(c.handle_callback(&url))), Some(ErrorCode::IssMismatch));
    assert_eq!(posts(&c), 0);
}

#[test]
fn an_error_response_consumes_the_login() {
    let c = client();
    let (state, _) = start_login(&c);
    let url = format!("https://app.example/cb?error=access_denied&state={state}&iss=https%3A%2F%2Fop.example");
    let e = block_on(c.handle_callback(&url)).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref()), (ErrorCode::AuthorizationError, Some("access_denied")));
    assert!(c.host.storage.borrow().is_empty());
    assert_eq!(posts(&c), 0);
}

#[test]
fn a_wrong_nonce_leaves_no_session() {
    let c = client();
    let (state, _) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims("someone-elses-nonce"))));
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::ClaimNonce));
    assert!(c.user().is_none());
}

#[test]
fn a_token_response_without_an_id_token_is_refused() {
    let c = client();
    let (state, _) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, r#"{"access_token":"AT","token_type":"Bearer"}"#.into());
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::TokenResponseInvalid));
    assert!(c.user().is_none());
}

#[test]
fn a_token_error_keeps_the_providers_error() {
    let c = client();
    let (state, _) = start_login(&c);
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    let e = block_on(c.handle_callback(&callback_url(&state))).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref()), (ErrorCode::TokenError, Some("invalid_grant")));
}

#[test]
fn an_unknown_kid_refetches_the_jwks_once() {
    let c = client();
    let meta = block_on(c.metadata()).ok().unwrap();
    let at = AccessToken::new("AT-1");
    // First verification fetches the JWKS (k1).
    let t1 = id_token("k1", &claims("n"));
    assert!(block_on(c.verify_id_token(&meta, &t1, Some(&Nonce::new("n")), &at)).is_ok());
    // The provider rotates to k2; a token signed with k2 triggers exactly one refetch and verifies.
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, jwks_json(&["k2"])));
    c.host.now.set(NOW + 6.0);
    let t2 = id_token("k2", &claims("n"));
    assert!(block_on(c.verify_id_token(&meta, &t2, Some(&Nonce::new("n")), &at)).is_ok());
    let jwks_gets = || c.host.log.borrow().iter().filter(|l| l.starts_with("GET") && l.ends_with("/jwks")).count();
    assert_eq!(jwks_gets(), 2);
    // A kid that exists nowhere: one refetch, then no_matching_key.
    c.host.now.set(NOW + 12.0);
    let t3 = id_token("k3", &claims("n"));
    let e = block_on(c.verify_id_token(&meta, &t3, Some(&Nonce::new("n")), &at)).err().unwrap();
    assert_eq!(e.code, ErrorCode::NoMatchingKey);
    assert_eq!(jwks_gets(), 3);
    // And not again within the refetch interval.
    let e = block_on(c.verify_id_token(&meta, &t3, Some(&Nonce::new("n")), &at)).err().unwrap();
    assert_eq!(e.code, ErrorCode::NoMatchingKey);
    assert_eq!(jwks_gets(), 3);
}

#[test]
fn a_key_rotated_right_after_the_jwks_was_fetched_is_found() {
    let c = client();
    let meta = block_on(c.metadata()).ok().unwrap();
    let at = AccessToken::new("AT-1");
    assert!(block_on(c.verify_id_token(&meta, &id_token("k1", &claims("n")), Some(&Nonce::new("n")), &at)).is_ok());
    // Same instant: the provider starts signing with k2 (OIDF signing-key-rotation-just-before-signing).
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, jwks_json(&["k2"])));
    assert!(block_on(c.verify_id_token(&meta, &id_token("k2", &claims("n")), Some(&Nonce::new("n")), &at)).is_ok());
    let jwks_gets = c.host.log.borrow().iter().filter(|l| l.starts_with("GET") && l.ends_with("/jwks")).count();
    assert_eq!(jwks_gets, 2, "the first fetch, then one refetch");
}

#[test]
fn a_key_webcrypto_refuses_does_not_hide_a_good_one() {
    let c = client();
    let bad = format!(r#"{{"kty":"RSA","kid":"k1","n":"{}","e":"AQAC"}}"#, rsa_n(256));
    let good = format!(r#"{{"kty":"RSA","kid":"k1","n":"{}","e":"AQAB"}}"#, rsa_n(256));
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, format!(r#"{{"keys":[{bad},{good}]}}"#)));
    let meta = block_on(c.metadata()).ok().unwrap();
    let t = id_token("k1", &claims("n"));
    assert!(block_on(c.verify_id_token(&meta, &t, Some(&Nonce::new("n")), &AccessToken::new("AT"))).is_ok());
    // Only refused keys: the browser cannot verify, and says so.
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, format!(r#"{{"keys":[{bad}]}}"#)));
    let c2: Client<FakeHost> = Client::new(Config::from_json(&format!(r#"{{"issuer":"{ISSUER}","clientId":"spa","redirectUri":"https://app.example/cb"}}"#)).ok().unwrap(), core::mem::take(&mut *c.host.routes.borrow_mut()).into());
    let meta = block_on(c2.metadata()).ok().unwrap();
    let e = block_on(c2.verify_id_token(&meta, &t, Some(&Nonce::new("n")), &AccessToken::new("AT"))).err().unwrap();
    assert_eq!(e.code, ErrorCode::CryptoUnavailable);
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let c = client();
    let meta = block_on(c.metadata()).ok().unwrap();
    // Signed for key "k9" but claiming kid k1: the signature does not verify under k1.
    let good = id_token("k1", &claims("n"));
    let forged_sig = b64url::encode(&fake_sign("other key", good.rsplit_once('.').unwrap().0.as_bytes()));
    let forged = format!("{}.{forged_sig}", good.rsplit_once('.').unwrap().0);
    let at = AccessToken::new("AT");
    assert_eq!(block_on(c.verify_id_token(&meta, &forged, Some(&Nonce::new("n")), &at)).err().map(|e| e.code), Some(ErrorCode::SignatureInvalid));
    assert!(block_on(c.verify_id_token(&meta, &good, Some(&Nonce::new("n")), &at)).is_ok());
}

// ---- Refresh, rotation, bearer use, tabs, logout -------------------------------------------------

fn signed_in() -> Client<FakeHost> {
    let c = client();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    c
}

fn refreshed_body(n: u32, sub: &str) -> String {
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"{sub}","exp":{},"iat":{}}}"#, NOW + 900.0, NOW);
    format!(
        r#"{{"access_token":"AT-{n}","token_type":"Bearer","expires_in":300,"refresh_token":"RT-{n}","id_token":"{}"}}"#,
        id_token("k1", &claims)
    )
}

fn refresh_posts(c: &Client<FakeHost>) -> Vec<String> {
    c.host.log.borrow().iter().filter(|l| l.contains("grant_type=refresh_token")).cloned().collect()
}

fn access_token(c: &Client<FakeHost>) -> String {
    c.session.borrow().as_ref().unwrap().tokens.access_token.as_str().to_string()
}

#[test]
fn fifty_waiting_callers_share_one_refresh() {
    let c = signed_in();
    c.host.now.set(NOW + 290.0); // inside the 30 s margin before expiry
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.gate.closed.set(true);
    let locks_before = c.host.locks.get();
    let mut calls: Vec<_> = (0..50).map(|_| Box::pin(c.authorization_for("https://api.example/orders", "GET"))).collect();
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    for f in calls.iter_mut() {
        assert!(f.as_mut().poll(&mut cx).is_pending(), "every caller waits for the one refresh");
    }
    assert_eq!(refresh_posts(&c).len(), 1, "one request while 50 wait");
    c.host.gate.open();
    for f in calls.iter_mut() {
        match f.as_mut().poll(&mut cx) {
            core::task::Poll::Ready(Ok(Some((h, None)))) => assert_eq!(h, "Bearer AT-2"),
            _ => panic!("a caller did not get the new token"),
        }
    }
    assert_eq!(refresh_posts(&c).len(), 1);
    assert_eq!(c.host.locks.get() - locks_before, 1, "one cross-tab lock taken");
}

#[test]
fn rotation_replaces_the_refresh_token_and_never_reuses_it() {
    let c = signed_in();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(c.refresh()).ok().unwrap();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(3, "alice"));
    block_on(c.refresh()).ok().unwrap();
    let posts = refresh_posts(&c);
    assert!(posts[0].contains("refresh_token=RT-1"));
    assert!(posts[1].contains("refresh_token=RT-2"), "the rotated token is used next");
    assert_eq!(access_token(&c), "AT-3");
    let last = c.host.broadcasts.borrow().last().cloned().unwrap();
    assert!(last.starts_with(r#"{"t":"session""#), "the other tabs get the new tokens");
}

#[test]
fn invalid_grant_ends_the_session_everywhere() {
    let c = signed_in();
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    let e = block_on(c.refresh()).err().unwrap();
    assert_eq!(e.code, ErrorCode::SessionEnded);
    assert!(c.user().is_none());
    assert!(c.host.broadcasts.borrow().last().unwrap().starts_with(r#"{"t":"ended""#));
    assert_eq!(block_on(c.authorization_for("https://api.example/", "GET")).err().map(|e| e.code), Some(ErrorCode::NotSignedIn));
}

#[test]
fn a_fresh_token_is_ready_without_waiting() {
    assert_eq!(client().authorization_ready("https://api.example/x"), None, "signed out: the async path says so");
    let c = signed_in();
    assert_eq!(c.authorization_ready("https://api.example/x"), Some(Some("Bearer AT-1".into())));
    assert_eq!(c.authorization_ready("https://elsewhere.example/x"), Some(None), "no token off the API origins");
    c.host.now.set(NOW + 271.0); // expires_in 300, refresh margin 30
    assert_eq!(c.authorization_ready("https://api.example/x"), None, "a refresh is due: the async path");
    assert!(refresh_posts(&c).is_empty(), "the fast path never refreshes");
}

#[test]
#[cfg(feature = "dpop")]
fn a_dpop_token_is_never_ready_without_waiting() {
    let d = client_with(r#","dpop":true"#);
    let (state, nonce) = start_login(&d);
    *d.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&nonce))));
    block_on(d.handle_callback(&callback_url(&state))).ok().unwrap();
    assert_eq!(d.authorization_ready("https://api.example/x"), None, "DPoP: each request needs its proof");
}

#[test]
fn a_failing_token_endpoint_keeps_the_session_while_the_token_is_valid() {
    let c = signed_in();
    c.host.now.set(NOW + 290.0);
    *c.host.token_response.borrow_mut() = (500, "<html>".into());
    let h = block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap();
    assert_eq!(h.map(|h| h.0).as_deref(), Some("Bearer AT-1"), "still valid: the old token is used");
    assert_eq!(c.take_background_error().map(|e| e.code), Some(ErrorCode::HttpError));
    assert_eq!(refresh_posts(&c).len(), 1);
    block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap();
    assert_eq!(refresh_posts(&c).len(), 1, "backoff: no second try at once");
    // Expired and the provider still failing: a typed error, and the session is kept for later.
    c.host.now.set(NOW + 301.0);
    assert_eq!(block_on(c.authorization_for("https://api.example/", "GET")).err().map(|e| e.code), Some(ErrorCode::HttpError));
    assert!(c.user().is_some());
    // The provider recovers.
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    assert_eq!(block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap().map(|h| h.0).as_deref(), Some("Bearer AT-2"));
}

#[test]
fn a_refreshed_id_token_for_another_user_is_refused() {
    let c = signed_in();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "mallory"));
    assert_eq!(block_on(c.refresh()).err().map(|e| e.code), Some(ErrorCode::RefreshIdTokenMismatch));
    assert!(c.user().is_none(), "the spent refresh token cannot be kept");
}

#[test]
fn a_refresh_already_made_by_another_tab_is_not_replayed() {
    let c = signed_in();
    c.host.shared_generation.set(c.generation.get() + 1); // another tab refreshed meanwhile
    assert_eq!(block_on(c.refresh()).err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(refresh_posts(&c).is_empty(), "the spent refresh token was not sent");
}

#[test]
fn the_token_goes_only_to_allowed_origins() {
    let c = signed_in();
    assert_eq!(block_on(c.authorization_for("https://api.example/x", "GET")).ok().unwrap().map(|h| h.0).as_deref(), Some("Bearer AT-1"));
    for other in ["https://evil.example/x", "https://app.example/x", "https://api.example.evil.example/"] {
        assert_eq!(block_on(c.authorization_for(other, "GET")).ok().unwrap(), None, "{other}");
    }
}

#[test]
fn a_401_invalid_token_refreshes_once() {
    let c = signed_in();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    let challenge = r#"Bearer error="invalid_token""#;
    assert_eq!(block_on(c.after_unauthorized("https://api.example/", "Bearer AT-1", r#"Bearer error="insufficient_scope""#, None)).ok(), Some(false));
    assert_eq!(block_on(c.after_unauthorized("https://api.example/", "Bearer AT-1", challenge, None)).ok(), Some(true));
    assert_eq!(refresh_posts(&c).len(), 1);
    // A request that still carried the old token: the new one is already there, no second refresh.
    assert_eq!(block_on(c.after_unauthorized("https://api.example/", "Bearer AT-1", challenge, None)).ok(), Some(true));
    assert_eq!(refresh_posts(&c).len(), 1);
}

#[test]
fn a_new_tab_looks_for_a_session_only_when_the_newest_state_is_one() {
    // Nothing recorded yet: no tab has a session.
    let c = client();
    assert!(!c.session_elsewhere());
    // A login recorded: some tab may hold it.
    let c = signed_in();
    assert!(c.session_elsewhere());
    // A refresh is a session too; a logout ends it, and then no tab has one.
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(c.refresh()).ok().unwrap();
    assert!(c.session_elsewhere());
    block_on(c.logout(None, true)).ok().unwrap();
    assert!(!c.session_elsewhere());
}

#[test]
fn tabs_hand_sessions_over_and_end_them() {
    let a = signed_in();
    let b = client();
    // b asks; a answers with its session; b takes it.
    b.ask_other_tabs();
    assert_eq!(b.host.broadcasts.borrow().last().map(String::as_str), Some(r#"{"t":"ask"}"#));
    assert_eq!(a.on_message(r#"{"t":"ask"}"#), crate::refresh::Change::None);
    let reply = a.host.broadcasts.borrow().last().cloned().unwrap();
    assert_eq!(b.on_message(&reply), crate::refresh::Change::SignedIn);
    assert_eq!(b.user(), a.user());
    assert_eq!(access_token(&b), "AT-1");
    assert_eq!(b.on_message(&reply), crate::refresh::Change::None, "an old state is ignored");
    // a refreshes: b gets the new tokens.
    *a.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(a.refresh()).ok().unwrap();
    let update = a.host.broadcasts.borrow().last().cloned().unwrap();
    assert_eq!(b.on_message(&update), crate::refresh::Change::Refreshed);
    assert_eq!(access_token(&b), "AT-2");
    // a logs out: b's session ends.
    block_on(a.logout(None, false)).ok().unwrap();
    let ended = a.host.broadcasts.borrow().last().cloned().unwrap();
    assert_eq!(b.on_message(&ended), crate::refresh::Change::Ended);
    assert!(b.user().is_none());
    assert_eq!(b.on_message("garbage"), crate::refresh::Change::None);
}

#[test]
fn logout_revokes_and_returns_the_end_session_url() {
    let c = client();
    let doc = crate::discovery::tests::document(|m| {
        m.push(("revocation_endpoint", "\"https://op.example/revoke\"".into()));
        m.push(("end_session_endpoint", "\"https://op.example/logout\"".into()));
    });
    c.host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    let (state, nonce) = start_login(&c);
    let idt = id_token("k1", &claims(&nonce));
    *c.host.token_response.borrow_mut() = (200, token_body(&idt));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let url = block_on(c.logout(None, false)).ok().unwrap().unwrap();
    assert_eq!(url, format!("https://op.example/logout?id_token_hint={idt}&client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"));
    assert!(c.host.log.borrow().iter().any(|l| l == "POST https://op.example/revoke token=RT-1&token_type_hint=refresh_token&client_id=spa"));
    assert!(c.user().is_none());
}

// ---- DPoP and sealed sessions --------------------------------------------------------------------

#[cfg(feature = "dpop")]
fn decode_part(jwt: &str, i: usize) -> String {
    String::from_utf8(b64url::decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
}

#[cfg(feature = "dpop")]
fn dpop_token_body(id_token: &str) -> String {
    token_body(id_token).replace("\"Bearer\"", "\"DPoP\"")
}

#[test]
#[cfg(feature = "dpop")]
fn dpop_binds_the_code_and_proves_possession_at_the_token_endpoint() {
    let c = client_with(r#","dpop":true"#);
    let url = block_on(c.login(None, &[])).ok().unwrap();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let jkt = get("dpop_jkt").expect("dpop_jkt in the authorization request");
    let jwk = r#"{"crv":"P-256","kty":"EC","x":"WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis","y":"y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE"}"#;
    assert_eq!(jkt, b64url::encode(&Sha256::digest(jwk.as_bytes())), "RFC 7638 thumbprint of the canonical JWK");

    *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&get("nonce").unwrap()))));
    block_on(c.handle_callback(&callback_url(&get("state").unwrap()))).ok().unwrap();
    let proof = c.host.dpop_proofs.borrow()[0].clone();
    assert_eq!(decode_part(&proof, 0), format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{jwk}}}"#));
    let claims = Json::parse(&decode_part(&proof, 1), ErrorCode::JwtMalformed).ok().unwrap();
    assert_eq!(claims.str_member("htm"), Some("POST"));
    assert_eq!(claims.str_member("htu"), Some("https://op.example/token"));
    assert!(claims.get("ath").is_none() && claims.str_member("jti").is_some());
}

#[test]
#[cfg(feature = "dpop")]
fn dpop_uses_a_new_key_for_each_login_and_forgets_it_at_logout() {
    let sign_in = |c: &Client<FakeHost>| {
        let url = block_on(c.login(None, &[])).ok().unwrap();
        let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
        let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&get("nonce")))));
        block_on(c.handle_callback(&callback_url(&get("state")))).ok().unwrap();
        c.host.dpop_keys_used.borrow().last().cloned().unwrap()
    };
    let c = client_with(r#","dpop":true"#);
    let first = sign_in(&c);
    assert!(first.starts_with(&format!("{}|dpop|", c.coordination_name())), "{first}");
    // Another tab that takes the session over proves possession with the same key.
    let b = client_with(r#","dpop":true"#);
    let handed = c.host.broadcasts.borrow().last().cloned().unwrap();
    b.on_message(&handed);
    block_on(b.authorization_for("https://api.example/x", "GET")).ok().unwrap();
    assert_eq!(b.host.dpop_keys_used.borrow().last(), Some(&first));
    // Logout deletes the key pair; the next login makes a new one.
    block_on(c.logout(None, false)).ok().unwrap();
    assert!(c.host.log.borrow().iter().any(|l| *l == format!("forget {first}")));
    let second = sign_in(&c);
    assert_ne!(first, second, "a new login, a new key");
    assert!(!c.host.log.borrow().iter().any(|l| *l == format!("forget {second}")));
}

#[test]
#[cfg(feature = "dpop")]
fn dpop_refuses_a_bearer_token_and_sends_dpop_to_the_api() {
    let c = client_with(r#","dpop":true"#);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    let e = block_on(c.handle_callback(&callback_url(&state))).err().unwrap();
    assert_eq!(e.code, ErrorCode::TokenResponseInvalid, "a Bearer token when DPoP was asked is a downgrade");

    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let (auth, proof) = block_on(c.authorization_for("https://api.example/orders?id=1", "PUT")).ok().unwrap().unwrap();
    assert_eq!(auth, "DPoP AT-1");
    let claims = Json::parse(&decode_part(&proof.unwrap(), 1), ErrorCode::JwtMalformed).ok().unwrap();
    assert_eq!(claims.str_member("htm"), Some("PUT"));
    assert_eq!(claims.str_member("htu"), Some("https://api.example/orders"), "no query in htu");
    assert_eq!(claims.str_member("ath"), Some(b64url::encode(&Sha256::digest(b"AT-1")).as_str()));
}

#[test]
#[cfg(feature = "dpop")]
fn dpop_nonce_challenges_are_met_with_one_retry() {
    let c = client_with(r#","dpop":true"#);
    let (state, nonce) = start_login(&c);
    c.host.queued.borrow_mut().push_back((400, r#"{"error":"use_dpop_nonce"}"#.into(), Some("n-op".into())));
    *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let proofs = c.host.dpop_proofs.borrow().clone();
    assert_eq!(proofs.len(), 2, "one retry");
    assert!(!decode_part(&proofs[0], 1).contains("nonce"));
    assert!(decode_part(&proofs[1], 1).contains(r#""nonce":"n-op""#));
    // A resource server's nonce: retry once with it, not forever with the same one.
    let challenge = r#"DPoP error="use_dpop_nonce""#;
    assert_eq!(block_on(c.after_unauthorized("https://api.example/x", "DPoP AT-1", challenge, Some("n-rs"))).ok(), Some(true));
    let (_, proof) = block_on(c.authorization_for("https://api.example/x", "GET")).ok().unwrap().unwrap();
    assert!(decode_part(&proof.unwrap(), 1).contains(r#""nonce":"n-rs""#));
    assert_eq!(block_on(c.after_unauthorized("https://api.example/x", "DPoP AT-1", challenge, Some("n-rs"))).ok(), Some(false));
}

#[test]
#[cfg(feature = "sealed")]
fn a_sealed_session_is_restored_by_a_refresh_and_rotated() {
    let c = client_with(r#","persistSession":"sealed""#);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let sealed = c.host.sealed.borrow().clone().unwrap();
    assert!(sealed.contains("RT-1") && !sealed.contains("AT-1"), "the seal keeps the refresh token, not the access token");

    // "Reload": a new client on the same storage.
    let reloaded = client_with(r#","persistSession":"sealed""#);
    *reloaded.host.sealed.borrow_mut() = Some(sealed);
    *reloaded.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    assert_eq!(block_on(reloaded.restore()).ok(), Some(true));
    assert_eq!(access_token(&reloaded), "AT-2");
    assert!(refresh_posts(&reloaded)[0].contains("refresh_token=RT-1"));
    assert!(reloaded.host.sealed.borrow().as_ref().unwrap().contains("RT-2"), "rotation replaces the sealed copy");
    assert!(reloaded.user().unwrap().contains("alice"));
}

#[test]
#[cfg(feature = "sealed")]
fn a_refused_sealed_session_is_cleared() {
    let c = client_with(r#","persistSession":"sealed""#);
    *c.host.sealed.borrow_mut() = Some(r#"{"claims":{"sub":"alice"},"rt":"RT-old"}"#.into());
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    assert_eq!(block_on(c.restore()).err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(c.host.sealed.borrow().is_none() && c.user().is_none());
    assert_eq!(block_on(c.restore()).ok(), Some(false), "nothing left to restore: no loop");
}

#[test]
fn tokens_that_arrive_while_waiting_for_the_lock_are_used_not_refreshed_again() {
    // Tab B asked for a refresh at generation g; while it waited for the lock, tab A refreshed and its
    // new tokens (generation g+1) already reached B by BroadcastChannel. B must not refresh again.
    let a = signed_in();
    let b = client();
    b.ask_other_tabs();
    a.on_message(r#"{"t":"ask"}"#);
    let reply = a.host.broadcasts.borrow().last().cloned().unwrap();
    b.on_message(&reply);
    let asked_at = b.generation.get();
    let before = b.current_token(None);
    *a.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(a.refresh()).ok().unwrap();
    let update = a.host.broadcasts.borrow().last().cloned().unwrap();
    b.on_message(&update); // arrives before B holds the lock
    b.host.shared_generation.set(b.generation.get());
    assert!(block_on(b.refresh_under_lock(&b.coordination_name(), asked_at, None, before)).is_ok());
    assert!(refresh_posts(&b).is_empty(), "no second refresh with the new refresh token");
    assert_eq!(access_token(&b), "AT-2");
}

#[test]
#[cfg(feature = "trace")]
fn the_learning_trace_shows_each_step_with_tokens_truncated() {
    let c = client_with(r#","trace":true"#);
    let (state, nonce) = start_login(&c);
    let idt = id_token("k1", &claims(&nonce));
    *c.host.token_response.borrow_mut() = (200, token_body(&idt));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(c.refresh()).ok().unwrap();
    block_on(c.logout(None, false)).ok().unwrap();
    let traces = c.host.traces.borrow().clone();
    let steps: Vec<String> = traces
        .iter()
        .map(|t| Json::parse(t, ErrorCode::JwtMalformed).ok().unwrap().str_member("step").unwrap().to_string())
        .collect();
    assert_eq!(steps, vec!["authorization_request", "callback", "token_response", "id_token", "refresh", "id_token", "logout"]);
    assert!(traces[0].contains("\"code_challenge_method\":\"S256\"") && traces[0].contains(&state));
    assert!(!traces[0].contains("code_verifier\":\"") || traces[0].contains("(43 chars"), "the verifier is never shown");
    assert!(traces[2].contains(&idt[..8]) && !traces.iter().any(|t| t.contains(&idt)), "the ID token only truncated");
    assert!(traces[3].contains("\"check\":\"nonce\""));
    assert!(traces[4].contains("\"rotated\":true"));
    // Without trace, nothing is traced.
    let quiet = signed_in();
    assert!(quiet.host.traces.borrow().is_empty());
}

#[test]
#[cfg(feature = "trace")]
fn the_id_token_demonstration_needs_trace_and_an_api_origin() {
    let quiet = signed_in();
    assert_eq!(block_on(quiet.call_api_with_id_token("https://api.example/me")).err().map(|e| e.code), Some(ErrorCode::InvalidConfig));
    let c = client_with(r#","trace":true"#);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    assert_eq!(block_on(c.call_api_with_id_token("https://evil.example/")).err().map(|e| e.code), Some(ErrorCode::InvalidConfig));
    let (status, _) = block_on(c.call_api_with_id_token("https://op.example/jwks")).err().map(|_| (0, String::new())).unwrap_or((1, String::new()));
    assert_eq!(status, 0, "op.example is not an API origin");
    c.host.routes.borrow_mut().insert("https://api.example/me".into(), (401, r#"{"error":"invalid_token"}"#.into()));
    let (status, body) = block_on(c.call_api_with_id_token("https://api.example/me")).ok().unwrap();
    assert_eq!((status, body.as_str()), (401, r#"{"error":"invalid_token"}"#));
    assert!(c.host.log.borrow().iter().any(|l| l.starts_with("GET https://api.example/me [Bearer eyJ")));
}

// ---- Issue #11: sessions that stay ended (each test failed on the code before its fix) ---------------

/// Polls a future once; `Some` when it finished.
fn poll_once<F: Future>(f: &mut core::pin::Pin<Box<F>>) -> Option<F::Output> {
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(v) => Some(v),
        core::task::Poll::Pending => None,
    }
}

/// Signed in at a provider with a revocation endpoint (and, with `dpop`, DPoP).
fn signed_in_revocable(extra: &str) -> Client<FakeHost> {
    let c = client_with(extra);
    let doc = crate::discovery::tests::document(|m| {
        m.push(("revocation_endpoint", "\"https://op.example/revoke\"".into()));
        m.push(("end_session_endpoint", "\"https://op.example/logout\"".into()));
        m.push(("dpop_signing_alg_values_supported", "[\"ES256\"]".into()));
    });
    c.host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    let (state, nonce) = start_login(&c);
    let body = token_body(&id_token("k1", &claims(&nonce)));
    let body = if extra.contains("dpop") { body.replace("\"Bearer\"", "\"DPoP\"") } else { body };
    *c.host.token_response.borrow_mut() = (200, body);
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    c
}

fn revocations(c: &Client<FakeHost>) -> Vec<String> {
    c.host.log.borrow().iter().filter(|l| l.starts_with("POST https://op.example/revoke")).cloned().collect()
}

#[test]
fn logout_during_a_refresh_waits_for_it_and_revokes_the_new_refresh_token() {
    // Defect 1: logout() took neither the lock nor waited; the refresh in flight then installed its new
    // tokens after the end, signing every tab in again with a refresh token that was never revoked.
    let c = signed_in_revocable("");
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.gate.closed.set(true);
    let mut refresh = Box::pin(c.refresh());
    assert!(poll_once(&mut refresh).is_none(), "the refresh waits for its answer");
    let mut logout = Box::pin(c.logout(None, false));
    assert!(poll_once(&mut logout).is_none(), "the logout waits for the refresh in flight");
    c.host.gate.open();
    assert!(poll_once(&mut refresh).is_some_and(|r| r.is_ok()));
    let url = poll_once(&mut logout).expect("the logout finishes after the refresh").ok().unwrap();
    assert!(url.is_some_and(|u| u.starts_with("https://op.example/logout?")));
    assert!(c.user().is_none(), "the session stays ended");
    assert_eq!(revocations(&c), vec!["POST https://op.example/revoke token=RT-2&token_type_hint=refresh_token&client_id=spa"], "the newest refresh token is revoked");
    assert!(c.host.broadcasts.borrow().last().unwrap().starts_with(r#"{"t":"ended""#), "the end is the last word to the other tabs");
}

#[test]
fn a_session_ended_by_a_refused_refresh_revokes_the_refresh_tokens_of_the_sessions_it_replaced() {
    // Found by the many-tab simulation (seed 1191 once new tabs stopped asking when no tab can have a session):
    // a tab signed in again as the same user keeps the replaced session's refresh token (perhaps another grant)
    // for the logout. When the provider then refused the current refresh token, the session ended and the
    // kept one stayed live at the provider, held by no tab and out of any logout's reach.
    let retire = |c: &Client<FakeHost>| {
        let kept = crate::session::Retired { rt: crate::types::RefreshToken::new("RT-0"), dpop_key: None };
        c.session.get_mut_ref().as_mut().unwrap().retired.push(kept);
    };
    let c = signed_in_revocable("");
    retire(&c);
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    assert_eq!(block_on(c.refresh()).err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(c.user().is_none());
    assert_eq!(revocations(&c), vec!["POST https://op.example/revoke token=RT-0&token_type_hint=refresh_token&client_id=spa"], "the kept refresh token is revoked");
    // A refresh that works keeps it for the logout, which revokes it with the newest.
    let c = signed_in_revocable("");
    retire(&c);
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    block_on(c.refresh()).ok().unwrap();
    assert_eq!(revocations(&c), Vec::<String>::new(), "nothing revoked while the session lives");
    block_on(c.logout(None, true)).ok().unwrap();
    assert_eq!(revocations(&c).len(), 2, "the logout revokes the newest and the kept one: {:?}", revocations(&c));
    assert!(revocations(&c).iter().any(|r| r.contains("token=RT-0")));
}

#[test]
fn a_refresh_answer_that_arrives_after_a_logout_elsewhere_is_discarded_and_revoked() {
    // Defect 1, where the browser has no Web Locks: another tab logs out while this tab's refresh is out.
    let c = signed_in_revocable("");
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.gate.closed.set(true);
    let mut refresh = Box::pin(c.refresh());
    assert!(poll_once(&mut refresh).is_none());
    let g = c.host.shared_generation.get() + 1; // the other tab's logout
    c.host.shared_generation.set(g);
    c.host.shared_ended.set(g);
    assert_eq!(c.on_message(&crate::session::Message::ended(g)), crate::refresh::Change::Ended);
    c.host.gate.open();
    assert_eq!(poll_once(&mut refresh).unwrap().err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(c.user().is_none(), "the answer is not installed");
    assert_eq!(revocations(&c).len(), 1, "its refresh token is revoked");
    assert!(revocations(&c)[0].contains("token=RT-2"));
    assert!(!c.host.broadcasts.borrow().iter().any(|m| m.contains("RT-2")), "nothing of it reaches the other tabs");
}

#[test]
fn a_login_completing_after_a_logout_in_another_tab_yields_to_it() {
    // Defect 1's twin: this tab's callback exchanged its code before another tab's logout; the logout wins.
    let c = client_with("");
    let doc = crate::discovery::tests::document(|m| m.push(("revocation_endpoint", "\"https://op.example/revoke\"".into())));
    c.host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    c.host.gate.closed.set(true);
    let url = callback_url(&state);
    let mut callback = Box::pin(c.handle_callback(&url));
    assert!(poll_once(&mut callback).is_none(), "the code exchange is out");
    c.host.shared_generation.set(5); // another tab logs out meanwhile
    c.host.shared_ended.set(5);
    c.host.gate.open();
    let e = poll_once(&mut callback).unwrap().err().unwrap();
    assert_eq!(e.code, ErrorCode::SessionEnded);
    assert!(c.user().is_none());
    assert!(revocations(&c)[0].contains("token=RT-1"), "its tokens are revoked: the logout is the newest state");
    // Not so when a newer login followed the logout: its grant may be the same one (one grant per browser
    // session at oidc-provider and Keycloak), so nothing is revoked.
    let d = client_with("");
    d.host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, crate::discovery::tests::document(|m| m.push(("revocation_endpoint", "\"https://op.example/revoke\"".into())))));
    let (state, nonce) = start_login(&d);
    *d.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    d.host.gate.closed.set(true);
    let url = callback_url(&state);
    let mut callback = Box::pin(d.handle_callback(&url));
    assert!(poll_once(&mut callback).is_none());
    d.host.shared_ended.set(5);
    d.host.shared_generation.set(6); // the logout, then a login in a third tab
    d.host.gate.open();
    assert_eq!(poll_once(&mut callback).unwrap().err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(revocations(&d).is_empty());
}

#[test]
#[cfg(feature = "sealed")]
fn the_session_is_in_memory_before_the_seal_is_written() {
    // Defect 4: install_session bumped the generation and broadcast, then awaited seal() before putting the
    // new session in memory; a tab that asked in that window was handed the old (spent) refresh token.
    let c = client_with(r#","persistSession":"sealed""#);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.seal_gate.closed.set(true);
    let mut refresh = Box::pin(c.refresh());
    assert!(poll_once(&mut refresh).is_none(), "the seal is slow");
    c.host.broadcasts.borrow_mut().clear();
    c.on_message(crate::session::Message::ASK);
    let answer = c.host.broadcasts.borrow().last().cloned().unwrap();
    assert!(answer.contains("\"RT-2\"") && !answer.contains("\"RT-1\""), "a new tab is handed the new refresh token");
    c.host.seal_gate.open();
    assert!(poll_once(&mut refresh).unwrap().is_ok());
}

#[test]
fn a_refresh_answer_that_fails_validation_ends_the_session_and_the_token_is_never_sent_again() {
    // Defect 5: a 200 the SDK refused kept the session, and the next try re-sent a refresh token the
    // provider had already rotated: reuse detection then revokes the whole family.
    for garbage in [
        r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2"#.to_string(), // cut short
        r#"{"access_token":"AT-2","token_typ":"Bearer","refresh_token":"RT-2"}"#.to_string(),                // no token_type
        refreshed_body(2, "mallory"),                                                                         // another user
    ] {
        let c = signed_in_revocable("");
        *c.host.token_response.borrow_mut() = (200, garbage.clone());
        assert!(block_on(c.refresh()).is_err());
        assert!(c.user().is_none(), "the session ends with the error: {garbage}");
        assert!(c.host.broadcasts.borrow().last().unwrap().starts_with(r#"{"t":"ended""#));
        let revoked = revocations(&c);
        if garbage.ends_with('}') {
            assert!(revoked.iter().any(|r| r.contains("token=RT-2&")), "a new refresh token that can be read is revoked: {garbage}");
        }
        assert!(revoked.iter().any(|r| r.contains("token=RT-1&")), "and the one sent (a provider that does not rotate keeps it valid)");
        *c.host.token_response.borrow_mut() = (200, refreshed_body(3, "alice"));
        assert!(block_on(c.refresh()).is_err());
        assert!(block_on(c.authorization_for("https://api.example/", "GET")).is_err());
        assert_eq!(refresh_posts(&c).len(), 1, "RT-1 was sent once, never again");
    }
}

#[test]
#[cfg(feature = "dpop")]
fn a_new_login_does_not_take_the_dpop_key_of_the_session_in_use() {
    // Defect 10: login() switched to the new login's key at once; API calls still made before the user left
    // signed with a key their tokens are not bound to, and an invalid_grant then deleted the new key.
    let c = signed_in_revocable(r#","dpop":true"#);
    block_on(c.authorization_for("https://api.example/x", "GET")).ok().unwrap();
    let session_key = c.host.dpop_keys_used.borrow().last().cloned().unwrap();
    let url = block_on(c.login(None, &[])).ok().unwrap();
    block_on(c.authorization_for("https://api.example/x", "GET")).ok().unwrap();
    assert_eq!(c.host.dpop_keys_used.borrow().last(), Some(&session_key), "the API call still proves with the session's key");
    // The provider refuses the refresh token: the session's key is deleted, not the login's.
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    assert!(block_on(c.refresh()).is_err());
    assert!(c.host.log.borrow().iter().any(|l| *l == format!("forget {session_key}")));
    // The new login's callback exchanges its code with the login's key.
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
    *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&get("nonce")))));
    block_on(c.handle_callback(&callback_url(&get("state")))).ok().unwrap();
    let login_key = c.host.dpop_keys_used.borrow().last().cloned().unwrap();
    assert_ne!(login_key, session_key);
    assert!(!c.host.log.borrow().iter().any(|l| *l == format!("forget {login_key}")), "the new login's key is alive");
}

#[test]
fn a_refused_replace_state_stops_the_callback_cleanly() {
    // Defect 9: a host call that threw left the wasm task and its lock hanging. The browser binding now
    // catches every host call; a refused history.replaceState fails the callback with browser_error.
    let c = client();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    c.host.replace_refused.set(true);
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::BrowserError));
    assert_eq!(posts(&c), 0, "no code exchange with the code still in the address bar");
    assert!(c.host.storage.borrow().is_empty(), "the login is deleted: its code is useless now");
    c.host.replace_refused.set(false);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    assert!(block_on(c.handle_callback(&callback_url(&state))).is_ok(), "the next login works");
}

#[test]
#[cfg(feature = "trace")]
fn a_throwing_trace_function_fails_the_call_and_releases_the_lock() {
    let c = client_with(r#","trace":true"#);
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.trace_throws.set(true);
    assert_eq!(block_on(c.refresh()).err().map(|e| e.code), Some(ErrorCode::BrowserError));
    c.host.trace_throws.set(false);
    *c.host.token_response.borrow_mut() = (200, refreshed_body(3, "alice"));
    let mut again = Box::pin(c.refresh());
    assert!(poll_once(&mut again).is_some(), "the lock was released: the next refresh runs");
}

#[test]
fn max_age_and_acr_values_are_enforced_at_the_callback() {
    // Defect 11: max_age and acr_values were sent but never checked.
    let login = |c: &Client<FakeHost>, extra: &[(&str, &str)]| {
        let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let url = block_on(c.login(None, &extra)).ok().unwrap();
        let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
        let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        (get("state"), get("nonce"))
    };
    let with = |nonce: &str, more: &str| {
        format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","exp":{},"iat":{},"nonce":"{nonce}"{more}}}"#, NOW + 300.0, NOW)
    };
    let c = client();
    let (state, nonce) = login(&c, &[("max_age", "300")]);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, &format!(r#","auth_time":{}"#, NOW - 400.0)))));
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::ClaimAuthTime));
    let (state, nonce) = login(&c, &[("max_age", "300")]);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, ""))));
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::ClaimAuthTime), "auth_time must be there");
    let (state, nonce) = login(&c, &[("max_age", "300")]);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, &format!(r#","auth_time":{}"#, NOW - 100.0)))));
    assert!(block_on(c.handle_callback(&callback_url(&state))).is_ok());
    assert_eq!(block_on(c.login(None, &[("max_age".into(), "soon".into())])).err().map(|e| e.code), Some(ErrorCode::InvalidConfig));

    let strict = client_with(r#","requireAcr":true"#);
    let (state, nonce) = login(&strict, &[("acr_values", "urn:gold urn:silver")]);
    *strict.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, r#","acr":"urn:bronze""#))));
    assert_eq!(code(block_on(strict.handle_callback(&callback_url(&state)))), Some(ErrorCode::ClaimAcr));
    let (state, nonce) = login(&strict, &[("acr_values", "urn:gold urn:silver")]);
    *strict.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, r#","acr":"urn:silver""#))));
    assert_eq!(block_on(strict.handle_callback(&callback_url(&state))).ok().and_then(|r| r.acr).as_deref(), Some("urn:silver"), "the acr is reported");
    // Without requireAcr, another acr is reported, not refused.
    let (state, nonce) = login(&c, &[("acr_values", "urn:gold")]);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &with(&nonce, r#","acr":"urn:bronze""#))));
    assert_eq!(block_on(c.handle_callback(&callback_url(&state))).ok().and_then(|r| r.acr).as_deref(), Some("urn:bronze"));
}

#[test]
fn logout_refuses_a_return_to_that_would_be_an_open_redirect() {
    // Defect 8: without an end_session_endpoint the wrapper navigated to any returnTo.
    let c = signed_in();
    for bad in ["javascript:alert(1)", "https://evil.example/", "//evil.example"] {
        assert_eq!(block_on(c.logout(Some(bad.into()), false)).err().map(|e| e.code), Some(ErrorCode::InvalidConfig), "{bad}");
        assert!(c.user().is_some(), "nothing happened");
    }
    assert_eq!(block_on(c.logout(Some("/bye".into()), false)).ok(), Some(Some("https://app.example/bye".into())), "no end-session endpoint: back to the app");
}

#[test]
fn a_refreshed_id_token_that_cannot_be_checked_for_lack_of_keys_keeps_the_session_on_the_new_tokens() {
    // The JWKS cannot be fetched (503) right when a refreshed ID token needs it: the refresh token is spent,
    // so the new tokens are kept, and the session's claims stay the verified ones (nothing unverified used).
    let c = signed_in();
    let before = c.user();
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (503, String::new()));
    *c.jwks.borrow_mut() = None; // a fresh page: no keys cached yet
    // Signed by a key the client has never seen, so the keys must be fetched.
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","exp":{},"iat":{}}}"#, NOW + 900.0, NOW);
    let body = format!(r#"{{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2","id_token":"{}"}}"#, id_token("k9", &claims));
    *c.host.token_response.borrow_mut() = (200, body);
    assert!(block_on(c.refresh()).is_ok());
    assert_eq!(access_token(&c), "AT-2");
    assert_eq!(c.session.borrow().as_ref().unwrap().tokens.refresh_token.as_ref().unwrap().as_str(), "RT-2", "the new refresh token is the one kept");
    assert_eq!(c.user(), before, "the verified claims, not the unverified new ones");
    // A token that fails its checks still ends the session.
    c.host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, jwks_json(&["k1"])));
    *c.host.token_response.borrow_mut() = (200, refreshed_body(3, "mallory"));
    assert!(block_on(c.refresh()).is_err());
    assert!(c.user().is_none());
}

// ---- Issue #12: providers as they are -----------------------------------------------------------------

#[test]
fn logout_goes_to_the_providers_own_logout_url_or_nowhere() {
    let c = client_with(r#","logoutUrl":"https://tenant.auth0.example/v2/logout?client_id={client_id}&returnTo={post_logout_redirect_uri}""#);
    let doc = crate::discovery::tests::document(|m| m.push(("end_session_endpoint", "\"https://op.example/logout\"".into())));
    c.host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let url = block_on(c.logout(None, false)).ok().unwrap();
    assert_eq!(url.as_deref(), Some("https://tenant.auth0.example/v2/logout?client_id=spa&returnTo=https%3A%2F%2Fapp.example%2Fbye"), "logoutUrl wins over end_session_endpoint");
    // Local: every tab signed out, no navigation.
    let d = signed_in_revocable("");
    assert_eq!(block_on(d.logout(Some("/bye".into()), true)).ok(), Some(None));
    assert!(d.user().is_none());
    assert_eq!(revocations(&d).len(), 1, "still revoked");
}

#[test]
fn discovery_is_not_fetched_when_metadata_names_the_endpoints() {
    let c = client_with(r#","metadata":{"authorization_endpoint":"https://op.example/authorize","token_endpoint":"https://op.example/token","jwks_uri":"https://op.example/jwks","end_session_endpoint":"https://op.example/idp/startSLO.ping"}"#);
    let (state, nonce) = start_login(&c);
    assert!(!c.host.log.borrow().iter().any(|l| l.contains("openid-configuration")), "no discovery request");
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    // The issuer's document promises RFC 9207 `iss`; without it here, the callback's iss is optional.
    assert!(block_on(c.handle_callback(&callback_url(&state))).is_ok());
    let url = block_on(c.logout(None, false)).ok().unwrap();
    assert!(url.is_some_and(|u| u.starts_with("https://op.example/idp/startSLO.ping?id_token_hint=")));
}

#[test]
fn a_rate_limited_token_endpoint_is_waited_for_then_asked_again() {
    let c = signed_in();
    // Okta: 429 with Retry-After: 1, then the answer.
    c.host.queued.borrow_mut().push_back((429, r#"{"error":"too_many_requests"}"#.into(), None));
    *c.host.retry_after.borrow_mut() = Some("1".into());
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    assert!(block_on(c.refresh()).is_ok());
    assert_eq!(refresh_posts(&c).len(), 2, "one retry");
    assert_eq!(*c.host.slept.borrow(), vec![1000], "after the second the provider asked for");
    // Asked to wait longer than the SDK will: the call fails now, and no refresh is tried before then.
    c.host.now.set(NOW + 290.0);
    c.host.queued.borrow_mut().push_back((503, String::new(), None));
    *c.host.retry_after.borrow_mut() = Some("120".into());
    let h = block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap();
    assert_eq!(h.map(|h| h.0).as_deref(), Some("Bearer AT-2"), "the token still works meanwhile");
    assert_eq!(refresh_posts(&c).len(), 3);
    c.host.now.set(NOW + 350.0); // past the usual 2 s backoff, not past Retry-After
    *c.host.retry_after.borrow_mut() = None;
    let _ = block_on(c.authorization_for("https://api.example/", "GET"));
    assert_eq!(refresh_posts(&c).len(), 3, "Retry-After is honoured");
}

#[test]
fn an_id_token_from_a_provider_with_a_clock_off_says_so() {
    let c = client();
    let (state, nonce) = start_login(&c);
    // The provider's clock is 10 minutes ahead: its token was issued "in the future".
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","exp":{},"iat":{},"nonce":"{nonce}"}}"#, NOW + 900.0, NOW + 600.0);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims)));
    *c.host.date.borrow_mut() = Some("Tue, 14 Nov 2023 22:23:20 GMT".into()); // NOW + 600
    let e = block_on(c.handle_callback(&callback_url(&state))).err().unwrap();
    assert_eq!(e.code, ErrorCode::ClaimIat);
    assert_eq!(e.context.as_deref(), Some("the provider's clock is 600 s ahead of this device's (its Date header)"));
    // Without a readable Date header, the skew is read from iat.
    let d = client();
    let (state, nonce) = start_login(&d);
    let claims = format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","exp":{},"iat":{},"nonce":"{nonce}"}}"#, NOW + 900.0, NOW + 600.0);
    *d.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims)));
    let e = block_on(d.handle_callback(&callback_url(&state))).err().unwrap();
    assert_eq!(e.context.as_deref(), Some("the provider's clock is 600 s ahead of this device's (the token's iat)"));
}

#[test]
fn without_a_refresh_token_the_session_ends_with_its_access_token() {
    let c = client();
    let (state, nonce) = start_login(&c);
    let body = r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"id_token":"ID"}"#.replace("ID", &id_token("k1", &claims(&nonce)));
    *c.host.token_response.borrow_mut() = (200, body);
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    assert_eq!(c.deadline(), Some(NOW + 300.0), "the wrapper's timer");
    c.host.now.set(NOW + 290.0);
    assert_eq!(block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap().map(|h| h.0).as_deref(), Some("Bearer AT-1"), "still valid: used, no refresh");
    assert!(!block_on(c.expire()), "not yet");
    c.host.now.set(NOW + 300.0);
    assert_eq!(block_on(c.authorization_for("https://api.example/", "GET")).err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(c.user().is_none(), "signed out, not a signed-in user whose every call fails");
    assert!(c.host.broadcasts.borrow().last().unwrap().starts_with(r#"{"t":"ended""#), "in every tab");
    assert_eq!(posts(&c), 1, "no token request after the code exchange");
}

#[test]
fn a_short_lived_access_token_is_refreshed_halfway_not_on_every_call() {
    let c = client();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))).replace("\"expires_in\":300", "\"expires_in\":20"));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    // refreshMarginSeconds is 30, longer than the token lives: refresh at half its lifetime instead.
    c.host.now.set(NOW + 9.0);
    assert!(c.authorization_ready("https://api.example/x").is_some_and(|h| h.is_some()), "fresh enough at 9 s");
    c.host.now.set(NOW + 10.0);
    assert_eq!(c.authorization_ready("https://api.example/x"), None, "due at 10 s");
}

// Popup sign-in (src/popup.rs) and the silent session check (src/session_check.rs), over the same host.
#[path = "popup_tests.rs"]
mod popup;
#[path = "session_check_tests.rs"]
mod session_check;
#[path = "client_apis_tests.rs"]
mod apis;

// ---- Two clients on one page (issue 14, item 4) ---------------------------------------------------

/// A second client of the same page (its sessionStorage shared with `page`): `client_id` at `issuer`.
fn client_on_page(page: &Client<FakeHost>, issuer: &str, client_id: &str) -> Client<FakeHost> {
    let host = FakeHost { storage: page.host.storage.clone(), ..FakeHost::default() };
    host.now.set(NOW);
    host.counter.set(page.host.counter.get() + 100); // its own random values
    let doc = crate::discovery::tests::document(|_| {}).replace(ISSUER, issuer);
    host.routes.borrow_mut().insert(format!("{issuer}/.well-known/openid-configuration"), (200, doc));
    host.routes.borrow_mut().insert(format!("{issuer}/jwks"), (200, jwks_json(&["k1"])));
    let cfg = Config::from_json(&format!(r#"{{"issuer":"{issuer}","clientId":"{client_id}","redirectUri":"https://app.example/cb","apiOrigins":["https://api.example"],"appOrigin":"https://app.example"}}"#)).ok().unwrap();
    Client::new(cfg, host)
}

fn replaced(c: &Client<FakeHost>) -> usize {
    c.host.log.borrow().iter().filter(|l| l.starts_with("replace")).count()
}

fn tx_keys(c: &Client<FakeHost>) -> Vec<String> {
    c.host.storage.borrow().keys().cloned().collect()
}

#[test]
fn two_clients_of_one_issuer_each_complete_only_their_own_login() {
    let a = client(); // "spa"
    let b = client_on_page(&a, ISSUER, "customers");
    let (state_a, nonce_a) = start_login(&a);
    let (state_b, nonce_b) = start_login(&b);
    let keys = tx_keys(&a);
    assert_eq!(keys.len(), 2, "one transaction per client: {keys:?}");
    assert!(keys.contains(&format!("oidc-wasm.tx.{ISSUER}|spa|{state_a}")), "{keys:?}");
    assert!(keys.contains(&format!("oidc-wasm.tx.{ISSUER}|customers|{state_b}")), "{keys:?}");
    assert!(!b.callback_of_other_client(&callback_url(&state_b)) && b.callback_of_other_client(&callback_url(&state_a)));

    // A's response reaches B first: refused, and nothing of A's is read, deleted or scrubbed.
    assert_eq!(code(block_on(b.handle_callback(&callback_url(&state_a)))), Some(ErrorCode::CallbackNotForThisClient));
    assert_eq!(replaced(&b), 0, "the address bar keeps A's code and state");
    assert_eq!(posts(&b), 0, "no token request");
    assert_eq!(tx_keys(&a), keys, "both logins still wait");
    assert!(!b.is_authenticated());

    // A then completes it, and scrubs the URL.
    *a.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce_a))));
    assert!(block_on(a.handle_callback(&callback_url(&state_a))).is_ok());
    assert_eq!(a.host.log.borrow().iter().filter(|l| l.starts_with("replace")).cloned().collect::<Vec<_>>(), vec!["replace https://app.example/cb".to_string()]);
    assert_eq!(tx_keys(&a), vec![format!("oidc-wasm.tx.{ISSUER}|customers|{state_b}")], "only A's login was used up");

    // B's own login, later: B completes it; A refuses it without touching it.
    assert_eq!(code(block_on(a.handle_callback(&callback_url(&state_b)))), Some(ErrorCode::CallbackNotForThisClient));
    assert_eq!(replaced(&a), 1, "A scrubbed only its own response");
    let claims_b = format!(r#"{{"iss":"{ISSUER}","aud":"customers","sub":"carol","exp":{},"iat":{},"nonce":"{nonce_b}"}}"#, NOW + 300.0, NOW);
    *b.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims_b)));
    let r = block_on(b.handle_callback(&callback_url(&state_b))).ok().unwrap();
    assert!(r.claims_text.as_deref().is_some_and(|t| t.contains("carol")));
    assert!(tx_keys(&a).is_empty());
    assert_ne!(a.coordination_name(), b.coordination_name(), "their locks, channels, generations and seals are apart");
    assert!(a.user().unwrap().contains("alice") && b.user().unwrap().contains("carol"));
}

#[test]
fn the_right_client_first_then_the_other_finds_the_url_clean() {
    let a = client();
    let b = client_on_page(&a, "https://other.example", "spa"); // another issuer, the same client_id
    let (state_a, nonce_a) = start_login(&a);
    let (state_b, _) = start_login(&b);
    *a.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce_a))));
    assert!(block_on(a.handle_callback(&callback_url(&state_a))).is_ok());
    // The address bar is scrubbed now: B is handed what the browser shows, a URL with no response.
    assert_eq!(code(block_on(b.handle_callback("https://app.example/cb"))), Some(ErrorCode::CallbackInvalid));
    assert!(!b.callback_of_other_client("https://app.example/cb"));
    assert_eq!(tx_keys(&b), vec![format!("oidc-wasm.tx.https://other.example|spa|{state_b}")], "B's own login still waits");
}

#[test]
fn a_state_neither_client_knows_is_refused_and_scrubbed_by_whichever_handles_it() {
    let a = client();
    let b = client_on_page(&a, ISSUER, "customers");
    start_login(&a);
    start_login(&b);
    let keys = tx_keys(&a);
    assert!(!b.callback_of_other_client(&callback_url("forged")));
    assert_eq!(code(block_on(b.handle_callback(&callback_url("forged")))), Some(ErrorCode::StateUnknown));
    assert_eq!(replaced(&b), 1, "scrubbed: it is nobody's");
    assert_eq!(tx_keys(&a), keys, "no login was touched");
    assert_eq!(posts(&a) + posts(&b), 0);
}

#[test]
fn a_login_started_before_the_update_fails_cleanly_and_is_purged() {
    let a = client();
    // What an earlier version stored: `oidc-wasm.tx.<state>`, for whichever client.
    let old = LoginTransaction {
        state: State::new("old-state"),
        code_verifier: PkceCodeVerifier::new("v"),
        nonce: Nonce::new("n"),
        issuer: crate::types::IssuerUrl::new(ISSUER),
        client_id: crate::types::ClientId::new("spa"),
        return_to: None,
        expires_at: (NOW + 600.0) as u64,
        dpop_key: None,
        max_age: None,
        acr_values: None,
        silent: false,
    };
    a.host.storage.borrow_mut().insert("oidc-wasm.tx.old-state".into(), old.to_json());
    assert!(!a.callback_of_other_client(&callback_url("old-state")), "nobody's: not another client's");
    assert_eq!(code(block_on(a.handle_callback(&callback_url("old-state")))), Some(ErrorCode::StateUnknown));
    assert_eq!(replaced(&a), 1, "the URL is scrubbed");
    assert_eq!(posts(&a), 0);
    let (state, _) = start_login(&a);
    assert_eq!(tx_keys(&a), vec![format!("oidc-wasm.tx.{ISSUER}|spa|{state}")], "the next login purged the old key");
}

#[test]
fn a_login_purges_only_its_own_clients_abandoned_logins() {
    let a = client();
    let b = client_on_page(&a, ISSUER, "customers");
    let (state_b, _) = start_login(&b);
    start_login(&a);
    for c in [&a, &b] {
        c.host.now.set(NOW + 700.0);
    }
    let (state_a, _) = start_login(&a);
    assert_eq!(
        tx_keys(&a),
        vec![format!("oidc-wasm.tx.{ISSUER}|customers|{state_b}"), format!("oidc-wasm.tx.{ISSUER}|spa|{state_a}")],
        "A's abandoned login is gone; B's is B's to expire"
    );
    assert_eq!(code(block_on(b.handle_callback(&callback_url(&state_b)))), Some(ErrorCode::TransactionExpired), "B says so itself");
}

// ---- Refresh that follows the tab; sessionExpiring (issue 14, item 7) ------------------------------

/// Signed in with a token response whose members are `members` (after `"token_type":"Bearer"`).
fn signed_in_with(extra_config: &str, members: &str) -> Client<FakeHost> {
    let c = client_with(extra_config);
    let (state, nonce) = start_login(&c);
    let body = format!(r#"{{"access_token":"AT-1","token_type":"Bearer"{members},"id_token":"{}"}}"#, id_token("k1", &claims(&nonce)));
    *c.host.token_response.borrow_mut() = (200, body);
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    c
}

#[test]
fn a_tab_coming_back_refreshes_only_when_due() {
    let out = client();
    assert!(block_on(out.resume(false)).is_ok() && block_on(out.resume(true)).is_ok(), "signed out: nothing to do");
    assert_eq!(posts(&out), 0);

    let c = signed_in();
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.now.set(NOW + 100.0);
    assert!(block_on(c.resume(false)).is_ok());
    assert!(refresh_posts(&c).is_empty(), "not due at 100 s of 300: no refresh");
    c.host.now.set(NOW + 271.0); // within the 30 s margin
    assert!(block_on(c.resume(false)).is_ok());
    assert_eq!(refresh_posts(&c).len(), 1, "due: one refresh");
    assert_eq!(c.authorization_ready("https://api.example/x"), Some(Some("Bearer AT-2".into())), "the app's next call needs none");
    assert!(block_on(c.resume(true)).is_ok());
    assert_eq!(refresh_posts(&c).len(), 1, "fresh again: no second refresh");
}

#[test]
fn a_tab_coming_back_without_a_refresh_token_never_refreshes_and_ends_an_expired_session() {
    let c = signed_in_with("", r#","expires_in":300"#);
    c.host.now.set(NOW + 290.0);
    assert!(block_on(c.resume(false)).is_ok());
    assert!(c.is_authenticated() && posts(&c) == 1, "still valid: kept, no token request");
    c.host.now.set(NOW + 300.0);
    assert!(block_on(c.resume(false)).is_ok(), "the end is no failure of resume: the wrapper reports sessionEnded");
    assert!(!c.is_authenticated());
    assert!(c.host.broadcasts.borrow().last().unwrap().starts_with(r#"{"t":"ended""#), "in every tab");
    assert_eq!(posts(&c), 1, "no token request after the code exchange");
}

#[test]
fn coming_back_online_ends_the_backoff_of_failed_refreshes() {
    let c = signed_in();
    c.host.now.set(NOW + 280.0);
    *c.host.token_response.borrow_mut() = (500, "<html>".into()); // offline or failing: the refresh fails
    block_on(c.authorization_for("https://api.example/", "GET")).ok().unwrap();
    assert_eq!(refresh_posts(&c).len(), 1);
    assert_eq!(c.take_background_error().map(|e| e.code), Some(ErrorCode::HttpError));
    *c.host.token_response.borrow_mut() = (200, refreshed_body(2, "alice"));
    c.host.now.set(NOW + 280.5);
    assert!(block_on(c.resume(false)).is_ok());
    assert_eq!(refresh_posts(&c).len(), 1, "visible again within the backoff: no new try");
    assert!(block_on(c.resume(true)).is_ok());
    assert_eq!(refresh_posts(&c).len(), 2, "back online: the backoff is over, the refresh is made");
    assert_eq!(access_token(&c), "AT-2");
}

#[test]
fn session_expiring_ahead_of_an_access_token_that_cannot_be_renewed() {
    let c = signed_in_with("", r#","expires_in":300"#); // no refresh token
    assert_eq!(c.expiring(false), Some(NOW + 240.0), "the default lead time: 60 s");
    c.host.now.set(NOW + 239.0);
    assert_eq!(c.expiring(true), None, "not yet");
    c.host.now.set(NOW + 250.0);
    assert_eq!(c.expiring(true), Some(50.0), "the seconds left");
    assert_eq!(c.expiring(true), None, "told once");
    assert_eq!(c.expiring(false), None, "nothing more to arm");

    let late = signed_in_with("", r#","expires_in":300"#);
    late.host.now.set(NOW + 300.0);
    assert_eq!(late.expiring(false), None, "past its end: sessionEnded, not sessionExpiring");
    assert_eq!(late.expiring(true), None);

    let lead = signed_in_with(r#","sessionExpiringSeconds":120"#, r#","expires_in":300"#);
    assert_eq!(lead.expiring(false), Some(NOW + 180.0), "sessionExpiringSeconds");
    let long = signed_in_with(r#","sessionExpiringSeconds":600"#, r#","expires_in":300"#);
    assert_eq!(long.expiring(true), Some(300.0), "a lead longer than the session: told at once");

    let renewable = signed_in(); // a refresh token, no stated lifetime: the session can be extended
    renewable.host.now.set(NOW + 299.0);
    assert_eq!((renewable.expiring(false), renewable.expiring(true)), (None, None));
    let offline = signed_in_with("", r#","expires_in":300,"refresh_token":"RT-1","refresh_expires_in":0"#);
    assert_eq!(offline.expiring(false), None, "Keycloak's 0: no limit stated");
}

#[test]
fn session_expiring_ahead_of_a_refresh_tokens_stated_end_and_again_when_a_refresh_moves_it() {
    let c = signed_in_with("", r#","expires_in":300,"refresh_token":"RT-1","refresh_expires_in":600"#);
    assert_eq!(c.expiring(false), Some(NOW + 540.0), "Keycloak's refresh_expires_in");
    c.host.now.set(NOW + 545.0);
    assert_eq!(c.expiring(true), Some(55.0));
    assert_eq!(c.expiring(true), None, "once");
    // The user stays: a refresh (its idle timeout) moves the end; the app is told again before the new one.
    let idle = refreshed_body(2, "alice").replace("\"expires_in\":300", "\"expires_in\":300,\"refresh_expires_in\":600");
    *c.host.token_response.borrow_mut() = (200, idle);
    block_on(c.refresh()).ok().unwrap();
    assert_eq!(c.expiring(false), Some(NOW + 545.0 + 540.0));
    // A provider that does not rotate and states nothing: the refresh token kept keeps its stated end.
    *c.host.token_response.borrow_mut() = (200, r#"{"access_token":"AT-3","token_type":"Bearer","expires_in":300}"#.into());
    block_on(c.refresh()).ok().unwrap();
    assert_eq!(c.expiring(false), Some(NOW + 545.0 + 540.0));
    c.host.now.set(NOW + 1090.0);
    assert_eq!(c.expiring(true), Some(55.0), "told before the moved end");
    // Its session's maximum caps the next refresh: the same end, restated in whole seconds — told already.
    c.host.now.set(NOW + 1090.6);
    *c.host.token_response.borrow_mut() = (200, r#"{"access_token":"AT-4","token_type":"Bearer","expires_in":300,"refresh_token":"RT-4","refresh_expires_in":54}"#.into());
    block_on(c.refresh()).ok().unwrap();
    assert_eq!(c.expiring(false), None, "not told twice");
    assert_eq!(c.expiring(true), None);

    // A rotated refresh token the provider says nothing about: no end known, nothing to tell.
    let d = signed_in_with("", r#","expires_in":300,"refresh_token":"RT-1","refresh_expires_in":600"#);
    *d.host.token_response.borrow_mut() = (200, r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2"}"#.into());
    block_on(d.refresh()).ok().unwrap();
    assert_eq!(d.expiring(false), None);
    let github = signed_in_with("", r#","expires_in":300,"refresh_token":"RT-1","refresh_token_expires_in":600"#);
    assert_eq!(github.expiring(false), Some(NOW + 540.0), "refresh_token_expires_in");
}
