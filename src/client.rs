//! The client: the flow that strings the protocol steps together, over the `Host` boundary.
//! One `Client` per app; it caches the provider metadata and JWKS and holds the session (tokens and the
//! verified claims) in memory only.
//!
//! Login:    `login` → discovery → PKCE/state/nonce → transaction to storage → authorization URL.
//! Callback: `handle_callback` → scrub the URL → parse → transaction by state (deleted) → RFC 9207 iss →
//!           code exchange → token response → ID token: JWS parse → key from JWKS → WebCrypto verify →
//!           claims → at_hash → session.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::{Cell, RefCell};
use alloc::rc::Rc;

use crate::authorization::{build_authorization_url, AuthorizationRequest};
use crate::b64url;
use crate::callback::{parse_callback, require_state, scrubbed_url, validate_auth_response};
use crate::config::Config;
use crate::discovery::{discovery_url, ProviderMetadata};
use crate::error::{fail, ErrorCode::*, OidcError, Result};
use crate::host::Host;
use crate::refresh::Flight;
use crate::trace::{self, TraceStep};
use crate::session::Session;
use crate::id_token::{at_hash_matches, check_authentication, IdTokenVerifier};
use crate::json::Json;
use crate::alg::JwsAlg;
use crate::jwks::{Jwk, Jwks};
use crate::jws::parse_compact_jws;
use crate::transaction::{check_return_to, client_prefix, is_key_for_state, storage_key, LoginKind, LoginTransaction, LIFETIME_SECONDS, STORAGE_PREFIX};
use crate::types::{AccessToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, State};

/// A token endpoint's 429 or 503 is waited out and tried again this many times at most, when it asks for
/// at most MAX_RETRY_WAIT_SECONDS (`Retry-After`; DEFAULT_RETRY_WAIT_SECONDS when it is unreadable).
pub const MAX_RETRY_WAITS: u32 = 2;
pub const MAX_RETRY_WAIT_SECONDS: f64 = 10.0;
pub const DEFAULT_RETRY_WAIT_SECONDS: f64 = 1.0;

/// An unknown `kid` triggers one JWKS refetch, and refetches are at least this far apart (seconds): key
/// rotation works, and a stream of bad tokens cannot make the client hammer the jwks_uri.
pub const JWKS_REFETCH_INTERVAL: f64 = 5.0;

pub struct CallbackResult {
    /// The verified claims of the user now signed in; `None` only when a `checkSession` request found no
    /// session at the provider (`silent`).
    pub claims_text: Option<String>,
    pub return_to: Option<String>,
    /// The `acr` the provider reports, when the login asked for `acr_values`.
    pub acr: Option<String>,
    /// This answered a `checkSession` request (`LoginKind::Silent`).
    pub silent: bool,
}

pub struct Client<H: Host> {
    pub host: H,
    pub config: Config,
    verifier: IdTokenVerifier,
    metadata: RefCell<Option<Rc<ProviderMetadata>>>,
    jwks: RefCell<Option<Rc<Jwks>>>,
    /// When the JWKS was last refetched for an unknown `kid` (never: -∞).
    last_jwks_refetch: Cell<f64>,
    /// The JWKS request was started before the token request (`prefetch`): the set it brings may
    /// predate the token.
    jwks_prefetched: Cell<bool>,
    pub(crate) session: RefCell<Option<Session>>,
    /// This tab's place in the cross-tab order of session states (see `session.rs`).
    pub(crate) generation: Cell<u64>,
    /// The tabs' newest state when this tab started hearing their messages (`listening`).
    pub(crate) listening_since: Cell<u64>,
    /// Until when a new tab's unanswered `ask` is pending here (see `on_message`).
    pub(crate) asked_until: Cell<f64>,
    /// The app's trace function threw during the current call (see `trace`).
    trace_failed: Cell<bool>,
    /// A token endpoint that answered 429/503 asked for a pause until then (`Retry-After`, unix seconds).
    pub(crate) not_before: Cell<f64>,
    /// The token endpoint's clock (its `Date` header) minus ours at its last answer, when it was readable.
    pub(crate) server_skew: Cell<Option<f64>>,
    /// The refreshes in flight, one per token (the login's: `None`; `apis[i]`'s own: `Some(i)`), each shared
    /// by every caller that needs it (see `refresh.rs`).
    pub(crate) flights: RefCell<Vec<(Option<usize>, Rc<Flight>)>>,
    /// After a failed refresh while the access token is still valid: no new try before this time.
    pub(crate) retry_after: Cell<f64>,
    pub(crate) failures: Cell<u32>,
    /// A refresh failure that did not fail the call (the token was still valid), for the app's
    /// 'error' event; taken by the wrapper.
    pub(crate) background_error: RefCell<Option<crate::error::OidcError>>,
    /// The canonical public JWK of the last DPoP key pair used, with its id (see `dpop.rs`).
    #[cfg_attr(not(feature = "dpop"), allow(dead_code))]
    pub(crate) dpop_jwk: RefCell<Option<(Option<String>, String)>>,
    /// The last `DPoP-Nonce` per server origin.
    pub(crate) dpop_nonces: RefCell<Vec<(String, String)>>,
    /// The popup logins waiting for their response, in memory only (see `popup.rs`).
    pub(crate) popups: RefCell<Vec<LoginTransaction>>,
    /// The end of a session that the app has been warned of (`sessionExpiring`, see `expiring`).
    pub(crate) warned_end: Cell<f64>,
}

