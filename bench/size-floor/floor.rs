//! The size floor (bench/size-floor.mjs builds it in place of src/wasm.rs): every protocol step of the
//! default module's flows — discovery, login, callback, JWKS, token response and ID token, refresh, API
//! call and 401 challenge, UserInfo, tab messages, logout — each its own raw wasm export, called with plain
//! byte buffers. No machine, no effects, no executor, no futures: JavaScript would drive the I/O and the
//! order of the steps itself. Built exactly like the shipped default module (same crate, same features,
//! -Zbuild-std, panic=immediate-abort, the same allocator, `wasm-opt -Oz`). Not shipped and not a design:
//! it measures what the protocol code itself weighs in wasm, whatever drives it. It must only compile and be
//! complete enough that nothing the default module's flows use is dropped (no DPoP, sealing or trace: they
//! are in the full module).
#[allow(unused_imports)]
use crate::prelude::*;

use alloc::alloc::{alloc, dealloc, Layout};
use core::cell::UnsafeCell;

use crate::config::Config;
use crate::discovery::ProviderMetadata;
use crate::error::OidcError;
use crate::jwks::Jwks;
use crate::json::{self, Json};
use crate::session::{Message, Session};
use crate::transaction::LoginTransaction;
use crate::types::*;

#[cfg(not(test))]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: as in src/wasm.rs, single-threaded wasm.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Global<T>(UnsafeCell<T>);
// SAFETY: single-threaded wasm, no re-entry.
unsafe impl<T> Sync for Global<T> {}

struct Floor {
    config: Config,
    meta: Option<ProviderMetadata>,
    jwks: Option<Jwks>,
    session: Option<Session>,
    tx: Option<LoginTransaction>,
}

impl Floor {
    /// This client's transaction keys start with this (`oidc-wasm.tx.<issuer>|<client_id>|`).
    fn tx_prefix(&self) -> String {
        crate::transaction::client_prefix(self.config.issuer.as_str(), self.config.client_id.as_str())
    }
}

static FLOOR: Global<Option<Floor>> = Global(UnsafeCell::new(None));
static OUT: Global<Vec<u8>> = Global(UnsafeCell::new(Vec::new()));

fn floor() -> Option<&'static mut Floor> {
    // SAFETY: single-threaded.
    unsafe { (*FLOOR.0.get()).as_mut() }
}

/// `[u32 length][bytes]`, valid until the next call.
fn out(bytes: &[u8]) -> *const u8 {
    // SAFETY: single-threaded.
    let o = unsafe { &mut *OUT.0.get() };
    o.clear();
    o.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    o.extend_from_slice(bytes);
    o.as_ptr()
}

fn err(e: OidcError) -> *const u8 {
    let mut o = String::from("!");
    o.push_str(e.code.as_str());
    o.push('\n');
    o.push_str(e.detail);
    if let Some(c) = &e.context {
        o.push('\n');
        o.push_str(c);
    }
    out(o.as_bytes())
}

fn none() -> *const u8 {
    out(b"!")
}

fn text<'a>(ptr: *const u8, len: usize) -> &'a str {
    if ptr.is_null() || len == 0 {
        return "";
    }
    // SAFETY: JavaScript wrote `len` bytes at `ptr`, from `floor_alloc`.
    core::str::from_utf8(unsafe { core::slice::from_raw_parts(ptr, len) }).unwrap_or("")
}

fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: as above.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

