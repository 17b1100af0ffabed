//! The silent session check on load (src/session_check.rs): `prompt=none` once per tab session, "no
//! session" answers that sign out without an error, the original URL put back.

use super::*;

const MARK: &str = "oidc-wasm.checked.oidc-wasm|https://op.example|spa";
const HERE: &str = "/orders?id=7#details";

fn checking() -> Client<FakeHost> {
    client_with(r#","checkSession":"redirect""#)
}

/// Starts the check; returns (state, nonce) of its authorization request.
fn start_check(c: &Client<FakeHost>) -> (String, String) {
    let url = block_on(c.check_session(Some(HERE.into()))).ok().unwrap().expect("a check is due");
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("prompt"), "none", "OIDC Core §3.1.2.1");
    (get("state"), get("nonce"))
}

fn error_url(error: &str, state: &str) -> String {
    format!("https://app.example/cb?error={error}&state={state}&iss=https%3A%2F%2Fop.example")
}

#[test]
fn a_check_is_made_once_per_tab_session() {
    let c = checking();
    let (state, _) = start_check(&c);
    assert!(state.starts_with("s."), "{state}");
    assert_eq!(c.host.storage.borrow().get(MARK).map(String::as_str), Some("1"), "the mark, not a token");
    let stored = c.host.storage.borrow().iter().find(|(k, _)| k.starts_with(STORAGE_PREFIX)).unwrap().1.clone();
    assert!(stored.contains("\"silent\":true") && stored.contains("\"return_to\":\"/orders?id=7#details\""));
    assert_eq!(block_on(c.check_session(Some(HERE.into()))).ok(), Some(None), "not again in this tab session");
}

#[test]
fn no_check_when_off_signed_in_or_unrecordable() {
    assert_eq!(block_on(client().check_session(None)).ok(), Some(None), "the option is off by default");

    let c = checking();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    assert_eq!(block_on(c.check_session(None)).ok(), Some(None), "a session is held");

    // sessionStorage refusing the mark: no check at all (it could not be kept from looping).
    let c = checking();
    c.host.storage_refused.set(true);
    assert_eq!(block_on(c.check_session(None)).ok(), Some(None));
    assert!(!c.host.log.borrow().iter().any(|l| l.starts_with("GET")), "nothing asked of the provider");
}

#[test]
fn each_no_session_answer_signs_out_silently_and_puts_the_url_back() {
    for error in ["login_required", "interaction_required", "consent_required", "account_selection_required"] {
        let c = checking();
        let (state, _) = start_check(&c);
        let r = block_on(c.handle_callback(&error_url(error, &state))).ok().unwrap_or_else(|| panic!("{error}: not an error"));
        assert!(r.silent && r.claims_text.is_none(), "{error}: signed out");
        assert_eq!(r.return_to.as_deref(), Some(HERE));
        assert!(!c.is_authenticated());
        assert_eq!(posts(&c), 0);
        let log = c.host.log.borrow();
        let replaced: Vec<&String> = log.iter().filter(|l| l.starts_with("replace")).collect();
        assert_eq!(replaced, ["replace https://app.example/cb", "replace /orders?id=7#details"], "{error}: scrubbed, then back");
        drop(log);
        assert_eq!(block_on(c.check_session(Some(HERE.into()))).ok(), Some(None), "{error}: no loop");
    }
}

#[test]
fn other_errors_of_a_check_surface_and_the_url_is_put_back() {
    let c = checking();
    let (state, _) = start_check(&c);
    let e = block_on(c.handle_callback(&error_url("access_denied", &state))).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref()), (ErrorCode::AuthorizationError, Some("access_denied")));
    assert!(c.host.log.borrow().iter().any(|l| l == "replace /orders?id=7#details"));

    // A mix-up is a mix-up, whatever the error says.
    let c = checking();
    let (state, _) = start_check(&c);
    let mixed = format!("https://app.example/cb?error=login_required&state={state}&iss=https%3A%2F%2Fevil.example");
    assert_eq!(code(block_on(c.handle_callback(&mixed))), Some(ErrorCode::IssMismatch));
}

#[test]
fn login_required_on_an_ordinary_login_is_an_error() {
    let c = checking();
    let (state, _) = start_login(&c);
    let e = block_on(c.handle_callback(&error_url("login_required", &state))).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref()), (ErrorCode::AuthorizationError, Some("login_required")));
}

#[test]
fn a_live_provider_session_signs_in_and_the_next_load_may_check_again() {
    let c = checking();
    let (state, nonce) = start_check(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    let r = block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    assert!(r.silent);
    assert!(r.claims_text.unwrap().contains("\"sub\":\"alice\""));
    assert_eq!(r.return_to.as_deref(), Some(HERE));
    assert!(c.is_authenticated());
    assert!(c.host.log.borrow().iter().any(|l| l == "replace /orders?id=7#details"));
    assert!(!c.host.storage.borrow().contains_key(MARK), "a completed login clears the mark");
}

#[test]
fn a_logout_keeps_the_next_load_from_signing_back_in() {
    let c = checking();
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    block_on(c.logout(None, true)).ok().unwrap();
    assert_eq!(c.host.storage.borrow().get(MARK).map(String::as_str), Some("1"));
    assert_eq!(block_on(c.check_session(None)).ok(), Some(None));
}

#[test]
fn a_return_path_off_this_origin_is_not_kept() {
    let c = checking();
    block_on(c.check_session(Some("//evil.example/x".into()))).ok().unwrap().unwrap();
    let stored = c.host.storage.borrow().iter().find(|(k, _)| k.starts_with(STORAGE_PREFIX)).unwrap().1.clone();
    assert!(!stored.contains("return_to"), "{stored}");
}
