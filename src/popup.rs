//! `loginWithPopup`: the authorization request runs in a popup while this page stays where it is. The
//! wrapper opens the popup (in the click handler: browsers block `window.open` after an await), the core
//! makes the request (`LoginKind::Popup`: the state starts with `p.`) and keeps its transaction in this
//! page's memory only — it never has to survive a navigation, so the PKCE verifier never touches storage.
//! The popup's redirect page relays the authorization response here (a BroadcastChannel, which works under
//! `Cross-Origin-Opener-Policy`, where the popup loses `window.opener`), and `popup_callback` completes it
//! with the same checks as a redirect callback: state, RFC 9207 `iss`, the code exchange with the PKCE
//! verifier, the ID token. The popup scrubs its own address bar; this page's URL is never touched.
//!
//! Only a response whose `state` is that of a popup login this client is waiting for is taken, once: a
//! second relay of it, a relay for a login that was given up (closed, timed out), one for another client
//! or a forged one is ignored (`Ok(None)`), and the login it does not belong to goes on waiting.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::callback::{parse_callback, CallbackParams};
use crate::client::{CallbackResult, Client};
use crate::error::{fail, ErrorCode, Result};
use crate::host::Host;
use crate::json::Json;
use crate::transaction::{LoginKind, LoginTransaction, LIFETIME_SECONDS};
use crate::types::State;

/// How long `loginWithPopup` waits for the popup's answer by default (seconds): time to sign in, with a
/// second factor, at a provider's pages.
pub const DEFAULT_POPUP_TIMEOUT: f64 = 300.0;

/// `timeoutSeconds`: 1 to 600 (the transaction's lifetime), default `DEFAULT_POPUP_TIMEOUT`.
pub fn popup_timeout(v: Option<&Json>) -> Result<f64> {
    match v {
        None | Some(Json::Null) => Ok(DEFAULT_POPUP_TIMEOUT),
        Some(Json::Num(n)) if (1.0..=LIFETIME_SECONDS).contains(n) => Ok(*n),
        _ => fail(ErrorCode::InvalidConfig, "loginWithPopup: timeoutSeconds must be a number from 1 to 600"),
    }
}

impl<H: Host> Client<H> {
    /// Prepares a popup login: the authorization URL for the popup and its `state` (the wrapper listens for
    /// the relay under it).
    pub async fn popup_login(&self, return_to: Option<String>, extra: &[(String, String)]) -> Result<(String, State)> {
        self.start_login(return_to, extra, LoginKind::Popup).await
    }

    /// A response relayed from a popup (`url`: the popup's redirect URL as the provider sent it). `None`
    /// when it is not the answer to a popup login this client waits for; otherwise the login's outcome, as
    /// `handle_callback` gives it.
    pub async fn popup_callback(&self, url: &str) -> Result<Option<CallbackResult>> {
        match self.take_popup_relay(url) {
            Some((params, state, tx)) => self.complete_login(&params, state, tx).await.map(Some),
            None => Ok(None),
        }
    }

    /// The synchronous start of `popup_callback`: the relayed response and its popup login's transaction,
    /// taken out of the waiting list at once (a second relay of it finds nothing), or `None`.
    pub fn take_popup_relay(&self, url: &str) -> Option<(CallbackParams, State, LoginTransaction)> {
        let params = parse_callback(url).ok()?;
        let state = params.state.clone()?;
        let tx = self.popup_cancel(&state)?;
        Some((params, State::new(state), tx))
    }

    /// Takes the popup login with this `state` out of the waiting list. The wrapper calls it when it gives
    /// the login up (the popup closed, the time ran out) or once it is over: a relay of its response is
    /// refused from then on.
    pub fn popup_cancel(&self, state: &str) -> Option<LoginTransaction> {
        let mut popups = self.popups.get_mut_ref();
        let i = popups.iter().position(|t| t.state.as_str() == state)?;
        Some(popups.swap_remove(i))
    }
}