fn opt(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

#[no_mangle]
pub extern "C" fn floor_alloc(len: usize) -> *mut u8 {
    match Layout::from_size_align(len, 1) {
        // SAFETY: non-zero size, alignment 1.
        Ok(l) if len > 0 => unsafe { alloc(l) },
        _ => core::ptr::null_mut(),
    }
}

/// # Safety
/// `ptr` from `floor_alloc(len)`.
#[no_mangle]
pub unsafe extern "C" fn floor_free(ptr: *mut u8, len: usize) {
    if let (false, Ok(l)) = (ptr.is_null(), Layout::from_size_align(len, 1)) {
        if len > 0 {
            dealloc(ptr, l)
        }
    }
}

/// The config (JSON); answers the discovery URL to fetch, or "" when `metadata` names the endpoints.
#[no_mangle]
pub extern "C" fn floor_new(p: *const u8, l: usize) -> *const u8 {
    match Config::from_json(text(p, l)) {
        Ok(config) => {
            let url = match &config.metadata {
                Some(m) if crate::discovery::supplies_endpoints(m) => String::new(),
                _ => crate::discovery::discovery_url(&config.issuer),
            };
            // SAFETY: single-threaded.
            unsafe { *FLOOR.0.get() = Some(Floor { config, meta: None, jwks: None, session: None, tx: None }) };
            out(url.as_bytes())
        }
        Err(e) => err(e),
    }
}

/// The discovery document (or none); answers the JWKS URI.
#[no_mangle]
pub extern "C" fn floor_discovery(p: *const u8, l: usize) -> *const u8 {
    let Some(f) = floor() else { return none() };
    match ProviderMetadata::from_document(&f.config.issuer, opt(text(p, l)), f.config.metadata.as_ref(), f.config.multi_tenant.is_some()) {
        Ok(m) => {
            let r = out(m.jwks_uri.as_bytes());
            f.meta = Some(m);
            r
        }
        Err(e) => err(e),
    }
}

/// 32 random bytes; answers the code verifier (for JavaScript's SHA-256).
#[no_mangle]
pub extern "C" fn floor_verifier(random: *const u8) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let mut r = [0u8; 32];
    r.copy_from_slice(bytes(random, 32).get(..32).unwrap_or(&[0; 32]));
    let v = PkceCodeVerifier::from_random(&r);
    let o = out(v.as_str().as_bytes());
    f.tx = Some(LoginTransaction {
        state: State::new(crate::b64url::encode(&r[..16])),
        code_verifier: v,
        nonce: Nonce::new(crate::b64url::encode(&r[16..])),
        issuer: f.config.issuer.clone(),
        client_id: f.config.client_id.clone(),
        return_to: None,
        expires_at: 0,
        dpop_key: None,
        max_age: None,
        acr_values: None,
        silent: false,
    });
    o
}

/// The verifier's SHA-256, returnTo, extra parameters (`name=value` lines), now; answers the authorization
/// URL, the transaction's storage key and its JSON, one per line.
#[no_mangle]
pub extern "C" fn floor_login(sha: *const u8, sl: usize, rp: *const u8, rl: usize, ep: *const u8, el: usize, now: f64) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let prefix = f.tx_prefix();
    let (Some(meta), Some(tx)) = (f.meta.as_ref(), f.tx.as_mut()) else { return none() };
    let return_to = opt(text(rp, rl)).map(String::from);
    if let Some(r) = &return_to {
        if let Err(e) = crate::transaction::check_return_to(r) {
            return err(e);
        }
    }
    let extra: Vec<(String, String)> = text(ep, el).lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (String::from(k), String::from(v))).collect();
    let param = |n: &str| extra.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    tx.max_age = param("max_age").and_then(|v| crate::transaction::parse_max_age(&v));
    tx.acr_values = param("acr_values");
    tx.return_to = return_to;
    tx.expires_at = (now + crate::transaction::LIFETIME_SECONDS) as u64;
    let challenge = PkceCodeChallenge::from_sha256(bytes(sha, sl));
    let req = crate::authorization::AuthorizationRequest { state: &tx.state, nonce: &tx.nonce, code_challenge: &challenge, dpop_jkt: None, extra: &extra };
    match crate::authorization::build_authorization_url(&f.config, meta, &req) {
        Ok(url) => {
            let mut o = url;
            o.push('\n');
            o.push_str(&crate::transaction::storage_key(&prefix, &tx.state));
            o.push('\n');
            o.push_str(&tx.to_json());
            out(o.as_bytes())
        }
        Err(e) => err(e),
    }
}

/// A stored transaction (JSON): expired or not (the purge of old ones).
#[no_mangle]
pub extern "C" fn floor_tx_expired(p: *const u8, l: usize, now: f64) -> i32 {
    LoginTransaction::from_json(text(p, l)).map_or(1, |t| i32::from(t.is_expired(now)))
}

/// The callback URL; answers the URL without the response parameters and the transaction's storage key.
#[no_mangle]
pub extern "C" fn floor_callback_url(p: *const u8, l: usize) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let url = text(p, l);
    let state = match crate::callback::parse_callback(url).and_then(|c| crate::callback::require_state(&c)) {
        Ok(s) => s,
        Err(e) => return err(e),
    };
    let mut o = crate::callback::scrubbed_url(url);
    o.push('\n');
    o.push_str(&crate::transaction::storage_key(&f.tx_prefix(), &state));
    out(o.as_bytes())
}

