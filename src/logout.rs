//! Ending the session: token revocation (RFC 7009 §2.1) and RP-Initiated Logout (OpenID Connect
//! RP-Initiated Logout 1.0 §2).

#[allow(unused_imports)]
use crate::prelude::*;
use crate::config::Config;
use crate::types::RefreshToken;
use crate::url::{self, Form};

/// Body of the revocation request for a refresh token (public client: `client_id` only).
pub fn revocation_body(config: &Config, token: &RefreshToken) -> String {
    let mut f = Form::new();
    f.pair("token", token.as_str()).pair("token_type_hint", "refresh_token").pair("client_id", config.client_id.as_str());
    f.into_string()
}

/// The end-session URL: `id_token_hint` tells the provider whose session to end, `client_id` and
/// `post_logout_redirect_uri` where to send the browser afterwards (§2, §3).
pub fn end_session_url(endpoint: &str, config: &Config, id_token_hint: Option<&str>, post_logout_redirect_uri: Option<&str>) -> String {
    let mut q = Form::new();
    if let Some(h) = id_token_hint {
        q.pair("id_token_hint", h);
    }
    q.pair("client_id", config.client_id.as_str());
    if let Some(p) = post_logout_redirect_uri {
        q.pair("post_logout_redirect_uri", p);
    }
    url::with_query(endpoint, q.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::from_json(r#"{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/cb","appOrigin":"https://app.example"}"#).ok().unwrap()
    }

    #[test]
    fn revocation_names_the_refresh_token() {
        assert_eq!(revocation_body(&cfg(), &RefreshToken::new("r/1")), "token=r%2F1&token_type_hint=refresh_token&client_id=spa");
    }

    #[test]
    fn end_session_carries_the_hint_and_the_return_address() {
        assert_eq!(
            end_session_url("https://op.example/session/end", &cfg(), Some("a.b.c"), Some("https://app.example/")),
            "https://op.example/session/end?id_token_hint=a.b.c&client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F"
        );
        assert_eq!(end_session_url("https://op.example/logout?x=1", &cfg(), None, None), "https://op.example/logout?x=1&client_id=spa");
    }
}
