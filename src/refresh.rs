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
use crate::logout::{check_logout_return, end_session_url, fill_logout_url, revocation_body};
use crate::config::Api;
use crate::session::{ApiToken, Message, Session};
use crate::token::refresh_body;
use crate::trace::TraceStep;
use crate::types::AccessToken;

/// How long a tab waits for another tab's new tokens after seeing (under the lock) that it refreshed.
const HANDOFF_WAIT_MS: u32 = 3000;
const HANDOFF_POLL_MS: u32 = 25;
/// How long after an `ask` it could not answer a tab passes on a session that reaches it (a new tab waits
/// 500 ms for one).
const ASK_ANSWER_MS: u32 = 500;
/// Two session ends this close are one (`expiring`): a provider that restates an end in whole seconds.
const SAME_END_SECONDS: f64 = 2.0;
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

/// The access token for `api` (`None`: the login's) with its expiry and lifetime, if the session holds one.
fn token_of<'a>(s: &'a Session, api: Option<&Api>) -> Option<(&'a AccessToken, Option<f64>, Option<f64>)> {
    match api {
        None => Some((&s.tokens.access_token, s.expires_at, s.tokens.expires_in)),
        Some(a) => s.api_tokens.iter().find(|t| t.api == a.url).map(|t| (&t.access_token, t.expires_at, t.expires_in)),
    }
}

/// A session without a refresh token cannot get an API its own token, nor renew the login's.
fn no_refresh_token(api: Option<&Api>) -> Result<()> {
    match api {
        None => fail(SessionEnded, "the provider gave no refresh token; sign in again when the access token expires"),
        Some(a) => Err(OidcError::new(InvalidConfig, "an API with its own resource, audience or scope needs a refresh token, and the provider gave none (ask for offline_access)").with_context(&a.url)),
    }
}

impl<H: Host> Client<H> {
    /// Takes the next place in the tabs' order of session states: newer than anything any tab has made,
    /// recorded for all of them. `ended`: this state is the end of a session (logout, a refused refresh).
    fn next_generation(&self, ended: bool) -> u64 {
        let name = self.coordination_name();
        let generation = self.host.shared_generation(&name).0.max(self.generation.get()) + 1;
        self.generation.set(generation);
        self.host.set_shared_generation(&name, generation, ended);
        generation
    }

    /// Makes `s` the session of every tab of this app (a login, a refresh, a restore). The caller holds the
    /// app's lock. Memory first, before any await: a tab that asks meanwhile is handed this session.
    pub(crate) async fn install_session(&self, s: Session) {
        *self.session.get_mut_ref() = Some(s);
        self.failures.set(0);
        self.retry_after.set(0.0);
        let generation = self.next_generation(false);
        #[cfg_attr(not(feature = "sealed"), allow(unused_variables))]
        let (message, sealed) = match self.session.get_ref().as_ref() {
            Some(s) => (Message::session(generation, s), if self.config.sealed() { s.to_sealed_json(generation) } else { None }),
            None => return,
        };
        self.host.broadcast(&message);
        #[cfg(feature = "sealed")]
        if let Some(sealed) = sealed {
            // A seal that fails must not leave an older (spent) refresh token stored: clear it. The next
            // reload then starts signed out.
            if !self.host.seal(&self.seal_name(), &sealed).await {
                self.host.unseal_clear(&self.seal_name()).await;
            }
        }
    }

    /// Ends the session here and in every tab: memory, the tabs' order (an end), the seal, and the DPoP key
    /// pair of the session that ended (`dpop_key`). The caller holds the app's lock.
    async fn end_session(&self, dpop_key: Option<String>) {
        *self.session.get_mut_ref() = None;
        let generation = self.next_generation(true);
        self.host.broadcast(&Message::ended(generation));
        #[cfg(feature = "sealed")]
        if self.config.sealed() {
            self.host.unseal_clear(&self.seal_name()).await;
        }
        self.forget_dpop_key(dpop_key.as_deref()).await;
    }

