//! The authorization response at the redirect URI (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 §2.4).
//! `parse_callback` reads the URL strictly; `validate_auth_response` checks it against the pending
//! login. Looking the login up by `state` is the client's job (it owns storage).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::discovery::ProviderMetadata;
use crate::error::{fail, ErrorCode::*, OidcError, Result};
use crate::types::{AuthorizationCode, State};
use crate::url;

/// Every parameter an authorization response can carry. All of them are removed from the address bar
/// before anything else happens, whether the response turns out good or bad.
pub const RESPONSE_PARAMS: &[&str] = &["code", "state", "iss", "error", "error_description", "error_uri", "session_state"];

/// Longest callback URL we read; longer ones are refused (URLs this long are an attack or a mistake).
pub const MAX_CALLBACK_URL: usize = 16 * 1024;

#[derive(Debug, PartialEq)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The same URL with the response parameters removed (RFC 10017 §7.2.1).
pub fn scrubbed_url(url: &str) -> String {
    url::without_params(url, RESPONSE_PARAMS)
}

/// Reads the response parameters from the query. A repeated parameter makes the whole response invalid
/// (RFC 6749 §3.1), so an attacker cannot append a second `code` or `state`.
pub fn parse_callback(url: &str) -> Result<CallbackParams> {
    if url.len() > MAX_CALLBACK_URL {
        return fail(CallbackInvalid, "the callback URL is too long");
    }
    let pairs = url::parse_query(url::query_of(url))
        .ok_or(OidcError::new(CallbackInvalid, "the callback URL repeats a parameter or is not decodable"))?;
    let take = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let p = CallbackParams {
        state: take("state"),
        code: take("code"),
        iss: take("iss"),
        error: take("error"),
        error_description: take("error_description"),
    };
    if p.code.is_none() && p.error.is_none() && p.state.is_none() {
        return fail(CallbackInvalid, "the URL holds no authorization response (no code, error or state)");
    }
    Ok(p)
}

/// The `state` of the response, which must be present (RFC 6749 §4.1.2: REQUIRED when the request had one,
/// and ours always has).
pub fn require_state(p: &CallbackParams) -> Result<State> {
    match &p.state {
        Some(s) if !s.is_empty() => Ok(State::new(s.clone())),
        _ => fail(StateMissing, "the callback has no state: it did not come from a login this app started"),
    }
}

