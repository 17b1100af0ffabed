//! The browser binding: `Host` implemented over a small JavaScript object (`js/host.ts`), and the
//! `Core` class the TypeScript wrapper drives. Only this file knows about wasm-bindgen.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::boxed::Box;
use alloc::rc::Rc;

use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::alg::WebCryptoParams;
use crate::client::Client;
use crate::config::Config;
use crate::error::{ErrorCode, OidcError, Result};
use crate::host::{Host, HttpResponse};
use crate::json::{self, Json};

#[cfg(not(test))]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without threads runs on one thread only.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

/// A panic cannot happen in the parsers (see the lints in lib.rs); if one happens anyway, trap at once:
/// the Promise in flight rejects and JavaScript sees an `internal_error`.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[wasm_bindgen]
extern "C" {
    /// The browser services, implemented in `js/host.ts`.
    pub type JsHost;
    #[wasm_bindgen(method)]
    fn now(this: &JsHost) -> f64;
    #[wasm_bindgen(method)]
    fn random(this: &JsHost, out: &mut [u8]);
    #[wasm_bindgen(method)]
    fn http(this: &JsHost, method: &str, url: &str, body: Option<String>, authorization: Option<String>, dpop: Option<String>) -> Promise;
    #[wasm_bindgen(method)]
    fn digest(this: &JsHost, hash: &str, data: &[u8]) -> Promise;
    #[wasm_bindgen(method, js_name = importKey)]
    fn import_key(this: &JsHost, name: &str, hash: &str, curve: &str, salt: u32, jwk: &str) -> u32;
    #[wasm_bindgen(method)]
    fn verify(this: &JsHost, key: u32, data: &[u8], sig: &[u8]) -> Promise;
    #[wasm_bindgen(method, js_name = storageGet)]
    fn storage_get(this: &JsHost, key: &str) -> Option<String>;
    #[wasm_bindgen(method, js_name = storageSet)]
    fn storage_set(this: &JsHost, key: &str, value: &str) -> bool;
    #[wasm_bindgen(method, js_name = storageRemove)]
    fn storage_remove(this: &JsHost, key: &str);
    #[wasm_bindgen(method, js_name = storageKeys)]
    fn storage_keys(this: &JsHost, prefix: &str) -> Array;
    #[wasm_bindgen(method, js_name = replaceUrl)]
    fn replace_url(this: &JsHost, url: &str) -> bool;
    #[wasm_bindgen(method)]
    fn lock(this: &JsHost, name: &str) -> Promise;
    #[wasm_bindgen(method, js_name = sharedGeneration)]
    fn shared_generation(this: &JsHost, name: &str, ended: bool) -> f64;
    #[wasm_bindgen(method, js_name = setSharedGeneration)]
    fn set_shared_generation(this: &JsHost, name: &str, generation: f64, ended: bool);
    #[wasm_bindgen(method)]
    fn prefetch(this: &JsHost, url: &str);
    #[wasm_bindgen(method)]
    fn broadcast(this: &JsHost, message: &str);
    #[wasm_bindgen(method)]
    fn sleep(this: &JsHost, ms: u32) -> Promise;
    #[wasm_bindgen(method, js_name = dpopPublicJwk)]
    fn dpop_public_jwk(this: &JsHost, name: &str, create: bool) -> Promise;
    #[wasm_bindgen(method, js_name = dpopSign)]
    fn dpop_sign(this: &JsHost, name: &str, data: &[u8]) -> Promise;
    #[wasm_bindgen(method, js_name = dpopForget)]
    fn dpop_forget(this: &JsHost, name: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn seal(this: &JsHost, name: &str, plaintext: &str) -> Promise;
    #[wasm_bindgen(method)]
    fn unseal(this: &JsHost, name: &str) -> Promise;
    #[wasm_bindgen(method, js_name = unsealClear)]
    fn unseal_clear(this: &JsHost, name: &str) -> Promise;
    #[wasm_bindgen(method, js_name = trace)]
    fn trace_step(this: &JsHost, step: &str) -> bool;
    #[wasm_bindgen(method, js_name = copyBytes)]
    fn copy_bytes(this: &JsHost, from: &JsValue, to: &mut [u8]);

    /// `{ status, body }` as `js/host.ts` resolves it.
    type HttpResult;
    #[wasm_bindgen(method, getter)]
    fn status(this: &HttpResult) -> u16;
    #[wasm_bindgen(method, getter)]
    fn body(this: &HttpResult) -> String;
    #[wasm_bindgen(method, getter, js_name = dpopNonce)]
    fn dpop_nonce(this: &HttpResult) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = retryAfter)]
    fn retry_after(this: &HttpResult) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn date(this: &HttpResult) -> Option<String>;
}

