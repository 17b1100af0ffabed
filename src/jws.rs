//! Compact JWS parsing for ID tokens (RFC 7515 §7.1; RFC 7519 §7.2), strict before any crypto runs:
//! a size cap, exactly three parts (a five-part JWE or a two-part token is refused), strict base64url,
//! UTF-8 JSON objects without duplicate members, an `alg` from the allowlist that the provider also
//! advertises, no `crit`, a `typ` that says JWT if it says anything, and fixed-length signatures where
//! the algorithm fixes one (ECDSA is R‖S, never DER).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::alg::JwsAlg;
use crate::b64url;
use crate::error::{fail, ErrorCode::*, Result};
use crate::json::Json;

/// Larger tokens are refused before they are decoded (RFC 8725bis §3.15 by analogy). Generous: an
/// Entra ID token with many group claims stays well below it.
pub const MAX_JWT_BYTES: usize = 64 * 1024;

pub struct CompactJws<'a> {
    pub alg: JwsAlg,
    pub kid: Option<String>,
    pub header: Json,
    /// The claims as decoded JSON text (handed to the app once verified) and parsed.
    pub payload_text: String,
    pub payload: Json,
    /// `BASE64URL(header) '.' BASE64URL(payload)`: the bytes the signature covers.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
}

fn decode_json_part(part: &str) -> Result<(String, Json)> {
    let bytes = b64url::decode(part).ok_or(crate::error::OidcError::new(JwtMalformed, "a JWT part is not strict base64url"))?;
    let text = String::from_utf8(bytes).map_err(|_| crate::error::OidcError::new(JwtMalformed, "a JWT part is not UTF-8"))?;
    let json = Json::parse_object(&text, JwtMalformed)?;
    Ok((text, json))
}

