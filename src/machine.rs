//! The core as a synchronous, I/O-free state machine (sans-I/O). JavaScript feeds it events — a call from
//! the app, an HTTP answer, a WebCrypto result, a lock granted, a timer, a message from another tab — and
//! carries out the effects it returns: an HTTP request, a digest or a signature check, a lock request, a
//! broadcast, a timer, resolving or rejecting the app's promise. Nothing here does I/O, so the same machine
//! runs natively in the tests and in the browser, and every interleaving is an order of events.
//!
//! The protocol flows stay `async fn`s over the `Host` boundary (`client.rs`, `refresh.rs`); `MachineHost`
//! implements it by turning each await into an effect with an operation id and waiting for the event that
//! answers it. A small executor here polls the flows in progress after every event: no futures runtime,
//! no promises, no closures cross into JavaScript. The few things the core needs synchronously (the
//! clock, random bytes, sessionStorage, the shared generation, `history.replaceState`, the trace) are the
//! `Sys` trait: in the browser, plain wasm imports.
//!
//! Effects are one JSON array per event (`{"e":"http","op":3,"m":"GET","u":"…"}` …), read by the effect
//! interpreter in `js/core.ts`; byte payloads (a digest's input, a signature) are `[ptr,len]` views of
//! this machine's memory, valid until the next event.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::alg::WebCryptoParams;
use crate::client::Client;
use crate::config::Config;
use crate::error::{ErrorCode, OidcError, Result};
use crate::host::{Host, HttpResponse};
use crate::json::{self, Json};
use crate::transaction::LoginKind;

/// What the core needs at once, without an event round trip.
pub trait Sys {
    /// Unix time in seconds.
    fn now(&self) -> f64;
    /// Fills `out` from the platform CSPRNG.
    fn random(&self, out: &mut [u8]);
    fn storage_get(&self, key: &str) -> Option<String>;
    fn storage_set(&self, key: &str, value: &str) -> bool;
    fn storage_remove(&self, key: &str);
    fn storage_keys(&self, prefix: &str) -> Vec<String>;
    /// The tabs' newest session generation, or (`ended`) that of the newest end.
    fn shared_generation(&self, name: &str, ended: bool) -> f64;
    fn set_shared_generation(&self, name: &str, generation: f64, ended: bool);
    fn replace_url(&self, url: &str) -> bool;
    fn trace(&self, step: &str) -> bool;
}

/// An answer to an effect.
pub enum Answer {
    /// An HTTP response, or why there is none: -1 network, -2 timeout, -3 body over the cap, -4 a redirect
    /// not followed.
    Http(core::result::Result<HttpResponse, i32>),
    /// A lock granted or a timer fired (1); a signature valid (1), invalid (0) or refused (-1); a seal
    /// written (1) or not (0); a deletion done.
    Status(i32),
    /// A digest or a DPoP signature; `None`: WebCrypto refused.
    Bytes(Option<Vec<u8>>),
    /// A DPoP public key or an unsealed session; `None`: none, or refused.
    Text(Option<String>),
}

/// What the machine is told.
pub enum Event<'a> {
    /// The app calls `method` with JSON `args`; `id` names its promise.
    Call { id: u32, method: &'a str, args: &'a str },
    /// The effect `op` was carried out.
    Answer { op: u32, answer: Answer },
    /// A message from another tab of this app.
    Message(&'a str),
}

/// The effects of one event, and the bookkeeping of the operations they start.
#[derive(Default)]
pub struct Io {
    next_op: Cell<u32>,
    next_key: Cell<u32>,
    effects: RefCell<String>,
    /// Byte payloads the effects point into, kept until the next event.
    held: RefCell<Vec<Vec<u8>>>,
    answers: RefCell<Vec<(u32, Answer)>>,
    /// Grows with every answer taken and effect written: the executor polls until it stops growing.
    activity: Cell<u32>,
}

/// Writes one effect object: `{"e":"<kind>"` then members, then `}`.
pub struct Effect<'a> {
    out: core::cell::RefMut<'a, String>,
}

