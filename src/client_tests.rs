//! The whole flow natively, over a scripted host: what is requested, in what order, what is stored,
//! and that a bad callback stops before any token request (the OpenID Foundation's scoring rule).

use super::*;
use crate::alg::WebCryptoParams;
use crate::b64url;
use crate::error::ErrorCode;
use crate::host::HttpResponse;
use crate::jwks::tests::rsa_n;
use core::cell::{Cell, RefCell};
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
    storage: RefCell<BTreeMap<String, String>>,
    /// Every observable effect, in order: "GET url", "POST url body", "replace url".
    log: RefCell<Vec<String>>,
}

impl Host for FakeHost {
    fn now(&self) -> f64 {
        self.now.get()
    }
    fn random32(&self) -> [u8; 32] {
        self.counter.set(self.counter.get() + 1);
        [self.counter.get(); 32]
    }
    async fn get(&self, url: &str) -> Result<HttpResponse> {
        self.log.borrow_mut().push(format!("GET {url}"));
        match self.routes.borrow().get(url) {
            Some((status, body)) => Ok(HttpResponse { status: *status, body: body.clone() }),
            None => Ok(HttpResponse { status: 404, body: String::new() }),
        }
    }
    async fn post_form(&self, url: &str, body: &str) -> Result<HttpResponse> {
        self.log.borrow_mut().push(format!("POST {url} {body}"));
        let (status, body) = self.token_response.borrow().clone();
        Ok(HttpResponse { status, body })
    }
    async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>> {
        Ok(match hash {
            "SHA-256" => Sha256::digest(data).to_vec(),
            "SHA-384" => Sha384::digest(data).to_vec(),
            _ => Sha512::digest(data).to_vec(),
        })
    }
    async fn verify(&self, _: WebCryptoParams, jwk: &str, data: &[u8], sig: &[u8]) -> Result<bool> {
        Ok(fake_sign(jwk, data) == sig)
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        self.storage.borrow().get(key).cloned()
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        self.storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn storage_remove(&self, key: &str) {
        self.storage.borrow_mut().remove(key);
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        self.storage.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
    fn replace_url(&self, url: &str) {
        self.log.borrow_mut().push(format!("replace {url}"));
    }
}

fn fake_sign(jwk: &str, data: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(jwk.as_bytes());
    h.update(data);
    h.finalize().to_vec()
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

fn jwks_json(kids: &[&str]) -> String {
    let keys: Vec<String> = kids.iter().map(|k| format!(r#"{{"kty":"RSA","kid":"{k}","n":"{}","e":"AQAB"}}"#, rsa_n(256))).collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

fn import_json(kid: &str) -> String {
    crate::jwks::Jwks::from_response(&jwks_json(&[kid])).ok().unwrap().keys[0].import_json()
}

fn id_token(kid: &str, claims: &str) -> String {
    let h = b64url::encode(format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#).as_bytes());
    let p = b64url::encode(claims.as_bytes());
    let input = format!("{h}.{p}");
    let sig = fake_sign(&import_json(kid), input.as_bytes());
    format!("{input}.{}", b64url::encode(&sig))
}

fn claims(nonce: &str) -> String {
    format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","name":"Alice","exp":{},"iat":{},"nonce":"{nonce}"}}"#, NOW + 300.0, NOW)
}

fn token_body(id_token: &str) -> String {
    format!(r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"refresh_token":"RT-1","id_token":"{id_token}"}}"#)
}

fn client() -> Client<FakeHost> {
    let host = FakeHost::default();
    host.now.set(NOW);
    let doc = crate::discovery::tests::document(|_| {});
    host.routes.borrow_mut().insert(format!("{ISSUER}/.well-known/openid-configuration"), (200, doc));
    host.routes.borrow_mut().insert("https://op.example/jwks".into(), (200, jwks_json(&["k1"])));
    let cfg = Config::from_json(&format!(r#"{{"issuer":"{ISSUER}","clientId":"spa","redirectUri":"https://app.example/cb"}}"#)).ok().unwrap();
    Client::new(cfg, host)
}

/// Starts a login; returns (state, nonce) as sent in the authorization URL.
fn start_login(c: &Client<FakeHost>) -> (String, String) {
    let url = block_on(c.login(Some("/after".into()), &[])).ok().unwrap();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    (get("state"), get("nonce"))
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
    assert!(r.claims_text.contains("\"sub\":\"alice\""));
    assert_eq!(r.return_to.as_deref(), Some("/after"));
    assert_eq!(c.user().as_deref(), Some(r.claims_text.as_str()));
    assert!(c.host.storage.borrow().is_empty(), "transaction deleted after use");

    let log = c.host.log.borrow();
    let replace = log.iter().position(|l| l.starts_with("replace")).unwrap();
    let post = log.iter().position(|l| l.starts_with("POST")).unwrap();
    assert!(replace < post, "the URL is scrubbed before any request");
    assert_eq!(log[replace], "replace https://app.example/cb");
    assert!(log[post].contains("code=C-1") && log[post].contains("code_verifier="));
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
    let jwks_gets = || c.host.log.borrow().iter().filter(|l| l.ends_with("/jwks")).count();
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
