//! The login transaction: what must survive the redirect to the provider and back in this tab
//! (PKCE verifier, state, nonce, issuer, client, where to return). It is kept in sessionStorage under a key
//! of this client (issuer and client_id) and `state` — so only the tab that started the login can finish
//! it, and only the client that started it: two clients of one page never take each other's login — read
//! once at the callback and deleted at once, and expires after ten minutes. It never holds a token.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{fail, ErrorCode, Result};
use crate::json::{self, Json};
use crate::types::{ClientId, IssuerUrl, Nonce, PkceCodeVerifier, State};

/// What every transaction key starts with: `oidc-wasm.tx.<issuer>|<client_id>|<state>`. (Before issue 14
/// the key was `oidc-wasm.tx.<state>`, for any client: a login in flight across that upgrade is not found,
/// and ends `state_unknown`.)
pub const STORAGE_PREFIX: &str = "oidc-wasm.tx.";
/// Seconds a login may take from `login()` to the callback.
pub const LIFETIME_SECONDS: f64 = 600.0;

/// How the authorization request is made and answered. The kind is written into the front of `state`
/// (opaque to the provider, RFC 6749 §10.12), so that the page the provider sends the browser back to can
/// tell, before anything is loaded, whose response it holds: `js/callback-url.ts` and `js/popup.ts` read
/// these prefixes. base64url has no `.`, so a redirect login's state never starts with one of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LoginKind {
    /// `login()`: this tab goes to the provider and back; the transaction waits in sessionStorage.
    Redirect,
    /// `loginWithPopup()`: a popup goes to the provider, and its redirect page relays the response to this
    /// page; the transaction never leaves this page's memory (see `popup.rs`).
    Popup,
    /// `checkSession: 'redirect'`: a top-level `prompt=none` request on load (OIDC Core §3.1.2.1), whose
    /// "no session" answers sign out silently (see `session_check.rs`).
    Silent,
}

impl LoginKind {
    pub const fn state_prefix(self) -> &'static str {
        match self {
            LoginKind::Redirect => "",
            LoginKind::Popup => "p.",
            LoginKind::Silent => "s.",
        }
    }
}

pub struct LoginTransaction {
    pub state: State,
    pub code_verifier: PkceCodeVerifier,
    pub nonce: Nonce,
    pub issuer: IssuerUrl,
    /// The client that started the login (checked against the one completing it).
    pub client_id: ClientId,
    pub return_to: Option<String>,
    /// Unix seconds after which the transaction is refused and deleted.
    pub expires_at: u64,
    /// With DPoP: the id of the key pair this login binds the code to (`dpop_jkt`).
    pub dpop_key: Option<String>,
    /// The `max_age` the authorization request carried (OIDC Core §3.1.2.1).
    pub max_age: Option<u64>,
    /// The `acr_values` the authorization request carried.
    pub acr_values: Option<String>,
    /// A `checkSession` request (`LoginKind::Silent`): its "no session" errors mean signed out.
    pub silent: bool,
}

/// A `max_age` parameter: a whole number of seconds (OIDC Core §3.1.2.1), at most ten digits.
pub fn parse_max_age(v: &str) -> Option<u64> {
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')))
}

/// The start of this client's transaction keys: `oidc-wasm.tx.<issuer>|<client_id>|`.
pub fn client_prefix(issuer: &str, client_id: &str) -> String {
    let mut k = String::from(STORAGE_PREFIX);
    for part in [issuer, "|", client_id, "|"] {
        k.push_str(part);
    }
    k
}

/// The key of a transaction under a client's prefix (`client_prefix`).
pub fn storage_key(prefix: &str, state: &State) -> String {
    let mut k = String::from(prefix);
    k.push_str(state.as_str());
    k
}

/// Whether `key` is some client's transaction for `state` (`…|<state>`; a state is base64url, so it never
/// holds the separator).
pub fn is_key_for_state(key: &str, state: &State) -> bool {
    key.starts_with(STORAGE_PREFIX) && key.strip_suffix(state.as_str()).is_some_and(|k| k.ends_with("|"))
}

/// `returnTo` must be a path on the app's own origin: `/x`, not `//evil.example` or `https://...`
/// (no open redirector, RFC 9700 §4.11.1).
pub fn check_return_to(r: &str) -> Result<()> {
    let ok = r.starts_with('/') && !r.starts_with("//") && !r.starts_with("/\\") && !r.chars().any(|c| c.is_control());
    if ok {
        Ok(())
    } else {
        fail(ErrorCode::InvalidConfig, "returnTo must be a path on this origin, starting with a single /")
    }
}

impl LoginTransaction {
    pub fn to_json(&self) -> String {
        let mut o = String::from("{\"v\":1,\"state\":");
        json::write_str(&mut o, self.state.as_str());
        o.push_str(",\"code_verifier\":");
        json::write_str(&mut o, self.code_verifier.as_str());
        o.push_str(",\"nonce\":");
        json::write_str(&mut o, self.nonce.as_str());
        o.push_str(",\"issuer\":");
        json::write_str(&mut o, self.issuer.as_str());
        o.push_str(",\"client_id\":");
        json::write_str(&mut o, self.client_id.as_str());
        if let Some(r) = &self.return_to {
            o.push_str(",\"return_to\":");
            json::write_str(&mut o, r);
        }
        if let Some(k) = &self.dpop_key {
            o.push_str(",\"dpop_key\":");
            json::write_str(&mut o, k);
        }
        if let Some(m) = self.max_age {
            o.push_str(",\"max_age\":");
            json::write_u64(&mut o, m);
        }
        if let Some(a) = &self.acr_values {
            o.push_str(",\"acr_values\":");
            json::write_str(&mut o, a);
        }
        if self.silent {
            o.push_str(",\"silent\":true");
        }
        o.push_str(",\"expires_at\":");
        json::write_u64(&mut o, self.expires_at);
        o.push('}');
        o
    }

