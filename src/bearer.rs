//! Using the access token (RFC 6750): which URLs may receive it, the header that carries it (§2.1, never
//! a query parameter: RFC 9700 §4.3.2), and reading a 401's `WWW-Authenticate` challenge (§3).
//! The access token is opaque here: nothing reads its contents.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::config::Config;
use crate::types::AccessToken;
use crate::url;

/// `Authorization` header value for the token: `Bearer`, or `DPoP` for a DPoP-bound token (RFC 9449 §7.1).
pub fn authorization_header(token: &AccessToken, dpop: bool) -> String {
    let mut h = String::from(if dpop { "DPoP " } else { "Bearer " });
    h.push_str(token.as_str());
    h
}

/// Whether `request_url` (absolute) is on one of the allowed API origins (already normalised by
/// `url::origin_of`). Anything unparseable is not allowed: the token never goes to a guess.
pub fn origin_allowed(request_url: &str, api_origins: &[String]) -> bool {
    match url::origin_of(request_url) {
        Some(o) => api_origins.contains(&o),
        None => false,
    }
}

/// Which token a request to `url` (absolute) gets: `None`, none; `Some(None)`, the login's; `Some(Some(i))`, the
/// own token of `apis[i]`. An `apis` url matches its origin and, when it has a path, that path and the paths
/// below it on segment boundaries (`/v1` matches `/v1` and `/v1/x`, not `/v10`); the longest match wins, then
/// the first listed. `apiOrigins` entries are whole origins with the login's token. Each token goes to its
/// own API only.
pub fn select_api(url: &str, config: &Config) -> Option<Option<usize>> {
    let (origin, path) = url::origin_and_path(url)?;
    let mut best: Option<(usize, Option<usize>)> = None;
    for (i, api) in config.apis.iter().enumerate() {
        let Some(prefix) = api.url.strip_prefix(origin.as_str()) else { continue };
        let matches = prefix.is_empty() || (prefix.starts_with('/') && path.strip_prefix(prefix).is_some_and(|r| r.is_empty() || r.starts_with('/')));
        if matches && best.is_none_or(|(len, _)| prefix.len() > len) {
            best = Some((prefix.len(), api.own_token().then_some(i)));
        }
    }
    match best {
        Some((_, slot)) => Some(slot),
        None => config.api_origins.contains(&origin).then_some(None),
    }
}

/// RFC 6750 §3.1: a `Bearer` (or RFC 9449 §7.1 `DPoP`) challenge with `error="invalid_token"` means the
/// token expired or was revoked, so a refresh and one retry may help. Other 401s (no challenge, another
/// scheme, `insufficient_scope`) are passed to the app as they are.
pub fn is_invalid_token_challenge(www_authenticate: &str) -> bool {
    challenge_error_is(www_authenticate, "invalid_token")
}

/// Whether the challenge's `error` parameter is `error` (for a `Bearer` or `DPoP` challenge).
pub fn challenge_error_is(www_authenticate: &str, error: &str) -> bool {
    let lower = www_authenticate.to_ascii_lowercase();
    let trimmed = lower.trim_start();
    let Some(rest) = trimmed.strip_prefix("bearer").or_else(|| trimmed.strip_prefix("dpop")) else { return false };
    if !rest.is_empty() && !rest.starts_with([' ', ',']) {
        return false;
    }
    rest.split(',').any(|param| {
        let Some((k, v)) = param.split_once('=') else { return false };
        k.trim() == "error" && v.trim().trim_matches('"') == error
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_origins_get_the_token() {
        let allowed = vec!["https://api.example".to_string(), "http://127.0.0.1:4000".to_string()];
        assert!(origin_allowed("https://api.example/v1/orders?x=1", &allowed));
        assert!(origin_allowed("HTTPS://API.EXAMPLE/v1", &allowed));
        assert!(origin_allowed("http://127.0.0.1:4000/api/me", &allowed));
        for url in [
            "https://api.example.evil.example/",
            "https://evil.example/?https://api.example",
            "http://api.example/",
            "https://api.example:8443/",
            "http://127.0.0.1:4001/",
            "https://user@api.example/",
            "not a url",
        ] {
            assert!(!origin_allowed(url, &allowed), "{url}");
        }
    }

    #[test]
    fn header() {
        assert_eq!(authorization_header(&AccessToken::new("abc"), false), "Bearer abc");
        assert_eq!(authorization_header(&AccessToken::new("abc"), true), "DPoP abc");
    }

    #[test]
    fn recognises_the_invalid_token_challenge() {
        assert!(is_invalid_token_challenge(r#"Bearer realm="api", error="invalid_token", error_description="expired""#));
        assert!(is_invalid_token_challenge(r#"Bearer error=invalid_token"#));
        assert!(is_invalid_token_challenge(r#"bearer error="invalid_token""#));
        assert!(!is_invalid_token_challenge(r#"Bearer error="insufficient_scope""#));
        assert!(!is_invalid_token_challenge(r#"Bearer realm="api""#));
        assert!(!is_invalid_token_challenge(r#"Basic realm="x", error="invalid_token""#));
        assert!(is_invalid_token_challenge(r#"DPoP algs="ES256", error="invalid_token""#));
        assert!(challenge_error_is(r#"DPoP error="use_dpop_nonce", error_description="x""#, "use_dpop_nonce"));
        assert!(!is_invalid_token_challenge(r#"BearerX error="invalid_token""#));
        assert!(!is_invalid_token_challenge(""));
    }

    #[test]
    fn each_url_gets_the_token_of_its_api_by_the_longest_prefix_on_segment_boundaries() {
        let c = Config::from_json(r#"{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/cb","apiOrigins":["https://api.example"],"apis":[{"url":"https://gw.example","scope":"gw"},{"url":"https://gw.example/billing/v1","resource":"https://billing.example"},{"url":"https://gw.example/billing","audience":"billing-old"},{"url":"https://gw.example/public"}]}"#).ok().unwrap();
        for (url, want) in [
            ("https://api.example/x", Some(None)),
            ("https://gw.example/", Some(Some(0))),
            ("https://gw.example/billing/v10", Some(Some(2))),
            ("https://gw.example/billing/v1", Some(Some(1))),
            ("https://gw.example/billing/v1/invoices?x=/public", Some(Some(1))),
            ("https://gw.example/billing/v1#/x", Some(Some(1))),
            ("https://gw.example/billingx", Some(Some(0))),
            ("https://gw.example/public/a", Some(None)),
            ("https://gw.example.evil.example/billing/v1", None),
            ("http://gw.example/billing/v1", None),
            ("https://gw.example:8443/billing/v1", None),
            ("https://user@gw.example/billing/v1", None),
            ("https://elsewhere.example/", None),
            ("not a url", None),
        ] {
            assert_eq!(select_api(url, &c), want, "{url}");
        }
    }
}
