//! Several APIs, one session (`apis`), over the scripted host of `client_tests.rs`: each API gets its own
//! token from the one refresh token, only its own token, refreshed on its own; rotation stays one request at
//! a time across APIs and tabs; and `getAccessToken` only with `exposeAccessToken`.

use super::*;

/// The login's token is for `https://api.example` (apiOrigins, and `resource`); billing (a path prefix) gets a
/// token for its RFC 8707 resource, graph one for its scope (Entra ID style).
const APIS: &str = r#","resource":"https://api.example","apis":[{"url":"https://billing.example/v1/","resource":"https://billing.example"},{"url":"https://graph.example","scope":"https://graph.example/User.Read"}]"#;
const BILLING: &str = "https://billing.example/v1/invoices";
const GRAPH: &str = "https://graph.example/me";
const API: &str = "https://api.example/orders";
const BILLING_SLOT: Option<usize> = Some(0);

fn signed_in_apis(extra: &str) -> Client<FakeHost> {
    let c = client_with(&format!("{APIS}{extra}"));
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    c
}

/// A refresh answer for an API's token: no ID token (the scope asked for has no `openid`).
fn api_body(at: &str, rt: u32) -> String {
    format!(r#"{{"access_token":"{at}","token_type":"Bearer","expires_in":300,"refresh_token":"RT-{rt}"}}"#)
}

fn header(c: &Client<FakeHost>, url: &str) -> Option<String> {
    block_on(c.authorization_for(url, "GET")).ok().unwrap().map(|h| h.0)
}

fn last_refresh(c: &Client<FakeHost>) -> String {
    refresh_posts(c).last().cloned().unwrap_or_default()
}

#[test]
fn the_login_asks_for_every_apis_resource_and_its_own_token_names_its_own() {
    let c = client_with(APIS);
    let url = block_on(c.login(None, &[])).ok().unwrap();
    assert_eq!(query_values(&url, "resource"), vec!["https://api.example", "https://billing.example"], "RFC 8707 §2.1: one grant for all the APIs");
    let c = signed_in_apis("");
    let exchange = c.host.log.borrow().iter().find(|l| l.contains("grant_type=authorization_code")).cloned().unwrap();
    assert!(exchange.ends_with("&resource=https%3A%2F%2Fapi.example"), "the code exchange names the login's resource: {exchange}");
}

#[test]
fn each_api_gets_its_own_token_from_the_one_refresh_token_and_only_its_own() {
    let c = signed_in_apis("");
    assert_eq!(header(&c, API).as_deref(), Some("Bearer AT-1"), "the login's token goes to the login's API");
    assert_eq!(c.authorization_ready(BILLING), None, "billing has no token yet: the async path");

    *c.host.token_response.borrow_mut() = (200, api_body("AT-B", 2));
    assert_eq!(header(&c, BILLING).as_deref(), Some("Bearer AT-B"), "billing gets its own token");
    let post = last_refresh(&c);
    assert!(post.contains("refresh_token=RT-1&") && post.ends_with("&resource=https%3A%2F%2Fbilling.example"), "{post}");
    assert!(!post.contains("scope="), "{post}");

    // Each token to its own API only, at once from now on.
    assert_eq!(c.authorization_ready("https://billing.example/v1"), Some(Some("Bearer AT-B".into())));
    assert_eq!(c.authorization_ready(API), Some(Some("Bearer AT-1".into())), "the login's token is kept");
    for none in ["https://billing.example/v10/x", "https://billing.example/", "https://billing.example/V1/x", "https://elsewhere.example/v1/x"] {
        assert_eq!(c.authorization_ready(none), Some(None), "{none}: no token at all");
    }

    // Graph by scope, from the rotated refresh token.
    *c.host.token_response.borrow_mut() = (200, api_body("AT-G", 3));
    assert_eq!(header(&c, GRAPH).as_deref(), Some("Bearer AT-G"));
    let post = last_refresh(&c);
    assert!(post.contains("refresh_token=RT-2&") && post.ends_with("&scope=https%3A%2F%2Fgraph.example%2FUser.Read"), "the newest refresh token: {post}");
    assert!(!post.contains("resource="), "{post}");

    // Ahead of expiry each token is refreshed on its own; the login's names its resource.
    c.host.now.set(NOW + 290.0);
    *c.host.token_response.borrow_mut() = (200, refreshed_body(4, "alice"));
    assert_eq!(header(&c, API).as_deref(), Some("Bearer AT-4"));
    let post = last_refresh(&c);
    assert!(post.contains("refresh_token=RT-3&") && post.ends_with("&resource=https%3A%2F%2Fapi.example"), "{post}");
    assert_eq!(c.authorization_ready(BILLING), None, "billing's token is due too, and refreshed on its own");
    assert_eq!(refresh_posts(&c).len(), 3);
    let sent = c.host.broadcasts.borrow().last().cloned().unwrap();
    assert!(sent.contains(r#""apis":[{"u":"https://billing.example/v1","at":"AT-B""#) && sent.contains(r#""u":"https://graph.example","at":"AT-G""#), "the other tabs get every API's token");
}

#[test]
fn concurrent_callers_of_two_apis_share_one_refresh_each_and_rotate_one_at_a_time() {
    let c = signed_in_apis("");
    c.host.now.set(NOW + 290.0); // the login's token is due; billing has none
    c.host.gate.closed.set(true);
    let locks_before = c.host.locks.get();
    for (at, rt) in [("AT-X", 2), ("AT-Y", 3)] {
        c.host.queued.borrow_mut().push_back((200, api_body(at, rt), None));
    }
    let mut calls: Vec<_> = (0..40).map(|i| Box::pin(c.authorization_for(if i % 2 == 0 { API } else { BILLING }, "GET"))).collect();
    // Per call: not yet settled, or what it settled with (the Authorization header and DPoP proof, if any).
    type Settled = Option<Result<Option<(String, Option<String>)>>>;
    let mut results: Vec<Settled> = (0..40).map(|_| None).collect();
    fn poll_all<F: Future>(calls: &mut [core::pin::Pin<Box<F>>], results: &mut [Option<F::Output>]) {
        for (f, r) in calls.iter_mut().zip(results.iter_mut()) {
            if r.is_none() {
                *r = poll_once(f);
            }
        }
    }
    poll_all(&mut calls, &mut results);
    assert!(results.iter().all(Option::is_none), "every caller waits");
    assert_eq!(refresh_posts(&c).len(), 1, "one token request in flight while 40 callers of two APIs wait");
    c.host.gate.open();
    for _ in 0..10 {
        poll_all(&mut calls, &mut results);
    }
    let posts = refresh_posts(&c);
    assert_eq!(posts.len(), 2, "one refresh per API");
    assert!(posts[0].contains("refresh_token=RT-1&") && posts[1].contains("refresh_token=RT-2&"), "the second presents the token the first brought back: {posts:?}");
    assert_eq!(c.host.locks.get() - locks_before, 2, "each under the app's lock");
    let headers: Vec<String> = results.into_iter().map(|r| r.unwrap().ok().unwrap().unwrap().0).collect();
    let (login, billing) = (&headers[0], &headers[1]);
    assert_ne!(login, billing, "two tokens");
    assert!(headers.iter().step_by(2).all(|h| h == login) && headers.iter().skip(1).step_by(2).all(|h| h == billing), "each API's callers got its token");
    assert_eq!(c.session.borrow().as_ref().unwrap().tokens.refresh_token.as_ref().unwrap().as_str(), "RT-3", "the newest refresh token, for everyone");
}

#[test]
fn a_401_from_one_api_refreshes_that_apis_token_only() {
    let c = signed_in_apis("");
    *c.host.token_response.borrow_mut() = (200, api_body("AT-B", 2));
    header(&c, BILLING);
    *c.host.token_response.borrow_mut() = (200, api_body("AT-B2", 3));
    let challenge = r#"Bearer error="invalid_token""#;
    assert_eq!(block_on(c.after_unauthorized(BILLING, "Bearer AT-B", challenge, None)).ok(), Some(true));
    assert!(last_refresh(&c).contains("refresh_token=RT-2&") && last_refresh(&c).ends_with("resource=https%3A%2F%2Fbilling.example"));
    assert_eq!(c.authorization_ready(BILLING), Some(Some("Bearer AT-B2".into())));
    assert_eq!(c.authorization_ready(API), Some(Some("Bearer AT-1".into())), "the login's token is untouched");
    // A request that carried the replaced token: retried with the new one, no second refresh.
    assert_eq!(block_on(c.after_unauthorized(BILLING, "Bearer AT-B", challenge, None)).ok(), Some(true));
    assert_eq!(refresh_posts(&c).len(), 2);
    assert_eq!(block_on(c.after_unauthorized("https://elsewhere.example/", "Bearer AT-B", challenge, None)).ok(), Some(false), "a URL of no API");
}

#[test]
fn an_apis_refusal_fails_its_callers_and_keeps_the_session_unless_the_refresh_token_is_dead() {
    let c = signed_in_apis("");
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_target","error_description":"unknown resource"}"#.into());
    let e = block_on(c.authorization_for(BILLING, "GET")).err().unwrap();
    assert_eq!((e.code, e.oauth_error.as_deref(), e.context.as_deref()), (ErrorCode::TokenError, Some("invalid_target"), Some("https://billing.example/v1")));
    assert!(c.user().is_some(), "the session stays");
    assert_eq!(header(&c, API).as_deref(), Some("Bearer AT-1"), "and the login's API works on");
    let e = block_on(c.access_token_for_test(BILLING)).err().unwrap();
    assert_eq!(e.code, ErrorCode::InvalidConfig, "getAccessToken without the opt-in");
    // The refresh token itself refused: the session ends, for every API.
    *c.host.token_response.borrow_mut() = (400, r#"{"error":"invalid_grant"}"#.into());
    assert_eq!(block_on(c.authorization_for(BILLING, "GET")).err().map(|e| e.code), Some(ErrorCode::SessionEnded));
    assert!(c.user().is_none());
    assert_eq!(block_on(c.authorization_for(API, "GET")).err().map(|e| e.code), Some(ErrorCode::NotSignedIn));
}

impl Client<FakeHost> {
    fn access_token_for_test(&self, api: &str) -> impl Future<Output = Result<String>> + '_ {
        let api = api.to_string();
        async move { self.access_token(Some(&api)).await }
    }
}

#[test]
fn another_tabs_refresh_for_one_api_does_not_stand_in_for_another_and_the_newest_refresh_token_is_used() {
    let a = signed_in_apis("");
    let b = client_with(APIS);
    b.ask_other_tabs();
    a.on_message(r#"{"t":"ask"}"#);
    b.on_message(&a.host.broadcasts.borrow().last().cloned().unwrap());
    let (asked_at, login_before, billing_before) = (b.generation.get(), b.current_token(None), b.current_token(BILLING_SLOT));
    // While b waits for the lock, a gets billing's token (rotating the refresh token); b hears of it.
    *a.host.token_response.borrow_mut() = (200, api_body("AT-B", 2));
    header(&a, BILLING);
    b.on_message(&a.host.broadcasts.borrow().last().cloned().unwrap());
    b.host.shared_generation.set(b.generation.get());
    // b wanted billing's token too: a's stands in, no request.
    assert!(block_on(b.refresh_under_lock(&b.coordination_name(), asked_at, BILLING_SLOT, billing_before)).is_ok());
    assert!(refresh_posts(&b).is_empty(), "billing's token came from the other tab");
    assert_eq!(b.authorization_ready(BILLING), Some(Some("Bearer AT-B".into())));
    // b wanted the login's token: a's refresh was for another token, so b refreshes — with the newest refresh token.
    *b.host.token_response.borrow_mut() = (200, refreshed_body(3, "alice"));
    assert!(block_on(b.refresh_under_lock(&b.coordination_name(), asked_at, None, login_before)).is_ok());
    let posts = refresh_posts(&b);
    assert_eq!(posts.len(), 1);
    assert!(posts[0].contains("refresh_token=RT-2&"), "never the spent RT-1: {}", posts[0]);
    assert_eq!(b.authorization_ready(BILLING), Some(Some("Bearer AT-B".into())), "billing's token survives the login's refresh");
}

#[test]
fn a_new_tab_is_handed_every_apis_token_and_logout_clears_them_all() {
    let a = signed_in_apis("");
    *a.host.token_response.borrow_mut() = (200, api_body("AT-B", 2));
    header(&a, BILLING);
    let b = client_with(APIS);
    b.ask_other_tabs();
    a.on_message(r#"{"t":"ask"}"#);
    b.on_message(&a.host.broadcasts.borrow().last().cloned().unwrap());
    assert_eq!(b.authorization_ready(BILLING), Some(Some("Bearer AT-B".into())), "no refresh in the new tab");
    assert_eq!(b.current_token(None).map(|t| t.as_str().to_string()).as_deref(), Some("AT-1"));
    block_on(a.logout(None, true)).ok().unwrap();
    assert!(a.current_token(BILLING_SLOT).is_none() && a.current_token(None).is_none());
    assert_eq!(block_on(a.authorization_for(BILLING, "GET")).err().map(|e| e.code), Some(ErrorCode::NotSignedIn));
    b.on_message(&a.host.broadcasts.borrow().last().cloned().unwrap());
    assert!(b.current_token(BILLING_SLOT).is_none(), "ended in every tab, every API's token with it");
}

#[test]
fn without_a_refresh_token_an_api_cannot_get_its_own_token() {
    let c = client_with(APIS);
    let (state, nonce) = start_login(&c);
    let body = r#"{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"id_token":"ID"}"#.replace("ID", &id_token("k1", &claims(&nonce)));
    *c.host.token_response.borrow_mut() = (200, body);
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let e = block_on(c.authorization_for(BILLING, "GET")).err().unwrap();
    assert_eq!((e.code, e.context.as_deref()), (ErrorCode::InvalidConfig, Some("https://billing.example/v1")));
    assert!(c.user().is_some());
    assert_eq!(header(&c, API).as_deref(), Some("Bearer AT-1"));
}

#[test]
fn get_access_token_only_with_the_opt_in_and_fresh() {
    let c = signed_in_apis("");
    let e = block_on(c.access_token(None)).err().unwrap();
    assert_eq!((e.code, e.context.as_deref()), (ErrorCode::InvalidConfig, Some("exposeAccessToken")), "off by default");
    assert!(refresh_posts(&c).is_empty());

    let c = signed_in_apis(r#","exposeAccessToken":true"#);
    assert_eq!(block_on(c.access_token(None)).ok().as_deref(), Some("AT-1"), "the login's token");
    assert_eq!(block_on(c.access_token(Some("https://api.example/anything"))).ok().as_deref(), Some("AT-1"));
    *c.host.token_response.borrow_mut() = (200, api_body("AT-B", 2));
    assert_eq!(block_on(c.access_token(Some(BILLING))).ok().as_deref(), Some("AT-B"), "an API's own, obtained first");
    c.host.now.set(NOW + 290.0);
    *c.host.token_response.borrow_mut() = (200, refreshed_body(3, "alice"));
    assert_eq!(block_on(c.access_token(None)).ok().as_deref(), Some("AT-3"), "refreshed when due");
    let e = block_on(c.access_token(Some("https://elsewhere.example/x"))).err().unwrap();
    assert_eq!((e.code, e.context.as_deref()), (ErrorCode::InvalidConfig, Some("https://elsewhere.example/x")), "a URL of no API");
    block_on(c.logout(None, true)).ok().unwrap();
    assert_eq!(block_on(c.access_token(None)).err().map(|e| e.code), Some(ErrorCode::NotSignedIn));
}

#[test]
#[cfg(feature = "dpop")]
fn with_dpop_get_access_token_refuses_and_each_api_token_is_bound_and_proved() {
    let c = client_with(&format!(r#"{APIS},"dpop":true,"exposeAccessToken":true"#));
    let (state, nonce) = start_login(&c);
    *c.host.token_response.borrow_mut() = (200, dpop_token_body(&id_token("k1", &claims(&nonce))));
    block_on(c.handle_callback(&callback_url(&state))).ok().unwrap();
    let e = block_on(c.access_token(None)).err().unwrap();
    assert_eq!((e.code, e.context.as_deref()), (ErrorCode::InvalidConfig, Some("dpop")));
    assert!(e.detail.contains("fetchWithToken"), "{}", e.detail);
    *c.host.token_response.borrow_mut() = (200, api_body("AT-B", 2).replace("Bearer", "DPoP"));
    let (auth, proof) = block_on(c.authorization_for(BILLING, "GET")).ok().unwrap().unwrap();
    assert_eq!(auth, "DPoP AT-B");
    let claims = decode_part(&proof.unwrap(), 1);
    let ath = b64url::encode(&Sha256::digest(b"AT-B"));
    assert!(claims.contains(&format!(r#""ath":"{ath}""#)) && claims.contains(r#""htu":"https://billing.example/v1/invoices""#), "{claims}");
}