impl<H: Host> Client<H> {
    pub fn new(config: Config, host: H) -> Self {
        let verifier = IdTokenVerifier {
            issuer: config.issuer.clone(),
            client_id: config.client_id.clone(),
            clock_tolerance: config.clock_tolerance,
        };
        Client {
            host,
            config,
            verifier,
            metadata: RefCell::new(None),
            jwks: RefCell::new(None),
            last_jwks_refetch: Cell::new(f64::NEG_INFINITY),
            jwks_prefetched: Cell::new(false),
            session: RefCell::new(None),
            generation: Cell::new(0),
            listening_since: Cell::new(0),
            asked_until: Cell::new(0.0),
            trace_failed: Cell::new(false),
            not_before: Cell::new(0.0),
            server_skew: Cell::new(None),
            flights: RefCell::new(Vec::new()),
            retry_after: Cell::new(0.0),
            failures: Cell::new(0),
            background_error: RefCell::new(None),
            dpop_jwk: RefCell::new(None),
            dpop_nonces: RefCell::new(Vec::new()),
            popups: RefCell::new(Vec::new()),
            warned_end: Cell::new(0.0),
        }
    }

    /// The provider metadata, fetched once and cached (OIDC Discovery §4).
    pub async fn metadata(&self) -> Result<Rc<ProviderMetadata>> {
        if let Some(m) = self.metadata.get_ref().as_ref() {
            return Ok(m.clone());
        }
        // With the endpoints supplied in `metadata` the document is not fetched (it may lack CORS).
        let supplied = self.config.metadata.as_ref();
        let body = if supplied.is_some_and(crate::discovery::supplies_endpoints) {
            None
        } else {
            let res = self.host.get(&discovery_url(&self.config.issuer), None, None).await?;
            if res.status != 200 {
                return fail(HttpError, "the discovery endpoint did not answer 200");
            }
            Some(res.body)
        };
        let meta = Rc::new(ProviderMetadata::from_document(&self.config.issuer, body.as_deref(), supplied, self.config.multi_tenant.is_some())?);
        *self.metadata.get_mut_ref() = Some(meta.clone());
        Ok(meta)
    }

    async fn jwks(&self, meta: &ProviderMetadata, refresh: bool) -> Result<Rc<Jwks>> {
        if !refresh {
            if let Some(k) = self.jwks.get_ref().as_ref() {
                return Ok(k.clone());
            }
        }
        let res = self.host.get(&meta.jwks_uri, None, None).await?;
        if res.status != 200 {
            return fail(HttpError, "the jwks_uri did not answer 200");
        }
        let jwks = Rc::new(Jwks::from_response(&res.body)?);
        *self.jwks.get_mut_ref() = Some(jwks.clone());
        Ok(jwks)
    }

    fn random_value(&self) -> String {
        b64url::encode(&self.host.random32())
    }

    /// The start of this client's login-transaction keys (see `transaction.rs`).
    fn tx_prefix(&self) -> String {
        client_prefix(self.config.issuer.as_str(), self.config.client_id.as_str())
    }

