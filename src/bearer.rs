//! Using the access token (RFC 6750): which URLs may receive it, the header that carries it (§2.1, never
//! a query parameter: RFC 9700 §4.3.2), and reading a 401's `WWW-Authenticate` challenge (§3).
//! The access token is opaque here: nothing reads its contents.

#[allow(unused_imports)]
use crate::prelude::*;
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
}
