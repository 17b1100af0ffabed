//! The client configuration, read once from the object the app passes to `createClient` and checked
//! before any request is made, so a typo fails at start-up with `invalid_config` and not mid-login.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{fail, ErrorCode::InvalidConfig, OidcError, Result};
use crate::json::Json;
use crate::types::{ClientId, IssuerUrl, RedirectUri};
use crate::url;

/// Default leeway for `exp`, `iat` and `nbf`: one minute, as auth0-spa-js uses.
pub const DEFAULT_CLOCK_TOLERANCE: f64 = 60.0;
/// Default time before `expires_in` runs out at which the access token is refreshed.
pub const DEFAULT_REFRESH_MARGIN: f64 = 30.0;
/// Default lead time of the `sessionExpiring` event before a session that cannot be extended ends.
pub const DEFAULT_SESSION_EXPIRING: f64 = 60.0;

pub struct Config {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    /// Space-separated scopes; always contains `openid`.
    pub scope: String,
    pub audience: Option<String>,
    /// The authorization request's RFC 8707 resources: `resource`, then each API's not already named.
    pub resource: Vec<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub clock_tolerance: f64,
    /// Origins (normalised by `url::origin_of`) that may receive the access token. Default: the app's own.
    pub api_origins: Vec<String>,
    pub refresh_margin: f64,
    /// `sessionExpiringSeconds`: how long before a session that cannot be extended ends the app is told.
    pub session_expiring: f64,
    /// RFC 9449: bind the tokens to a non-extractable key (`dpop()`).
    dpop: bool,
    /// `persistSession: 'sealed'`: keep the refresh token across reloads, encrypted under a
    /// non-extractable key (`sealed()`).
    persist_sealed: bool,
    /// Report each step to the app's `trace` callback (learning tools), tokens truncated (`trace()`).
    trace: bool,
    /// The page's origin (`location.origin`, set by the wrapper): where `logout({ returnTo: '/path' })` goes.
    pub app_origin: Option<String>,
    /// Refuse a login whose ID token's `acr` is not one of the `acr_values` it asked for.
    pub require_acr: bool,
    /// `metadata`: discovery members that add to or override the provider's document (an object).
    pub metadata: Option<Json>,
    /// `logoutUrl`: the provider's own logout URL, with `{client_id}`, `{post_logout_redirect_uri}` and
    /// `{id_token_hint}` placeholders, used instead of an `end_session_endpoint`.
    pub logout_url: Option<String>,
    /// `multiTenant` (Entra ID): `Some(allowed tenants)`, empty for any tenant; `None`: off.
    pub multi_tenant: Option<Vec<String>>,
    /// `checkSession: 'redirect'`: on a load with no session, once per tab session, a top-level
    /// `prompt=none` request to the provider (see `session_check.rs`).
    pub check_session: bool,
    /// `apis`: the APIs `fetchWithToken` sends a token to, each by its URL (origin or origin + path prefix).
    pub apis: Vec<Api>,
    /// The `resource` the login's own token requests name (code exchange, its refreshes): the first of
    /// `resource` when the authorization request names more than one (RFC 8707 §2.2: one per token).
    pub token_resource: Option<String>,
    /// `exposeAccessToken`: `getAccessToken()` may hand the token string to JavaScript.
    pub expose_access_token: bool,
}

/// One entry of `apis` (see `bearer::select_api`). With none of `resource`, `audience` and `scope` it gets the
/// login's access token; otherwise a token of its own, asked for with these by a refresh grant.
pub struct Api {
    /// Normalised by `url::normalize_api_url`: an origin, or an origin and a path prefix without a final `/`.
    pub url: String,
    pub resource: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
}

impl Api {
    /// Whether this API gets a token of its own (else the login's).
    pub fn own_token(&self) -> bool {
        self.resource.is_some() || self.audience.is_some() || self.scope.is_some()
    }
}