impl Effect<'_> {
    /// `,"<name>":` — the start of a member.
    fn member(&mut self, name: &str) {
        self.out.push_str(",\"");
        self.out.push_str(name);
        self.out.push_str("\":");
    }
    pub fn str(mut self, name: &str, value: &str) -> Self {
        self.member(name);
        json::write_str(&mut self.out, value);
        self
    }
    pub fn num(mut self, name: &str, value: u64) -> Self {
        self.member(name);
        json::write_u64(&mut self.out, value);
        self
    }
    pub fn raw(mut self, name: &str, json_text: &str) -> Self {
        self.member(name);
        self.out.push_str(json_text);
        self
    }
    pub fn opt(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.str(name, v),
            None => self,
        }
    }
    pub fn end(mut self) {
        self.out.push('}');
    }
}

impl Io {
    fn op(&self) -> u32 {
        let op = self.next_op.get() + 1;
        self.next_op.set(op);
        op
    }

    pub fn effect(&self, kind: &str) -> Effect<'_> {
        self.activity.set(self.activity.get().wrapping_add(1));
        let mut out = self.effects.borrow_mut();
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str("{\"e\":\"");
        out.push_str(kind);
        out.push('"');
        Effect { out }
    }

    /// Keeps `bytes` until the next event; returns `[ptr,len]` for an effect to point at them.
    fn hold(&self, bytes: &[u8]) -> String {
        let v = bytes.to_vec();
        let mut o = String::from("[");
        json::write_u64(&mut o, v.as_ptr() as usize as u64);
        o.push(',');
        json::write_u64(&mut o, v.len() as u64);
        o.push(']');
        self.held.borrow_mut().push(v);
        o
    }

    fn wait(self: &Rc<Self>, op: u32) -> Wait {
        Wait { io: self.clone(), op }
    }
}

struct Wait {
    io: Rc<Io>,
    op: u32,
}

impl Future for Wait {
    type Output = Answer;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Answer> {
        let mut answers = self.io.answers.borrow_mut();
        match answers.iter().position(|(op, _)| *op == self.op) {
            Some(i) => {
                let (_, a) = answers.swap_remove(i);
                self.io.activity.set(self.io.activity.get().wrapping_add(1));
                Poll::Ready(a)
            }
            None => Poll::Pending,
        }
    }
}

/// The `Host` of the machine: every await is an effect and the event that answers it.
pub struct MachineHost<S> {
    pub io: Rc<Io>,
    pub sys: S,
}

fn crypto_refused() -> OidcError {
    OidcError::new(ErrorCode::CryptoUnavailable, "WebCrypto refused the key or the algorithm")
}