    /// Deletes login transactions of this client in this tab that have expired (abandoned logins), and those
    /// of earlier versions (`oidc-wasm.tx.<state>`, no client: no callback finds them any more). Another
    /// client's are its own.
    fn purge_expired_transactions(&self, now: f64) {
        let mine = self.tx_prefix();
        for key in self.host.storage_keys(STORAGE_PREFIX) {
            let legacy = !key.contains("|");
            if !legacy && !key.starts_with(&mine) {
                continue;
            }
            let expired = match self.host.storage_get(&key) {
                Some(text) => legacy || LoginTransaction::from_json(&text).map_or(true, |t| t.is_expired(now)),
                None => false,
            };
            if expired {
                self.host.storage_remove(&key);
            }
        }
    }

    /// Prepares a login and returns the authorization URL to navigate to.
    pub async fn login(&self, return_to: Option<String>, extra: &[(String, String)]) -> Result<String> {
        self.start_login(return_to, extra, LoginKind::Redirect).await.map(|(url, _)| url)
    }

    /// Prepares a login of `kind` and returns the authorization URL and its `state`. A redirect or silent
    /// login's transaction goes to sessionStorage (it must survive the navigation); a popup login's stays in
    /// this page's memory.
    pub async fn start_login(&self, return_to: Option<String>, extra: &[(String, String)], kind: LoginKind) -> Result<(String, State)> {
        if let Some(r) = &return_to {
            check_return_to(r)?;
        }
        // OIDC Core §3.1.2.1: what the login asks of the authentication, checked at the callback.
        let param = |n: &str| extra.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let max_age = match param("max_age") {
            None => None,
            Some(v) => match crate::transaction::parse_max_age(&v) {
                Some(n) => Some(n),
                None => return Err(OidcError::new(InvalidConfig, "max_age must be a whole number of seconds").with_context(&v)),
            },
        };
        let acr_values = param("acr_values");
        let meta = self.metadata().await?;
        let now = self.host.now();
        self.purge_expired_transactions(now);

        let code_verifier = PkceCodeVerifier::from_random(&self.host.random32());
        let mut state = String::from(kind.state_prefix());
        state.push_str(&self.random_value());
        let state = State::new(state);
        let nonce = Nonce::new(self.random_value());
        let sha = self.host.digest("SHA-256", code_verifier.as_str().as_bytes()).await?;
        let code_challenge = PkceCodeChallenge::from_sha256(&sha);
        // DPoP: a fresh key pair for each login, so sessions cannot be linked by their key (RFC 9449 §11.2 on
        // key reuse). It lives only in the login transaction until its callback completes: the session
        // signed in now keeps signing with its own key.
        let dpop_key = if self.config.dpop() { Some(self.random_value()) } else { None };
        #[cfg(feature = "dpop")]
        let dpop_jkt = if self.config.dpop() { Some(self.dpop_jkt(dpop_key.as_deref()).await?) } else { None };
        #[cfg(not(feature = "dpop"))]
        let dpop_jkt: Option<String> = None;
        let url = build_authorization_url(
            &self.config,
            &meta,
            &AuthorizationRequest { state: &state, nonce: &nonce, code_challenge: &code_challenge, dpop_jkt: dpop_jkt.as_deref(), extra },
        )?;
        let tx = LoginTransaction {
            state,
            code_verifier,
            nonce,
            issuer: self.config.issuer.clone(),
            client_id: self.config.client_id.clone(),
            return_to,
            expires_at: (now + LIFETIME_SECONDS) as u64,
            dpop_key,
            max_age,
            acr_values,
            silent: kind == LoginKind::Silent,
        };
        let state = tx.state.clone();
        if kind == LoginKind::Popup {
            // Until its relay arrives or the wrapper gives it up (`popup_cancel`, always called).
            self.popups.get_mut_ref().push(tx);
        } else if !self.host.storage_set(&storage_key(&self.tx_prefix(), &tx.state), &tx.to_json()) {
            return fail(StorageUnavailable, "sessionStorage refused the login transaction; the login could not complete");
        }
        if self.config.trace() {
            self.trace(
                &TraceStep::new("authorization_request")
                    .str("endpoint", &meta.authorization_endpoint)
                    .raw("params", &trace::query_object(crate::url::query_of(&url)))
                    .str("code_verifier", "(43 chars, kept in sessionStorage until the token request)")
                    .finish(),
            );
        }
        self.check_trace()?;
        Ok((url, state))
    }