/// The callback URL and its stored transaction; answers the token request's body.
#[no_mangle]
pub extern "C" fn floor_callback(up: *const u8, ul: usize, tp: *const u8, tl: usize, now: f64) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let Some(meta) = f.meta.as_ref() else { return none() };
    let r = (|| {
        let p = crate::callback::parse_callback(text(up, ul))?;
        let state = crate::callback::require_state(&p)?;
        let tx = LoginTransaction::from_json(text(tp, tl))?;
        if tx.state != state || tx.is_expired(now) {
            return Err(OidcError::new(crate::error::ErrorCode::StateUnknown, "no login transaction for this state"));
        }
        let code = crate::callback::validate_auth_response(&p, meta)?;
        let body = crate::token::code_exchange_body(&f.config, &code, &tx.code_verifier);
        f.tx = Some(tx);
        Ok(body)
    })();
    match r {
        Ok(b) => out(b.as_bytes()),
        Err(e) => err(e),
    }
}

/// The token endpoint's Date and Retry-After headers: the server's clock skew and the wait before a retry.
#[no_mangle]
pub extern "C" fn floor_token_headers(dp: *const u8, dl: usize, rp: *const u8, rl: usize, now: f64) -> *const u8 {
    let skew = crate::http_date::parse_http_date(text(dp, dl)).map(|d| d - now);
    let wait = crate::http_date::retry_after_seconds(opt(text(rp, rl)), now).unwrap_or(0.0);
    let mut o = String::new();
    json::write_u64(&mut o, wait as u64);
    if let Some(s) = skew {
        o.push('\n');
        o.push_str(&crate::id_token::describe_skew(s, "its Date header"));
    }
    out(o.as_bytes())
}

#[no_mangle]
pub extern "C" fn floor_jwks(p: *const u8, l: usize) -> *const u8 {
    let Some(f) = floor() else { return none() };
    match Jwks::from_response(text(p, l)) {
        Ok(j) => {
            f.jwks = Some(j);
            out(b"")
        }
        Err(e) => err(e),
    }
}

/// The token response; answers, for the first key that fits, the JWK to import, the WebCrypto algorithm
/// (name, hash, curve), the signing input and the signature (base64url), one per line. The session is
/// installed; JavaScript verifies, then calls `floor_at_hash` with the access token's digest.
#[no_mangle]
pub extern "C" fn floor_token(status: u32, p: *const u8, l: usize, now: f64) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let (Some(meta), Some(jwks)) = (f.meta.as_ref(), f.jwks.as_ref()) else { return none() };
    let nonce = f.tx.as_ref().map(|t| t.nonce.clone());
    let r = (|| {
        let t = crate::token::process_token_response(status as u16, text(p, l), false)?;
        let id = t.id_token.clone().ok_or_else(|| OidcError::new(crate::error::ErrorCode::TokenResponseInvalid, "no id_token"))?;
        let jws = crate::jws::parse_compact_jws(&id, &meta.id_token_signing_alg_values_supported)?;
        let c = jwks.candidates(jws.alg, jws.kid.as_deref());
        let key = c.first().ok_or_else(|| OidcError::new(crate::error::ErrorCode::NoMatchingKey, "no key"))?;
        let v = crate::id_token::IdTokenVerifier { issuer: f.config.issuer.clone(), client_id: f.config.client_id.clone(), clock_tolerance: f.config.clock_tolerance };
        match &meta.issuer_template {
            None => v.validate_claims(&jws.payload, nonce.as_ref(), now)?,
            Some(tpl) => {
                let issuer = crate::id_token::tenant_issuer(tpl, &jws.payload, f.config.multi_tenant.as_deref().unwrap_or(&[]))?;
                v.validate_claims_as(&jws.payload, nonce.as_ref(), now, &issuer)?
            }
        }
        let tx = f.tx.as_ref();
        let acr = crate::id_token::check_authentication(&jws.payload, tx.and_then(|t| t.max_age), tx.and_then(|t| t.acr_values.as_deref()), f.config.require_acr, now, f.config.clock_tolerance)?;
        if let Some(s) = &f.session {
            crate::id_token::check_refreshed_claims(&s.claims, &jws.payload)?;
        }
        let w = jws.alg.webcrypto();
        let mut o = key.import_json();
        for s in [w.name, w.hash, w.named_curve, jws.signing_input] {
            o.push('\n');
            o.push_str(s);
        }
        o.push('\n');
        o.push_str(&crate::b64url::encode(&jws.signature));
        o.push('\n');
        o.push_str(acr.as_deref().unwrap_or(""));
        let expires_at = t.expires_in.map(|s| now + s);
        f.session = Some(Session { tokens: t, claims_text: jws.payload_text.clone(), claims: jws.payload, expires_at, refresh_expires_at: None, api_tokens: Vec::new(), dpop_key: None, retired: Vec::new() });
        Ok(o)
    })();
    match r {
        Ok(o) => out(o.as_bytes()),
        Err(e) => err(e),
    }
}

