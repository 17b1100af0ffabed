//! The machine driven as the browser drives it: events in, effects out, carried out by a small scripted
//! interpreter (a fake browser). A whole login, an API call, a refresh and a logout, with the effects and
//! their order checked.

use super::*;
use crate::test_support::{fake_sign, id_token, jwks_json};
use sha2::{Digest, Sha256};
use std::cell::RefCell as StdRefCell;
use std::collections::BTreeMap;

const ISSUER: &str = "https://op.example";
const NOW: f64 = 1_700_000_000.0;

#[derive(Default)]
struct FakeSys {
    counter: Cell<u8>,
    storage: StdRefCell<BTreeMap<String, String>>,
    shared: StdRefCell<BTreeMap<String, f64>>,
    replaced: StdRefCell<Vec<String>>,
    /// Seconds since NOW (a scripted clock).
    elapsed: Cell<f64>,
}

impl Sys for Rc<FakeSys> {
    fn now(&self) -> f64 {
        NOW + self.elapsed.get()
    }
    fn random(&self, out: &mut [u8]) {
        self.counter.set(self.counter.get() + 1);
        out.fill(self.counter.get());
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        self.storage.borrow().get(key).cloned()
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        self.storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn storage_remove(&self, key: &str) {
        self.storage.borrow_mut().remove(key);
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        self.storage.borrow().keys().filter(|k| k.starts_with(prefix)).cloned().collect()
    }
    fn shared_generation(&self, name: &str, ended: bool) -> f64 {
        let key = if ended { format!("{name}|ended") } else { name.to_string() };
        self.shared.borrow().get(&key).copied().unwrap_or(0.0)
    }
    fn set_shared_generation(&self, name: &str, generation: f64, ended: bool) {
        self.shared.borrow_mut().insert(name.into(), generation);
        if ended {
            self.shared.borrow_mut().insert(format!("{name}|ended"), generation);
        }
    }
    fn replace_url(&self, url: &str) -> bool {
        self.replaced.borrow_mut().push(url.into());
        true
    }
    fn trace(&self, _: &str) -> bool {
        true
    }
}

/// A fake browser: carries out the machine's effects, answering at once, and records what it did.
struct Browser {
    m: Machine<Rc<FakeSys>>,
    sys: Rc<FakeSys>,
    /// The token endpoint's answers, in order.
    token_answers: StdRefCell<Vec<String>>,
    keys: StdRefCell<BTreeMap<u64, String>>,
    log: StdRefCell<Vec<String>>,
    results: StdRefCell<BTreeMap<u64, core::result::Result<String, String>>>,
    next_id: Cell<u32>,
}

fn bytes_at(v: &Json) -> Vec<u8> {
    let a = v.as_array().unwrap();
    let (ptr, len) = (a[0].as_f64().unwrap() as usize, a[1].as_f64().unwrap() as usize);
    // SAFETY: the machine keeps the bytes alive until the next event, and this runs before it.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }.to_vec()
}

impl Browser {
    fn new() -> Browser {
        let sys = Rc::new(FakeSys::default());
        let cfg = format!(r#"{{"issuer":"{ISSUER}","clientId":"spa","redirectUri":"https://app.example/cb","apiOrigins":["https://api.example"],"appOrigin":"https://app.example"}}"#);
        let m = Machine::new(&cfg, sys.clone()).ok().unwrap();
        Browser { m, sys, token_answers: Default::default(), keys: Default::default(), log: Default::default(), results: Default::default(), next_id: Cell::new(0) }
    }

    /// Feeds `event` and carries out the effects, and the effects of their answers, until nothing is left.
    fn feed(&self, event: Event<'_>) {
        let mut queue = std::collections::VecDeque::new();
        queue.push_back(self.m.handle(event));
        while let Some(effects) = queue.pop_front() {
            let list = Json::parse(&effects, crate::error::ErrorCode::InvalidConfig).ok().unwrap();
            for e in list.as_array().unwrap() {
                let kind = e.str_member("e").unwrap();
                let op = e.get("op").and_then(Json::as_f64).unwrap_or(0.0) as u32;
                let answer = match kind {
                    "http" => {
                        let (m, u) = (e.str_member("m").unwrap(), e.str_member("u").unwrap());
                        self.log.borrow_mut().push(format!("{m} {u}"));
                        let (status, body) = if u.ends_with("openid-configuration") {
                            (200, crate::discovery::tests::document(|m| m.push(("revocation_endpoint", "\"https://op.example/revoke\"".into()))))
                        } else if u.ends_with("/jwks") {
                            (200, jwks_json(&["k1"]))
                        } else if u.ends_with("/token") {
                            (200, self.token_answers.borrow_mut().remove(0))
                        } else {
                            (200, String::new())
                        };
                        Some(Answer::Http(Ok(HttpResponse { status, body, dpop_nonce: None, retry_after: None, date: None })))
                    }
                    "digest" => Some(Answer::Bytes(Some(Sha256::digest(bytes_at(e.get("d").unwrap())).to_vec()))),
                    "import" => {
                        self.keys.borrow_mut().insert(e.get("k").unwrap().as_f64().unwrap() as u64, e.str_member("j").unwrap().into());
                        None
                    }
                    "verify" => {
                        let jwk = self.keys.borrow()[&(e.get("k").unwrap().as_f64().unwrap() as u64)].clone();
                        let ok = fake_sign(&jwk, &bytes_at(e.get("d").unwrap())) == bytes_at(e.get("s").unwrap());
                        Some(Answer::Status(i32::from(ok)))
                    }
                    "lock" => {
                        self.log.borrow_mut().push("lock".into());
                        Some(Answer::Status(1))
                    }
                    "unlock" => {
                        self.log.borrow_mut().push("unlock".into());
                        None
                    }
                    "bcast" => {
                        self.log.borrow_mut().push(format!("bcast {}", &e.str_member("m").unwrap()[..12]));
                        None
                    }
                    "prefetch" => None,
                    "done" | "fail" => {
                        let id = e.get("id").unwrap().as_f64().unwrap() as u64;
                        let r = if kind == "done" { Ok(e.get("v").unwrap().to_text().unwrap_or_default()) } else { Err(e.get("x").unwrap().to_text().unwrap()) };
                        self.results.borrow_mut().insert(id, r);
                        None
                    }
                    other => panic!("unexpected effect {other}"),
                };
                if let Some(a) = answer {
                    queue.push_back(self.m.handle(Event::Answer { op, answer: a }));
                }
            }
        }
    }

    fn call(&self, method: &str, args: &str) -> core::result::Result<String, String> {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        self.feed(Event::Call { id, method, args });
        self.results.borrow_mut().remove(&u64::from(id)).expect("the call settled")
    }
}

fn claims(nonce: &str) -> String {
    format!(r#"{{"iss":"{ISSUER}","aud":"spa","sub":"alice","exp":{},"iat":{},"nonce":"{nonce}"}}"#, NOW + 300.0, NOW)
}

#[test]
fn a_login_an_api_call_a_refresh_and_a_logout_as_events_and_effects() {
    let b = Browser::new();
    assert_eq!(b.call("discover", ""), Ok("null".into()));
    let url = b.call("login", r#"{"returnTo":"/orders"}"#).ok().unwrap();
    let url: String = Json::parse(&url, crate::error::ErrorCode::InvalidConfig).ok().unwrap().as_str().unwrap().into();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(b.sys.storage.borrow().len(), 1, "the login transaction");

    b.token_answers.borrow_mut().push(format!(
        r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"refresh_token":"RT-1","id_token":"{}"}}"#,
        id_token("k1", &claims(&get("nonce")))
    ));
    let cb = format!("https://app.example/cb?code=C&state={}&iss=https%3A%2F%2Fop.example", get("state"));
    let r = b.call("callback", &format!(r#"{{"url":"{cb}"}}"#)).ok().unwrap();
    assert!(r.contains(r#""sub":"alice""#) && r.contains(r#""returnTo":"/orders""#), "{r}");
    assert_eq!(b.sys.replaced.borrow()[0], "https://app.example/cb", "the address bar scrubbed");
    assert_eq!(b.m.query("authenticated", ""), "true");
    assert_eq!(b.m.query("authorizationNow", "https://api.example/x"), r#""Bearer AT-1""#, "the synchronous path");
    assert_eq!(b.m.query("authorizationNow", "https://elsewhere.example/x"), "false");

    let refreshed = r#"{"iss":"ISS","aud":"spa","sub":"alice","exp":1700000900,"iat":1700000000}"#.replace("ISS", ISSUER);
    b.token_answers.borrow_mut().push(format!(r#"{{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2","id_token":"{}"}}"#, id_token("k1", &refreshed)));
    b.log.borrow_mut().clear();
    assert_eq!(b.call("refresh", ""), Ok("null".into()));
    let log = b.log.borrow().clone();
    assert_eq!(log.first().map(String::as_str), Some("lock"));
    assert!(log.iter().position(|l| l == "POST https://op.example/token") < log.iter().position(|l| l == "unlock"), "the refresh runs under the lock: {log:?}");
    assert!(log.iter().any(|l| l.starts_with("bcast")), "the other tabs hear of it");
    assert_eq!(b.call("authorization", r#"{"url":"https://api.example/x","method":"GET"}"#), Ok(r#"["Bearer AT-2"]"#.into()));

    let out = b.call("logout", "{}").ok().unwrap();
    assert_eq!(out, "null", "no end-session endpoint: nowhere to go");
    assert!(b.log.borrow().iter().any(|l| l == "POST https://op.example/revoke"));
    assert_eq!(b.m.query("authenticated", ""), "false");
}

#[test]
fn a_failed_call_rejects_with_the_error_array() {
    let b = Browser::new();
    let e = b.call("login", r#"{"returnTo":"https://evil.example/"}"#).err().unwrap();
    assert!(e.starts_with(r#"["invalid_config","#), "{e}");
    let e = b.call("nonsense", "").err().unwrap();
    assert!(e.starts_with(r#"["invalid_config","#), "{e}");
    assert!(Machine::new("{}", Rc::new(FakeSys::default())).err().is_some_and(|e| e.starts_with(r#"["invalid_config""#)));
}

#[test]
fn fifty_calls_wait_on_one_refresh_through_the_machine() {
    let b = Browser::new();
    b.call("discover", "").ok().unwrap();
    let url = b.call("login", "{}").ok().unwrap();
    let url: String = Json::parse(&url, crate::error::ErrorCode::InvalidConfig).ok().unwrap().as_str().unwrap().into();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    b.token_answers.borrow_mut().push(format!(
        r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":0,"refresh_token":"RT-1","id_token":"{}"}}"#,
        id_token("k1", &claims(&get("nonce")))
    ));
    let cb = format!("https://app.example/cb?code=C&state={}&iss=https%3A%2F%2Fop.example", get("state"));
    b.call("callback", &format!(r#"{{"url":"{cb}"}}"#)).ok().unwrap();
    // The access token has expired (expires_in 0): every call needs a refresh. Start 50 before any
    // answer arrives: the lock is answered only when the browser gets to it.
    b.token_answers.borrow_mut().push(r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2"}"#.into());
    let mut pending = Vec::new();
    for id in 100..150u32 {
        pending.push(b.m.handle(Event::Call { id, method: "authorization", args: r#"{"url":"https://api.example/x","method":"GET"}"# }));
    }
    let locks = pending.iter().filter(|e| e.contains(r#""e":"lock""#)).count();
    assert_eq!(locks, 1, "one refresh, one lock, for fifty callers");
    for effects in pending {
        if effects != "[]" {
            let list = Json::parse(&effects, crate::error::ErrorCode::InvalidConfig).ok().unwrap();
            let op = list.as_array().unwrap()[0].get("op").unwrap().as_f64().unwrap() as u32;
            b.feed(Event::Answer { op, answer: Answer::Status(1) });
        }
    }
    let done: Vec<_> = (100..150u64).map(|id| b.results.borrow().get(&id).cloned()).collect();
    assert!(done.iter().all(|r| r.as_ref().is_some_and(|r| r.as_deref() == Ok(r#"["Bearer AT-2"]"#))), "all fifty got the new token");
    assert_eq!(b.log.borrow().iter().filter(|l| l.ends_with("/token")).count(), 2, "the code exchange and one refresh");
}

#[test]
fn a_popup_login_through_the_machine_leaves_this_pages_url_alone() {
    let b = Browser::new();
    let out = b.call("popupLogin", r#"{"timeoutSeconds":120}"#).ok().unwrap();
    let v = Json::parse(&out, crate::error::ErrorCode::InvalidConfig).ok().unwrap();
    let (url, state) = (v.str_member("url").unwrap().to_string(), v.str_member("state").unwrap().to_string());
    assert_eq!(v.get("ms").and_then(Json::as_f64), Some(120_000.0));
    assert!(state.starts_with("p.") && url.contains(&format!("state={state}")), "{out}");
    assert!(b.sys.storage.borrow().is_empty(), "the transaction stays in memory");
    assert!(b.call("popupLogin", r#"{"timeoutSeconds":0}"#).err().unwrap().starts_with(r#"["invalid_config""#));

    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let nonce = q.iter().find(|(k, _)| k == "nonce").unwrap().1.clone();
    let forged = r#"{"url":"https://app.example/cb?code=X&state=p.forged&iss=https%3A%2F%2Fop.example"}"#;
    assert_eq!(b.call("popupCallback", forged), Ok("null".into()), "not this client's popup login: ignored");
    b.token_answers.borrow_mut().push(format!(
        r#"{{"access_token":"AT-1","token_type":"Bearer","expires_in":300,"refresh_token":"RT-1","id_token":"{}"}}"#,
        id_token("k1", &claims(&nonce))
    ));
    let relayed = format!(r#"{{"url":"https://app.example/cb?code=C&state={state}&iss=https%3A%2F%2Fop.example"}}"#);
    let r = b.call("popupCallback", &relayed).ok().unwrap();
    assert!(r.contains(r#""sub":"alice""#) && !r.contains("silent"), "{r}");
    assert!(b.sys.replaced.borrow().is_empty(), "the opener's address bar is not touched");
    assert_eq!(b.call("popupCallback", &relayed), Ok("null".into()), "a second relay: ignored");
    assert_eq!(b.call("popupCancel", &format!(r#"{{"state":"{state}"}}"#)), Ok("null".into()));
    assert_eq!(b.call("checkSession", r#"{"returnTo":"/"}"#), Ok("null".into()), "checkSession is off");
}

/// Signs `b` in with a token response whose extra members are `members`.
fn sign_in(b: &Browser, members: &str) {
    b.call("discover", "").ok().unwrap();
    let url = b.call("login", "{}").ok().unwrap();
    let url: String = Json::parse(&url, crate::error::ErrorCode::InvalidConfig).ok().unwrap().as_str().unwrap().into();
    let q = crate::url::parse_query(crate::url::query_of(&url)).unwrap();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).unwrap().1.clone();
    b.token_answers.borrow_mut().push(format!(r#"{{"access_token":"AT-1","token_type":"Bearer"{members},"id_token":"{}"}}"#, id_token("k1", &claims(&get("nonce")))));
    let cb = format!("https://app.example/cb?code=C&state={}&iss=https%3A%2F%2Fop.example", get("state"));
    b.call("callback", &format!(r#"{{"url":"{cb}"}}"#)).ok().unwrap();
}

fn token_posts(b: &Browser) -> usize {
    b.log.borrow().iter().filter(|l| l.ends_with("/token")).count()
}

#[test]
fn resume_refreshes_if_due_and_expiring_says_when_to_tell_the_app() {
    let b = Browser::new();
    assert_eq!(b.call("resume", r#"{"online":false}"#), Ok("null".into()), "signed out: nothing");
    sign_in(&b, r#","expires_in":300,"refresh_token":"RT-1","refresh_expires_in":600"#);
    assert_eq!(token_posts(&b), 1);
    assert_eq!(b.call("resume", r#"{"online":false}"#), Ok("null".into()));
    assert_eq!(token_posts(&b), 1, "not due");
    assert_eq!(b.m.query("expiring", ""), ((NOW + 540.0) as u64 * 1000 + 1).to_string(), "when to tell the app, in ms");
    assert_eq!(b.m.query("expiring", "take"), "null", "not yet");

    b.sys.elapsed.set(280.0);
    b.token_answers.borrow_mut().push(r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":300,"refresh_token":"RT-2"}"#.into());
    assert_eq!(b.call("resume", r#"{"online":true}"#), Ok("null".into()));
    assert_eq!(token_posts(&b), 2, "due: refreshed");
    assert_eq!(b.m.query("authorizationNow", "https://api.example/x"), r#""Bearer AT-2""#);
    assert_eq!(b.m.query("expiring", ""), "null", "the rotated refresh token's end was not stated");

    let c = Browser::new();
    sign_in(&c, r#","expires_in":300"#);
    assert_eq!(c.m.query("deadline", ""), ((NOW + 300.0) as u64).to_string());
    c.sys.elapsed.set(250.0);
    assert_eq!(c.m.query("expiring", "take"), "50", "the seconds left, once");
    assert_eq!(c.m.query("expiring", "take"), "null");
    c.sys.elapsed.set(300.0);
    assert_eq!(c.call("resume", r#"{"online":false}"#), Ok("null".into()), "the session ends, quietly");
    assert_eq!(c.m.query("authenticated", ""), "false");
    assert_eq!(token_posts(&c), 1, "no refresh without a refresh token");
}

#[test]
fn foreign_callback_says_whose_response_the_url_holds() {
    let b = Browser::new();
    b.call("discover", "").ok().unwrap();
    b.sys.storage.borrow_mut().insert("oidc-wasm.tx.https://op.example|customers|S-1".into(), "{}".into());
    assert_eq!(b.m.query("foreignCallback", "https://app.example/cb?code=C&state=S-1"), "true");
    assert_eq!(b.m.query("foreignCallback", "https://app.example/cb?code=C&state=S-2"), "false", "nobody's");
    assert_eq!(b.m.query("foreignCallback", "https://app.example/cb"), "false", "no response");
    let e = b.call("callback", r#"{"url":"https://app.example/cb?code=C&state=S-1"}"#).err().unwrap();
    assert!(e.starts_with(r#"["callback_not_for_this_client","#), "{e}");
    assert!(b.sys.replaced.borrow().is_empty(), "not scrubbed");
    assert_eq!(b.sys.storage.borrow().len(), 1, "not consumed");
}
