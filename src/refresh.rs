//! Keeping the session alive and ending it: refresh-token rotation (RFC 6749 §6; RFC 9700 §4.14.2),
//! one refresh at a time however many callers wait (in this tab: a shared flight; across tabs: a Web
//! Lock plus a shared generation counter, with the new tokens handed over by BroadcastChannel),
//! refreshed-ID-token rules (OIDC Core §12.2), the bearer-token decisions of `fetchWithToken`
//! (RFC 6750), and logout (RFC 7009, RP-Initiated Logout 1.0).
//!
//! Failures lose nothing: a network error or 5xx keeps the tokens while they are valid (and backs off
//! before the next try); `invalid_grant` ends the session cleanly, in every tab.

#[allow(unused_imports)]
use crate::prelude::*;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::bearer;
use crate::client::Client;
use crate::error::{fail, ErrorCode::*, OidcError, Result};
use crate::host::Host;
use crate::id_token::check_refreshed_claims;
use crate::logout::{end_session_url, revocation_body};
use crate::session::{Message, Session};
use crate::token::refresh_body;
use crate::trace::TraceStep;
use crate::types::AccessToken;

/// How long a tab waits for another tab's new tokens after seeing (under the lock) that it refreshed.
const HANDOFF_WAIT_MS: u32 = 3000;
const HANDOFF_POLL_MS: u32 = 25;
/// Backoff after a failed refresh while the access token is still valid: 2, 4, 8 … 60 seconds.
const MAX_BACKOFF_SECONDS: f64 = 60.0;

/// One refresh in flight; everyone who needs fresh tokens meanwhile waits for its result.
#[derive(Default)]
pub struct Flight {
    result: RefCell<Option<Result<()>>>,
    wakers: RefCell<Vec<Waker>>,
}

impl Flight {
    fn finish(&self, r: Result<()>) {
        *self.result.get_mut_ref() = Some(r);
        for w in self.wakers.get_mut_ref().drain(..) {
            w.wake();
        }
    }
}

struct WaitFlight(Rc<Flight>);

impl Future for WaitFlight {
    type Output = Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(r) = self.0.result.get_ref().as_ref() {
            return Poll::Ready(r.clone());
        }
        self.0.wakers.get_mut_ref().push(cx.waker().clone());
        Poll::Pending
    }
}

/// What a message from another tab changed, for the wrapper's events.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Change {
    None,
    /// A session arrived where this tab had none, or for another user.
    SignedIn,
    /// New tokens for the same user.
    Refreshed,
    /// The session ended (logout or a refused refresh in another tab).
    Ended,
}

impl<H: Host> Client<H> {
    /// Takes the next place in the tabs' order of session states: newer than anything any tab has made,
    /// recorded for all of them.
    fn next_generation(&self) -> u64 {
        let name = self.coordination_name();
        let generation = self.host.shared_generation(&name).max(self.generation.get()) + 1;
        self.generation.set(generation);
        self.host.set_shared_generation(&name, generation);
        generation
    }

    /// Makes `s` the session and tells the other tabs (login or hand-off source).
    pub(crate) async fn install_session(&self, s: Session) {
        let generation = self.next_generation();
        self.host.broadcast(&Message::session(generation, &s));
        if self.config.persist_sealed {
            if let Some(sealed) = s.to_sealed_json() {
                // A failure only means the next reload starts signed out.
                let _ = self.host.seal(&self.seal_name(), &sealed).await;
            }
        }
        self.use_dpop_key(s.dpop_key.clone());
        *self.session.get_mut_ref() = Some(s);
        self.failures.set(0);
        self.retry_after.set(0.0);
    }

    /// Drops the session here and in every tab.
    async fn end_session(&self) {
        *self.session.get_mut_ref() = None;
        let generation = self.next_generation();
        self.host.broadcast(&Message::ended(generation));
        if self.config.persist_sealed {
            self.host.unseal_clear(&self.seal_name()).await;
        }
        self.forget_dpop_key().await;
    }

    fn seal_name(&self) -> String {
        let mut n = self.coordination_name();
        n.push_str("|session");
        n
    }