    /// Whether the authorization response in `url` answers a login that another client of this page started
    /// in this tab: its `state` is under another client's transaction key, not this one's (two providers on
    /// one page, a shared redirect URI). That client completes it; this one leaves it alone.
    pub fn callback_of_other_client(&self, url: &str) -> bool {
        let Some(state) = parse_callback(url).ok().and_then(|p| require_state(&p).ok()) else { return false };
        self.host.storage_get(&storage_key(&self.tx_prefix(), &state)).is_none()
            && self.host.storage_keys(STORAGE_PREFIX).iter().any(|k| is_key_for_state(k, &state))
    }

    /// Completes a login at the redirect URI. `url` is the page's full URL.
    pub async fn handle_callback(&self, url: &str) -> Result<CallbackResult> {
        let (params, state, tx) = self.take_callback(url)?;
        self.complete_login(&params, state, tx).await
    }

    /// The synchronous start of a callback: the address bar scrubbed, the response read, and its login
    /// transaction taken out of sessionStorage (single use).
    pub fn take_callback(&self, url: &str) -> Result<(crate::callback::CallbackParams, State, LoginTransaction)> {
        // Another client's login (routed by `state`): nothing of it is read, deleted or scrubbed here — the
        // address bar keeps its code and state for that client's handleCallback.
        if self.callback_of_other_client(url) {
            return fail(CallbackNotForThisClient, "this response answers a login another client of this page started: that client's handleCallback completes it");
        }
        // Then, before anything else can run: take code and state out of the address bar, for good and
        // bad responses alike (RFC 10017 §7.2.1).
        let scrubbed = self.host.replace_url(&scrubbed_url(url));

        let params = parse_callback(url)?;
        let state = require_state(&params)?;
        // The transaction is single use: read and delete in one step, before anything can fail.
        let key = storage_key(&self.tx_prefix(), &state);
        let Some(text) = self.host.storage_get(&key) else {
            return fail(StateUnknown, "no login of this tab is waiting for this state (replayed or forged callback, or a login from before an app update)");
        };
        self.host.storage_remove(&key);
        if !scrubbed {
            // The code stays in the address bar; the login that owns it is deleted, so it is useless.
            return fail(BrowserError, "history.replaceState refused to take the code out of the address bar; the login was stopped: start it again");
        }
        let tx = LoginTransaction::from_json(&text)?;
        Ok((params, state, tx))
    }