/// An optional member that must be a non-empty string: `Some(None)` when absent or null, `None` when it has
/// another type or is empty.
fn optional_str(v: &Json, name: &str) -> Option<Option<String>> {
    match v.get(name) {
        None | Some(Json::Null) => Some(None),
        Some(Json::Str(s)) if !s.is_empty() => Some(Some(s.clone())),
        _ => None,
    }
}

/// Reads `apis`: every entry an object with a `url` and optional non-empty strings `resource`, `audience`,
/// `scope`; urls normalised and distinct. A bad entry is refused with its url (or `apis`) as context.
fn apis_of(v: &Json) -> Result<Vec<Api>> {
    let mut apis: Vec<Api> = Vec::new();
    let list = match v.get("apis") {
        None | Some(Json::Null) => return Ok(apis),
        Some(list) => list.as_array(),
    };
    for entry in list.unwrap_or(&[Json::Null]) {
        let opt = |name: &str| optional_str(entry, name);
        let raw = entry.str_member("url");
        match (raw.and_then(url::normalize_api_url), opt("resource"), opt("audience"), opt("scope")) {
            (Some(url), Some(resource), Some(audience), Some(scope)) if !apis.iter().any(|a| a.url == url) => apis.push(Api { url, resource, audience, scope }),
            _ => {
                return Err(OidcError::new(
                    InvalidConfig,
                    "`apis` must be an array of { url, resource?, audience?, scope? }: url an origin or an origin and a path as the browser writes them (ASCII host; no query, fragment or . segments), each url once, the others non-empty strings",
                )
                .with_context(raw.unwrap_or("apis")))
            }
        }
    }
    Ok(apis)
}

/// The placeholders a `logoutUrl` may hold; the ID token is the only token that may go in a URL.
pub const LOGOUT_URL_PLACEHOLDERS: [&str; 3] = ["{client_id}", "{post_logout_redirect_uri}", "{id_token_hint}"];

fn check_logout_url(u: &str) -> bool {
    if !url::is_secure_or_loopback(u) || u.contains('#') {
        return false;
    }
    // Every `{` opens one of the placeholders; no `}` stands alone.
    let mut rest = u;
    while let Some(i) = rest.find(['{', '}']) {
        let Some(tail) = rest.get(i..) else { return false };
        match LOGOUT_URL_PLACEHOLDERS.iter().find(|p| tail.starts_with(**p)) {
            Some(p) => rest = tail.get(p.len()..).unwrap_or(""),
            None => return false,
        }
    }
    true
}

/// The optional features live in the full module only (cargo features `dpop`, `sealed`, `trace`; `full` is
/// all three): the default module has none of their code. Each accessor is `false` where its feature is
/// not built, so the code behind it is left out.
impl Config {
    pub fn dpop(&self) -> bool {
        cfg!(feature = "dpop") && self.dpop
    }
    pub fn sealed(&self) -> bool {
        cfg!(feature = "sealed") && self.persist_sealed
    }
    pub fn trace(&self) -> bool {
        cfg!(feature = "trace") && self.trace
    }