impl<S: Sys> MachineHost<S> {
    async fn http(&self, method: &str, url: &str, body: Option<&str>, authorization: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse> {
        let op = self.io.op();
        self.io.effect("http").num("op", u64::from(op)).str("m", method).str("u", url).opt("b", body).opt("a", authorization).opt("d", dpop).end();
        match self.io.wait(op).await {
            Answer::Http(Ok(r)) => Ok(r),
            Answer::Http(Err(-2)) => Err(OidcError::new(ErrorCode::NetworkError, "no answer within 30 s: the server is slow or unreachable").with_context(url)),
            Answer::Http(Err(-3)) => Err(OidcError::new(ErrorCode::HttpError, crate::host::RESPONSE_TOO_LARGE).with_context(url)),
            Answer::Http(Err(-4)) => Err(OidcError::new(ErrorCode::RedirectRefused, "the server answered with a redirect, which a request carrying a token does not follow").with_context(url)),
            _ => Err(OidcError::new(
                ErrorCode::NetworkError,
                "the request failed before a response arrived: the server is down or unreachable, its CORS does not allow this origin, http was called from an https page (mixed content), or the page's CSP connect-src does not list it",
            )
            .with_context(url)),
        }
    }

    async fn status(&self, op: u32) -> i32 {
        match self.io.wait(op).await {
            Answer::Status(s) => s,
            _ => -1,
        }
    }

    async fn bytes(&self, op: u32) -> Result<Vec<u8>> {
        match self.io.wait(op).await {
            Answer::Bytes(Some(b)) => Ok(b),
            _ => Err(crypto_refused()),
        }
    }

    async fn text(&self, op: u32) -> Option<String> {
        match self.io.wait(op).await {
            Answer::Text(t) => t,
            _ => None,
        }
    }
}

impl<S: Sys> Host for MachineHost<S> {
    fn now(&self) -> f64 {
        self.sys.now()
    }
    fn random32(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.sys.random(&mut b);
        b
    }
    async fn get(&self, url: &str, authorization: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse> {
        self.http("GET", url, None, authorization, dpop).await
    }
    fn prefetch(&self, url: &str) {
        self.io.effect("prefetch").str("u", url).end();
    }
    async fn post_form(&self, url: &str, body: &str, dpop: Option<&str>) -> Result<HttpResponse> {
        self.http("POST", url, Some(body), None, dpop).await
    }
    async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>> {
        let op = self.io.op();
        let d = self.io.hold(data);
        self.io.effect("digest").num("op", u64::from(op)).str("h", hash).raw("d", &d).end();
        self.bytes(op).await
    }
    fn import_key(&self, p: WebCryptoParams, jwk: &str) -> u32 {
        let k = self.io.next_key.get();
        self.io.next_key.set(k + 1);
        self.io.effect("import").num("k", u64::from(k)).str("n", p.name).str("h", p.hash).str("c", p.named_curve).num("s", u64::from(p.salt_length)).str("j", jwk).end();
        k
    }
    async fn verify(&self, key: u32, data: &[u8], sig: &[u8]) -> Result<bool> {
        let op = self.io.op();
        let (d, s) = (self.io.hold(data), self.io.hold(sig));
        self.io.effect("verify").num("op", u64::from(op)).num("k", u64::from(key)).raw("d", &d).raw("s", &s).end();
        match self.status(op).await {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(crypto_refused()),
        }
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        self.sys.storage_get(key)
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        self.sys.storage_set(key, value)
    }
    fn storage_remove(&self, key: &str) {
        self.sys.storage_remove(key)
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        self.sys.storage_keys(prefix)
    }
    fn replace_url(&self, url: &str) -> bool {
        self.sys.replace_url(url)
    }
    /// The lock's operation id: `unlock` names it.
    type Lock = u32;
    async fn lock(&self, name: &str) -> u32 {
        let op = self.io.op();
        self.io.effect("lock").num("op", u64::from(op)).str("n", name).end();
        self.status(op).await;
        op
    }
    fn unlock(&self, lock: u32) {
        self.io.effect("unlock").num("op", u64::from(lock)).end();
    }
    fn shared_generation(&self, name: &str) -> (u64, u64) {
        // NaN and negatives (a tampered entry) count as 0; `as` saturates the rest.
        let read = |ended| {
            let v = self.sys.shared_generation(name, ended);
            if v >= 0.0 {
                v as u64
            } else {
                0
            }
        };
        (read(false), read(true))
    }
    fn set_shared_generation(&self, name: &str, generation: u64, ended: bool) {
        self.sys.set_shared_generation(name, generation as f64, ended)
    }
    fn broadcast(&self, message: &str) {
        self.io.effect("bcast").str("m", message).end();
    }
    async fn sleep(&self, ms: u32) {
        let op = self.io.op();
        self.io.effect("sleep").num("op", u64::from(op)).num("ms", u64::from(ms)).end();
        self.status(op).await;
    }
    async fn dpop_public_jwk(&self, name: &str, create: bool) -> Result<String> {
        let op = self.io.op();
        self.io.effect("djwk").num("op", u64::from(op)).str("n", name).num("c", u64::from(create)).end();
        self.text(op).await.ok_or_else(crypto_refused)
    }
    async fn dpop_sign(&self, name: &str, data: &[u8]) -> Result<Vec<u8>> {
        let op = self.io.op();
        let d = self.io.hold(data);
        self.io.effect("dsign").num("op", u64::from(op)).str("n", name).raw("d", &d).end();
        self.bytes(op).await
    }
    async fn dpop_forget(&self, name: &str) {
        let op = self.io.op();
        self.io.effect("dforget").num("op", u64::from(op)).str("n", name).end();
        self.status(op).await;
    }
    async fn seal(&self, name: &str, plaintext: &str) -> bool {
        let op = self.io.op();
        self.io.effect("seal").num("op", u64::from(op)).str("n", name).str("v", plaintext).end();
        self.status(op).await == 1
    }
    async fn unseal(&self, name: &str) -> Option<String> {
        let op = self.io.op();
        self.io.effect("unseal").num("op", u64::from(op)).str("n", name).end();
        self.text(op).await
    }
    async fn unseal_clear(&self, name: &str) {
        let op = self.io.op();
        self.io.effect("unclear").num("op", u64::from(op)).str("n", name).end();
        self.status(op).await;
    }
    fn trace(&self, step: &str) -> bool {
        self.sys.trace(step)
    }
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// One client of the app, driven by events.
pub struct Machine<S: Sys + 'static> {
    pub client: Rc<Client<MachineHost<S>>>,
    io: Rc<Io>,
    tasks: RefCell<Vec<Task>>,
}

/// `[code,detail,oauthError,oauthDescription,context]` for `js/errors.ts`.
fn error_json(e: &OidcError) -> String {
    let mut o = String::from("[\"");
    o.push_str(e.code.as_str());
    o.push_str("\",");
    json::write_str(&mut o, e.detail);
    for v in [&e.oauth_error, &e.oauth_description, &e.context] {
        o.push(',');
        match v {
            Some(s) => json::write_str(&mut o, s),
            None => o.push_str("null"),
        }
    }
    o.push(']');
    o
}

fn json_str(s: &str) -> String {
    let mut o = String::new();
    json::write_str(&mut o, s);
    o
}

fn json_u64(n: u64) -> String {
    let mut o = String::new();
    json::write_u64(&mut o, n);
    o
}

fn json_bool(b: bool) -> String {
    String::from(if b { "true" } else { "false" })
}

fn opt_json_str(s: Option<&str>) -> String {
    s.map_or_else(|| "null".into(), json_str)
}

/// A callback's outcome for the wrapper: `{"user":claims|null,"returnTo"?,"acr"?,"silent"?}`.
fn callback_json(r: &crate::client::CallbackResult) -> String {
    let mut out = String::from("{\"user\":");
    out.push_str(r.claims_text.as_deref().unwrap_or("null"));
    if let Some(rt) = &r.return_to {
        out.push_str(",\"returnTo\":");
        json::write_str(&mut out, rt);
    }
    if let Some(acr) = &r.acr {
        out.push_str(",\"acr\":");
        json::write_str(&mut out, acr);
    }
    if r.silent {
        out.push_str(",\"silent\":true");
    }
    out.push('}');
    out
}

/// `returnTo` and `extraParams` of `login()`.
type LoginOptions = (Option<String>, Vec<(String, String)>);

fn login_options(v: &Json) -> Result<LoginOptions> {
    let bad = || OidcError::new(ErrorCode::InvalidConfig, "login options: returnTo must be a string and extraParams an object of strings");
    let return_to = match v.get("returnTo") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) => Some(s.clone()),
        _ => return Err(bad()),
    };
    let extra = match v.get("extraParams") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Obj(members)) => members
            .iter()
            .map(|(k, val)| val.as_str().map(|s| (k.clone(), s.to_string())))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok((return_to, extra))
}