    /// `persistSession: 'sealed'`: after a reload, unseal the refresh token and refresh at once.
    /// Resolves to whether a session was restored. A refused token clears the seal (no loop).
    pub async fn restore(&self) -> Result<bool> {
        if !self.config.persist_sealed || self.session.get_ref().is_some() {
            return Ok(false);
        }
        let Some(text) = self.host.unseal(&self.seal_name()).await else { return Ok(false) };
        let Some(session) = Session::from_sealed_json(&text) else {
            self.host.unseal_clear(&self.seal_name()).await;
            return Ok(false);
        };
        // Take our place in the tabs' order, so a tab that restored at the same moment and refreshed
        // first is waited for instead of raced.
        let shared = self.host.shared_generation(&self.coordination_name());
        if self.session.get_ref().is_some() {
            // Another tab handed its (newer) session over while we were unsealing: keep that one.
            return Ok(true);
        }
        self.generation.set(shared.max(self.generation.get()));
        self.use_dpop_key(session.dpop_key.clone());
        *self.session.get_mut_ref() = Some(session);
        match self.refresh().await {
            Ok(()) => Ok(true),
            Err(e) => {
                if e.code != SessionEnded {
                    // Offline or the provider failing: the refresh token may still be good later.
                    *self.session.get_mut_ref() = None;
                }
                Err(e)
            }
        }
    }

    /// Refreshes now. Concurrent callers share one request; across tabs one refresh runs at a time.
    pub async fn refresh(&self) -> Result<()> {
        let existing = self.flight.get_ref().clone();
        if let Some(flight) = existing {
            return WaitFlight(flight).await;
        }
        let flight = Rc::new(Flight::default());
        *self.flight.get_mut_ref() = Some(flight.clone());
        let name = self.coordination_name();
        // This tab's generation when the refresh was asked for: anything newer that shows up while we
        // wait for the lock (or read the shared counter) is another tab's refresh.
        let asked_at = self.generation.get();
        let lock = self.host.lock(&name).await;
        let r = self.refresh_under_lock(&name, asked_at).await;
        self.host.unlock(lock);
        *self.flight.get_mut_ref() = None;
        flight.finish(r.clone());
        r
    }