    /// The rest of a callback, once its transaction is found (here, or in `popup_callback`): the response is
    /// checked against it, the code exchanged and the ID token verified.
    pub(crate) async fn complete_login(&self, params: &crate::callback::CallbackParams, state: State, tx: LoginTransaction) -> Result<CallbackResult> {
        if tx.state != state || tx.issuer != self.config.issuer || tx.client_id != self.config.client_id {
            return fail(StateUnknown, "the stored login does not match this callback");
        }
        if tx.silent {
            // A `checkSession` round trip: back to the page the app was loaded at, whatever the outcome.
            self.host.replace_url(tx.return_to.as_deref().unwrap_or("/"));
        }
        if tx.is_expired(self.host.now()) {
            return fail(TransactionExpired, "the login took longer than 10 minutes; start again");
        }
        // Where the tabs' session stood when this login came back: a logout after this point wins over it.
        let name = self.coordination_name();
        let started_at = self.host.shared_generation(&name).0.max(self.generation.get());

        let meta = self.metadata().await?;
        let code = match validate_auth_response(params, &meta) {
            Ok(code) => code,
            // OIDC Core §3.1.2.6: the provider has no session it may use without the user. For a
            // `checkSession` request that is the answer "signed out", not an error.
            Err(e) if tx.silent && crate::session_check::means_no_session(&e) => {
                return Ok(CallbackResult { claims_text: None, return_to: tx.return_to, acr: None, silent: true });
            }
            Err(e) => return Err(e),
        };
        if self.jwks.get_ref().is_none() {
            // The keys are needed right after the token response: fetch them during the code exchange.
            self.host.prefetch(&meta.jwks_uri);
            self.jwks_prefetched.set(true);
        }
        if self.config.trace() {
            let mut p = String::from("{\"code\":");
            crate::json::write_str(&mut p, &trace::truncated(code.as_str()));
            p.push_str(",\"state\":");
            crate::json::write_str(&mut p, state.as_str());
            if let Some(iss) = &params.iss {
                p.push_str(",\"iss\":");
                crate::json::write_str(&mut p, iss);
            }
            p.push('}');
            self.trace(&TraceStep::new("callback").raw("params", &p).finish());
        }
        let body = crate::token::code_exchange_body(&self.config, &code, &tx.code_verifier);
        // The code is bound to the login's key pair (dpop_jkt), not to the session this tab may hold.
        let (status, answer) = self.token_request(&meta, &body, tx.dpop_key.as_deref()).await?;
        let tokens = crate::token::process_token_response(status, &answer, self.config.dpop())?;
        if self.config.trace() {
            let mut t = TraceStep::new("token_response")
                .str("token_type", if self.config.dpop() { "DPoP" } else { "Bearer" })
                .secret("access_token", tokens.access_token.as_str());
            if let Some(e) = tokens.expires_in {
                t = t.num("expires_in", e as u64);
            }
            if let Some(s) = &tokens.scope {
                t = t.str("scope", s);
            }
            if let Some(r) = &tokens.refresh_token {
                t = t.secret("refresh_token", r.as_str());
            }
            if let Some(i) = &tokens.id_token {
                t = t.secret("id_token", i);
            }
            self.trace(&t.finish());
        }
        let Some(id_token) = tokens.id_token.clone() else {
            return fail(TokenResponseInvalid, "the token response has no id_token (OIDC Core §3.1.3.3)");
        };
        let (claims, claims_text) = self.verify_id_token(&meta, &id_token, Some(&tx.nonce), &tokens.access_token).await?;
        let acr = check_authentication(&claims, tx.max_age, tx.acr_values.as_deref(), self.config.require_acr, self.host.now(), self.config.clock_tolerance)?;
        let expires_at = tokens.expires_in.map(|s| self.host.now() + s);
        let refresh_expires_at = crate::token::refresh_lifetime(&answer).map(|s| self.host.now() + s);
        let new_rt = tokens.refresh_token.clone();
        let mut session = Session {
            tokens,
            claims_text: claims_text.clone(),
            claims,
            expires_at,
            refresh_expires_at,
            dpop_key: tx.dpop_key.clone(),
            retired: Vec::new(),
            api_tokens: Vec::new(),
        };
        // The new session becomes every tab's under the app's lock, after any refresh or logout in progress.
        let installed = self
            .under_lock(async {
                // The session this login replaces, as the tabs hold it now (a refresh elsewhere may have rotated
                // it while the code was being exchanged).
                let _ = self.await_newest(&name, started_at).await;
                let (newest, ended) = self.host.shared_generation(&name);
                if ended > started_at {
                    // Signed out in another tab while this login was completing: the logout wins. The tokens are
                    // revoked — unless a newer login has been made since the logout, whose grant they may share
                    // (providers that keep one grant per browser session, like oidc-provider and Keycloak).
                    if let Some(rt) = new_rt.as_ref().filter(|_| newest == ended) {
                        self.revoke(&meta, rt, tx.dpop_key.as_deref()).await;
                    }
                    self.forget_dpop_key(tx.dpop_key.as_deref()).await;
                    return false;
                }
                let replaced = self.session.get_mut_ref().take();
                let mut other_user = None;
                if let Some(old) = replaced {
                    if old.sub() == session.sub() {
                        // The same user signed in again: the old refresh token may share the new one's grant, so
                        // it is kept for the logout rather than revoked now.
                        session.retired = old.retired;
                        if let Some(rt) = old.tokens.refresh_token {
                            session.retired.push(crate::session::Retired { rt, dpop_key: old.dpop_key });
                        }
                        let extra = session.retired.len().saturating_sub(crate::session::MAX_RETIRED);
                        session.retired.drain(..extra);
                    } else {
                        other_user = Some(old); // another user's grant cannot be this one's
                    }
                }
                self.install_session(session).await;
                if let Some(old) = other_user {
                    for (rt, key) in old.refresh_tokens() {
                        self.revoke(&meta, rt, key).await;
                    }
                    self.forget_dpop_key(old.dpop_key.as_deref()).await;
                    for r in &old.retired {
                        self.forget_dpop_key(r.dpop_key.as_deref()).await;
                    }
                }
                true
            })
            .await;
        if !installed {
            return fail(SessionEnded, "a logout in another tab ended the session while this login was completing; sign in again");
        }
        self.session_check_reset();
        self.check_trace()?;
        Ok(CallbackResult { claims_text: Some(claims_text), return_to: tx.return_to, acr, silent: tx.silent })
    }

