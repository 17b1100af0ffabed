//! The token endpoint: the code exchange (RFC 6749 §4.1.3 with RFC 7636 §4.5), the refresh request
//! (RFC 6749 §6), and the checks on what comes back (RFC 6749 §5.1, §5.2; OIDC Core §3.1.3.3).
//! A public client: it authenticates with nothing but its `client_id` (RFC 6749 §2.1; RFC 10017 §6.3.3.1).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::{Api, Config};
use crate::error::{fail, ErrorCode::*, OidcError, Result};
use crate::json::Json;
use crate::types::{AccessToken, AuthorizationCode, PkceCodeVerifier, RefreshToken, TokenSet};
use crate::url::Form;

pub const MAX_TOKEN_RESPONSE_BYTES: usize = 256 * 1024;

/// The form body of the authorization-code grant.
pub fn code_exchange_body(config: &Config, code: &AuthorizationCode, verifier: &PkceCodeVerifier) -> String {
    let mut f = Form::new();
    f.pair("grant_type", "authorization_code")
        .pair("code", code.as_str())
        .pair("redirect_uri", config.redirect_uri.as_str())
        .pair("client_id", config.client_id.as_str())
        .pair("code_verifier", verifier.as_str());
    if let Some(r) = &config.token_resource {
        f.pair("resource", r);
    }
    f.into_string()
}

/// The form body of the refresh-token grant: for the login's token (with its `resource` when the login asked
/// for several, RFC 8707 §2.2), or for an API's own token with that API's `resource` (RFC 8707 §2.2),
/// `audience` (Auth0) and `scope` (RFC 6749 §6; Entra ID: one resource per token).
pub fn refresh_body(config: &Config, refresh_token: &RefreshToken, api: Option<&Api>) -> String {
    let mut f = Form::new();
    f.pair("grant_type", "refresh_token")
        .pair("refresh_token", refresh_token.as_str())
        .pair("client_id", config.client_id.as_str());
    let (resource, audience, scope) = match api {
        None => (config.token_resource.as_ref(), None, None),
        Some(a) => (a.resource.as_ref(), a.audience.as_ref(), a.scope.as_ref()),
    };
    for (name, value) in [("resource", resource), ("audience", audience), ("scope", scope)] {
        if let Some(v) = value {
            f.pair(name, v);
        }
    }
    f.into_string()
}

/// The `refresh_token` of a token response that was refused, if it can be read at all: to revoke it.
pub fn refresh_token_in(body: &str) -> Option<RefreshToken> {
    if body.len() > MAX_TOKEN_RESPONSE_BYTES {
        return None;
    }
    let v = Json::parse_object(body, TokenResponseInvalid).ok()?;
    v.str_member("refresh_token").filter(|t| !t.is_empty()).map(RefreshToken::new)
}

/// How long the refresh token of a token response works, when the provider says so — a hard limit no
/// refresh extends: Keycloak's `refresh_expires_in` (its SSO session's idle or maximum lifetime; 0 for an
/// offline token: no limit stated), or `refresh_token_expires_in` (GitHub, LinkedIn, Google's time-limited
/// grants). Seconds; `None` when neither is a positive number. No other member or claim is read.
pub fn refresh_lifetime(body: &str) -> Option<f64> {
    let v = Json::parse_object(body, TokenResponseInvalid).ok()?;
    ["refresh_expires_in", "refresh_token_expires_in"].iter().find_map(|m| v.get(m).and_then(Json::as_f64).filter(|s| *s > 0.0))
}