    /// Ends `old`, the session a refresh failed for, in every tab — and revokes the refresh tokens of the
    /// sessions it replaced (`retired`: the same user's earlier logins, perhaps other grants, kept for the
    /// logout): with the session gone no tab holds them and no logout will revoke them. Its own refresh
    /// token the caller has revoked, or the provider refused.
    async fn end_refreshed_session(&self, meta: &crate::discovery::ProviderMetadata, old: &Session) {
        self.end_session(old.dpop_key.clone()).await;
        for r in &old.retired {
            self.revoke(meta, &r.rt, r.dpop_key.as_deref()).await;
            self.forget_dpop_key(r.dpop_key.as_deref()).await;
        }
    }

    #[cfg(feature = "sealed")]
    fn seal_name(&self) -> String {
        let mut n = self.coordination_name();
        n.push_str("|session");
        n
    }

    /// Under the app's lock: makes sure this tab holds the newest session state before acting on it. When
    /// another tab made a newer one since this tab asked (`asked_at`) — it refreshed, signed in or out — its
    /// state is taken (already here, or on its way by BroadcastChannel); our spent tokens are never used.
    /// `Ok(true)` when a newer state arrived.
    pub(crate) async fn await_newest(&self, name: &str, asked_at: u64) -> Result<bool> {
        let shared = self.host.shared_generation(name).0.max(self.generation.get());
        if shared <= asked_at {
            return Ok(false);
        }
        let mut waited = 0;
        while waited < HANDOFF_WAIT_MS {
            if self.generation.get() >= shared {
                return Ok(true);
            }
            self.host.sleep(HANDOFF_POLL_MS).await;
            waited += HANDOFF_POLL_MS;
        }
        *self.session.get_mut_ref() = None;
        fail(SessionEnded, "another tab changed the session and its tokens never arrived here; sign in again")
    }

    /// Runs `f` under the app's cross-tab lock (Web Locks), which every change of the session takes: one
    /// change at a time across the tabs, so a refresh, a login and a logout never overtake each other.
    pub(crate) async fn under_lock<T>(&self, f: impl core::future::Future<Output = T>) -> T {
        let lock = self.host.lock(&self.coordination_name()).await;
        let r = f.await;
        self.host.unlock(lock);
        r
    }

    /// `persistSession: 'sealed'`: after a reload, unseal the refresh token and refresh at once (under the
    /// lock, so the seal read is the newest). Resolves to whether a session was restored. A refused token
    /// clears the seal (no loop).
    pub async fn restore(&self) -> Result<bool> {
        #[cfg(not(feature = "sealed"))]
        return Ok(false);
        #[cfg(feature = "sealed")]
        self.restore_sealed().await
    }

    #[cfg(feature = "sealed")]
    async fn restore_sealed(&self) -> Result<bool> {
        if !self.config.sealed() || self.session.get_ref().is_some() {
            return Ok(false);
        }
        let name = self.coordination_name();
        self.under_lock(async {
            let Some(text) = self.host.unseal(&self.seal_name()).await else { return Ok(false) };
            if self.session.get_ref().is_some() {
                return Ok(true); // another tab handed its session over meanwhile
            }
            let shared = self.host.shared_generation(&name);
            let session = match Session::from_sealed_json(&text) {
                // A seal older than the tabs' newest state is stale (a later seal failed and so did its clear).
                Some((s, sealed_at)) if shared.0 == 0 || sealed_at == 0 || sealed_at >= shared.0 => s,
                _ => {
                    self.host.unseal_clear(&self.seal_name()).await;
                    return Ok(false);
                }
            };
            self.generation.set(shared.0.max(self.generation.get()));
            *self.session.get_mut_ref() = Some(session);
            match self.refresh_under_lock(&name, self.generation.get(), None, None).await.and(self.check_trace()) {
                Ok(()) => Ok(true),
                Err(e) => {
                    if e.code != SessionEnded {
                        // Offline or the provider failing: the refresh token may still be good later.
                        *self.session.get_mut_ref() = None;
                    }
                    Err(e)
                }
            }
        })
        .await
    }

    /// Refreshes now. Concurrent callers share one request; across tabs one refresh runs at a time.
    pub async fn refresh(&self) -> Result<()> {
        self.refresh_for(None).await
    }