    /// POSTs to the token endpoint — with a DPoP proof from the key pair `dpop_key` when DPoP is on, and
    /// once more with the provider's nonce if it asks for one (`use_dpop_nonce`, RFC 9449 §8) — and returns
    /// the final answer's status and body. `Err` only when no answer came.
    pub(crate) async fn token_request(&self, meta: &ProviderMetadata, body: &str, dpop_key: Option<&str>) -> Result<(u16, String)> {
        let mut retried = false;
        let mut waits = 0;
        loop {
            let proof = self.dpop_proof(dpop_key, "POST", &meta.token_endpoint, None).await?;
            let res = self.host.post_form(&meta.token_endpoint, body, proof.as_deref()).await.map_err(|e| match e.detail {
                crate::host::RESPONSE_TOO_LARGE => OidcError { code: TokenResponseInvalid, ..e },
                _ => e,
            })?;
            let now = self.host.now();
            self.server_skew.set(res.date.as_deref().and_then(crate::http_date::parse_http_date).map(|d| d - now));
            // Rate limited (Okta: 429) or briefly unavailable (503): the request was not acted on. Wait as
            // long as the provider asks, up to MAX_RETRY_WAIT_SECONDS, and try again — under the tabs' lock
            // for a refresh, so the tabs wait one behind the other instead of all retrying at once. A longer
            // pause is remembered: no refresh before it.
            if matches!(res.status, 429 | 503) && waits < MAX_RETRY_WAITS {
                let wait = crate::http_date::retry_after_seconds(res.retry_after.as_deref(), now).unwrap_or(DEFAULT_RETRY_WAIT_SECONDS);
                if wait <= MAX_RETRY_WAIT_SECONDS {
                    waits += 1;
                    self.host.sleep((wait * 1000.0) as u32).await;
                    continue;
                }
                self.not_before.set(now + wait);
            }
            let new_nonce = res.dpop_nonce.as_deref().is_some_and(|n| self.remember_dpop_nonce(&meta.token_endpoint, n));
            let asks_nonce = || crate::token::process_token_response(res.status, &res.body, self.config.dpop()).err().is_some_and(|e| e.oauth_error.as_deref() == Some("use_dpop_nonce"));
            if !retried && new_nonce && asks_nonce() {
                retried = true;
                continue;
            }
            return Ok((res.status, res.body));
        }
    }

    /// Hands a step of the learning trace to the app's function. If it throws, the step in progress still
    /// completes (a token already spent is never left half-handled); the call then fails (`check_trace`).
    pub(crate) fn trace(&self, step: &str) {
        if !self.host.trace(step) {
            self.trace_failed.set(true);
        }
    }

    /// At the end of a call that traced: `browser_error` if the app's trace function threw meanwhile.
    pub(crate) fn check_trace(&self) -> Result<()> {
        if self.trace_failed.replace(false) {
            return fail(BrowserError, "the app's trace function threw (the SDK finished its work; the trace is incomplete)");
        }
        Ok(())
    }