type Call = Pin<Box<dyn Future<Output = Result<String>>>>;

/// The future of the app's call `method`: each boxed on its own, so no one future holds the states of all.
fn dispatch<S: Sys + 'static>(c: Rc<Client<MachineHost<S>>>, method: &str, args: &str) -> Result<Call> {
    let v = Json::parse(if args.is_empty() { "null" } else { args }, ErrorCode::InvalidConfig)?;
    let s = |name: &str| v.str_member(name).map(String::from).unwrap_or_default();
    Ok(match method {
        "discover" => Box::pin(async move { c.metadata().await.map(|_| "null".into()) }),
        // The three ways a login starts (src/transaction.rs `LoginKind`), one flow: `login` answers the URL to
        // navigate to; `popupLogin` (src/popup.rs) the URL for the popup, the state its relay comes under and
        // how long to wait for it (ms); `checkSession` (src/session_check.rs) the URL of the silent check, or
        // null when none is due.
        "login" | "popupLogin" | "checkSession" => {
            let kind = match method {
                "popupLogin" => LoginKind::Popup,
                "checkSession" => LoginKind::Silent,
                _ => LoginKind::Redirect,
            };
            let (return_to, extra) = match kind {
                LoginKind::Silent => match c.session_check_due(v.str_member("returnTo").map(String::from)) {
                    Some(due) => due,
                    None => return Ok(Box::pin(core::future::ready(Ok(String::from("null"))))),
                },
                _ => login_options(&v)?,
            };
            let timeout = if kind == LoginKind::Popup { crate::popup::popup_timeout(v.get("timeoutSeconds"))? } else { 0.0 };
            Box::pin(async move {
                let (url, state) = c.start_login(return_to, &extra, kind).await?;
                if kind != LoginKind::Popup {
                    return Ok(json_str(&url));
                }
                let mut o = String::from("{\"url\":");
                json::write_str(&mut o, &url);
                o.push_str(",\"state\":");
                json::write_str(&mut o, state.as_str());
                o.push_str(",\"ms\":");
                json::write_u64(&mut o, (timeout * 1000.0) as u64);
                o.push('}');
                Ok(o)
            })
        }
        // A callback at the redirect URI, or a response relayed from a popup (null: not one this client waits
        // for). The transaction is taken at once; the rest is one flow.
        "callback" | "popupCallback" => {
            let url = s("url");
            let taken = if method == "callback" { Some(c.take_callback(&url)?) } else { c.take_popup_relay(&url) };
            Box::pin(async move {
                match taken {
                    Some((params, state, tx)) => c.complete_login(&params, state, tx).await.map(|r| callback_json(&r)),
                    None => Ok(String::from("null")),
                }
            })
        }
        "refresh" => Box::pin(async move { c.refresh().await.map(|_| "null".into()) }),
        "restore" => Box::pin(async move { c.restore().await.map(json_bool) }),
        "expire" => Box::pin(async move { Ok(json_bool(c.expire().await)) }),
        // The tab became visible or came back online: refresh if due (see `Client::resume`).
        "resume" => {
            let online = matches!(v.get("online"), Some(Json::Bool(true)));
            Box::pin(async move { c.resume(online).await.map(|_| "null".into()) })
        }
        "userinfo" => Box::pin(async move { c.userinfo().await }),
        "authorization" => {
            let (url, method) = (s("url"), s("method"));
            Box::pin(async move {
                Ok(match c.authorization_for(&url, &method).await? {
                    None => "null".into(),
                    Some((auth, proof)) => {
                        let mut o = String::from("[");
                        json::write_str(&mut o, &auth);
                        if let Some(p) = proof {
                            o.push(',');
                            json::write_str(&mut o, &p);
                        }
                        o.push(']');
                        o
                    }
                })
            })
        }
        // `getAccessToken({ api })`: the token string, only with `exposeAccessToken` (see `Client::access_token`).
        "accessToken" => {
            let api = v.str_member("api").map(String::from);
            Box::pin(async move { c.access_token(api.as_deref()).await.map(|t| json_str(&t)) })
        }
        "after401" => {
            let (url, used, www, nonce) = (s("url"), s("used"), s("www"), v.str_member("nonce").map(String::from));
            Box::pin(async move { c.after_unauthorized(&url, &used, &www, nonce.as_deref()).await.map(json_bool) })
        }
        "logout" => {
            let local = matches!(v.get("local"), Some(Json::Bool(true)));
            let return_to = v.str_member("returnTo").map(String::from);
            Box::pin(async move { c.logout(return_to, local).await.map(|u| opt_json_str(u.as_deref())) })
        }
        "idtoken" => {
            let url = s("url");
            Box::pin(async move {
                let (status, body) = c.call_api_with_id_token(&url).await?;
                let mut o = String::from("[");
                json::write_u64(&mut o, u64::from(status));
                o.push(',');
                json::write_str(&mut o, &body);
                o.push(']');
                Ok(o)
            })
        }
        // Benchmarks only (cargo feature `bench`, never in dist/): verifies `token` exactly as a callback
        // verifies the ID token (JWS parse, key from the cached JWKS, WebCrypto signature, claims with
        // `nonce`) and answers the claims JSON text. No token request, no session change.
        #[cfg(feature = "bench")]
        "verifyIdToken" => {
            let (token, nonce) = (s("token"), v.str_member("nonce").map(|n| crate::types::Nonce::new(String::from(n))));
            Box::pin(async move {
                let meta = c.metadata().await?;
                let none = crate::types::AccessToken::new(String::new());
                let (_, text) = c.verify_id_token(&meta, &token, nonce.as_ref(), &none).await?;
                Ok(text)
            })
        }
        // Synchronous: done at once.
        "ask" | "listening" | "joined" | "popupCancel" => {
            match method {
                "ask" => c.ask_other_tabs(),
                "listening" => c.listening(),
                "popupCancel" => drop(c.popup_cancel(&s("state"))),
                _ => c.joined(),
            }
            Box::pin(core::future::ready(Ok(String::from("null"))))
        }
        _ => return Err(OidcError::new(ErrorCode::InvalidConfig, "unknown call")),
    })
}

