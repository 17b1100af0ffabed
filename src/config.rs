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

pub struct Config {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    /// Space-separated scopes; always contains `openid`.
    pub scope: String,
    pub audience: Option<String>,
    pub resource: Vec<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub clock_tolerance: f64,
    /// Origins (normalised by `url::origin_of`) that may receive the access token. Default: the app's own.
    pub api_origins: Vec<String>,
    pub refresh_margin: f64,
    /// RFC 9449: bind the tokens to a non-extractable key.
    pub dpop: bool,
    /// `persistSession: 'sealed'`: keep the refresh token across reloads, encrypted under a
    /// non-extractable key.
    pub persist_sealed: bool,
    /// Report each step to the app's `trace` callback (learning tools), tokens truncated.
    pub trace: bool,
    /// The page's origin (`location.origin`, set by the wrapper): where `logout({ returnTo: '/path' })` goes.
    pub app_origin: Option<String>,
    /// Refuse a login whose ID token's `acr` is not one of the `acr_values` it asked for.
    pub require_acr: bool,
}

impl Config {
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
            match v.get(name) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::Str(s)) if !s.is_empty() => Ok(Some(s.clone())),
                _ => fail(InvalidConfig, "an optional setting has the wrong type (expected a non-empty string)"),
            }
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
        // `appOrigin` is set by the TypeScript wrapper (location.origin), not by apps.
        let origins: Vec<&str> = match v.get("apiOrigins") {
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
        let require_acr = match v.get("requireAcr") {
            None | Some(Json::Null) | Some(Json::Bool(false)) => false,
            Some(Json::Bool(true)) => true,
            _ => return fail(InvalidConfig, "`requireAcr` must be true or false"),
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
            dpop,
            persist_sealed,
            trace,
            app_origin: v.str_member("appOrigin").and_then(url::normalize_origin),
            require_acr,
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
    fn defaults() {
        let c = cfg("").unwrap();
        assert_eq!(c.scope, "openid");
        assert_eq!(c.clock_tolerance, 60.0);
        assert!(c.resource.is_empty());
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
}