/// Parses and checks a compact JWS. `advertised` is the provider's `id_token_signing_alg_values_supported`.
pub fn parse_compact_jws<'a>(token: &'a str, advertised: &[String]) -> Result<CompactJws<'a>> {
    if token.len() > MAX_JWT_BYTES {
        return fail(JwtMalformed, "the token is larger than 64 KiB");
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return fail(JwtMalformed, "a compact JWS has exactly three parts");
    };
    let (_, header) = decode_json_part(h)?;

    let alg_name = match header.get("alg") {
        Some(Json::Str(a)) => a.as_str(),
        _ => return fail(JwtMalformed, "the JOSE header has no alg"),
    };
    let alg = match JwsAlg::from_name(alg_name) {
        Some(a) if advertised.iter().any(|x| x == alg_name) => a,
        _ => return fail(AlgNotAllowed, "the token's alg is not one the provider advertises and WebCrypto verifies"),
    };
    // RFC 7515 §4.1.11: a recipient that does not understand a `crit` extension MUST reject; this SDK
    // understands none, and `crit` with registered names or an empty list is malformed anyway.
    if header.get("crit").is_some() {
        return fail(HeaderUnsupported, "the JOSE header has crit");
    }
    // RFC 8725 §3.11: explicit typing. An ID token has typ JWT or none; `at+jwt` or `logout+jwt` is
    // another kind of token and must not pass as an ID token.
    match header.get("typ") {
        None => {}
        Some(Json::Str(t)) if t.eq_ignore_ascii_case("JWT") || t.eq_ignore_ascii_case("application/jwt") => {}
        _ => return fail(HeaderUnsupported, "the token's typ says it is not an ID token"),
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Json::Str(k)) => Some(k.clone()),
        _ => return fail(JwtMalformed, "kid is not a string"),
    };
    let (payload_text, payload) = decode_json_part(p)?;
    let Some(signature) = b64url::decode(s) else {
        return fail(JwtMalformed, "the signature is not strict base64url");
    };
    if alg.fixed_signature_len().is_some_and(|n| n != signature.len()) {
        return fail(SignatureInvalid, "the signature has the wrong length for its alg (DER-encoded ECDSA?)");
    }
    let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or("");
    Ok(CompactJws { alg, kid, header, payload_text, payload, signing_input, signature })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::ErrorCode;

    pub fn b64(s: &str) -> String {
        b64url::encode(s.as_bytes())
    }

    pub fn token(header: &str, claims: &str, sig: &[u8]) -> String {
        format!("{}.{}.{}", b64(header), b64(claims), b64url::encode(sig))
    }

    fn algs() -> Vec<String> {
        vec!["RS256".into(), "ES256".into(), "none".into(), "HS256".into()]
    }

    fn err(t: &str) -> Option<ErrorCode> {
        parse_compact_jws(t, &algs()).err().map(|e| e.code)
    }

    #[test]
    fn parses_a_good_token() {
        let t = token(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, r#"{"sub":"a"}"#, &[1; 256]);
        let j = parse_compact_jws(&t, &algs()).ok().unwrap();
        assert_eq!(j.alg, JwsAlg::RS256);
        assert_eq!(j.kid.as_deref(), Some("k1"));
        assert_eq!(j.payload_text, r#"{"sub":"a"}"#);
        assert_eq!(j.signing_input, &t[..t.rfind('.').unwrap()]);
        assert_eq!(j.signature.len(), 256);
    }

    #[test]
    fn alg_none_and_hmac_are_refused_even_when_advertised() {
        for alg in ["none", "None", "nOnE", "HS256"] {
            let t = format!("{}.{}.", b64(&format!(r#"{{"alg":"{alg}"}}"#)), b64(r#"{"sub":"a"}"#));
            assert_eq!(err(&t), Some(AlgNotAllowed), "{alg}");
        }
    }

    #[test]
    fn alg_must_be_advertised() {
        let t = token(r#"{"alg":"PS256"}"#, "{}", &[1; 256]);
        assert_eq!(err(&t), Some(AlgNotAllowed));
        assert!(parse_compact_jws(&t, &["PS256".to_string()]).is_ok());
    }

    #[test]
    fn crit_is_refused() {
        for crit in [r#"["exp"]"#, "[]", r#"["b64"],"b64":false"#] {
            let t = token(&format!(r#"{{"alg":"RS256","crit":{crit}}}"#), "{}", &[1; 256]);
            assert_eq!(err(&t), Some(HeaderUnsupported), "{crit}");
        }
    }

    #[test]
    fn other_token_types_are_refused() {
        for typ in ["at+jwt", "logout+jwt", "JWE"] {
            let t = token(&format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#), "{}", &[1; 256]);
            assert_eq!(err(&t), Some(HeaderUnsupported), "{typ}");
        }
        assert!(err(&token(r#"{"alg":"RS256","typ":"jwt"}"#, "{}", &[1; 256])).is_none());
    }

    #[test]
    fn embedded_key_headers_are_ignored_not_followed() {
        // jku/x5u/jwk/x5c parse fine and change nothing: the key still comes from the JWKS by kid.
        let t = token(r#"{"alg":"RS256","kid":"k","jku":"https://evil/jwks","x5u":"https://evil/x","jwk":{"kty":"RSA"}}"#, "{}", &[1; 256]);
        let j = parse_compact_jws(&t, &algs()).ok().unwrap();
        assert_eq!(j.kid.as_deref(), Some("k"));
    }

    #[test]
    fn wrong_part_counts_are_malformed() {
        let good = token(r#"{"alg":"RS256"}"#, "{}", &[1; 256]);
        assert_eq!(err(&good[..good.rfind('.').unwrap()]), Some(JwtMalformed), "2 parts");
        assert_eq!(err(&format!("{good}.x")), Some(JwtMalformed), "4 parts");
        assert_eq!(err(&format!("{good}.x.y")), Some(JwtMalformed), "5 parts (JWE)");
        assert!(err(&good).is_none());
    }

    #[test]
    fn lenient_base64_is_malformed() {
        let good = token(r#"{"alg":"RS256"}"#, r#"{"a":1}"#, &[1; 256]);
        let (h, rest) = good.split_once('.').unwrap();
        assert_eq!(err(&format!("{h}=.{rest}")), Some(JwtMalformed), "padding");
        assert_eq!(err(&format!(" {good}")), Some(JwtMalformed), "white space");
        assert_eq!(err(&good.replace('.', ".+")), Some(JwtMalformed), "standard alphabet");
    }

    #[test]
    fn duplicate_members_are_malformed() {
        assert_eq!(err(&token(r#"{"alg":"RS256","alg":"none"}"#, "{}", &[1; 256])), Some(JwtMalformed));
        assert_eq!(err(&token(r#"{"alg":"RS256"}"#, r#"{"sub":"a","sub":"b"}"#, &[1; 256])), Some(JwtMalformed));
    }

    #[test]
    fn der_ecdsa_signatures_are_refused() {
        assert_eq!(err(&token(r#"{"alg":"ES256"}"#, "{}", &[0x30; 71])), Some(SignatureInvalid));
        assert!(err(&token(r#"{"alg":"ES256"}"#, "{}", &[1; 64])).is_none());
    }

    #[test]
    fn a_megabyte_token_is_refused_unread() {
        let big = token(r#"{"alg":"RS256"}"#, &format!(r#"{{"x":"{}"}}"#, "a".repeat(1 << 20)), &[1; 256]);
        assert_eq!(err(&big), Some(JwtMalformed));
    }
}