impl<S: Sys + 'static> Machine<S> {
    /// A machine for the app's `createClient` configuration (JSON text).
    pub fn new(config: &str, sys: S) -> core::result::Result<Machine<S>, String> {
        let config = Config::from_json(config).map_err(|e| error_json(&e))?;
        let io = Rc::new(Io::default());
        let host = MachineHost { io: io.clone(), sys };
        Ok(Machine { client: Rc::new(Client::new(config, host)), io, tasks: RefCell::new(Vec::new()) })
    }

    /// Takes an event and returns the effects it leads to, as a JSON array.
    pub fn handle(&self, event: Event<'_>) -> String {
        self.io.held.borrow_mut().clear();
        match event {
            Event::Call { id, method, args } => {
                let io = self.io.clone();
                let call = dispatch(self.client.clone(), method, args);
                self.tasks.borrow_mut().push(Box::pin(async move {
                    let r = match call {
                        Ok(f) => f.await,
                        Err(e) => Err(e),
                    };
                    match r {
                        Ok(v) => io.effect("done").num("id", u64::from(id)).raw("v", &v).end(),
                        Err(e) => io.effect("fail").num("id", u64::from(id)).raw("x", &error_json(&e)).end(),
                    }
                }));
            }
            Event::Answer { op, answer } => {
                self.io.answers.borrow_mut().push((op, answer));
            }
            Event::Message(text) => {
                let change = match self.client.on_message(text) {
                    crate::refresh::Change::None => "",
                    crate::refresh::Change::SignedIn => "signedIn",
                    crate::refresh::Change::Refreshed => "refreshed",
                    crate::refresh::Change::Ended => "ended",
                };
                if !change.is_empty() {
                    self.io.effect("change").str("c", change).end();
                }
            }
        }
        self.poll();
        let mut out = String::from("[");
        out.push_str(&self.io.effects.borrow_mut().split_off(0));
        out.push(']');
        out
    }

    /// Polls every flow in progress until a round changes nothing.
    fn poll(&self) {
        let mut cx = Context::from_waker(core::task::Waker::noop());
        loop {
            let before = self.io.activity.get();
            // Flows started while polling (none today) would be picked up on the next round.
            let mut tasks = core::mem::take(&mut *self.tasks.borrow_mut());
            let mut finished = false;
            tasks.retain_mut(|t| {
                let done = t.as_mut().poll(&mut cx).is_ready();
                finished |= done;
                !done
            });
            let mut current = self.tasks.borrow_mut();
            tasks.append(&mut current);
            *current = tasks;
            drop(current);
            if !finished && self.io.activity.get() == before {
                break;
            }
        }
    }

    /// Answers a synchronous question (no effects): `user`, `authorizationNow`, `generation`,
    /// `authenticated`, `sessionElsewhere`, `deadline`, `expiring`, `foreignCallback`, `name`, `backgroundError`,
    /// `rememberNonce`.
    pub fn query(&self, what: &str, arg: &str) -> String {
        let c = &self.client;
        match what {
            "user" => c.user().unwrap_or_else(|| "null".into()),
            // A string header, `false` for a URL off the API origins, `null` when `authorization` must be awaited.
            "authorizationNow" => match c.authorization_ready(arg) {
                None => "null".into(),
                Some(None) => "false".into(),
                Some(Some(h)) => json_str(&h),
            },
            "generation" => json_u64(c.generation()),
            "authenticated" => json_bool(c.is_authenticated()),
            "sessionElsewhere" => json_bool(c.session_elsewhere()),
            "deadline" => c.deadline().map_or_else(|| "null".into(), |d| json_u64(d.max(0.0) as u64)),
            "name" => json_str(&c.coordination_name()),
            // `sessionExpiring`: "" → when to tell the app (unix ms, rounded up), "take" → the whole seconds
            // left if it is time (told once), else null (see `Client::expiring`).
            "expiring" => c.expiring(arg == "take").map_or_else(
                || "null".into(),
                |v| json_u64(if arg == "take" { (v.max(0.0) + 0.5) as u64 } else { (v.max(0.0) * 1000.0) as u64 + 1 }),
            ),
            // Whether the authorization response in the URL `arg` is another client's (two clients on one page).
            "foreignCallback" => json_bool(c.callback_of_other_client(arg)),
            "backgroundError" => c.take_background_error().map_or_else(|| "null".into(), |e| error_json(&e)),
            "rememberNonce" => {
                if let Some((url, nonce)) = arg.split_once('\n') {
                    c.remember_dpop_nonce(url, nonce);
                }
                "null".into()
            }
            _ => "null".into(),
        }
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