    /// Refreshes the token of `slot` — the login's (`None`) or the own token of `apis[i]` (`Some(i)`) — from the
    /// one refresh token. Concurrent callers for the same token share one request; every refresh, whatever
    /// its token, takes the app's lock, so the shared refresh token is rotated by one request at a time
    /// across all APIs and tabs.
    pub(crate) async fn refresh_for(&self, slot: Option<usize>) -> Result<()> {
        let existing = self.flights.get_ref().iter().find(|(s, _)| *s == slot).map(|(_, f)| f.clone());
        if let Some(flight) = existing {
            return WaitFlight(flight).await;
        }
        let flight = Rc::new(Flight::default());
        self.flights.get_mut_ref().push((slot, flight.clone()));
        let name = self.coordination_name();
        // This tab's generation when the refresh was asked for: anything newer that shows up while we
        // wait for the lock (or read the shared counter) is another tab's change. And the token it had then.
        let asked_at = self.generation.get();
        let before = self.current_token(slot);
        let r = self.under_lock(self.refresh_under_lock(&name, asked_at, slot, before)).await;
        self.flights.get_mut_ref().retain(|(s, _)| *s != slot);
        flight.finish(r.clone());
        r.and(self.check_trace())
    }

    fn api_of(&self, slot: Option<usize>) -> Option<&Api> {
        slot.and_then(|i| self.config.apis.get(i))
    }

    /// The access token of `slot` this tab holds now.
    pub(crate) fn current_token(&self, slot: Option<usize>) -> Option<AccessToken> {
        let api = self.api_of(slot);
        self.session.get_ref().as_ref().and_then(|s| token_of(s, api).map(|t| t.0.clone()))
    }

