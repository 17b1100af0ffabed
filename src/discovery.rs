//! OpenID Provider metadata (OIDC Discovery 1.0 §3, §4; RFC 8414 §2).
//! `discovery_url` says where to ask; `ProviderMetadata::from_response` checks the answer.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{fail, ErrorCode::*, Result};
use crate::json::Json;
use crate::types::IssuerUrl;
use crate::url;

/// Discovery documents larger than this are refused unread.
pub const MAX_DISCOVERY_BYTES: usize = 256 * 1024;

pub struct ProviderMetadata {
    pub issuer: IssuerUrl,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    /// The JWS algorithms the provider signs ID tokens with; only these are accepted (RFC 8725 §3.1).
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// RFC 9207 §3: when true, a callback without `iss` is refused.
    pub authorization_response_iss_parameter_supported: bool,
}

/// `<issuer>/.well-known/openid-configuration`, a terminating `/` of the issuer removed first (§4).
pub fn discovery_url(issuer: &IssuerUrl) -> String {
    let mut u = String::from(issuer.as_str().trim_end_matches('/'));
    u.push_str("/.well-known/openid-configuration");
    u
}

fn endpoint(v: &Json, name: &str, required: bool) -> Result<Option<String>> {
    match v.get(name) {
        None | Some(Json::Null) if !required => Ok(None),
        Some(Json::Str(s)) if url::is_secure_or_loopback(s) => Ok(Some(s.clone())),
        Some(Json::Str(_)) => fail(DiscoveryInvalid, "an endpoint in the discovery document is not an https URL"),
        _ => fail(DiscoveryInvalid, "the discovery document lacks a required endpoint"),
    }
}

impl ProviderMetadata {
    /// Validates a discovery document against the configured issuer (OIDC Discovery §4.3).
    pub fn from_response(expected: &IssuerUrl, body: &str) -> Result<ProviderMetadata> {
        if body.len() > MAX_DISCOVERY_BYTES {
            return fail(DiscoveryInvalid, "the discovery document is too large");
        }
        let v = Json::parse_object(body, DiscoveryInvalid)?;
        // §4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as the
        // prefix to /.well-known/openid-configuration". Byte-for-byte: no normalisation of slashes or case.
        match v.str_member("issuer") {
            Some(iss) if iss == expected.as_str() => {}
            Some(_) => return fail(IssuerMismatch, "the discovery document's issuer is not the configured issuer"),
            None => return fail(DiscoveryInvalid, "the discovery document has no issuer"),
        }
        let authorization_endpoint = endpoint(&v, "authorization_endpoint", true)?.unwrap_or_default();
        let token_endpoint = endpoint(&v, "token_endpoint", true)?.unwrap_or_default();
        let jwks_uri = endpoint(&v, "jwks_uri", true)?.unwrap_or_default();

        let response_types = v.str_array_member("response_types_supported");
        if !response_types.is_some_and(|r| r.contains(&"code")) {
            return fail(DiscoveryInvalid, "the provider does not list the `code` response type");
        }
        let algs = match v.str_array_member("id_token_signing_alg_values_supported") {
            Some(a) if !a.is_empty() => a.into_iter().map(String::from).collect(),
            _ => return fail(DiscoveryInvalid, "the discovery document lacks id_token_signing_alg_values_supported"),
        };
        // RFC 8414 §2: if the provider lists its PKCE methods, S256 must be among them. Providers that
        // omit the member (Entra ID does) still get S256; state and nonce protect the flow regardless.
        if let Some(methods) = v.get("code_challenge_methods_supported") {
            let listed = methods.as_array().is_some_and(|m| m.iter().any(|x| x.as_str() == Some("S256")));
            if !listed {
                return fail(PkceUnsupported, "the provider does not support PKCE with S256");
            }
        }
        let iss_supported = matches!(v.get("authorization_response_iss_parameter_supported"), Some(Json::Bool(true)));
        Ok(ProviderMetadata {
            issuer: expected.clone(),
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            userinfo_endpoint: endpoint(&v, "userinfo_endpoint", false)?,
            end_session_endpoint: endpoint(&v, "end_session_endpoint", false)?,
            revocation_endpoint: endpoint(&v, "revocation_endpoint", false)?,
            id_token_signing_alg_values_supported: algs,
            authorization_response_iss_parameter_supported: iss_supported,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorCode;

    pub const ISSUER: &str = "https://op.example";

    pub fn document(edit: impl FnOnce(&mut Vec<(&'static str, String)>)) -> String {
        let mut m: Vec<(&'static str, String)> = vec![
            ("issuer", format!("\"{ISSUER}\"")),
            ("authorization_endpoint", "\"https://op.example/authorize\"".into()),
            ("token_endpoint", "\"https://op.example/token\"".into()),
            ("jwks_uri", "\"https://op.example/jwks\"".into()),
            ("response_types_supported", "[\"code\"]".into()),
            ("subject_types_supported", "[\"public\"]".into()),
            ("id_token_signing_alg_values_supported", "[\"RS256\",\"ES256\"]".into()),
            ("code_challenge_methods_supported", "[\"S256\"]".into()),
            ("authorization_response_iss_parameter_supported", "true".into()),
        ];
        edit(&mut m);
        let body: Vec<String> = m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    }

    fn check(doc: String) -> core::result::Result<ProviderMetadata, ErrorCode> {
        ProviderMetadata::from_response(&IssuerUrl::new(ISSUER), &doc).map_err(|e| e.code)
    }

    #[test]
    fn url_drops_a_trailing_slash() {
        assert_eq!(discovery_url(&IssuerUrl::new("https://op.example/tenant/")), "https://op.example/tenant/.well-known/openid-configuration");
    }

    #[test]
    fn accepts_a_complete_document() {
        let m = check(document(|_| {})).ok().unwrap();
        assert_eq!(m.token_endpoint, "https://op.example/token");
        assert_eq!(m.id_token_signing_alg_values_supported, vec!["RS256", "ES256"]);
        assert!(m.authorization_response_iss_parameter_supported);
        assert!(m.revocation_endpoint.is_none());
    }

    #[test]
    fn issuer_must_match_exactly() {
        for bad in ["\"https://op.example/\"", "\"https://OP.example\"", "\"https://op.exampleINVALID\""] {
            assert_eq!(check(document(|m| m[0].1 = bad.into())).err(), Some(IssuerMismatch), "{bad}");
        }
    }

    #[test]
    fn required_members() {
        for i in [1usize, 2, 3, 4, 6] {
            assert_eq!(check(document(|m| { m.remove(i); })).err(), Some(DiscoveryInvalid), "without member {i}");
        }
    }

    #[test]
    fn endpoints_must_be_https() {
        let doc = document(|m| m[2].1 = "\"http://op.example/token\"".into());
        assert_eq!(check(doc).err(), Some(DiscoveryInvalid));
    }

    #[test]
    fn pkce_s256_when_methods_are_listed() {
        assert_eq!(check(document(|m| m[7].1 = "[\"plain\"]".into())).err(), Some(PkceUnsupported));
        assert!(check(document(|m| { m.remove(7); })).is_ok(), "not listed: S256 is still used");
    }

    #[test]
    fn duplicate_members_are_refused() {
        let doc = document(|m| m.push(("jwks_uri", "\"https://evil.example/jwks\"".into())));
        assert_eq!(check(doc).err(), Some(DiscoveryInvalid));
    }
}