    pub(crate) async fn refresh_under_lock(&self, name: &str, asked_at: u64) -> Result<()> {
        // Another tab refreshed since this refresh was asked for: our refresh token is spent. Use its
        // tokens — already here, or still on their way by BroadcastChannel — rather than replay the old
        // one (the provider would revoke the whole token family) or spend the new one on a second refresh.
        // Compared with `asked_at`, not the current generation: the new tokens may arrive while we wait.
        let shared = self.host.shared_generation(name).max(self.generation.get());
        if shared > asked_at {
            let mut waited = 0;
            while waited < HANDOFF_WAIT_MS {
                if self.generation.get() >= shared {
                    return if self.session.get_ref().is_some() { Ok(()) } else { fail(SessionEnded, "the session ended in another tab") };
                }
                self.host.sleep(HANDOFF_POLL_MS).await;
                waited += HANDOFF_POLL_MS;
            }
            *self.session.get_mut_ref() = None;
            return fail(SessionEnded, "another tab refreshed the tokens and they never arrived here; sign in again");
        }

        let (refresh_token, old_claims, old_id_token, dpop_key) = match self.session.get_ref().as_ref() {
            None => return fail(NotSignedIn, "no user is signed in"),
            Some(s) => (s.tokens.refresh_token.clone(), s.claims.clone(), s.tokens.id_token.clone(), s.dpop_key.clone()),
        };
        let Some(refresh_token) = refresh_token else {
            return fail(SessionEnded, "the provider gave no refresh token; sign in again when the access token expires");
        };
        let meta = self.metadata().await?;
        let tokens = match self.token_request(&meta, &refresh_body(&self.config, &refresh_token)).await {
            Ok(t) => t,
            Err(e) if e.code == TokenError && e.oauth_error.as_deref() == Some("invalid_grant") => {
                self.end_session().await;
                return Err(OidcError { code: SessionEnded, detail: "the provider refused the refresh token (invalid_grant); sign in again", ..e });
            }
            Err(e) => return Err(e),
        };
        if self.config.trace {
            let new = tokens.refresh_token.as_ref().unwrap_or(&refresh_token);
            self.host.trace(
                &TraceStep::new("refresh")
                    .secret("old_refresh_token", refresh_token.as_str())
                    .secret("new_refresh_token", new.as_str())
                    .bool("rotated", new != &refresh_token)
                    .secret("access_token", tokens.access_token.as_str())
                    .num("expires_in", tokens.expires_in.unwrap_or(0.0) as u64)
                    .finish(),
            );
        }
        // The refresh token has been spent: from here on a failure ends the session rather than keep
        // tokens that can no longer be renewed.
        let (claims, claims_text) = match &tokens.id_token {
            Some(id_token) => {
                let checked = match self.verify_id_token(&meta, id_token, None, &tokens.access_token).await {
                    Ok((c, t)) => check_refreshed_claims(&old_claims, &c).map(|_| (c, t)),
                    Err(e) => Err(e),
                };
                match checked {
                    Ok(v) => v,
                    Err(e) => {
                        self.end_session().await;
                        return Err(e);
                    }
                }
            }
            None => {
                let text = self.session.get_ref().as_ref().map(|s| s.claims_text.clone()).unwrap_or_default();
                (old_claims, text)
            }
        };
        let mut tokens = tokens;
        // Rotation: the new refresh token replaces the old; a provider that does not rotate keeps it.
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token);
        }
        if tokens.id_token.is_none() {
            tokens.id_token = old_id_token;
        }
        let expires_at = tokens.expires_in.map(|s| self.host.now() + s);
        self.install_session(Session { tokens, claims_text, claims, expires_at, dpop_key }).await;
        Ok(())
    }

    /// Makes sure the access token is usable for a request now: refreshes ahead of expiry. While the
    /// token is still valid a failed refresh is not an error (the next try waits for the backoff).
    pub async fn ensure_fresh(&self) -> Result<()> {
        let (expires_at, has_refresh) = match self.session.get_ref().as_ref() {
            None => return fail(NotSignedIn, "no user is signed in"),
            Some(s) => (s.expires_at, s.tokens.refresh_token.is_some()),
        };
        let now = self.host.now();
        let Some(expires_at) = self.refresh_due(expires_at, now) else { return Ok(()) };
        let still_valid = now < expires_at;
        if still_valid && (now < self.retry_after.get() || !has_refresh) {
            return Ok(());
        }
        match self.refresh().await {
            Ok(()) => Ok(()),
            Err(e) if still_valid && self.session.get_ref().is_some() => {
                let n = self.failures.get().saturating_add(1);
                self.failures.set(n);
                let backoff = f64::from(1u32 << n.min(6)).min(MAX_BACKOFF_SECONDS);
                self.retry_after.set(self.host.now() + backoff);
                // The token still works, so the call goes on; the failure is reported as an event.
                *self.background_error.get_mut_ref() = Some(e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The headers for a request `method url`: `Authorization` (and, with DPoP, the `DPoP` proof bound
    /// to this request and token), or `None` when `url` is not on an allowed API origin (then the
    /// request goes without the token).
    /// `Some(expires_at)` when the access token is within the refresh margin of its expiry (or past it).
    /// A token without a lifetime is never refreshed ahead: the 401 retry covers it.
    fn refresh_due(&self, expires_at: Option<f64>, now: f64) -> Option<f64> {
        expires_at.filter(|e| now >= e - self.config.refresh_margin)
    }

    /// `authorization_for` without waiting, when nothing needs to wait: `Some(None)` for a URL off the API
    /// origins, `Some(Some(header))` for a Bearer token valid beyond the refresh margin (`refresh_due`, as
    /// in `ensure_fresh`). `None` when a refresh, a DPoP proof or an error is due: then `authorization_for`.
    pub fn authorization_ready(&self, url: &str) -> Option<Option<String>> {
        if !bearer::origin_allowed(url, &self.config.api_origins) {
            return Some(None);
        }
        if self.config.dpop {
            return None; // a proof is signed per request, by WebCrypto
        }
        let session = self.session.get_ref();
        let s = session.as_ref()?;
        if self.refresh_due(s.expires_at, self.host.now()).is_some() {
            return None;
        }
        Some(Some(bearer::authorization_header(&s.tokens.access_token, false)))
    }

    pub async fn authorization_for(&self, url: &str, method: &str) -> Result<Option<(String, Option<String>)>> {
        if !bearer::origin_allowed(url, &self.config.api_origins) {
            return Ok(None);
        }
        self.ensure_fresh().await?;
        let token: Option<AccessToken> = self.session.get_ref().as_ref().map(|s| s.tokens.access_token.clone());
        let Some(token) = token else { return fail(NotSignedIn, "no user is signed in") };
        let proof = self.dpop_proof(method, url, Some(&token)).await?;
        Ok(Some((bearer::authorization_header(&token, self.config.dpop), proof)))
    }

    /// After a 401: whether to retry the request once. For `error="invalid_token"` (RFC 6750 §3.1): if
    /// the token was replaced since the request was sent, the retry uses the new one, else it refreshes
    /// first. For a resource server's `use_dpop_nonce` with a new `DPoP-Nonce` (RFC 9449 §9): retry with
    /// the nonce.
    pub async fn after_unauthorized(&self, url: &str, used_header: &str, www_authenticate: &str, dpop_nonce: Option<&str>) -> Result<bool> {
        if self.config.dpop && bearer::challenge_error_is(www_authenticate, "use_dpop_nonce") {
            return Ok(dpop_nonce.is_some_and(|n| self.remember_dpop_nonce(url, n)));
        }
        if !bearer::is_invalid_token_challenge(www_authenticate) {
            return Ok(false);
        }
        let dpop = self.config.dpop;
        let current = self.session.get_ref().as_ref().map(|s| bearer::authorization_header(&s.tokens.access_token, dpop));
        match current {
            None => fail(NotSignedIn, "no user is signed in"),
            Some(c) if c != used_header => Ok(true),
            Some(_) => self.refresh().await.map(|_| true),
        }
    }

    /// Handles a message from another tab of this app.
    pub fn on_message(&self, text: &str) -> Change {
        let Ok(msg) = Message::parse(text) else { return Change::None };
        match msg {
            Message::Ask => {
                if let Some(s) = self.session.get_ref().as_ref() {
                    self.host.broadcast(&Message::session(self.generation.get(), s));
                }
                Change::None
            }
            Message::Session { gen, session } => {
                let newer = gen > self.generation.get();
                if !newer {
                    return Change::None;
                }
                let same_user = self.session.get_ref().as_ref().is_some_and(|s| s.sub() == session.sub());
                self.generation.set(gen);
                self.use_dpop_key(session.dpop_key.clone());
                *self.session.get_mut_ref() = Some(session);
                self.failures.set(0);
                self.retry_after.set(0.0);
                if same_user {
                    Change::Refreshed
                } else {
                    Change::SignedIn
                }
            }
            Message::Ended { gen } => {
                if gen <= self.generation.get() {
                    return Change::None;
                }
                self.generation.set(gen);
                self.use_dpop_key(None); // the tab that ended the session deleted the key pair
                let had = self.session.get_mut_ref().take().is_some();
                if had {
                    Change::Ended
                } else {
                    Change::None
                }
            }
        }
    }

    /// Asks the other tabs of this app for their session (a new tab, a reload).
    pub fn ask_other_tabs(&self) {
        self.host.broadcast(Message::ASK);
    }

    /// Ends the session: memory in every tab, the refresh token revoked at the provider (best effort),
    /// and the URL of the provider's end-session endpoint to navigate to, if it has one.
    pub async fn logout(&self, post_logout_redirect_uri: Option<String>) -> Result<Option<String>> {
        let meta = self.metadata().await?;
        // The revocation's DPoP proof is made first: ending the session deletes the key pair.
        let endpoint = meta.revocation_endpoint.as_deref();
        let has_refresh_token = self.session.get_ref().as_ref().is_some_and(|s| s.tokens.refresh_token.is_some());
        let proof = match endpoint {
            Some(ep) if has_refresh_token => self.dpop_proof("POST", ep, None).await.ok().flatten(),
            _ => None,
        };
        let taken = self.session.get_mut_ref().take();
        self.end_session().await;
        let Some(s) = taken else {
            return Ok(None);
        };
        let mut revoked = false;
        if let (Some(rt), Some(endpoint)) = (&s.tokens.refresh_token, endpoint) {
            // RFC 7009 §2.2: the provider answers 200 whether or not the token was valid. A failure
            // here leaves a refresh token alive at the provider until it expires; logout goes on.
            let res = self.host.post_form(endpoint, &revocation_body(&self.config, rt), proof.as_deref()).await;
            revoked = res.is_ok_and(|r| r.status == 200);
        }
        let back = post_logout_redirect_uri.or_else(|| self.config.post_logout_redirect_uri.clone());
        let url = meta.end_session_endpoint.as_ref().map(|ep| end_session_url(ep, &self.config, s.tokens.id_token.as_deref(), back.as_deref()));
        if self.config.trace {
            self.host.trace(&TraceStep::new("logout").bool("revoked", revoked).bool("end_session", url.is_some()).finish());
        }
        Ok(url)
    }

    /// Learning tools only (`trace` on): sends the ID token to `url` as a bearer token — the classic
    /// mistake — so the page can show the API refusing it, without the raw token reaching JavaScript.
    /// Resolves to the API's status and body.
    pub async fn call_api_with_id_token(&self, url: &str) -> Result<(u16, String)> {
        if !self.config.trace || !bearer::origin_allowed(url, &self.config.api_origins) {
            return fail(InvalidConfig, "only with trace on, and only to an apiOrigins URL");
        }
        let id_token = self.session.get_ref().as_ref().and_then(|s| s.tokens.id_token.clone());
        let Some(id_token) = id_token else { return fail(NotSignedIn, "no user is signed in") };
        let mut header = String::from("Bearer ");
        header.push_str(&id_token);
        let res = self.host.get(url, Some(&header), None).await?;
        Ok((res.status, res.body))
    }
}