/// Turns an HTTP response of the token endpoint into tokens or a typed error. `dpop` says whether the
/// request carried a DPoP proof: then the token must be a DPoP token (RFC 9449 §5), else a Bearer one.
pub fn process_token_response(status: u16, body: &str, dpop: bool) -> Result<TokenSet> {
    if body.len() > MAX_TOKEN_RESPONSE_BYTES {
        return fail(TokenResponseInvalid, "the token response is too large");
    }
    if status != 200 {
        // RFC 6749 §5.2: 400 (or 401) with a JSON `error`.
        let error = Json::parse_object(body, HttpError).ok().and_then(|v| {
            let e = v.str_member("error")?.to_string();
            Some((e, v.str_member("error_description").map(String::from)))
        });
        return match error {
            Some((e, d)) if (400..500).contains(&status) => Err(OidcError {
                code: TokenError,
                detail: "the token endpoint refused the request",
                oauth_error: Some(e),
                oauth_description: d,
                context: None,
            }),
            _ => fail(HttpError, "the token endpoint answered with an unexpected HTTP status"),
        };
    }
    let v = Json::parse_object(body, TokenResponseInvalid)?;
    let access_token = match v.str_member("access_token") {
        Some(t) if !t.is_empty() => AccessToken::new(t),
        _ => return fail(TokenResponseInvalid, "the token response has no access_token"),
    };
    // RFC 6749 §5.1 and §7.1: token_type is case-insensitive. With DPoP the provider must have bound the
    // token (a Bearer token here would be a silent downgrade, RFC 9449 §5); without it, Bearer only.
    let expected = if dpop { "dpop" } else { "bearer" };
    match v.str_member("token_type") {
        Some(t) if t.eq_ignore_ascii_case(expected) => {}
        _ => return fail(TokenResponseInvalid, "the token_type is not the one requested (Bearer, or DPoP with dpop: true)"),
    }
    // expires_in is RECOMMENDED, a number of seconds. A string of digits is tolerated (older Azure AD
    // endpoints send one); anything else is an error rather than a guess.
    let expires_in = match v.get("expires_in") {
        None | Some(Json::Null) => None,
        Some(Json::Num(n)) if *n >= 0.0 => Some(*n),
        Some(Json::Str(s)) if !s.is_empty() && s.len() < 12 && s.bytes().all(|b| b.is_ascii_digit()) => {
            Some(s.bytes().fold(0.0, |acc, b| acc * 10.0 + f64::from(b - b'0')))
        }
        _ => return fail(TokenResponseInvalid, "expires_in is not a number of seconds"),
    };
    let opt_str = |name: &str| -> Result<Option<String>> {
        match v.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Str(s)) => Ok(if s.is_empty() { None } else { Some(s.clone()) }),
            _ => fail(TokenResponseInvalid, "a token response member has the wrong type"),
        }
    };
    Ok(TokenSet {
        access_token,
        expires_in,
        refresh_token: opt_str("refresh_token")?.map(RefreshToken::new),
        id_token: opt_str("id_token")?,
        scope: opt_str("scope")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::from_json(r#"{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/cb"}"#).ok().unwrap()
    }

    fn code(status: u16, body: &str) -> Option<crate::error::ErrorCode> {
        process_token_response(status, body, false).err().map(|e| e.code)
    }

    #[test]
    fn bodies() {
        let b = code_exchange_body(&cfg(), &AuthorizationCode::new("c/1"), &PkceCodeVerifier::new("v"));
        assert_eq!(b, "grant_type=authorization_code&code=c%2F1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&client_id=spa&code_verifier=v");
        assert_eq!(refresh_body(&cfg(), &RefreshToken::new("r"), None), "grant_type=refresh_token&refresh_token=r&client_id=spa");
    }

    #[test]
    fn an_apis_refresh_asks_for_its_resource_audience_and_scope() {
        let c = Config::from_json(r#"{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/cb","resource":"https://a.example","apis":[{"url":"https://b.example","resource":"https://b.example/","audience":"b","scope":"b:read b:write"}]}"#).ok().unwrap();
        let rt = RefreshToken::new("r");
        let api = c.apis.first();
        assert_eq!(refresh_body(&c, &rt, api), "grant_type=refresh_token&refresh_token=r&client_id=spa&resource=https%3A%2F%2Fb.example%2F&audience=b&scope=b%3Aread%20b%3Awrite");
        assert_eq!(refresh_body(&c, &rt, None), "grant_type=refresh_token&refresh_token=r&client_id=spa&resource=https%3A%2F%2Fa.example", "the login's names its own resource");
        assert!(code_exchange_body(&c, &AuthorizationCode::new("c"), &PkceCodeVerifier::new("v")).ends_with("&resource=https%3A%2F%2Fa.example"));
    }

    #[test]
    fn the_refresh_tokens_lifetime_is_read_only_where_the_provider_states_it() {
        let with = |m: &str| refresh_lifetime(&format!(r#"{{"access_token":"at","token_type":"Bearer"{m}}}"#));
        assert_eq!(with(r#","refresh_expires_in":1800"#), Some(1800.0), "Keycloak");
        assert_eq!(with(r#","refresh_token_expires_in":86400"#), Some(86400.0), "GitHub, LinkedIn, Google");
        assert_eq!(with(r#","refresh_expires_in":0"#), None, "Keycloak's offline token: no limit stated");
        assert_eq!(with(""), None);
        assert_eq!(with(r#","refresh_expires_in":"1800""#), None, "not a number: not a statement");
        assert_eq!(with(r#","refresh_expires_in":-5"#), None);
        assert_eq!(refresh_lifetime("not json"), None);
    }

    #[test]
    fn accepts_a_full_response() {
        let t = process_token_response(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt","id_token":"a.b.c","scope":"openid"}"#, false).ok().unwrap();
        assert_eq!(t.access_token.as_str(), "at");
        assert_eq!(t.expires_in, Some(300.0));
        assert_eq!(t.refresh_token.map(|r| r.as_str().to_string()).as_deref(), Some("rt"));
        assert_eq!(t.id_token.as_deref(), Some("a.b.c"));
    }

    #[test]
    fn empty_optional_members_count_as_absent() {
        let t = process_token_response(200, r#"{"access_token":"at","token_type":"Bearer","scope":"","refresh_token":""}"#, false).ok().unwrap();
        assert!(t.scope.is_none() && t.refresh_token.is_none());
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"Bearer","scope":7}"#), Some(TokenResponseInvalid));
    }

    #[test]
    fn token_type_is_case_insensitive() {
        assert!(process_token_response(200, r#"{"access_token":"at","token_type":"bEARER"}"#, false).is_ok());
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"mac"}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, r#"{"access_token":"at"}"#), Some(TokenResponseInvalid));
    }

    #[test]
    fn dpop_requires_a_dpop_token_and_bearer_a_bearer_one() {
        assert!(process_token_response(200, r#"{"access_token":"at","token_type":"DPoP"}"#, true).is_ok());
        assert!(process_token_response(200, r#"{"access_token":"at","token_type":"dpop"}"#, true).is_ok());
        let downgrade = process_token_response(200, r#"{"access_token":"at","token_type":"Bearer"}"#, true);
        assert_eq!(downgrade.err().map(|e| e.code), Some(TokenResponseInvalid), "DPoP asked, Bearer given");
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"DPoP"}"#), Some(TokenResponseInvalid));
    }

    #[test]
    fn expires_in_is_optional_but_typed() {
        let t = process_token_response(200, r#"{"access_token":"at","token_type":"Bearer"}"#, false).ok().unwrap();
        assert_eq!(t.expires_in, None);
        let t = process_token_response(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":"3599"}"#, false).ok().unwrap();
        assert_eq!(t.expires_in, Some(3599.0));
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":"soon"}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":-1}"#), Some(TokenResponseInvalid));
    }

    #[test]
    fn expires_in_out_of_range_is_refused() {
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":1e400}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, r#"{"access_token":"at","token_type":"Bearer","expires_in":0e400}"#), None);
    }

    #[test]
    fn access_token_is_required() {
        assert_eq!(code(200, r#"{"token_type":"Bearer"}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, r#"{"access_token":"","token_type":"Bearer"}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, r#"{"access_token":1,"token_type":"Bearer"}"#), Some(TokenResponseInvalid));
        assert_eq!(code(200, "not json"), Some(TokenResponseInvalid));
    }

    #[test]
    fn oauth_errors_keep_the_providers_code() {
        let e = process_token_response(400, r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#, false).err().unwrap();
        assert_eq!(e.code, TokenError);
        assert_eq!(e.oauth_error.as_deref(), Some("invalid_grant"));
        assert_eq!(code(500, "<html>"), Some(HttpError));
        assert_eq!(code(502, r#"{"error":"x"}"#), Some(HttpError));
    }
}
