//! The size floor (bench/size-floor.mjs builds it in place of src/wasm.rs): every protocol step of a
//! login, refresh, API call, UserInfo, tab message and logout, exported as plain synchronous functions —
//! no async orchestration, no futures, no DPoP, sealing or learning trace. JavaScript would drive the I/O
//! between the steps. Not shipped and not a design: it measures what the protocol code itself weighs in
//! wasm, whatever drives it. It must only compile and be complete enough that nothing is dropped.
#[allow(unused_imports)]
use crate::prelude::*;
use wasm_bindgen::prelude::*;
use js_sys::Array;
use crate::config::Config;
use crate::discovery::ProviderMetadata;
use crate::error::OidcError;
use crate::jwks::Jwks;
use crate::types::*;

#[cfg(not(test))]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: as in src/wasm.rs, single-threaded wasm.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { core::arch::wasm32::unreachable() }

fn to_js(e: OidcError) -> JsValue {
    let a = Array::new();
    a.push(&JsValue::from_str(e.code.as_str()));
    a.push(&JsValue::from_str(e.detail));
    a.into()
}

#[wasm_bindgen]
pub struct Floor { config: Config, meta: Option<ProviderMetadata>, jwks: Option<Jwks>, session: Option<crate::session::Session> }

#[wasm_bindgen]
impl Floor {
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str) -> Result<Floor, JsValue> {
        Ok(Floor { config: Config::from_json(config).map_err(to_js)?, meta: None, jwks: None, session: None })
    }
    pub fn discovery(&mut self, body: &str) -> Result<String, JsValue> {
        let m = ProviderMetadata::from_response(&self.config.issuer, body).map_err(to_js)?;
        let jwks_uri = m.jwks_uri.clone();
        self.meta = Some(m);
        Ok(jwks_uri)
    }
    pub fn login(&self, random: &[u8], sha: &[u8], now: u64) -> Result<Array, JsValue> {
        let meta = self.meta.as_ref().ok_or(JsValue::NULL)?;
        let mut r = [0u8; 32];
        r.copy_from_slice(random.get(..32).ok_or(JsValue::NULL)?);
        let verifier = crate::types::PkceCodeVerifier::from_random(&r);
        let state = State::new(crate::b64url::encode(&r));
        let nonce = Nonce::new(crate::b64url::encode(&r));
        let challenge = PkceCodeChallenge::from_sha256(sha);
        let url = crate::authorization::build_authorization_url(&self.config, meta, &crate::authorization::AuthorizationRequest {
            state: &state, nonce: &nonce, code_challenge: &challenge, dpop_jkt: None, extra: &[],
        }).map_err(to_js)?;
        let tx = crate::transaction::LoginTransaction { state: state.clone(), code_verifier: verifier, nonce, issuer: self.config.issuer.clone(), return_to: None, expires_at: now + 600, dpop_key: None };
        let a = Array::new();
        a.push(&JsValue::from_str(&url));
        a.push(&JsValue::from_str(&crate::transaction::storage_key(&state)));
        a.push(&JsValue::from_str(&tx.to_json()));
        Ok(a)
    }
    pub fn callback(&self, url: &str, tx: &str, now: f64) -> Result<String, JsValue> {
        let meta = self.meta.as_ref().ok_or(JsValue::NULL)?;
        let p = crate::callback::parse_callback(url).map_err(to_js)?;
        let state = crate::callback::require_state(&p).map_err(to_js)?;
        let tx = crate::transaction::LoginTransaction::from_json(tx).map_err(to_js)?;
        if tx.state != state || tx.is_expired(now) { return Err(JsValue::NULL); }
        let code = crate::callback::validate_auth_response(&p, meta).map_err(to_js)?;
        Ok(crate::token::code_exchange_body(&self.config, &code, &tx.code_verifier))
    }
    pub fn jwks(&mut self, body: &str) -> Result<(), JsValue> {
        self.jwks = Some(Jwks::from_response(body).map_err(to_js)?);
        Ok(())
    }
    /// Returns [jwk json, webcrypto name, hash, signing input, signature] of the first candidate.
    pub fn token(&mut self, status: u16, body: &str, nonce: &str, now: f64) -> Result<Array, JsValue> {
        let meta = self.meta.as_ref().ok_or(JsValue::NULL)?;
        let t = crate::token::process_token_response(status, body, false).map_err(to_js)?;
        let id = t.id_token.clone().ok_or(JsValue::NULL)?;
        let jws = crate::jws::parse_compact_jws(&id, &meta.id_token_signing_alg_values_supported).map_err(to_js)?;
        let jwks = self.jwks.as_ref().ok_or(JsValue::NULL)?;
        let c = jwks.candidates(jws.alg, jws.kid.as_deref());
        let key = c.first().ok_or(JsValue::NULL)?;
        let v = crate::id_token::IdTokenVerifier { issuer: self.config.issuer.clone(), client_id: self.config.client_id.clone(), clock_tolerance: self.config.clock_tolerance };
        v.validate_claims(&jws.payload, Some(&Nonce::new(nonce)), now).map_err(to_js)?;
        if let Some(crate::json::Json::Str(h)) = jws.payload.get("at_hash") { let _ = crate::id_token::at_hash_matches(h, &[]); }
        if let Some(s) = &self.session { crate::id_token::check_refreshed_claims(&s.claims, &jws.payload).map_err(to_js)?; }
        let p = jws.alg.webcrypto();
        let a = Array::new();
        a.push(&JsValue::from_str(&key.import_json()));
        a.push(&JsValue::from_str(p.name));
        a.push(&JsValue::from_str(p.hash));
        a.push(&JsValue::from_str(jws.signing_input));
        a.push(&js_sys::Uint8Array::from(&jws.signature[..]));
        let expires_at = t.expires_in.map(|s| now + s);
        self.session = Some(crate::session::Session { tokens: t, claims_text: jws.payload_text.clone(), claims: jws.payload, expires_at, dpop_key: None });
        Ok(a)
    }
    pub fn refresh_body(&self) -> Option<String> {
        let s = self.session.as_ref()?;
        Some(crate::token::refresh_body(&self.config, s.tokens.refresh_token.as_ref()?))
    }
    pub fn authorization(&self, url: &str) -> Option<String> {
        let s = self.session.as_ref()?;
        if !crate::bearer::origin_allowed(url, &self.config.api_origins) { return None; }
        Some(crate::bearer::authorization_header(&s.tokens.access_token, false))
    }
    pub fn unauthorized(&self, www: &str) -> bool { crate::bearer::is_invalid_token_challenge(www) }
    pub fn userinfo(&self, status: u16, body: &str) -> Result<String, JsValue> {
        let s = self.session.as_ref().ok_or(JsValue::NULL)?;
        crate::userinfo::process_userinfo_response(status, body, s.sub().unwrap_or("")).map_err(to_js)
    }
    pub fn message(&mut self, text: &str) -> Result<bool, JsValue> {
        Ok(matches!(crate::session::Message::parse(text).map_err(to_js)?, crate::session::Message::Ended { .. }))
    }
    pub fn session_message(&self, gen: u64) -> Option<String> { Some(crate::session::Message::session(gen, self.session.as_ref()?)) }
    pub fn logout(&self) -> Option<Array> {
        let s = self.session.as_ref()?;
        let meta = self.meta.as_ref()?;
        let a = Array::new();
        if let Some(rt) = &s.tokens.refresh_token { a.push(&JsValue::from_str(&crate::logout::revocation_body(&self.config, rt))); }
        if let Some(e) = &meta.end_session_endpoint { a.push(&JsValue::from_str(&crate::logout::end_session_url(e, &self.config, s.tokens.id_token.as_deref(), None))); }
        Some(a)
    }
    pub fn user(&self) -> Option<String> { self.session.as_ref().map(|s| s.claims_text.clone()) }
    pub fn scrub(url: &str) -> String { crate::callback::scrubbed_url(url) }
}