    pub(crate) async fn refresh_under_lock(&self, name: &str, asked_at: u64, slot: Option<usize>, before: Option<AccessToken>) -> Result<()> {
        let api = self.api_of(slot);
        if self.await_newest(name, asked_at).await? {
            // Another tab changed the session meanwhile. If it replaced this token, it is taken; if it
            // refreshed another API's, this one is refreshed now with the newest refresh token.
            if self.session.get_ref().is_none() {
                return fail(SessionEnded, "the session ended in another tab");
            }
            if self.current_token(slot) != before {
                return Ok(());
            }
        }
        let Some(old) = self.session.get_ref().clone() else { return fail(NotSignedIn, "no user is signed in") };
        let Some(refresh_token) = old.tokens.refresh_token.clone() else {
            return no_refresh_token(api);
        };
        if self.host.now() < self.not_before.get() {
            return fail(HttpError, "the token endpoint asked for a pause (Retry-After) that has not passed yet");
        }
        let meta = self.metadata().await?;
        let held_at = self.generation.get();
        let dpop_key = old.dpop_key.clone();
        // No answer (offline, reset): the refresh token may or may not have been spent; nothing to do but
        // keep the session and try again later.
        let (status, body) = self.token_request(&meta, &refresh_body(&self.config, &refresh_token, api), dpop_key.as_deref()).await?;
        let tokens = match crate::token::process_token_response(status, &body, self.config.dpop()) {
            Ok(t) => t,
            Err(e) if (200..300).contains(&status) => {
                // A success the SDK cannot use: the provider has acted on the refresh token all the same, so it
                // is never sent again (after a rotation, a reuse would revoke the whole family). The session
                // ends with the error; its refresh tokens are revoked: the new one if it can be read, and the
                // one sent (still valid at a provider that does not rotate).
                if let Some(rt) = crate::token::refresh_token_in(&body).filter(|rt| *rt != refresh_token) {
                    self.revoke(&meta, &rt, dpop_key.as_deref()).await;
                }
                self.revoke(&meta, &refresh_token, dpop_key.as_deref()).await;
                self.end_refreshed_session(&meta, &old).await;
                return Err(e);
            }
            Err(e) if e.code == TokenError && e.oauth_error.as_deref() == Some("invalid_grant") => {
                self.end_refreshed_session(&meta, &old).await;
                return Err(OidcError { code: SessionEnded, detail: "the provider refused the refresh token (invalid_grant); sign in again", ..e });
            }
            // Any other refusal (for an API: `invalid_target`, `invalid_scope`, RFC 8707 §2.2) leaves the refresh
            // token as it was, and the session with it; the caller gets the error, naming the API.
            Err(e) => return Err(match api {
                Some(a) if e.context.is_none() => e.with_context(&a.url),
                _ => e,
            }),
        };
        if self.config.trace() {
            let new = tokens.refresh_token.as_ref().unwrap_or(&refresh_token);
            self.trace(
                &TraceStep::new("refresh")
                    .secret("old_refresh_token", refresh_token.as_str())
                    .secret("new_refresh_token", new.as_str())
                    .bool("rotated", new != &refresh_token)
                    .secret("access_token", tokens.access_token.as_str())
                    .num("expires_in", tokens.expires_in.unwrap_or(0.0) as u64)
                    .finish(),
            );
        }
        // The refresh token has been spent: from here on a failure ends the session (and revokes the new
        // refresh token) rather than keep tokens that can no longer be renewed.
        let checked = match &tokens.id_token {
            Some(id_token) => match self.verify_id_token(&meta, id_token, None, &tokens.access_token).await {
                Ok((c, t)) => check_refreshed_claims(&old.claims, &c).map(|_| Some((c, t))),
                // The provider's keys could not be fetched (offline, a 5xx): the new ID token cannot be checked
                // now, so nothing of it is used — the session keeps its verified claims and ID token — but the
                // new access and refresh tokens are good: losing them would end a session over a hiccup.
                Err(e) if matches!(e.code, NetworkError | HttpError) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        };
        // Another state took the session over while the request was out (only possible where the browser
        // has no Web Locks): the answer is for a session that is gone.
        let (newest, ended) = self.host.shared_generation(name);
        let superseded = self.generation.get() != held_at || newest != held_at || self.session.get_ref().is_none();
        let verified = match checked {
            Ok(v) if !superseded => v,
            r => {
                // The new refresh token is revoked when its session ends here, or was ended by a logout that is
                // still the newest state — not when a newer login took over, whose grant it may share.
                let ends_here = r.is_err() && !superseded;
                if ends_here || (superseded && newest == ended) {
                    if let Some(rt) = tokens.refresh_token.as_ref().filter(|rt| **rt != refresh_token) {
                        self.revoke(&meta, rt, dpop_key.as_deref()).await;
                    }
                }
                if ends_here {
                    self.revoke(&meta, &refresh_token, dpop_key.as_deref()).await;
                }
                return match r {
                    Err(e) if !superseded => {
                        self.end_refreshed_session(&meta, &old).await;
                        Err(e)
                    }
                    _ => fail(SessionEnded, "the session changed in another tab while this refresh was out; its answer was discarded"),
                };
            }
        };
        let mut s = old;
        // The refresh token's end as the provider states it now; a refresh token kept (not rotated, nothing
        // stated) keeps the end stated for it.
        let stated_end = crate::token::refresh_lifetime(&body).map(|l| self.host.now() + l);
        // Rotation: the new refresh token replaces the old for every API; a provider that does not rotate keeps it.
        if tokens.refresh_token.is_some() {
            s.tokens.refresh_token = tokens.refresh_token;
            s.refresh_expires_at = stated_end;
        } else if stated_end.is_some() {
            s.refresh_expires_at = stated_end;
        }
        if let Some((claims, claims_text)) = verified {
            s.claims = claims;
            s.claims_text = claims_text;
            s.tokens.id_token = tokens.id_token;
        }
        let expires_at = tokens.expires_in.map(|e| self.host.now() + e);
        match api {
            None => {
                s.tokens.access_token = tokens.access_token;
                s.tokens.expires_in = tokens.expires_in;
                s.tokens.scope = tokens.scope;
                s.expires_at = expires_at;
            }
            Some(a) => {
                let t = ApiToken { api: a.url.clone(), access_token: tokens.access_token, expires_at, expires_in: tokens.expires_in };
                match s.api_tokens.iter_mut().find(|t| t.api == a.url) {
                    Some(old) => *old = t,
                    None => s.api_tokens.push(t),
                }
            }
        }
        self.install_session(s).await;
        Ok(())
    }

    /// RFC 7009 revocation of a refresh token (with a DPoP proof from `dpop_key` when DPoP is on). Best
    /// effort: `false` when the provider has no revocation endpoint or no answer came.
    pub(crate) async fn revoke(&self, meta: &crate::discovery::ProviderMetadata, rt: &crate::types::RefreshToken, dpop_key: Option<&str>) -> bool {
        let Some(endpoint) = meta.revocation_endpoint.as_deref() else { return false };
        let proof = self.dpop_proof(dpop_key, "POST", endpoint, None).await.ok().flatten();
        // RFC 7009 §2.2: the provider answers 200 whether or not the token was valid.
        let res = self.host.post_form(endpoint, &revocation_body(&self.config, rt), proof.as_deref()).await;
        res.is_ok_and(|r| r.status == 200)
    }

    /// Makes sure the login's access token is usable for a request now: refreshes ahead of expiry. While the
    /// token is still valid a failed refresh is not an error (the next try waits for the backoff).
    pub async fn ensure_fresh(&self) -> Result<()> {
        self.ensure_fresh_for(None).await
    }

    /// `ensure_fresh` for the token of `slot` (see `refresh_for`). An API's own token that this session does
    /// not hold yet is obtained now, and a failure to get it is the caller's error.
    pub(crate) async fn ensure_fresh_for(&self, slot: Option<usize>) -> Result<()> {
        let api = self.api_of(slot);
        let now = self.host.now();
        let (due, has_refresh) = match self.session.get_ref().as_ref() {
            None => return fail(NotSignedIn, "no user is signed in"),
            Some(s) => (self.refresh_due(s, api, now), s.tokens.refresh_token.is_some()),
        };
        let Some(expires_at) = due else { return Ok(()) };
        let still_valid = now < expires_at;
        if !has_refresh {
            if still_valid {
                return Ok(());
            }
            if api.is_some() {
                return no_refresh_token(api);
            }
            // No refresh token: the session lives as long as its access token, then ends in every tab.
            if !self.expire().await {
                return Ok(());
            }
            return fail(SessionEnded, "the access token expired and the provider gave no refresh token; sign in again");
        }
        if still_valid && now < self.retry_after.get() {
            return Ok(());
        }
        match self.refresh_for(slot).await {
            Ok(()) => Ok(()),
            Err(e) if still_valid && self.session.get_ref().is_some() => {
                let n = self.failures.get().saturating_add(1);
                self.failures.set(n);
                let backoff = f64::from(1u32 << n.min(6)).min(MAX_BACKOFF_SECONDS);
                // A provider that asked for a longer pause (Retry-After) gets it.
                self.retry_after.set((self.host.now() + backoff).max(self.not_before.get()));
                // The token still works, so the call goes on; the failure is reported as an event.
                *self.background_error.get_mut_ref() = Some(e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// When a session without a refresh token ends (its access token's expiry), for the wrapper's timer.
    pub fn deadline(&self) -> Option<f64> {
        self.session.get_ref().as_ref().filter(|s| s.tokens.refresh_token.is_none()).and_then(|s| s.expires_at)
    }

    /// The `sessionExpiring` decision, for the wrapper's timer. The end of a session that cannot be extended:
    /// without a refresh token, its access token's expiry (`deadline`); with one, the end of the refresh
    /// token's lifetime when the provider stated one (`Session::refresh_expires_at`); else none. The app is
    /// told `sessionExpiringSeconds` ahead, once per end (a refresh that moves the end — Keycloak's idle
    /// timeout — tells again before the new one; a session past its end is `sessionEnded`'s business).
    /// `take == false`: when to tell (unix seconds, maybe past), or `None`. `take == true`: if that time has
    /// come, the seconds left, and the end counts as told.
    pub fn expiring(&self, take: bool) -> Option<f64> {
        let end = self.session.get_ref().as_ref().and_then(|s| if s.tokens.refresh_token.is_none() { s.expires_at } else { s.refresh_expires_at })?;
        let now = self.host.now();
        // The same end, restated by a refresh (Keycloak's `refresh_expires_in` capped by its session's maximum
        // counts whole seconds): told already.
        let told = end - self.warned_end.get();
        if (-SAME_END_SECONDS..=SAME_END_SECONDS).contains(&told) || now >= end {
            return None;
        }
        let at = end - self.config.session_expiring;
        if !take {
            return Some(at);
        }
        if now < at {
            return None;
        }
        self.warned_end.set(end);
        Some(end - now)
    }

    /// The tab became visible again, or the browser came back online (`online`): timers were throttled and
    /// requests may have failed meanwhile, so the token is brought up to date now, before the app's next call
    /// needs it — as a call would (`ensure_fresh`): refreshed only when due (within the refresh margin), one
    /// flight in this tab and one tab at a time across tabs (tabs waking together: the first rotates, the
    /// others take its tokens). Signed out: nothing. Without a refresh token: nothing until the access token
    /// has expired, then the session ends. Back online, the backoff after failed refreshes is over (they
    /// were the network's); a provider's `Retry-After` still holds. A session that ends meanwhile is no
    /// failure here (the wrapper reports it as `sessionEnded`).
    pub async fn resume(&self, online: bool) -> Result<()> {
        if self.session.get_ref().is_none() {
            return Ok(());
        }
        if online {
            self.retry_after.set(0.0);
        }
        match self.ensure_fresh().await {
            Err(e) if matches!(e.code, SessionEnded | NotSignedIn) && self.session.get_ref().is_none() => Ok(()),
            r => r,
        }
    }

    /// Ends, in every tab, a session without a refresh token whose access token has expired. Under the
    /// lock, on the tabs' newest state. Returns whether it ended one.
    pub async fn expire(&self) -> bool {
        let name = self.coordination_name();
        let asked_at = self.generation.get();
        self.under_lock(async {
            let _ = self.await_newest(&name, asked_at).await;
            let key = match self.session.get_ref().as_ref() {
                Some(s) if s.tokens.refresh_token.is_none() && s.expires_at.is_some_and(|e| self.host.now() >= e) => s.dpop_key.clone(),
                _ => return false,
            };
            self.end_session(key).await;
            true
        })
        .await
    }

    /// `Some(expires_at)` when the token (the login's, or `api`'s own) is within the refresh margin of its
    /// expiry or past it; an API token not obtained yet is due and expired. The margin is
    /// `refreshMarginSeconds`, but at most half the token's lifetime: a token that lives less than the margin
    /// is refreshed halfway, not on every call. A token without a lifetime is never refreshed ahead: the 401
    /// retry covers it.
    fn refresh_due(&self, s: &Session, api: Option<&Api>, now: f64) -> Option<f64> {
        let Some((_, expires_at, lifetime)) = token_of(s, api) else { return Some(f64::NEG_INFINITY) };
        let margin = match lifetime {
            Some(lifetime) if lifetime > 0.0 => self.config.refresh_margin.min(lifetime / 2.0),
            _ => self.config.refresh_margin,
        };
        expires_at.filter(|e| now >= e - margin)
    }

    /// `authorization_for` without waiting, when nothing needs to wait: `Some(None)` for a URL of no API,
    /// `Some(Some(header))` for a Bearer token of the URL's API valid beyond the refresh margin (`refresh_due`,
    /// as in `ensure_fresh`). `None` when a refresh, a DPoP proof or an error is due: then `authorization_for`.
    pub fn authorization_ready(&self, url: &str) -> Option<Option<String>> {
        let Some(slot) = bearer::select_api(url, &self.config) else { return Some(None) };
        if self.config.dpop() {
            return None; // a proof is signed per request, by WebCrypto
        }
        let session = self.session.get_ref();
        let s = session.as_ref()?;
        let api = self.api_of(slot);
        if self.refresh_due(s, api, self.host.now()).is_some() {
            return None;
        }
        token_of(s, api).map(|t| Some(bearer::authorization_header(t.0, false)))
    }

    /// The headers for a request `method url`: `Authorization` with the token of the URL's API (and, with
    /// DPoP, the `DPoP` proof bound to this request and token), or `None` when `url` is on no API (then the
    /// request goes without a token).
    pub async fn authorization_for(&self, url: &str, method: &str) -> Result<Option<(String, Option<String>)>> {
        let Some(slot) = bearer::select_api(url, &self.config) else { return Ok(None) };
        self.ensure_fresh_for(slot).await?;
        let key = self.session.get_ref().as_ref().and_then(|s| s.dpop_key.clone());
        let Some(token) = self.current_token(slot) else { return fail(NotSignedIn, "no user is signed in") };
        let proof = self.dpop_proof(key.as_deref(), method, url, Some(&token)).await?;
        Ok(Some((bearer::authorization_header(&token, self.config.dpop()), proof)))
    }

    /// `getAccessToken({ api })`: the token string of the API `api` (a URL chosen as `fetchWithToken` chooses),
    /// or the login's, refreshed if due — only with `exposeAccessToken: true`, and never for a DPoP-bound token,
    /// which is useless without a proof signed for each request.
    pub async fn access_token(&self, api: Option<&str>) -> Result<String> {
        if self.config.dpop() {
            return Err(OidcError::new(InvalidConfig, "with dpop: true the access token works only with a DPoP proof for each request: call APIs with fetchWithToken").with_context("dpop"));
        }
        if !self.config.expose_access_token {
            return Err(OidcError::new(InvalidConfig, "getAccessToken needs exposeAccessToken: true in the config; fetchWithToken keeps the token out of JavaScript").with_context("exposeAccessToken"));
        }
        let slot = match api {
            None => None,
            Some(url) => match bearer::select_api(url, &self.config) {
                Some(slot) => slot,
                None => return Err(OidcError::new(InvalidConfig, "no entry of apis or apiOrigins matches this API URL").with_context(url)),
            },
        };
        self.ensure_fresh_for(slot).await?;
        match self.current_token(slot) {
            Some(t) => Ok(t.as_str().into()),
            None => fail(NotSignedIn, "no user is signed in"),
        }
    }

    /// After a 401: whether to retry the request once. For `error="invalid_token"` (RFC 6750 §3.1): if
    /// the URL's API token was replaced since the request was sent, the retry uses the new one, else that
    /// token (only) is refreshed first. For a resource server's `use_dpop_nonce` with a new `DPoP-Nonce`
    /// (RFC 9449 §9): retry with the nonce.
    pub async fn after_unauthorized(&self, url: &str, used_header: &str, www_authenticate: &str, dpop_nonce: Option<&str>) -> Result<bool> {
        if self.config.dpop() && bearer::challenge_error_is(www_authenticate, "use_dpop_nonce") {
            return Ok(dpop_nonce.is_some_and(|n| self.remember_dpop_nonce(url, n)));
        }
        let slot = match bearer::select_api(url, &self.config) {
            Some(slot) if bearer::is_invalid_token_challenge(www_authenticate) => slot,
            _ => return Ok(false),
        };
        if self.session.get_ref().is_none() {
            return fail(NotSignedIn, "no user is signed in");
        }
        let dpop = self.config.dpop();
        match self.current_token(slot) {
            Some(t) if bearer::authorization_header(&t, dpop) != used_header => Ok(true),
            _ => self.refresh_for(slot).await.map(|_| true),
        }
    }

    /// Handles a message from another tab of this app.
    pub fn on_message(&self, text: &str) -> Change {
        let Ok(msg) = Message::parse(text) else { return Change::None };
        match msg {
            Message::Ask => {
                match self.session.get_ref().as_ref() {
                    Some(s) => self.host.broadcast(&Message::session(self.generation.get(), s)),
                    // Nothing to hand over yet; a session that reaches this tab shortly (from a tab the asker
                    // opened too late to hear) is passed on.
                    None => self.asked_until.set(self.host.now() + f64::from(ASK_ANSWER_MS) / 1000.0),
                }
                Change::None
            }
            Message::Session { gen, session } => {
                // Newer than this tab's state, and not older than the tabs' newest: an answer to a new tab's
                // `ask` from a tab that has not yet heard of a later change (a logout broadcast before the new
                // tab opened) is stale.
                let newer = gen > self.generation.get() && gen >= self.host.shared_generation(&self.coordination_name()).0;
                if !newer {
                    return Change::None;
                }
                let same_user = self.session.get_ref().as_ref().is_some_and(|s| s.sub() == session.sub());
                self.generation.set(gen);
                if self.host.now() < self.asked_until.replace(0.0) {
                    self.host.broadcast(text);
                }
                *self.session.get_mut_ref() = Some(*session);
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
                let had = self.session.get_mut_ref().take().is_some();
                self.session_check_done();
                if had {
                    Change::Ended
                } else {
                    Change::None
                }
            }
        }
    }

    /// Whether an open tab may hold a session to hand to a new one: the tabs' newest recorded state is a
    /// session (a login, a refresh, a restore), not an end. Every session any tab holds began with such a
    /// record, and every end is recorded, so when the newest record is an end (or there is none) no tab
    /// has a session, and a new tab need not find out which tabs are open before it is ready. (A login
    /// completing meanwhile reaches it by message: it listens before it asks this.) Read after `listening`.
    pub fn session_elsewhere(&self) -> bool {
        let (generation, ended) = self.host.shared_generation(&self.coordination_name());
        generation > ended
    }

    /// Asks the other tabs of this app for their session (a new tab, a reload).
    pub fn ask_other_tabs(&self) {
        self.host.broadcast(Message::ASK);
    }

    /// This tab now hears the other tabs' messages (its BroadcastChannel is open): every state made from
    /// here on reaches it. Remembers the tabs' newest state so far, for `joined`.
    pub fn listening(&self) {
        self.listening_since.set(self.host.shared_generation(&self.coordination_name()).0);
    }

    /// A new tab has had its chance to be handed a session (`ask_other_tabs`, then a short wait). Without
    /// one, the states made before it listened are history: their tokens will not arrive here, so they are
    /// not waited for (a logout in this tab does not wait for a session no open tab holds). States made
    /// since arrive by message as usual.
    pub fn joined(&self) {
        if self.session.get_ref().is_none() {
            self.generation.set(self.listening_since.get().max(self.generation.get()));
        }
    }

    /// Ends the session: memory in every tab, the newest refresh token revoked at the provider (best effort),
    /// and the URL to navigate to: the provider's end-session endpoint if it has one, else `return_to`.
    /// Under the app's lock: a refresh in flight in any tab finishes first, and its new refresh token is
    /// the one revoked; a login completing meanwhile in another tab waits, and yields to the logout.
    pub async fn logout(&self, return_to: Option<String>, local: bool) -> Result<Option<String>> {
        let return_to = match return_to {
            Some(r) => Some(check_logout_return(&r, &self.config)?),
            None => None,
        };
        let meta = self.metadata().await?;
        self.session_check_done();
        let name = self.coordination_name();
        let asked_at = self.generation.get();
        let (ended, revoked) = self
            .under_lock(async {
                // The newest session, wherever it was made (never a refresh token another tab has spent).
                let _ = self.await_newest(&name, asked_at).await;
                #[allow(unused_mut)]
                let mut ended = self.session.get_mut_ref().take();
                #[cfg(feature = "sealed")]
                if ended.is_none() && self.config.sealed() {
                    // Signed out here (a restore that failed offline) with a session still sealed: its refresh
                    // token is revoked too.
                    ended = self.host.unseal(&self.seal_name()).await.and_then(|t| Session::from_sealed_json(&t)).map(|(s, _)| s);
                }
                // Revoked before the end is announced: a login that exchanged its code before the revocation
                // sees the end when it takes the lock, and yields (see `handle_callback`). The session's
                // refresh token first, then those of the sessions it replaced (and their DPoP key pairs).
                let mut revoked = false;
                if let Some(s) = &ended {
                    for (i, (rt, key)) in s.refresh_tokens().enumerate() {
                        let ok = self.revoke(&meta, rt, key).await;
                        revoked |= i == 0 && ok;
                    }
                    for r in &s.retired {
                        self.forget_dpop_key(r.dpop_key.as_deref()).await;
                    }
                }
                self.end_session(ended.as_ref().and_then(|s| s.dpop_key.clone())).await;
                (ended, revoked)
            })
            .await;
        let back = return_to.clone().or_else(|| self.config.post_logout_redirect_uri.clone());
        // Where the provider's session ends: its own logout URL (`logoutUrl`), else its end-session
        // endpoint; `local` (or neither) signs out here only.
        let hint = ended.as_ref().and_then(|s| s.tokens.id_token.as_deref());
        let end_session = match (&ended, &self.config.logout_url, &meta.end_session_endpoint) {
            _ if local => None,
            (Some(_), Some(t), _) => Some(fill_logout_url(t, &self.config, hint, back.as_deref())),
            (Some(_), None, Some(ep)) => Some(end_session_url(ep, &self.config, hint, back.as_deref())),
            _ => None,
        };
        if self.config.trace() {
            self.trace(&TraceStep::new("logout").bool("revoked", revoked).bool("end_session", end_session.is_some()).finish());
        }
        self.check_trace()?;
        Ok(if local { None } else { end_session.or(return_to) })
    }

    /// Learning tools only (`trace` on): sends the ID token to `url` as a bearer token — the classic
    /// mistake — so the page can show the API refusing it, without the raw token reaching JavaScript.
    /// Resolves to the API's status and body.
    pub async fn call_api_with_id_token(&self, url: &str) -> Result<(u16, String)> {
        if !self.config.trace() || !bearer::origin_allowed(url, &self.config.api_origins) {
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