/// Checks a response whose `state` matched a pending login of this tab and returns the code.
pub fn validate_auth_response(p: &CallbackParams, meta: &ProviderMetadata) -> Result<AuthorizationCode> {
    // RFC 9207 §2.4: compare `iss` to the issuer the request went to, by simple string comparison; also
    // for error responses (mix-up). A provider that promises `iss` and omits it is refused.
    match &p.iss {
        Some(iss) if iss == meta.issuer.as_str() => {}
        // `multiTenant`: the response names the user's tenant in the template; the ID token is then held
        // to that exact issuer.
        Some(iss) if meta.issuer_template.as_deref().is_some_and(|t| crate::discovery::matches_template(t, iss)) => {}
        Some(_) => return fail(IssMismatch, "the response's iss is not the issuer this login went to (mix-up?)"),
        None if meta.authorization_response_iss_parameter_supported => {
            return fail(IssMissing, "the provider promises an iss parameter and the response has none")
        }
        None => {}
    }
    if let Some(error) = &p.error {
        return Err(OidcError {
            code: AuthorizationError,
            detail: "the provider returned an error to the redirect URI",
            oauth_error: Some(error.clone()),
            oauth_description: p.error_description.clone(),
            context: None,
        });
    }
    match &p.code {
        Some(c) if !c.is_empty() => Ok(AuthorizationCode::new(c.clone())),
        _ => fail(CallbackInvalid, "the callback has neither a code nor an error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::tests::{document, ISSUER};
    use crate::types::IssuerUrl;

    fn meta(iss_supported: bool) -> ProviderMetadata {
        ProviderMetadata::from_response(&IssuerUrl::new(ISSUER), &document(|m| m[8].1 = iss_supported.to_string())).ok().unwrap()
    }

    fn code_of(url: &str, iss_supported: bool) -> core::result::Result<String, crate::error::ErrorCode> {
        let p = parse_callback(url).map_err(|e| e.code)?;
        require_state(&p).map_err(|e| e.code)?;
        validate_auth_response(&p, &meta(iss_supported)).map(|c| c.as_str().to_string()).map_err(|e| e.code)
    }

    const ISS: &str = "https%3A%2F%2Fop.example";

    #[test]
    fn accepts_a_code_with_state_and_iss() {
        assert_eq!(code_of(&format!("https://app/cb?code=c1&state=s&iss={ISS}"), true), Ok("c1".into()));
    }

    #[test]
    fn iss_missing_is_refused_only_when_promised() {
        assert_eq!(code_of("https://app/cb?code=c1&state=s", true), Err(IssMissing));
        assert_eq!(code_of("https://app/cb?code=c1&state=s", false), Ok("c1".into()));
    }

    #[test]
    fn iss_must_match_exactly() {
        assert_eq!(code_of("https://app/cb?code=c&state=s&iss=https%3A%2F%2Fop.example%2F", true), Err(IssMismatch));
        assert_eq!(code_of("https://app/cb?code=c&state=s&iss=https%3A%2F%2Fevil.example", false), Err(IssMismatch));
        assert_eq!(code_of(&format!("https://app/cb?code=c&state=s&iss={ISS}"), false), Ok("c".into()));
    }

    #[test]
    fn state_is_required() {
        assert_eq!(code_of(&format!("https://app/cb?code=c&iss={ISS}"), true), Err(StateMissing));
        assert_eq!(code_of(&format!("https://app/cb?code=c&state=&iss={ISS}"), true), Err(StateMissing));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert_eq!(code_of(&format!("https://app/cb?code=c&code=d&state=s&iss={ISS}"), true), Err(CallbackInvalid));
        assert_eq!(code_of(&format!("https://app/cb?code=c&state=s&state=t&iss={ISS}"), true), Err(CallbackInvalid));
    }

    #[test]
    fn error_responses_become_authorization_errors() {
        let p = parse_callback(&format!("https://app/cb?error=access_denied&error_description=no+way&state=s&iss={ISS}")).ok().unwrap();
        let e = validate_auth_response(&p, &meta(true)).err().unwrap();
        assert_eq!(e.code, AuthorizationError);
        assert_eq!(e.oauth_error.as_deref(), Some("access_denied"));
        assert_eq!(e.oauth_description.as_deref(), Some("no way"));
        // A mixed-up error response (wrong iss) is a mix-up first.
        let p = parse_callback("https://app/cb?error=access_denied&state=s&iss=https%3A%2F%2Fevil").ok().unwrap();
        assert_eq!(validate_auth_response(&p, &meta(true)).err().map(|e| e.code), Some(IssMismatch));
    }

    #[test]
    fn a_url_without_a_response_is_invalid() {
        assert_eq!(code_of("https://app/cb", true), Err(CallbackInvalid));
        assert_eq!(code_of("https://app/cb?x=1", true), Err(CallbackInvalid));
        assert_eq!(code_of(&format!("https://app/cb?state=s&iss={ISS}"), true), Err(CallbackInvalid));
        assert_eq!(code_of(&"https://app/cb?code=".repeat(2000), true), Err(CallbackInvalid));
    }

    #[test]
    fn scrubbing_removes_every_response_parameter() {
        let u = "https://app/cb?lang=fr&code=c&state=s&iss=i&session_state=x&error=e&error_description=d&error_uri=u#top";
        assert_eq!(scrubbed_url(u), "https://app/cb?lang=fr#top");
    }
}
