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
    /// `multiTenant`: the document's issuer when it is a template with `{tenantid}` (Entra ID's `common`
    /// and `organizations` documents); each ID token must then name its own tenant in it.
    pub issuer_template: Option<String>,
}

/// Whether `supplied` (the `metadata` option) names the endpoints a login needs: then the discovery
/// document is not fetched (a provider that serves it without CORS).
pub fn supplies_endpoints(supplied: &Json) -> bool {
    ["authorization_endpoint", "token_endpoint", "jwks_uri"].iter().all(|m| supplied.get(m).is_some())
}

/// Whether `issuer` is `template` with its `{tenantid}` replaced by one path segment (`organizations`,
/// `common`, a tenant id).
pub fn matches_template(template: &str, issuer: &str) -> bool {
    let placeholder = crate::id_token::TENANT_PLACEHOLDER;
    let Some(at) = url::find_sub(template, placeholder) else { return false };
    let (prefix, suffix) = (template.get(..at).unwrap_or(""), template.get(at + placeholder.len()..).unwrap_or(""));
    if url::find_sub(suffix, placeholder).is_some() || issuer.len() <= prefix.len() + suffix.len() {
        return false;
    }
    let middle = issuer.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix));
    middle.is_some_and(|m| !m.is_empty() && !m.contains(['/', '?', '#', '{', '}']))
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
        ProviderMetadata::from_document(expected, Some(body), None, false)
    }

    /// The provider's metadata: its discovery document (`None`: not fetched) with the members the app
    /// supplied (`metadata`) over it, checked as one document — supplied values as strictly as discovered
    /// ones. Without a document, the issuer is the configured one, the response type `code` and the ID
    /// token algorithm RS256 (OIDC Discovery §3's defaults), unless supplied.
    pub fn from_document(expected: &IssuerUrl, body: Option<&str>, supplied: Option<&Json>, multi_tenant: bool) -> Result<ProviderMetadata> {
        let mut members = match body {
            Some(b) if b.len() > MAX_DISCOVERY_BYTES => return fail(DiscoveryInvalid, "the discovery document is too large"),
            Some(b) => match Json::parse_object(b, DiscoveryInvalid)? {
                Json::Obj(m) => m,
                _ => Vec::new(),
            },
            None => vec![
                ("issuer".into(), Json::Str(expected.as_str().into())),
                ("response_types_supported".into(), Json::Arr(vec![Json::Str("code".into())])),
                ("id_token_signing_alg_values_supported".into(), Json::Arr(vec![Json::Str("RS256".into())])),
            ],
        };
        if let Some(Json::Obj(over)) = supplied {
            for (name, value) in over {
                match members.iter_mut().find(|(n, _)| n == name) {
                    Some(m) => m.1 = value.clone(),
                    None => members.push((name.clone(), value.clone())),
                }
            }
        }
        ProviderMetadata::from_json(expected, &Json::Obj(members), multi_tenant)
    }

    fn from_json(expected: &IssuerUrl, v: &Json, multi_tenant: bool) -> Result<ProviderMetadata> {
        // §4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as the
        // prefix to /.well-known/openid-configuration". Byte-for-byte: no normalisation of slashes or case.
        // The one opt-in exception, `multiTenant`: a `{tenantid}` template that the configured issuer fills.
        let issuer_template = match v.str_member("issuer") {
            Some(iss) if iss == expected.as_str() => None,
            Some(iss) if multi_tenant && matches_template(iss, expected.as_str()) => Some(iss.to_string()),
            Some(_) => return fail(IssuerMismatch, "the discovery document's issuer is not the configured issuer"),
            None => return fail(DiscoveryInvalid, "the discovery document has no issuer"),
        };
        let authorization_endpoint = endpoint(v, "authorization_endpoint", true)?.unwrap_or_default();
        let token_endpoint = endpoint(v, "token_endpoint", true)?.unwrap_or_default();
        let jwks_uri = endpoint(v, "jwks_uri", true)?.unwrap_or_default();

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
            userinfo_endpoint: endpoint(v, "userinfo_endpoint", false)?,
            // PingFederate advertises its RP-initiated logout as `ping_end_session_endpoint`.
            end_session_endpoint: match endpoint(v, "end_session_endpoint", false)? {
                Some(e) => Some(e),
                None => endpoint(v, "ping_end_session_endpoint", false)?,
            },
            revocation_endpoint: endpoint(v, "revocation_endpoint", false)?,
            id_token_signing_alg_values_supported: algs,
            authorization_response_iss_parameter_supported: iss_supported,
            issuer_template,
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
    fn supplied_metadata_adds_and_overrides_and_is_checked_as_strictly() {
        let issuer = IssuerUrl::new(ISSUER);
        let supplied = |s: &str| Json::parse_object(s, ErrorCode::InvalidConfig).ok().unwrap();
        // Over a discovered document: the supplied member wins, the others stay.
        let m = ProviderMetadata::from_document(&issuer, Some(&document(|_| {})), Some(&supplied(r#"{"revocation_endpoint":"https://op.example/oauth2/revoke"}"#)), false).ok().unwrap();
        assert_eq!(m.revocation_endpoint.as_deref(), Some("https://op.example/oauth2/revoke"));
        assert_eq!(m.token_endpoint, "https://op.example/token");
        // Without a document (no discovery request): the endpoints supplied, the defaults for the rest.
        let s = supplied(r#"{"authorization_endpoint":"https://op.example/as/authorization.oauth2","token_endpoint":"https://op.example/as/token.oauth2","jwks_uri":"https://op.example/pf/JWKS"}"#);
        assert!(supplies_endpoints(&s));
        let m = ProviderMetadata::from_document(&issuer, None, Some(&s), false).ok().unwrap();
        assert_eq!(m.issuer.as_str(), ISSUER);
        assert_eq!(m.id_token_signing_alg_values_supported, vec!["RS256"]);
        // As strict as discovered: plain http off loopback, a wrong issuer.
        let code = |s: &str| ProviderMetadata::from_document(&issuer, Some(&document(|_| {})), Some(&supplied(s)), false).err().map(|e| e.code);
        assert_eq!(code(r#"{"token_endpoint":"http://op.example/token"}"#), Some(DiscoveryInvalid));
        assert_eq!(code(r#"{"issuer":"https://op.example/"}"#), Some(IssuerMismatch), "the issuer check stays exact");
        assert_eq!(code(r#"{"id_token_signing_alg_values_supported":[]}"#), Some(DiscoveryInvalid));
    }

    #[test]
    fn ping_end_session_endpoint_is_read_when_the_standard_one_is_absent() {
        let doc = document(|m| m.push(("ping_end_session_endpoint", "\"https://op.example/idp/startSLO.ping\"".into())));
        assert_eq!(check(doc).ok().and_then(|m| m.end_session_endpoint).as_deref(), Some("https://op.example/idp/startSLO.ping"));
        let both = document(|m| {
            m.push(("end_session_endpoint", "\"https://op.example/logout\"".into()));
            m.push(("ping_end_session_endpoint", "\"https://op.example/idp/startSLO.ping\"".into()));
        });
        assert_eq!(check(both).ok().and_then(|m| m.end_session_endpoint).as_deref(), Some("https://op.example/logout"), "the standard one first");
    }

    #[test]
    fn a_tenant_template_issuer_only_with_multi_tenant() {
        let configured = IssuerUrl::new("https://login.microsoftonline.com/organizations/v2.0");
        let doc = |iss: &str| format!(r#"{{"issuer":"{iss}","authorization_endpoint":"https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize","token_endpoint":"https://login.microsoftonline.com/organizations/oauth2/v2.0/token","jwks_uri":"https://login.microsoftonline.com/organizations/discovery/v2.0/keys","response_types_supported":["code"],"id_token_signing_alg_values_supported":["RS256"]}}"#);
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let by = |iss: &str, mt: bool| ProviderMetadata::from_document(&configured, Some(&doc(iss)), None, mt);
        assert_eq!(by(template, false).err().map(|e| e.code), Some(IssuerMismatch), "never a looser check by default");
        assert_eq!(by(template, true).ok().and_then(|m| m.issuer_template).as_deref(), Some(template));
        assert_eq!(by("https://login.microsoftonline.com/{tenantid}/v2.0/x", true).err().map(|e| e.code), Some(IssuerMismatch));
        assert_eq!(by("https://evil.example/{tenantid}/v2.0", true).err().map(|e| e.code), Some(IssuerMismatch));
        assert!(matches_template(template, "https://login.microsoftonline.com/common/v2.0"));
        assert!(!matches_template(template, "https://login.microsoftonline.com/a/b/v2.0"));
        assert!(!matches_template(template, "https://login.microsoftonline.com//v2.0"));
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
