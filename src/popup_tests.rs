//! Popup sign-in (src/popup.rs): the relay is taken only for a popup login this client waits for, once.

use super::*;

/// Starts a popup login; returns (state, nonce) as sent in the authorization URL.
fn start_popup(c: &Client<FakeHost>) -> (String, String) {
    let (url, state) = block_on(c.popup_login(None, &[])).ok().unwrap();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("state"), state.as_str());
    (get("state"), get("nonce"))
}

fn relay(c: &Client<FakeHost>, url: &str) -> Result<Option<CallbackResult>> {
    block_on(c.popup_callback(url))
}

fn replaces(c: &Client<FakeHost>) -> usize {
    c.host.log.borrow().iter().filter(|l| l.starts_with("replace")).count()
}

#[test]
fn a_popup_login_keeps_its_transaction_in_memory_under_a_marked_state() {
    let c = client();
    let (state, _) = start_popup(&c);
    assert!(state.starts_with("p."), "{state}");
    assert!(c.host.storage.borrow().is_empty(), "nothing in sessionStorage: the verifier stays in memory");
    assert_eq!(c.popups.borrow().len(), 1);
    let (redirect_state, _) = start_login(&c);
    assert!(!redirect_state.contains('.'), "a redirect login's state has no mark");
}

#[test]
fn the_relay_of_the_pending_popup_login_signs_in_once_and_a_forged_one_is_ignored() {
    let c = client();
    let (state, nonce) = start_popup(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));

    // A forged relay: another state, marked or not. Ignored, and the login goes on waiting.
    for forged in ["p.AAAAforged", "forged", ""] {
        assert!(relay(&c, &callback_url(forged)).ok().unwrap().is_none(), "{forged:?} ignored");
    }
    assert!(relay(&c, "https://app.example/cb?code=C&code=D&state=x").ok().unwrap().is_none(), "malformed: ignored");
    assert_eq!(posts(&c), 0, "no token request for a forged relay");
    assert_eq!(c.popups.borrow().len(), 1, "still waiting");

    let r = relay(&c, &callback_url(&state)).ok().unwrap().unwrap();
    assert!(r.claims_text.unwrap().contains("\"sub\":\"alice\""));
    assert!(c.is_authenticated());
    assert_eq!(posts(&c), 1);
    assert_eq!(replaces(&c), 0, "the opener's address bar is not touched (the popup scrubs its own)");

    // The same response relayed again: refused, no second code exchange.
    assert!(relay(&c, &callback_url(&state)).ok().unwrap().is_none());
    assert_eq!(posts(&c), 1);
}

#[test]
fn a_relay_for_a_popup_login_given_up_is_refused() {
    let c = client();
    let (state, _) = start_popup(&c);
    assert!(c.popup_cancel(&state).is_some());
    assert!(relay(&c, &callback_url(&state)).ok().unwrap().is_none());
    assert_eq!(posts(&c), 0);
}

#[test]
fn a_relay_for_another_client_is_refused() {
    let (a, b) = (client(), client());
    let (state, nonce) = start_popup(&a);
    assert!(relay(&b, &callback_url(&state)).ok().unwrap().is_none(), "b has no such popup login");
    assert_eq!(posts(&b), 0);
    *a.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    assert!(relay(&a, &callback_url(&state)).ok().unwrap().is_some(), "a's own is taken");
}

#[test]
fn a_redirect_logins_response_is_not_taken_as_a_relay() {
    let c = client();
    let (state, _) = start_login(&c);
    assert!(relay(&c, &callback_url(&state)).ok().unwrap().is_none());
    assert_eq!(c.host.storage.borrow().len(), 1, "the redirect login still waits for its callback");
    assert_eq!(posts(&c), 0);
}

#[test]
fn a_popup_logins_response_is_not_taken_as_a_redirect_callback() {
    let c = client();
    let (state, _) = start_popup(&c);
    assert_eq!(code(block_on(c.handle_callback(&callback_url(&state)))), Some(ErrorCode::StateUnknown));
    assert_eq!(c.popups.borrow().len(), 1);
}

#[test]
fn a_provider_error_ends_the_popup_login_with_it() {
    let c = client();
    let (state, _) = start_popup(&c);
    let url = format!("https://app.example/cb?error=access_denied&error_description=no&state={state}&iss=https%3A%2F%2Fop.example");
    let e = relay(&c, &url).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref()), (ErrorCode::AuthorizationError, Some("access_denied")));
    assert!(c.popups.borrow().is_empty(), "the login is over");
    assert!(relay(&c, &url).ok().unwrap().is_none(), "and its response is not taken twice");
}

#[test]
fn a_relayed_response_is_checked_like_a_callback() {
    let c = client();
    let (state, _) = start_popup(&c);
    let mixed_up = format!("https://app.example/cb?code=C-1&state={state}&iss=https%3A%2F%2Fevil.example");
    assert_eq!(relay(&c, &mixed_up).err().map(|e| e.code), Some(ErrorCode::IssMismatch));
    assert_eq!(posts(&c), 0);

    let c = client();
    let (state, _) = start_popup(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims("not-this-logins-nonce"))));
    assert_eq!(relay(&c, &callback_url(&state)).err().map(|e| e.code), Some(ErrorCode::ClaimNonce));
    assert!(!c.is_authenticated());

    let c = client();
    let (state, _) = start_popup(&c);
    c.host.now.set(NOW + 601.0);
    assert_eq!(relay(&c, &callback_url(&state)).err().map(|e| e.code), Some(ErrorCode::TransactionExpired));
}

#[test]
fn two_popup_logins_wait_side_by_side_and_each_takes_only_its_own_relay() {
    let c = client();
    let (first, _) = start_popup(&c);
    let (second, nonce) = start_popup(&c);
    assert_ne!(first, second);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    assert!(relay(&c, &callback_url(&second)).ok().unwrap().is_some());
    assert_eq!(c.popups.borrow().len(), 1, "the first still waits");
    assert!(c.popup_cancel(&first).is_some());
    assert!(c.popups.borrow().is_empty());
}

#[test]
fn the_popup_timeout_is_one_to_six_hundred_seconds() {
    use crate::json::Json;
    assert_eq!(crate::popup::popup_timeout(None).ok(), Some(crate::popup::DEFAULT_POPUP_TIMEOUT));
    assert_eq!(crate::popup::popup_timeout(Some(&Json::Num(30.0))).ok(), Some(30.0));
    for bad in [Json::Num(0.0), Json::Num(601.0), Json::Str("60".into()), Json::Bool(true)] {
        assert_eq!(crate::popup::popup_timeout(Some(&bad)).err().map(|e| e.code), Some(ErrorCode::InvalidConfig));
    }
}
