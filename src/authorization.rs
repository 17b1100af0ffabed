//! The authorization request: Authorization Code flow with PKCE, state and nonce
//! (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3, RFC 8707 §2 for `resource`).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::config::Config;
use crate::discovery::ProviderMetadata;
use crate::error::{fail, ErrorCode::InvalidConfig, Result};
use crate::types::{Nonce, PkceCodeChallenge, State};
use crate::url::{self, Form};

/// Parameters the SDK sets itself; an app's `extraParams` may not override them.
const RESERVED: &[&str] = &[
    "response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "response_mode", "request", "request_uri", "dpop_jkt",
];

pub struct AuthorizationRequest<'a> {
    pub state: &'a State,
    pub nonce: &'a Nonce,
    pub code_challenge: &'a PkceCodeChallenge,
    /// RFC 9449 §10: the DPoP key's thumbprint, binding the code to the key.
    pub dpop_jkt: Option<&'a str>,
    /// Extra parameters from the app (`prompt`, `login_hint`, `ui_locales`, ...).
    pub extra: &'a [(String, String)],
}

/// Builds the URL the browser is sent to.
pub fn build_authorization_url(config: &Config, meta: &ProviderMetadata, req: &AuthorizationRequest) -> Result<String> {
    let mut q = Form::new();
    q.pair("response_type", "code")
        .pair("client_id", config.client_id.as_str())
        .pair("redirect_uri", config.redirect_uri.as_str())
        .pair("scope", &config.scope)
        .pair("state", req.state.as_str())
        .pair("nonce", req.nonce.as_str())
        .pair("code_challenge", req.code_challenge.as_str())
        .pair("code_challenge_method", "S256");
    if let Some(aud) = &config.audience {
        q.pair("audience", aud);
    }
    for r in &config.resource {
        q.pair("resource", r);
    }
    if let Some(jkt) = req.dpop_jkt {
        q.pair("dpop_jkt", jkt);
    }
    for (k, v) in req.extra {
        if RESERVED.contains(&k.as_str()) || (k == "audience" && config.audience.is_some()) {
            return fail(InvalidConfig, "extraParams may not set a parameter the SDK controls (state, nonce, PKCE, ...)");
        }
        q.pair(k, v);
    }
    Ok(url::with_query(&meta.authorization_endpoint, q.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{document, ISSUER};
    use crate::types::IssuerUrl;

    fn setup(extra_cfg: &str) -> (Config, ProviderMetadata) {
        let cfg = Config::from_json(&format!(
            r#"{{"issuer":"{ISSUER}","clientId":"spa app","redirectUri":"https://app.example/callback","scope":"openid profile"{extra_cfg}}}"#
        ))
        .ok()
        .unwrap();
        let meta = ProviderMetadata::from_response(&IssuerUrl::new(ISSUER), &document(|m| {
            m[1].1 = "\"https://op.example/authorize?tenant=t1\"".into();
        }))
        .ok()
        .unwrap();
        (cfg, meta)
    }

    fn values() -> (State, Nonce, PkceCodeChallenge) {
        (State::new("st"), Nonce::new("no"), PkceCodeChallenge::new("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
    }

    #[test]
    fn builds_the_code_flow_request() {
        let (cfg, meta) = setup(r#","audience":"https://api.example","resource":["https://r1","https://r2"]"#);
        let (s, n, c) = values();
        let extra = [("prompt".to_string(), "login".to_string())];
        let u = build_authorization_url(&cfg, &meta, &AuthorizationRequest { state: &s, nonce: &n, code_challenge: &c, dpop_jkt: None, extra: &extra }).ok().unwrap();
        assert_eq!(
            u,
            "https://op.example/authorize?tenant=t1&response_type=code&client_id=spa%20app\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=openid%20profile&state=st&nonce=no\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
             &audience=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Fr1&resource=https%3A%2F%2Fr2&prompt=login"
        );
    }

    #[test]
    fn extra_params_cannot_replace_protocol_values() {
        let (cfg, meta) = setup("");
        let (s, n, c) = values();
        for name in ["state", "nonce", "code_challenge_method", "redirect_uri", "response_type"] {
            let extra = [(name.to_string(), "x".to_string())];
            let r = build_authorization_url(&cfg, &meta, &AuthorizationRequest { state: &s, nonce: &n, code_challenge: &c, dpop_jkt: None, extra: &extra });
            assert_eq!(r.err().map(|e| e.code), Some(InvalidConfig), "{name}");
        }
        let extra = [("login_hint".to_string(), "a@b".to_string())];
        assert!(build_authorization_url(&cfg, &meta, &AuthorizationRequest { state: &s, nonce: &n, code_challenge: &c, dpop_jkt: None, extra: &extra }).is_ok());
    }
}