    /// Reads a stored transaction. Anything unreadable is treated as no transaction at all.
    pub fn from_json(text: &str) -> Result<LoginTransaction> {
        let unknown = || crate::error::OidcError::new(ErrorCode::StateUnknown, "the stored login transaction is unreadable");
        let v = Json::parse_object(text, ErrorCode::StateUnknown)?;
        let s = |name| v.str_member(name).map(String::from).ok_or_else(unknown);
        let expires_at = v.get("expires_at").and_then(Json::as_f64).filter(|n| *n >= 0.0).ok_or_else(unknown)?;
        Ok(LoginTransaction {
            state: State::new(s("state")?),
            code_verifier: PkceCodeVerifier::new(s("code_verifier")?),
            nonce: Nonce::new(s("nonce")?),
            issuer: IssuerUrl::new(s("issuer")?),
            client_id: ClientId::new(s("client_id")?),
            return_to: v.str_member("return_to").map(String::from),
            expires_at: expires_at as u64,
            dpop_key: v.str_member("dpop_key").map(String::from),
            max_age: match v.get("max_age") {
                None => None,
                Some(m) => Some(m.as_f64().filter(|n| *n >= 0.0 && *n <= 1e10 && (*n as u64) as f64 == *n).ok_or_else(unknown)? as u64),
            },
            acr_values: v.str_member("acr_values").map(String::from),
            silent: matches!(v.get("silent"), Some(Json::Bool(true))),
        })
    }

    pub fn is_expired(&self, now: f64) -> bool {
        now > self.expires_at as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx() -> LoginTransaction {
        LoginTransaction {
            state: State::new("s\"1"),
            code_verifier: PkceCodeVerifier::new("v"),
            nonce: Nonce::new("n"),
            issuer: IssuerUrl::new("https://op.example"),
            client_id: ClientId::new("spa"),
            return_to: Some("/orders?id=1".into()),
            expires_at: 1_700_000_600,
            dpop_key: Some("k-1".into()),
            max_age: Some(300),
            acr_values: Some("urn:a urn:b".into()),
            silent: true,
        }
    }

    #[test]
    fn survives_a_round_trip_through_storage_text() {
        let back = LoginTransaction::from_json(&tx().to_json()).ok().unwrap();
        assert_eq!(back.state.as_str(), "s\"1");
        assert_eq!(back.code_verifier.as_str(), "v");
        assert_eq!(back.return_to.as_deref(), Some("/orders?id=1"));
        assert_eq!(back.expires_at, 1_700_000_600);
        assert_eq!(back.dpop_key.as_deref(), Some("k-1"));
        assert_eq!(back.max_age, Some(300));
        assert_eq!(back.acr_values.as_deref(), Some("urn:a urn:b"));
        assert!(back.silent);
        let redirect = LoginTransaction { silent: false, ..tx() };
        assert!(!LoginTransaction::from_json(&redirect.to_json()).ok().unwrap().silent);
        assert_eq!(back.client_id.as_str(), "spa");
        assert_eq!(storage_key(&client_prefix("https://op.example", "spa"), &back.state), "oidc-wasm.tx.https://op.example|spa|s\"1");
    }

    #[test]
    fn keys_are_per_client_and_found_by_state() {
        let state = State::new("abc");
        let a = storage_key(&client_prefix("https://op.example", "workforce"), &state);
        let b = storage_key(&client_prefix("https://op.example", "customers"), &state);
        assert_ne!(a, b, "one issuer, two client ids: two keys");
        assert_ne!(a, storage_key(&client_prefix("https://other.example", "workforce"), &state), "two issuers: two keys");
        assert!(is_key_for_state(&a, &state) && is_key_for_state(&b, &state));
        assert!(!is_key_for_state(&a, &State::new("bc")), "a state that is only a suffix of another is another state");
        assert!(!is_key_for_state("oidc-wasm.tx.abc", &state), "the key of earlier versions (no client) is not one");
        assert!(!is_key_for_state("other|abc", &state));
    }

    #[test]
    fn max_age_is_a_whole_number_of_seconds() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("3600"), Some(3600));
        for bad in ["", "-1", "1.5", " 1", "1e3", "12345678901", "0x10"] {
            assert_eq!(parse_max_age(bad), None, "{bad}");
        }
    }

    #[test]
    fn expires_after_its_lifetime() {
        assert!(!tx().is_expired(1_700_000_600.0));
        assert!(tx().is_expired(1_700_000_600.5));
    }

    #[test]
    fn unreadable_transactions_count_as_unknown() {
        for t in ["", "{}", "{\"state\":1}", "[]"] {
            assert_eq!(LoginTransaction::from_json(t).err().map(|e| e.code), Some(ErrorCode::StateUnknown));
        }
    }

    #[test]
    fn return_to_stays_on_this_origin() {
        assert!(check_return_to("/").is_ok());
        assert!(check_return_to("/a/b?c=d#e").is_ok());
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:x", "", "/a\nb"] {
            assert!(check_return_to(bad).is_err(), "{bad:?}");
        }
    }
}