/// The digest of the access token: 1 when the ID token's at_hash (if any) matches.
#[no_mangle]
pub extern "C" fn floor_at_hash(p: *const u8, l: usize) -> i32 {
    let Some(s) = floor().and_then(|f| f.session.as_ref()) else { return 0 };
    match s.claims.get("at_hash") {
        None => 1,
        Some(Json::Str(h)) => i32::from(crate::id_token::at_hash_matches(h, bytes(p, l))),
        Some(_) => 0,
    }
}

#[no_mangle]
pub extern "C" fn floor_refresh_body() -> *const u8 {
    let Some(f) = floor() else { return none() };
    match f.session.as_ref().and_then(|s| s.tokens.refresh_token.as_ref()) {
        Some(rt) => out(crate::token::refresh_body(&f.config, rt, None).as_bytes()),
        None => none(),
    }
}

/// A refresh response: the rotated refresh token kept when the new response has none (then `floor_token`).
#[no_mangle]
pub extern "C" fn floor_refresh_response(p: *const u8, l: usize) -> i32 {
    i32::from(crate::token::refresh_token_in(text(p, l)).is_some())
}

/// A request URL; answers the Authorization header when the URL is on the API origins and the token is fresh.
#[no_mangle]
pub extern "C" fn floor_authorization(p: *const u8, l: usize, now: f64) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let Some(s) = f.session.as_ref() else { return none() };
    if !crate::bearer::origin_allowed(text(p, l), &f.config.api_origins) {
        return none();
    }
    if s.expires_at.is_some_and(|e| e - f.config.refresh_margin <= now) {
        return out(b"refresh");
    }
    out(crate::bearer::authorization_header(&s.tokens.access_token, false).as_bytes())
}

#[no_mangle]
pub extern "C" fn floor_unauthorized(p: *const u8, l: usize) -> i32 {
    i32::from(crate::bearer::is_invalid_token_challenge(text(p, l)))
}

#[no_mangle]
pub extern "C" fn floor_userinfo(status: u32, p: *const u8, l: usize) -> *const u8 {
    let Some(s) = floor().and_then(|f| f.session.as_ref()) else { return none() };
    match crate::userinfo::process_userinfo_response(status as u16, text(p, l), s.sub().unwrap_or("")) {
        Ok(v) => out(v.as_bytes()),
        Err(e) => err(e),
    }
}

/// A message from another tab: 1 a session (installed), 2 ended, 3 asked for the session.
#[no_mangle]
pub extern "C" fn floor_message(p: *const u8, l: usize) -> i32 {
    let Some(f) = floor() else { return 0 };
    match Message::parse(text(p, l)) {
        Ok(Message::Session { session, .. }) => {
            f.session = Some(*session);
            1
        }
        Ok(Message::Ended { .. }) => {
            f.session = None;
            2
        }
        Ok(Message::Ask) => 3,
        Err(_) => 0,
    }
}

/// The message that hands this tab's session to the others (`ended` when none).
#[no_mangle]
pub extern "C" fn floor_session_message(generation: f64) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let m = match &f.session {
        Some(s) => Message::session(generation as u64, s),
        None => Message::ended(generation as u64),
    };
    out(m.as_bytes())
}

/// returnTo (or none); answers the revocation body (or an empty line) and where to go.
#[no_mangle]
pub extern "C" fn floor_logout(p: *const u8, l: usize) -> *const u8 {
    let Some(f) = floor() else { return none() };
    let (Some(s), Some(meta)) = (f.session.as_ref(), f.meta.as_ref()) else { return none() };
    let return_to = match opt(text(p, l)).map(|r| crate::logout::check_logout_return(r, &f.config)).transpose() {
        Ok(r) => r,
        Err(e) => return err(e),
    };
    let mut o = s.tokens.refresh_token.as_ref().map(|rt| crate::logout::revocation_body(&f.config, rt)).unwrap_or_default();
    o.push('\n');
    let hint = s.tokens.id_token.as_deref();
    let post = return_to.as_deref().or(f.config.post_logout_redirect_uri.as_deref());
    if let Some(t) = &f.config.logout_url {
        o.push_str(&crate::logout::fill_logout_url(t, &f.config, hint, post));
    } else if let Some(e) = &meta.end_session_endpoint {
        o.push_str(&crate::logout::end_session_url(e, &f.config, hint, post));
    } else if let Some(r) = post {
        o.push_str(r);
    }
    f.session = None;
    out(o.as_bytes())
}

/// The signed-in user's claims (JSON), or `null`.
#[no_mangle]
pub extern "C" fn floor_user() -> *const u8 {
    match floor().and_then(|f| f.session.as_ref()) {
        Some(s) => out(s.claims_text.as_bytes()),
        None => out(b"null"),
    }
}
