//! Ending the session: token revocation (RFC 7009 §2.1) and RP-Initiated Logout (OpenID Connect
//! RP-Initiated Logout 1.0 §2).

#[allow(unused_imports)]
use crate::prelude::*;
use crate::config::Config;
use crate::error::{ErrorCode::InvalidConfig, OidcError, Result};
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

/// The provider's own logout URL (`logoutUrl`: Auth0's `/v2/logout`, Cognito's hosted-UI `/logout`) with its
/// placeholders filled, each value percent-encoded; one that is missing leaves its parameter empty. The
/// ID token (as `id_token_hint`) is the only token that can be put in it (`config.rs` checks the template).
pub fn fill_logout_url(template: &str, config: &Config, id_token_hint: Option<&str>, post_logout_redirect_uri: Option<&str>) -> String {
    let encoded = |v: Option<&str>| {
        let mut o = String::new();
        url::encode_component(&mut o, v.unwrap_or(""));
        o
    };
    let u = url::replace_all(template, "{client_id}", &encoded(Some(config.client_id.as_str())));
    let u = url::replace_all(&u, "{post_logout_redirect_uri}", &encoded(post_logout_redirect_uri));
    url::replace_all(&u, "{id_token_hint}", &encoded(id_token_hint))
}

/// Where `logout({ returnTo })` may send the browser (RFC 9700 §4.11.1: no open redirector): a path on this
/// app's origin, or an absolute http(s) URL on this app's origin or on `postLogoutRedirectUri`'s. Returns
/// the absolute URL; anything else (`javascript:`, another site, `//evil.example`) is `invalid_config`.
pub fn check_logout_return(return_to: &str, config: &Config) -> Result<String> {
    let refuse = || Err(OidcError::new(InvalidConfig, "logout returnTo must be a path on this origin or a URL on this app's or postLogoutRedirectUri's origin").with_context(return_to));
    if return_to.chars().any(|c| c.is_control() || c == ' ' || c == '\\') {
        return refuse();
    }
    if return_to.starts_with('/') {
        if return_to.starts_with("//") {
            return refuse();
        }
        let Some(app) = config.app_origin.as_deref() else { return refuse() };
        let mut u = String::from(app);
        u.push_str(return_to);
        return Ok(u);
    }
    let Some(origin) = url::origin_of(return_to) else { return refuse() };
    let allowed = config.app_origin.as_deref() == Some(origin.as_str())
        || config.post_logout_redirect_uri.as_deref().and_then(url::origin_of).as_deref() == Some(origin.as_str());
    if allowed {
        Ok(return_to.into())
    } else {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::from_json(r#"{"issuer":"https://op.example","clientId":"spa","redirectUri":"https://app.example/cb","appOrigin":"https://app.example"}"#).ok().unwrap()
    }

    #[test]
    fn logout_return_to_is_this_app_or_the_post_logout_redirect_uri() {
        let mut c = cfg();
        c.post_logout_redirect_uri = Some("https://www.example/bye".into());
        assert_eq!(check_logout_return("/signed-out?x=1", &c).ok().as_deref(), Some("https://app.example/signed-out?x=1"));
        assert_eq!(check_logout_return("https://app.example/bye", &c).ok().as_deref(), Some("https://app.example/bye"));
        assert_eq!(check_logout_return("https://www.example/later", &c).ok().as_deref(), Some("https://www.example/later"));
        for bad in [
            "javascript:alert(1)",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "data:text/html,x",
            "https://app.example.evil.example/",
            "https://user@app.example/",
            "/a\nb",
            "",
            "bye",
        ] {
            let e = check_logout_return(bad, &c).err().unwrap();
            assert_eq!(e.code, InvalidConfig, "{bad:?}");
            assert_eq!(e.context.as_deref(), Some(bad), "the error names the value");
        }
    }

    #[test]
    fn a_logout_url_template_is_filled_encoded() {
        let c = cfg();
        let auth0 = "https://tenant.auth0.com/v2/logout?client_id={client_id}&returnTo={post_logout_redirect_uri}";
        assert_eq!(fill_logout_url(auth0, &c, Some("a.b.c"), Some("https://app.example/?x=1&y")), "https://tenant.auth0.com/v2/logout?client_id=spa&returnTo=https%3A%2F%2Fapp.example%2F%3Fx%3D1%26y");
        let hint = "https://op.example/logout?id_token_hint={id_token_hint}&client_id={client_id}";
        assert_eq!(fill_logout_url(hint, &c, None, None), "https://op.example/logout?id_token_hint=&client_id=spa");
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