    /// Verifies an ID token: JWS structure and header, key from the provider's JWKS, signature by
    /// WebCrypto, then the claims (OIDC Core §3.1.3.7) and `at_hash` (§3.1.3.8).
    pub async fn verify_id_token(
        &self,
        meta: &ProviderMetadata,
        token: &str,
        nonce: Option<&Nonce>,
        access_token: &AccessToken,
    ) -> Result<(Json, String)> {
        let jws = parse_compact_jws(token, &meta.id_token_signing_alg_values_supported)?;
        let kid = jws.kid.as_deref();

        // A set fetched right here, after the token arrived, is the provider's current one.
        let fetched_now = self.jwks.get_ref().is_none() && !self.jwks_prefetched.replace(false);
        let mut jwks = self.jwks(meta, false).await?;
        if jwks.candidates(jws.alg, kid).is_empty() && !fetched_now {
            // Key rotation (Core §10.1.1): the provider may have published the key after our copy was
            // made — even while this very token was issued, when the JWKS was fetched during the code
            // exchange. One refetch, unless another one was made within the interval.
            let now = self.host.now();
            if now - self.last_jwks_refetch.get() >= JWKS_REFETCH_INTERVAL {
                self.last_jwks_refetch.set(now);
                jwks = self.jwks(meta, true).await?;
            }
        }
        let candidates = jwks.candidates(jws.alg, kid);
        if candidates.is_empty() {
            return fail(NoMatchingKey, "no key in the provider's JWKS fits this token's alg and kid");
        }
        let mut verified = false;
        let mut checked_any = false;
        let mut refused = None;
        for key in candidates {
            match self.host.verify(self.key_handle(key, jws.alg), jws.signing_input.as_bytes(), &jws.signature).await {
                Ok(true) => {
                    verified = true;
                    break;
                }
                Ok(false) => checked_any = true,
                // WebCrypto refused this key (say, an EC point off the curve): try the next one.
                Err(e) => refused = Some(e),
            }
        }
        if !verified {
            if let (false, Some(e)) = (checked_any, refused) {
                return Err(e); // every candidate was refused: the browser cannot verify this at all
            }
            return fail(SignatureInvalid, "the ID token's signature does not verify with the provider's key");
        }

        let checked = match &meta.issuer_template {
            None => self.verifier.validate_claims(&jws.payload, nonce, self.host.now()),
            Some(t) => {
                let allowed = self.config.multi_tenant.as_deref().unwrap_or(&[]);
                let issuer = crate::id_token::tenant_issuer(t, &jws.payload, allowed)?;
                self.verifier.validate_claims_as(&jws.payload, nonce, self.host.now(), &issuer)
            }
        };
        checked.map_err(|e| match e.code {
            // A time claim out of range: say so when the provider's clock is off (from its Date header, or
            // else from the token's iat) by more than the tolerance — the fix is a clock, not the code.
            ClaimIat | ClaimExp | ClaimNbf => {
                let (skew, source) = match self.server_skew.get() {
                    Some(s) => (Some(s), "its Date header"),
                    None => (jws.payload.get("iat").and_then(Json::as_f64).map(|iat| iat - self.host.now()), "the token's iat"),
                };
                match skew.filter(|s| s.abs() > self.config.clock_tolerance) {
                    Some(s) => e.with_context(&crate::id_token::describe_skew(s, source)),
                    None => e,
                }
            }
            _ => e,
        })?;
        match jws.payload.get("at_hash") {
            None => {}
            Some(Json::Str(h)) => {
                let d = self.host.digest(jws.alg.hash(), access_token.as_str().as_bytes()).await?;
                if !at_hash_matches(h, &d) {
                    return fail(AtHashMismatch, "at_hash does not match the access token");
                }
            }
            Some(_) => return fail(AtHashMismatch, "at_hash is not a string"),
        }
        if self.config.trace() {
            let checks = trace::id_token_checks(
                jws.alg.name(),
                kid,
                &jws.payload,
                self.config.issuer.as_str(),
                self.config.client_id.as_str(),
                nonce.is_some(),
            );
            let header = jws.header.to_text().unwrap_or_else(|| "{}".into());
            self.trace(&TraceStep::new("id_token").raw("header", &header).raw("claims", &jws.payload_text).raw("checks", &checks).finish());
        }
        Ok((jws.payload, jws.payload_text))
    }

    /// The WebCrypto key for `key` and `alg`: imported on first use, then reused for every token it signs.
    fn key_handle(&self, key: &Jwk, alg: JwsAlg) -> u32 {
        if let Some((a, handle)) = key.imported.get() {
            if a == alg {
                return handle;
            }
        }
        let handle = self.host.import_key(alg.webcrypto(), &key.import_json());
        key.imported.set(Some((alg, handle)));
        handle
    }

    /// The verified ID-token claims of the signed-in user, as JSON text.
    pub fn user(&self) -> Option<String> {
        self.session.get_ref().as_ref().map(|s| s.claims_text.clone())
    }

    /// The last refresh failure that was absorbed because the access token was still valid.
    pub fn take_background_error(&self) -> Option<crate::error::OidcError> {
        self.background_error.get_mut_ref().take()
    }

    /// This tab's session generation: it grows with every login, refresh and logout.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    pub fn is_authenticated(&self) -> bool {
        self.session.get_ref().is_some()
    }

    /// The name of this app's cross-tab lock, generation counter and channel: one per issuer and client.
    pub fn coordination_name(&self) -> String {
        let mut n = String::from("oidc-wasm|");
        n.push_str(self.config.issuer.as_str());
        n.push('|');
        n.push_str(self.config.client_id.as_str());
        n
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