    pub fn from_json(text: &str) -> Result<Config> {
        let v = Json::parse_object(text, InvalidConfig)?;
        let req = |name: &'static str, detail: &'static str| -> Result<String> {
            match v.str_member(name) {
                Some(s) if !s.is_empty() => Ok(s.into()),
                _ => fail(InvalidConfig, detail),
            }
        };
        let issuer = req("issuer", "`issuer` is required: the provider's issuer URL")?;
        if !url::is_secure_or_loopback(&issuer) || issuer.contains(['?', '#']) {
            return fail(InvalidConfig, "`issuer` must be an https URL (http only on 127.0.0.1/localhost), without query or fragment");
        }
        let client_id = req("clientId", "`clientId` is required")?;
        let redirect_uri = req("redirectUri", "`redirectUri` is required: the exact URI registered at the provider")?;
        if url::origin_of(&redirect_uri).is_none() || redirect_uri.contains('#') {
            return fail(InvalidConfig, "`redirectUri` must be an absolute http(s) URL without a fragment");
        }
        let opt = |name: &'static str| -> Result<Option<String>> {
            optional_str(&v, name).ok_or_else(|| OidcError::new(InvalidConfig, "an optional setting has the wrong type (expected a non-empty string)"))
        };
        let mut scope = opt("scope")?.unwrap_or_else(|| "openid".into());
        if !scope.split(' ').any(|s| s == "openid") {
            scope.insert_str(0, "openid ");
        }
        let resource = match v.get("resource") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Str(s)) => vec![s.clone()],
            Some(r) => match r.as_array().and_then(|a| a.iter().map(|x| x.as_str().map(String::from)).collect()) {
                Some(list) => list,
                None => return fail(InvalidConfig, "`resource` must be a URL string or an array of them"),
            },
        };
        let seconds = |name: &str, default: f64, max: f64, detail: &'static str| -> Result<f64> {
            match v.get(name) {
                None | Some(Json::Null) => Ok(default),
                Some(Json::Num(n)) if (0.0..=max).contains(n) => Ok(*n),
                _ => fail(InvalidConfig, detail),
            }
        };
        let clock_tolerance = seconds("clockToleranceSeconds", DEFAULT_CLOCK_TOLERANCE, 600.0, "`clockToleranceSeconds` must be a number from 0 to 600")?;
        let refresh_margin = seconds("refreshMarginSeconds", DEFAULT_REFRESH_MARGIN, 3600.0, "`refreshMarginSeconds` must be a number from 0 to 3600")?;
        let session_expiring = seconds("sessionExpiringSeconds", DEFAULT_SESSION_EXPIRING, 86400.0, "`sessionExpiringSeconds` must be a number from 0 to 86400")?;
        let apis = apis_of(&v)?;
        // `appOrigin` is set by the TypeScript wrapper (location.origin), not by apps. With `apis` the app
        // has said where tokens go: no default.
        let origins: Vec<&str> = match v.get("apiOrigins") {
            None | Some(Json::Null) if !apis.is_empty() => Vec::new(),
            None | Some(Json::Null) => v.str_member("appOrigin").into_iter().collect(),
            Some(_) => match v.str_array_member("apiOrigins") {
                Some(list) => list,
                None => return fail(InvalidConfig, "`apiOrigins` must be an array of origins such as https://api.example.com"),
            },
        };
        let dpop = match v.get("dpop") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(Json::Bool(true)) => true,
            _ => return fail(InvalidConfig, "`dpop` must be true or false"),
        };
        let persist_sealed = match v.get("persistSession") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(Json::Str(s)) if s == "sealed" => true,
            Some(Json::Str(s)) if s == "none" => false,
            _ => return fail(InvalidConfig, "`persistSession` must be 'sealed' or 'none'"),
        };
        let trace = matches!(v.get("trace"), Some(Json::Bool(true)));
        // The module must have the features the config asks for (js/core.ts loads the full one for them).
        if (dpop && !cfg!(feature = "dpop")) || (persist_sealed && !cfg!(feature = "sealed")) || (trace && !cfg!(feature = "trace")) {
            return fail(InvalidConfig, "dpop, persistSession: 'sealed' and trace need the full module (oidc_wasm_full_bg.wasm)");
        }
        let metadata = match v.get("metadata") {
            None | Some(Json::Null) => None,
            Some(m @ Json::Obj(_)) => Some(m.clone()),
            Some(_) => return fail(InvalidConfig, "`metadata` must be an object of discovery members"),
        };
        let logout_url = match v.get("logoutUrl") {
            None | Some(Json::Null) => None,
            Some(Json::Str(u)) if check_logout_url(u) => Some(u.clone()),
            Some(Json::Str(u)) => {
                return Err(OidcError::new(
                    InvalidConfig,
                    "`logoutUrl` must be an https URL whose only {…} are {client_id}, {post_logout_redirect_uri} and {id_token_hint}",
                )
                .with_context(u))
            }
            Some(_) => return fail(InvalidConfig, "`logoutUrl` must be a string"),
        };
        let multi_tenant = match v.get("multiTenant") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => None,
            Some(Json::Bool(true)) => Some(Vec::new()),
            Some(m @ Json::Obj(_)) => match m.get("tenants") {
                None => Some(Vec::new()),
                Some(_) => match m.str_array_member("tenants") {
                    Some(list) if list.iter().all(|t| crate::id_token::is_tenant_id(t)) => Some(list.into_iter().map(String::from).collect()),
                    _ => return fail(InvalidConfig, "`multiTenant.tenants` must be an array of tenant ids"),
                },
            },
            Some(_) => return fail(InvalidConfig, "`multiTenant` must be true or { tenants: [...] }"),
        };
        let require_acr = match v.get("requireAcr") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(Json::Bool(true)) => true,
            _ => return fail(InvalidConfig, "`requireAcr` must be true or false"),
        };
        let check_session = match v.get("checkSession") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(Json::Str(s)) if s == "redirect" => true,
            Some(Json::Str(s)) if s == "off" => false,
            _ => return fail(InvalidConfig, "`checkSession` must be 'redirect' or 'off'"),
        };
        let mut api_origins = Vec::new();
        for o in origins {
            match url::normalize_origin(o) {
                Some(norm) => api_origins.push(norm),
                None => {
                    return Err(OidcError::new(
                        InvalidConfig,
                        "an `apiOrigins` entry is not an origin a request can have: write scheme://host[:port] with an ASCII host (punycode, as new URL(entry).origin gives), without a path",
                    )
                    .with_context(o))
                }
            }
        }
        // Anything but `true` keeps the token in the core (getAccessToken then names the option).
        let expose_access_token = matches!(v.get("exposeAccessToken"), Some(Json::Bool(true)));
        // RFC 8707 §2.1: the authorization request names the login's resources and then every API's, so the
        // grant covers them all; the login's own token requests then name one (§2.2).
        let mut resource = resource;
        let own = resource.len();
        for r in apis.iter().filter_map(|a| a.resource.as_ref()) {
            if !resource.contains(r) {
                resource.push(r.clone());
            }
        }
        let token_resource = if resource.len() > 1 { resource.first().filter(|_| own > 0).cloned() } else { None };
        Ok(Config {
            issuer: IssuerUrl::new(issuer),
            client_id: ClientId::new(client_id),
            redirect_uri: RedirectUri::new(redirect_uri),
            scope,
            audience: opt("audience")?,
            resource,
            post_logout_redirect_uri: opt("postLogoutRedirectUri")?,
            clock_tolerance,
            api_origins,
            refresh_margin,
            session_expiring,
            dpop,
            persist_sealed,
            trace,
            app_origin: v.str_member("appOrigin").and_then(url::normalize_origin),
            require_acr,
            metadata,
            logout_url,
            multi_tenant,
            check_session,
            apis,
            token_resource,
            expose_access_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Result<Config> {
        Config::from_json(&format!(
            r#"{{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/callback"{extra}}}"#
        ))
    }

    #[test]
    fn a_feature_the_module_lacks_is_refused_and_one_it_has_accepted() {
        for (option, feature) in [(r#","dpop":true"#, cfg!(feature = "dpop")), (r#","persistSession":"sealed""#, cfg!(feature = "sealed")), (r#","trace":true"#, cfg!(feature = "trace"))] {
            match cfg(option) {
                Ok(c) => assert!(feature && (c.dpop() || c.sealed() || c.trace()), "{option} accepted without its feature"),
                Err(e) => {
                    assert!(!feature, "{option} refused although built");
                    assert_eq!(e.code, InvalidConfig);
                    assert!(e.detail.contains("full module"), "{}", e.detail);
                }
            }
        }
        assert!(cfg(r#","dpop":false,"persistSession":"none","trace":false"#).is_ok(), "off is always accepted");
    }

    #[test]
    fn check_session_is_redirect_or_off() {
        assert!(!cfg("").unwrap().check_session, "off unless asked for");
        assert!(cfg(r#","checkSession":"redirect""#).unwrap().check_session);
        assert!(!cfg(r#","checkSession":"off""#).unwrap().check_session);
        for bad in [r#","checkSession":true"#, r#","checkSession":"iframe""#, r#","checkSession":1"#] {
            assert_eq!(cfg(bad).err().map(|e| e.code), Some(InvalidConfig), "{bad}");
        }
    }

    #[test]
    fn defaults() {
        let c = cfg("").unwrap();
        assert_eq!(c.scope, "openid");
        assert_eq!(c.clock_tolerance, 60.0);
        assert!(c.resource.is_empty());
        assert_eq!(c.session_expiring, 60.0);
        assert_eq!(cfg(r#","sessionExpiringSeconds":300"#).unwrap().session_expiring, 300.0);
        for bad in ["-1", "86401", "\"60\""] {
            assert!(cfg(&format!(r#","sessionExpiringSeconds":{bad}"#)).is_err(), "{bad}");
        }
    }

    #[test]
    fn openid_scope_is_always_requested() {
        assert_eq!(cfg(r#","scope":"profile email""#).unwrap().scope, "openid profile email");
        assert_eq!(cfg(r#","scope":"openid profile""#).unwrap().scope, "openid profile");
    }

    #[test]
    fn rejects_unusable_settings() {
        let code = |r: Result<Config>| r.err().map(|e| e.code);
        assert_eq!(code(Config::from_json("{}")), Some(InvalidConfig));
        assert_eq!(
            code(Config::from_json(r#"{"issuer":"http://op.example","clientId":"a","redirectUri":"https://a/cb"}"#)),
            Some(InvalidConfig),
            "plain http issuer off loopback"
        );
        assert_eq!(code(cfg(r#","clockToleranceSeconds":"60""#)), Some(InvalidConfig));
        assert_eq!(code(cfg(r#","resource":[1]"#)), Some(InvalidConfig));
        assert!(cfg(r#","resource":["https://api.example"],"clockToleranceSeconds":5"#).is_ok());
    }

    #[test]
    fn provider_options_are_checked() {
        let c = cfg(r#","metadata":{"revocation_endpoint":"https://op.example/revoke"},"logoutUrl":"https://op.example/v2/logout?client_id={client_id}&returnTo={post_logout_redirect_uri}","multiTenant":{"tenants":["9188040d-6c67-4c5b-b112-36a304b66dad"]}"#).unwrap();
        assert!(c.metadata.is_some());
        assert_eq!(c.multi_tenant, Some(vec!["9188040d-6c67-4c5b-b112-36a304b66dad".to_string()]));
        assert_eq!(cfg(r#","multiTenant":true"#).unwrap().multi_tenant, Some(Vec::new()));
        assert_eq!(cfg("").unwrap().multi_tenant, None, "off unless asked for");
        for bad in [
            r#","metadata":"https://op.example""#,
            r#","logoutUrl":"http://op.example/logout""#,
            r#","logoutUrl":"https://op.example/logout?t={access_token}""#,
            r#","logoutUrl":"https://op.example/logout?t={refresh_token}""#,
            r#","logoutUrl":"https://op.example/logout?x={client_id""#,
            r#","multiTenant":{"tenants":["a/b"]}"#,
            r#","multiTenant":"yes""#,
        ] {
            assert_eq!(cfg(bad).err().map(|e| e.code), Some(InvalidConfig), "{bad}");
        }
    }

    #[test]
    fn api_origins_default_to_the_app_and_must_be_origins() {
        assert_eq!(cfg(r#","appOrigin":"https://app.example""#).unwrap().api_origins, vec!["https://app.example"]);
        let c = cfg(r#","appOrigin":"https://app.example","apiOrigins":["https://API.example:8443","http://127.0.0.1:4000/","https://orders.example:443"]"#).unwrap();
        assert_eq!(c.api_origins, vec!["https://api.example:8443", "http://127.0.0.1:4000", "https://orders.example"]);
        for bad in [r#"["https://api.example/v1"]"#, r#"["api.example"]"#, r#""https://api.example""#, "[1]"] {
            assert!(cfg(&format!(r#","apiOrigins":{bad}"#)).is_err(), "{bad}");
        }
        // An entry that could never match a request is refused by name, not accepted and silently ignored.
        let e = cfg(r#","apiOrigins":["https://api.example","https://bücher.example"]"#).err().unwrap();
        assert_eq!((e.code, e.context.as_deref()), (InvalidConfig, Some("https://bücher.example")));
        assert_eq!(cfg("").unwrap().refresh_margin, 30.0);
        assert!(cfg(r#","refreshMarginSeconds":-1"#).is_err());
    }

    #[test]
    fn apis_are_checked_entry_by_entry_and_named_when_refused() {
        let c = cfg(r#","appOrigin":"https://app.example","apis":[{"url":"https://Orders.example:443/"},{"url":"https://example.com/billing/v1/","resource":"https://billing.example","scope":"billing:read"},{"url":"https://graph.example","audience":"graph"}]"#).unwrap();
        let urls: Vec<&str> = c.apis.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(urls, vec!["https://orders.example", "https://example.com/billing/v1", "https://graph.example"], "written as the browser writes them");
        assert!(!c.apis[0].own_token() && c.apis[1].own_token() && c.apis[2].own_token());
        assert!(c.api_origins.is_empty(), "with apis, no default apiOrigins");
        assert_eq!(c.resource, vec!["https://billing.example"], "the authorization request asks for the APIs' resources");
        assert_eq!(c.token_resource, None, "one resource: the login's token requests name none");
        let c = cfg(r#","resource":"https://orders.example","apis":[{"url":"https://b.example","resource":"https://b.example"},{"url":"https://c.example","resource":"https://orders.example"}]"#).unwrap();
        assert_eq!(c.resource, vec!["https://orders.example", "https://b.example"], "each once");
        assert_eq!(c.token_resource.as_deref(), Some("https://orders.example"), "several: the login's token names its own");
        assert_eq!(cfg(r#","apis":[],"appOrigin":"https://app.example""#).unwrap().api_origins, vec!["https://app.example"], "an empty list is no list");
        for (bad, context) in [
            (r#"[{"url":"https://a.example/v1?x=1"}]"#, "https://a.example/v1?x=1"),
            (r#"[{"url":"https://a.example/v1/../v2"}]"#, "https://a.example/v1/../v2"),
            (r#"[{"url":"https://a.example/%2e/x"}]"#, "https://a.example/%2e/x"),
            (r#"[{"url":"https://a.example/a b"}]"#, "https://a.example/a b"),
            (r#"[{"url":"https://a.example/%zz"}]"#, "https://a.example/%zz"),
            (r#"[{"url":"https://bücher.example"}]"#, "https://bücher.example"),
            (r#"[{"url":"api.example"}]"#, "api.example"),
            (r#"[{"url":"https://a.example","resource":""}]"#, "https://a.example"),
            (r#"[{"url":"https://a.example","scope":7}]"#, "https://a.example"),
            (r#"[{"url":"https://a.example/"},{"url":"https://A.example"}]"#, "https://A.example"),
            (r#"[{"resource":"x"}]"#, "apis"),
            (r#"{"url":"https://a.example"}"#, "apis"),
        ] {
            let e = cfg(&format!(r#","apis":{bad}"#)).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!((e.code, e.context.as_deref()), (InvalidConfig, Some(context)), "{bad}");
        }
    }

    #[test]
    fn expose_access_token_is_an_opt_in() {
        assert!(!cfg("").unwrap().expose_access_token, "off by default");
        assert!(cfg(r#","exposeAccessToken":true"#).unwrap().expose_access_token);
        assert!(!cfg(r#","exposeAccessToken":"true""#).unwrap().expose_access_token, "only true opts in");
    }
}