/// One request through `js/host.ts`. The host rejects with `'timeout'`, `'too_large'` or `'network'`, and
/// answers status 0 for a redirect it did not follow; each becomes an error that names the URL.
async fn http(host: &JsHost, method: &str, url: &str, body: Option<String>, auth: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse> {
    let r = match JsFuture::from(host.http(method, url, body, auth.map(String::from), dpop.map(String::from))).await {
        Ok(r) => r,
        Err(reason) => {
            let e = match reason.as_string().as_deref() {
                Some("timeout") => OidcError::new(ErrorCode::NetworkError, "no answer within 30 s: the server is slow or unreachable"),
                Some("too_large") => OidcError::new(ErrorCode::HttpError, crate::host::RESPONSE_TOO_LARGE),
                _ => OidcError::new(
                    ErrorCode::NetworkError,
                    "the request failed before a response arrived: the server is down or unreachable, its CORS does not allow this origin, http was called from an https page (mixed content), or the page's CSP connect-src does not list it",
                ),
            };
            return Err(e.with_context(url));
        }
    };
    let r: HttpResult = r.unchecked_into();
    if r.status() == 0 {
        return Err(OidcError::new(ErrorCode::RedirectRefused, "the server answered with a redirect, which a request carrying a token does not follow").with_context(url));
    }
    Ok(HttpResponse { status: r.status(), body: r.body(), dpop_nonce: r.dpop_nonce(), retry_after: r.retry_after(), date: r.date() })
}

/// Copies a Uint8Array out of JavaScript. (`Uint8Array::to_vec` asserts lengths with a formatted panic
/// message, which would link Rust's formatting machinery into the wasm; the host copies instead.)
fn bytes_of(host: &JsHost, v: &JsValue) -> Vec<u8> {
    let mut out = vec![0u8; js_sys::Uint8Array::new(v).length() as usize];
    host.copy_bytes(v, &mut out);
    out
}

fn crypto_error(_: JsValue) -> OidcError {
    OidcError::new(ErrorCode::CryptoUnavailable, "WebCrypto refused the key or the algorithm")
}

impl Host for JsHost {
    fn now(&self) -> f64 {
        JsHost::now(self)
    }
    fn random32(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.random(&mut b);
        b
    }
    fn prefetch(&self, url: &str) {
        JsHost::prefetch(self, url)
    }
    async fn get(&self, url: &str, authorization: Option<&str>, dpop: Option<&str>) -> Result<HttpResponse> {
        http(self, "GET", url, None, authorization, dpop).await
    }
    async fn post_form(&self, url: &str, body: &str, dpop: Option<&str>) -> Result<HttpResponse> {
        http(self, "POST", url, Some(body.into()), None, dpop).await
    }
    async fn digest(&self, hash: &'static str, data: &[u8]) -> Result<Vec<u8>> {
        let v = JsFuture::from(JsHost::digest(self, hash, data)).await.map_err(crypto_error)?;
        Ok(bytes_of(self, &v))
    }
    fn import_key(&self, p: WebCryptoParams, jwk: &str) -> u32 {
        JsHost::import_key(self, p.name, p.hash, p.named_curve, p.salt_length, jwk)
    }
    async fn verify(&self, key: u32, data: &[u8], sig: &[u8]) -> Result<bool> {
        let v = JsFuture::from(JsHost::verify(self, key, data, sig))
            .await
            .map_err(crypto_error)?;
        Ok(v.as_bool() == Some(true))
    }
    fn storage_get(&self, key: &str) -> Option<String> {
        JsHost::storage_get(self, key)
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        JsHost::storage_set(self, key, value)
    }
    fn storage_remove(&self, key: &str) {
        JsHost::storage_remove(self, key)
    }
    fn storage_keys(&self, prefix: &str) -> Vec<String> {
        JsHost::storage_keys(self, prefix).iter().filter_map(|k| k.as_string()).collect()
    }
    fn replace_url(&self, url: &str) -> bool {
        JsHost::replace_url(self, url)
    }
    /// The release function `navigator.locks.request` handed out.
    type Lock = Option<js_sys::Function>;
    async fn lock(&self, name: &str) -> Self::Lock {
        JsFuture::from(JsHost::lock(self, name)).await.ok().and_then(|f| f.dyn_into().ok())
    }
    fn unlock(&self, lock: Self::Lock) {
        if let Some(release) = lock {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
    fn shared_generation(&self, name: &str) -> (u64, u64) {
        // NaN and negatives (a tampered entry) count as 0; `as` saturates the rest.
        let read = |ended| {
            let v = JsHost::shared_generation(self, name, ended);
            if v >= 0.0 {
                v as u64
            } else {
                0
            }
        };
        (read(false), read(true))
    }
    fn set_shared_generation(&self, name: &str, generation: u64, ended: bool) {
        JsHost::set_shared_generation(self, name, generation as f64, ended)
    }
    fn broadcast(&self, message: &str) {
        JsHost::broadcast(self, message)
    }
    async fn sleep(&self, ms: u32) {
        let _ = JsFuture::from(JsHost::sleep(self, ms)).await;
    }
    async fn dpop_public_jwk(&self, name: &str, create: bool) -> Result<String> {
        JsFuture::from(JsHost::dpop_public_jwk(self, name, create)).await.map_err(crypto_error)?.as_string().ok_or_else(|| crypto_error(JsValue::NULL))
    }
    async fn dpop_sign(&self, name: &str, data: &[u8]) -> Result<Vec<u8>> {
        let v = JsFuture::from(JsHost::dpop_sign(self, name, data)).await.map_err(crypto_error)?;
        Ok(bytes_of(self, &v))
    }
    async fn dpop_forget(&self, name: &str) {
        let _ = JsFuture::from(JsHost::dpop_forget(self, name)).await;
    }
    async fn seal(&self, name: &str, plaintext: &str) -> bool {
        JsFuture::from(JsHost::seal(self, name, plaintext)).await.ok().and_then(|v| v.as_bool()) == Some(true)
    }
    async fn unseal(&self, name: &str) -> Option<String> {
        JsFuture::from(JsHost::unseal(self, name)).await.ok().and_then(|v| v.as_string())
    }
    async fn unseal_clear(&self, name: &str) {
        let _ = JsFuture::from(JsHost::unseal_clear(self, name)).await;
    }
    fn trace(&self, step: &str) -> bool {
        self.trace_step(step)
    }
}

/// Turns a future into a Promise through one shared instantiation of `future_to_promise`: each call
/// site boxes its future instead of stamping out its own copy of the executor glue.
fn promise(f: impl core::future::Future<Output = core::result::Result<JsValue, JsValue>> + 'static) -> Promise {
    let boxed: core::pin::Pin<Box<dyn core::future::Future<Output = core::result::Result<JsValue, JsValue>>>> = Box::pin(f);
    future_to_promise(boxed)
}

/// Errors cross as `[code, message, oauthError, oauthDescription, context]` (absent ones undefined);
/// `js/errors.ts` makes an `OidcError`.
fn to_js(e: OidcError) -> JsValue {
    let opt = |v: Option<String>| v.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s));
    let a = Array::new();
    a.push(&JsValue::from_str(e.code.as_str()));
    a.push(&JsValue::from_str(e.detail));
    a.push(&opt(e.oauth_error));
    a.push(&opt(e.oauth_description));
    a.push(&opt(e.context));
    a.into()
}

/// The client as JavaScript sees it. Every method returns quickly; the async ones return Promises.
#[wasm_bindgen]
pub struct Core {
    inner: Rc<Client<JsHost>>,
}

#[wasm_bindgen]
impl Core {
    /// `config` is the JSON text of the object given to `createClient`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, host: JsHost) -> core::result::Result<Core, JsValue> {
        let config = Config::from_json(config).map_err(to_js)?;
        Ok(Core { inner: Rc::new(Client::new(config, host)) })
    }

    /// Fetches and checks the provider metadata (cached).
    pub fn discover(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.metadata().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// `options` is the JSON text of `{ returnTo?, extraParams? }`; resolves to the authorization URL.
    pub fn login(&self, options: String) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let (return_to, extra) = login_options(&options).map_err(to_js)?;
            c.login(return_to, &extra).await.map(|u| JsValue::from_str(&u)).map_err(to_js)
        })
    }

    /// Resolves to the JSON text `{"user":{...claims},"returnTo":...}`.
    #[wasm_bindgen(js_name = handleCallback)]
    pub fn handle_callback(&self, url: String) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let r = c.handle_callback(&url).await.map_err(to_js)?;
            let mut out = String::from("{\"user\":");
            out.push_str(&r.claims_text);
            if let Some(rt) = r.return_to {
                out.push_str(",\"returnTo\":");
                json::write_str(&mut out, &rt);
            }
            if let Some(acr) = r.acr {
                out.push_str(",\"acr\":");
                json::write_str(&mut out, &acr);
            }
            out.push('}');
            Ok(JsValue::from_str(&out))
        })
    }

    /// The verified ID-token claims as JSON text, or undefined when signed out.
    pub fn user(&self) -> Option<String> {
        self.inner.user()
    }

    /// Grows with every login, refresh and logout of this tab (for the wrapper's events).
    pub fn generation(&self) -> f64 {
        self.inner.generation() as f64
    }

    #[wasm_bindgen(js_name = isAuthenticated)]
    pub fn is_authenticated(&self) -> bool {
        self.inner.is_authenticated()
    }

    /// The name shared by this app's tabs for their lock, generation counter and BroadcastChannel.
    #[wasm_bindgen(js_name = coordinationName)]
    pub fn coordination_name(&self) -> String {
        self.inner.coordination_name()
    }

    /// Forces a refresh (single flight).
    pub fn refresh(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.refresh().await.map(|_| JsValue::UNDEFINED).map_err(to_js) })
    }

    /// Resolves to `[authorization, dpopProof?]` for a request `method url`, or undefined when `url` is
    /// not on an allowed API origin.
    pub fn authorization(&self, url: String, method: String) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let Some((auth, proof)) = c.authorization_for(&url, &method).await.map_err(to_js)? else {
                return Ok(JsValue::UNDEFINED);
            };
            let a = Array::new();
            a.push(&JsValue::from_str(&auth));
            if let Some(p) = proof {
                a.push(&JsValue::from_str(&p));
            }
            Ok(a.into())
        })
    }

    /// The header for `url` when nothing has to wait: a string, `undefined` for a URL off the API origins,
    /// or `null` when `authorization` (refresh, DPoP proof, error) must be awaited instead.
    #[wasm_bindgen(js_name = authorizationNow)]
    pub fn authorization_now(&self, url: &str) -> JsValue {
        match self.inner.authorization_ready(url) {
            None => JsValue::NULL,
            Some(None) => JsValue::UNDEFINED,
            Some(Some(header)) => JsValue::from_str(&header),
        }
    }

    /// After a 401: resolves to whether to retry once (a refresh happened, a newer token exists, or a
    /// resource server asked for a DPoP nonce).
    #[wasm_bindgen(js_name = afterUnauthorized)]
    pub fn after_unauthorized(&self, url: String, used_header: String, www_authenticate: String, dpop_nonce: Option<String>) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            c.after_unauthorized(&url, &used_header, &www_authenticate, dpop_nonce.as_deref()).await.map(JsValue::from_bool).map_err(to_js)
        })
    }

    /// Remembers a `DPoP-Nonce` an API sent (on any response, RFC 9449 §9) for the next proof to `url`.
    #[wasm_bindgen(js_name = rememberDpopNonce)]
    pub fn remember_dpop_nonce(&self, url: &str, nonce: &str) {
        self.inner.remember_dpop_nonce(url, nonce);
    }

    /// Benchmarks only (cargo feature `bench`, never in dist/): verifies `token` exactly as a callback
    /// verifies the ID token — JWS parse, key from the provider's JWKS (fetched once through the host,
    /// then cached), WebCrypto signature, claims with `nonce` — and resolves to the claims JSON text.
    /// No token request, no session change.
    #[cfg(feature = "bench")]
    #[wasm_bindgen(js_name = verifyIdTokenForBenchmark)]
    pub fn verify_id_token_for_benchmark(&self, token: String, nonce: Option<String>) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let meta = c.metadata().await.map_err(to_js)?;
            let nonce = nonce.map(crate::types::Nonce::new);
            let none = crate::types::AccessToken::new(String::new());
            let (_, text) = c.verify_id_token(&meta, &token, nonce.as_ref(), &none).await.map_err(to_js)?;
            Ok(JsValue::from_str(&text))
        })
    }

    /// Learning tools (`trace` on): sends the ID token to an API URL, resolves to `[status, body]`.
    #[wasm_bindgen(js_name = callApiWithIdToken)]
    pub fn call_api_with_id_token(&self, url: String) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let (status, body) = c.call_api_with_id_token(&url).await.map_err(to_js)?;
            let a = Array::new();
            a.push(&JsValue::from_f64(f64::from(status)));
            a.push(&JsValue::from_str(&body));
            Ok(a.into())
        })
    }

    /// `persistSession: 'sealed'`: resolves to whether a sealed session was restored.
    pub fn restore(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.restore().await.map(JsValue::from_bool).map_err(to_js) })
    }

    /// A refresh failure absorbed while the token was still valid, as an error array, or undefined.
    #[wasm_bindgen(js_name = takeBackgroundError)]
    pub fn take_background_error(&self) -> JsValue {
        self.inner.take_background_error().map_or(JsValue::UNDEFINED, to_js)
    }

    /// A message from another tab; returns what changed: "", "signedIn", "refreshed" or "ended".
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(&self, text: &str) -> String {
        use crate::refresh::Change;
        match self.inner.on_message(text) {
            Change::None => "",
            Change::SignedIn => "signedIn",
            Change::Refreshed => "refreshed",
            Change::Ended => "ended",
        }
        .into()
    }

    #[wasm_bindgen(js_name = askOtherTabs)]
    pub fn ask_other_tabs(&self) {
        self.inner.ask_other_tabs()
    }

    /// When a session without a refresh token ends (Unix seconds), for the wrapper's timer; undefined otherwise.
    pub fn deadline(&self) -> Option<f64> {
        self.inner.deadline()
    }

    /// Ends a session without a refresh token whose access token expired; resolves to whether it did.
    pub fn expire(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { Ok(JsValue::from_bool(c.expire().await)) })
    }

    /// This tab's BroadcastChannel is open (see `Client::listening`).
    pub fn listening(&self) {
        self.inner.listening()
    }

    /// A new tab's hand-off wait is over (see `Client::joined`).
    pub fn joined(&self) {
        self.inner.joined()
    }

    /// Resolves to the UserInfo claims as JSON text (their `sub` checked against the ID token's).
    #[wasm_bindgen(js_name = userInfo)]
    pub fn user_info(&self) -> Promise {
        let c = self.inner.clone();
        promise(async move { c.userinfo().await.map(|t| JsValue::from_str(&t)).map_err(to_js) })
    }

    /// Ends the session everywhere; resolves to the URL to navigate to (the end-session endpoint, else the
    /// checked `returnTo`), or undefined.
    pub fn logout(&self, post_logout_redirect_uri: Option<String>, local: bool) -> Promise {
        let c = self.inner.clone();
        promise(async move {
            let u = c.logout(post_logout_redirect_uri, local).await.map_err(to_js)?;
            Ok(u.map_or(JsValue::UNDEFINED, |u| JsValue::from_str(&u)))
        })
    }
}

/// `returnTo` and `extraParams` of `login()`.
type LoginOptions = (Option<String>, Vec<(String, String)>);

fn login_options(text: &str) -> Result<LoginOptions> {
    let bad = || OidcError::new(ErrorCode::InvalidConfig, "login options: returnTo must be a string and extraParams an object of strings");
    let v = Json::parse_object(text, ErrorCode::InvalidConfig)?;
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
