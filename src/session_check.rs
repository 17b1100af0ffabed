//! `checkSession: 'redirect'`: a silent session check on load. Tokens live in memory, so a reload with no
//! other tab open starts signed out; with this option the wrapper asks the core, on such a load, for a
//! top-level authorization request with `prompt=none` (OIDC Core §3.1.2.1), which the provider answers at
//! once, without showing a page: a code when its session with the user is still alive, else an error. The
//! callback (`Client::handle_callback`, on the redirect URI) recognises the transaction as silent
//! (`LoginKind::Silent`, `LoginTransaction::silent`): the errors that mean "the provider needs the user"
//! (§3.1.2.6) end it signed out, not in error, and the original URL is put back in every case.
//!
//! Once per tab session: a mark in sessionStorage (`oidc-wasm.checked.<app>`, a `1`, never a token) is set
//! when a check starts, so a check that found no session is not repeated in this tab (no loop: a load with
//! the mark never checks; sessionStorage refusing the mark means no check at all). A login that completes
//! in this tab removes the mark, so a reload after it checks again; a logout sets it, so a reload after a
//! logout does not sign the user back in.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::client::Client;
use crate::error::{ErrorCode, OidcError, Result};
use crate::host::Host;
use crate::transaction::{check_return_to, LoginKind};

/// The `returnTo` and the extra authorization parameters of a check's login.
pub type CheckLogin = (Option<String>, Vec<(String, String)>);

/// The sessionStorage key of the once-per-tab-session mark, before the app's coordination name.
pub const CHECKED_PREFIX: &str = "oidc-wasm.checked.";

/// The authorization errors that answer `prompt=none` when the provider cannot go on without the user
/// (OIDC Core §3.1.2.6): to a session check they mean "no session", not a failure.
pub fn means_no_session(e: &OidcError) -> bool {
    e.code == ErrorCode::AuthorizationError
        && matches!(e.oauth_error.as_deref(), Some("login_required" | "interaction_required" | "consent_required" | "account_selection_required"))
}

impl<H: Host> Client<H> {
    fn checked_key(&self) -> String {
        let mut k = String::from(CHECKED_PREFIX);
        k.push_str(&self.coordination_name());
        k
    }

    /// On a load without a session: the URL of the silent check to navigate to (`prompt=none`, coming back
    /// to `return_to`, a path on this origin: the page's path, query and fragment), or `None` when no check
    /// is due — the option is off, a session is held, or this tab has checked already.
    pub async fn check_session(&self, return_to: Option<String>) -> Result<Option<String>> {
        match self.session_check_due(return_to) {
            Some((return_to, extra)) => self.start_login(return_to, &extra, LoginKind::Silent).await.map(|(url, _)| Some(url)),
            None => Ok(None),
        }
    }

    /// The synchronous start of `check_session`: whether a check is due (marking this tab session as
    /// checked), and then the `returnTo` and parameters of its login.
    pub fn session_check_due(&self, return_to: Option<String>) -> Option<CheckLogin> {
        if !self.config.check_session || self.is_authenticated() {
            return None;
        }
        let key = self.checked_key();
        if self.host.storage_get(&key).is_some() || !self.host.storage_set(&key, "1") {
            return None;
        }
        let return_to = return_to.filter(|r| check_return_to(r).is_ok());
        Some((return_to, vec![(String::from("prompt"), String::from("none"))]))
    }

    /// A login completed in this tab: the next load without a session checks again.
    pub(crate) fn session_check_reset(&self) {
        if self.config.check_session {
            self.host.storage_remove(&self.checked_key());
        }
    }

    /// The session ended by a logout (here or in another tab): no silent sign-in again in this tab session.
    pub(crate) fn session_check_done(&self) {
        if self.config.check_session {
            self.host.storage_set(&self.checked_key(), "1");
        }
    }
}
