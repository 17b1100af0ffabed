//! ID token claims validation (OIDC Core §3.1.3.7, §3.1.3.8, §12.2), pure and clock-injected so every
//! rule is tested natively. The signature is checked before this runs (see `client.rs`); these checks
//! then decide whether the verified token is *for us, now, from this login*.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::b64url;
use crate::error::{fail, ErrorCode::*, Result};
use crate::json::Json;
use crate::types::{ClientId, IssuerUrl, Nonce};

/// `iat` older than this is refused even when `exp` is far away (FAPI "iat a week in the past").
pub const MAX_IAT_AGE_SECONDS: f64 = 24.0 * 3600.0;

/// Set up once per client and reused for every ID token it receives.
pub struct IdTokenVerifier {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub clock_tolerance: f64,
}

fn numeric_date(claims: &Json, name: &str) -> Option<Option<f64>> {
    match claims.get(name) {
        None => Some(None),
        Some(Json::Num(n)) if n.is_finite() => Some(Some(*n)),
        Some(_) => None, // present but not a number: "123" is not a NumericDate (RFC 7519 §2)
    }
}

/// A tenant id as Entra ID writes them in `tid` (a GUID): letters, digits and `-`, 1 to 64 of them.
pub fn is_tenant_id(t: &str) -> bool {
    !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The placeholder a multi-tenant issuer template holds (Entra ID's `common` and `organizations`
/// documents: `https://login.microsoftonline.com/{tenantid}/v2.0`).
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// `multiTenant`: the issuer an ID token must name — the template with the token's own `tid` — when that
/// tenant is allowed (`allowed` empty: any tenant).
pub fn tenant_issuer(template: &str, claims: &Json, allowed: &[String]) -> Result<String> {
    let Some(tid) = claims.str_member("tid").filter(|t| is_tenant_id(t)) else {
        return fail(ClaimIss, "a multi-tenant ID token needs a tid claim naming its tenant");
    };
    if !allowed.is_empty() && !allowed.iter().any(|a| a == tid) {
        return Err(crate::error::OidcError::new(TenantNotAllowed, "the ID token's tenant is not one of multiTenant.tenants").with_context(tid));
    }
    Ok(crate::url::replace_all(template, TENANT_PLACEHOLDER, tid))
}

/// "the provider's clock is 312 s ahead of this device's (its Date header)": for an error's context.
pub fn describe_skew(skew: f64, source: &str) -> String {
    let mut o = String::from("the provider's clock is ");
    crate::json::write_u64(&mut o, (skew.abs() + 0.5) as u64);
    o.push_str(if skew > 0.0 { " s ahead of this device's (" } else { " s behind this device's (" });
    o.push_str(source);
    o.push(')');
    o
}

impl IdTokenVerifier {
    /// Checks the claims of a signature-verified ID token. `nonce` is the login's nonce (`None` for a
    /// refreshed token, where Core §12.2 says it SHOULD NOT be present and, if it is, it must still be
    /// well-formed — we do not compare it). `now` is Unix seconds.
    pub fn validate_claims(&self, claims: &Json, nonce: Option<&Nonce>, now: f64) -> Result<()> {
        self.validate_claims_as(claims, nonce, now, self.issuer.as_str())
    }

    /// `validate_claims` with the issuer to expect given (a multi-tenant template filled in).
    pub fn validate_claims_as(&self, claims: &Json, nonce: Option<&Nonce>, now: f64, issuer: &str) -> Result<()> {
        let tol = self.clock_tolerance;
        // Step 2: iss exactly the issuer.
        if claims.str_member("iss") != Some(issuer) {
            return fail(ClaimIss, "the ID token's iss is not the issuer");
        }
        // Step 3: aud contains our client_id; a string or an array of strings.
        let cid = self.client_id.as_str();
        let aud: Vec<&str> = match claims.get("aud") {
            Some(Json::Str(a)) => vec![a.as_str()],
            Some(Json::Arr(_)) => claims.str_array_member("aud").unwrap_or_default(),
            _ => Vec::new(),
        };
        if !aud.contains(&cid) {
            return fail(ClaimAud, "the ID token's aud does not contain this client_id");
        }
        // Steps 4-5: an audience beyond us needs azp = us (the errata dropped the "SHOULD" for a single
        // audience, but an untrusted extra audience is still refused here); azp, if present, must be us.
        match claims.get("azp") {
            Some(Json::Str(azp)) if azp == cid => {}
            Some(_) => return fail(ClaimAzp, "the ID token's azp is not this client_id"),
            None if aud.iter().any(|a| *a != cid) => {
                return fail(ClaimAzp, "the ID token names other audiences and has no azp")
            }
            None => {}
        }
        // Step 9: exp required and not past.
        match numeric_date(claims, "exp") {
            Some(Some(exp)) if now < exp + tol => {}
            _ => return fail(ClaimExp, "the ID token has expired (or exp is missing or not a number)"),
        }
        // Step 10: iat required, not in the future, not ancient.
        match numeric_date(claims, "iat") {
            Some(Some(iat)) if iat <= now + tol && iat >= now - MAX_IAT_AGE_SECONDS - tol => {}
            _ => return fail(ClaimIat, "the ID token's iat is missing, not a number, in the future or too old"),
        }
        // RFC 7519 §4.1.5: not before.
        match numeric_date(claims, "nbf") {
            Some(None) => {}
            Some(Some(nbf)) if nbf <= now + tol => {}
            _ => return fail(ClaimNbf, "the ID token is not valid yet (nbf)"),
        }
        // Step 11: nonce equal to the one this login sent.
        match (nonce, claims.get("nonce")) {
            (Some(n), Some(Json::Str(got))) if got == n.as_str() => {}
            (Some(_), _) => return fail(ClaimNonce, "the ID token's nonce is not this login's nonce"),
            (None, None | Some(Json::Str(_))) => {}
            (None, Some(_)) => return fail(ClaimNonce, "the ID token's nonce is not a string"),
        }
        // Core §2: sub REQUIRED, a locally unique identifier.
        match claims.str_member("sub") {
            Some(s) if !s.is_empty() => {}
            _ => return fail(ClaimSub, "the ID token has no sub"),
        }
        // Core §2: auth_time, when present, is a number.
        if numeric_date(claims, "auth_time").is_none() {
            return fail(ClaimIat, "auth_time is not a number");
        }
        Ok(())
    }
}

/// OIDC Core §3.1.3.8 / §3.1.3.6: `at_hash` is the base64url of the left half of the hash of the
/// access token's ASCII octets. `digest` is that hash, computed by WebCrypto with the token's alg.
pub fn at_hash_matches(at_hash: &str, digest: &[u8]) -> bool {
    let half = digest.get(..digest.len() / 2).unwrap_or(&[]);
    // Compare the encodings: both are ASCII, and a mismatch here reveals nothing secret.
    b64url::encode(half) == at_hash
}

/// OIDC Core §12.2: a refreshed ID token keeps iss, sub, aud and azp of the one it replaces (and
/// auth_time, when both have it).
pub fn check_refreshed_claims(old: &Json, new: &Json) -> Result<()> {
    for name in ["iss", "sub", "aud", "azp", "auth_time"] {
        let (o, n) = (old.get(name), new.get(name));
        let same = match name {
            "auth_time" => o.is_none() || n.is_none() || o == n,
            _ => o == n,
        };
        if !same {
            return fail(RefreshIdTokenMismatch, "the refreshed ID token names another iss, sub, aud, azp or auth_time");
        }
    }
    Ok(())
}

/// What the login asked of the authentication (OIDC Core §3.1.2.1), checked in the verified claims:
/// with `max_age`, `auth_time` must be present and no older than `max_age` (plus the clock tolerance)
/// (§3.1.3.7 step 13); with `acr_values`, the `acr` returned is reported, and with `require_acr` it must be
/// one of those requested (§5.5.1.1 makes `acr` a voluntary claim unless requested as essential).
pub fn check_authentication(claims: &Json, max_age: Option<u64>, acr_values: Option<&str>, require_acr: bool, now: f64, tolerance: f64) -> Result<Option<String>> {
    if let Some(max_age) = max_age {
        let Some(auth_time) = claims.get("auth_time").and_then(Json::as_f64) else {
            return fail(ClaimAuthTime, "the login asked for max_age and the ID token has no auth_time");
        };
        if now - auth_time > max_age as f64 + tolerance {
            return fail(ClaimAuthTime, "the user authenticated longer ago than max_age allows");
        }
    }
    let Some(requested) = acr_values else { return Ok(None) };
    let acr = claims.str_member("acr").map(String::from);
    if require_acr && !acr.as_deref().is_some_and(|a| requested.split(' ').any(|r| r == a)) {
        return fail(ClaimAcr, "the ID token's acr is not one of the acr_values the login asked for");
    }
    Ok(acr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const NOW: f64 = 1_700_000_000.0;

    #[test]
    fn a_multi_tenant_token_names_its_own_tenant_in_the_template() {
        let t = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let claims = |tid: &str| Json::parse(&format!(r#"{{"tid":"{tid}"}}"#), ErrorCode::JwtMalformed).ok().unwrap();
        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        assert_eq!(tenant_issuer(t, &claims(tid), &[]).ok().as_deref(), Some("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"));
        assert!(tenant_issuer(t, &claims(tid), &[tid.to_string()]).is_ok(), "an allowed tenant");
        let other = tenant_issuer(t, &claims("72f988bf-86f1-41af-91ab-2d7cd011db47"), &[tid.to_string()]).err().unwrap();
        assert_eq!((other.code, other.context.as_deref()), (TenantNotAllowed, Some("72f988bf-86f1-41af-91ab-2d7cd011db47")));
        for bad in ["", "a/b", "x?y"] {
            assert_eq!(tenant_issuer(t, &claims(bad), &[]).err().map(|e| e.code), Some(ClaimIss), "{bad:?}");
        }
        let none = Json::parse("{}", ErrorCode::JwtMalformed).ok().unwrap();
        assert_eq!(tenant_issuer(t, &none, &[]).err().map(|e| e.code), Some(ClaimIss), "tid required");
    }

    #[test]
    fn max_age_needs_a_recent_auth_time() {
        let with = |auth_time: Option<f64>| match auth_time {
            Some(t) => Json::parse(&format!(r#"{{"sub":"a","auth_time":{t}}}"#), ErrorCode::JwtMalformed).ok().unwrap(),
            None => Json::parse(r#"{"sub":"a"}"#, ErrorCode::JwtMalformed).ok().unwrap(),
        };
        let check = |c: &Json, max_age| check_authentication(c, max_age, None, false, NOW, 60.0).err().map(|e| e.code);
        assert_eq!(check(&with(Some(NOW - 300.0)), Some(300)), None, "just within");
        assert_eq!(check(&with(Some(NOW - 360.0)), Some(300)), None, "within the clock tolerance");
        assert_eq!(check(&with(Some(NOW - 361.0)), Some(300)), Some(ClaimAuthTime), "too old");
        assert_eq!(check(&with(None), Some(300)), Some(ClaimAuthTime), "auth_time is required with max_age");
        assert_eq!(check(&with(None), None), None, "no max_age, no requirement");
        let text = Json::parse(r#"{"auth_time":"1700000000"}"#, ErrorCode::JwtMalformed).ok().unwrap();
        assert_eq!(check(&text, Some(300)), Some(ClaimAuthTime), "a string is not a NumericDate");
    }

    #[test]
    fn acr_is_reported_and_required_on_request() {
        let c = Json::parse(r#"{"sub":"a","acr":"urn:mace:incommon:iap:silver"}"#, ErrorCode::JwtMalformed).ok().unwrap();
        let none = Json::parse(r#"{"sub":"a"}"#, ErrorCode::JwtMalformed).ok().unwrap();
        let run = |c: &Json, values: Option<&str>, require| check_authentication(c, None, values, require, NOW, 60.0).map_err(|e| e.code);
        assert_eq!(run(&c, Some("urn:mace:incommon:iap:silver urn:x"), true), Ok(Some("urn:mace:incommon:iap:silver".into())));
        assert_eq!(run(&c, Some("urn:x"), false), Ok(Some("urn:mace:incommon:iap:silver".into())), "reported, not required");
        assert_eq!(run(&c, Some("urn:x"), true), Err(ClaimAcr));
        assert_eq!(run(&none, Some("urn:x"), true), Err(ClaimAcr), "a missing acr is not the one asked for");
        assert_eq!(run(&c, Some("urn:mace:incommon:iap"), true), Err(ClaimAcr), "whole values only");
        assert_eq!(run(&c, None, true), Ok(None), "no acr_values, nothing to check");
    }

    fn verifier() -> IdTokenVerifier {
        IdTokenVerifier { issuer: IssuerUrl::new("https://op.example"), client_id: ClientId::new("spa"), clock_tolerance: 60.0 }
    }

    /// A valid claim set with one member replaced (`Some`) or removed (`None`).
    fn claims(edit: &[(&str, Option<&str>)]) -> Json {
        let mut m: Vec<(&str, String)> = vec![
            ("iss", "\"https://op.example\"".into()),
            ("sub", "\"alice\"".into()),
            ("aud", "\"spa\"".into()),
            ("exp", format!("{}", NOW + 300.0)),
            ("iat", format!("{}", NOW - 5.0)),
            ("nonce", "\"n-1\"".into()),
        ];
        for (k, v) in edit {
            m.retain(|(n, _)| n != k);
            if let Some(v) = v {
                m.push((k, v.to_string()));
            }
        }
        let body: Vec<String> = m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        Json::parse(&format!("{{{}}}", body.join(",")), ErrorCode::JwtMalformed).ok().unwrap()
    }

    fn check(edit: &[(&str, Option<&str>)]) -> core::result::Result<(), ErrorCode> {
        verifier().validate_claims(&claims(edit), Some(&Nonce::new("n-1")), NOW).map_err(|e| e.code)
    }

    #[test]
    fn a_valid_token_passes() {
        assert_eq!(check(&[]), Ok(()));
    }

    #[test]
    fn iss_must_be_exact() {
        assert_eq!(check(&[("iss", Some("\"https://op.example/\""))]), Err(ClaimIss));
        assert_eq!(check(&[("iss", Some("\"https://op.example1\""))]), Err(ClaimIss));
        assert_eq!(check(&[("iss", None)]), Err(ClaimIss));
        assert_eq!(check(&[("iss", Some("\"https://op.example\""))]), Ok(()));
    }

    #[test]
    fn aud_must_contain_the_client() {
        assert_eq!(check(&[("aud", Some("\"spa1\""))]), Err(ClaimAud));
        assert_eq!(check(&[("aud", None)]), Err(ClaimAud));
        assert_eq!(check(&[("aud", Some("[\"other\"]"))]), Err(ClaimAud));
        assert_eq!(check(&[("aud", Some("[\"spa\"]"))]), Ok(()), "aud as a one-element array");
    }

    #[test]
    fn other_audiences_need_azp() {
        assert_eq!(check(&[("aud", Some("[\"spa\",\"spa1\"]"))]), Err(ClaimAzp));
        assert_eq!(check(&[("aud", Some("[\"spa\",\"spa1\"]")), ("azp", Some("\"spa1\""))]), Err(ClaimAzp));
        assert_eq!(check(&[("aud", Some("[\"spa\",\"spa1\"]")), ("azp", Some("\"spa\""))]), Ok(()));
    }

    #[test]
    fn azp_when_present_is_the_client() {
        assert_eq!(check(&[("azp", Some("\"someone-else\""))]), Err(ClaimAzp));
        assert_eq!(check(&[("azp", Some("\"spa\""))]), Ok(()));
    }

    #[test]
    fn exp_is_required_and_honoured_with_tolerance() {
        assert_eq!(check(&[("exp", None)]), Err(ClaimExp));
        assert_eq!(check(&[("exp", Some("\"1800000000\""))]), Err(ClaimExp), "string is not a NumericDate");
        assert_eq!(check(&[("exp", Some(&format!("{}", NOW - 360.0)))]), Err(ClaimExp), "6 minutes ago");
        assert_eq!(check(&[("exp", Some(&format!("{}", NOW - 30.0)))]), Ok(()), "30 s ago: within the 60 s tolerance");
    }

    #[test]
    fn iat_is_required_recent_and_not_future() {
        assert_eq!(check(&[("iat", None)]), Err(ClaimIat));
        assert_eq!(check(&[("iat", Some("\"x\""))]), Err(ClaimIat));
        assert_eq!(check(&[("iat", Some(&format!("{}", NOW + 3600.0)))]), Err(ClaimIat), "an hour ahead");
        assert_eq!(check(&[("iat", Some(&format!("{}", NOW - 7.0 * 86400.0)))]), Err(ClaimIat), "a week old");
        assert_eq!(check(&[("iat", Some(&format!("{}", NOW + 30.0)))]), Ok(()), "30 s ahead: tolerated skew");
    }

    #[test]
    fn nbf_in_the_future_is_refused() {
        assert_eq!(check(&[("nbf", Some(&format!("{}", NOW + 600.0)))]), Err(ClaimNbf));
        assert_eq!(check(&[("nbf", Some("\"0\""))]), Err(ClaimNbf));
        assert_eq!(check(&[("nbf", Some(&format!("{}", NOW - 1.0)))]), Ok(()));
    }

    #[test]
    fn nonce_must_be_this_logins() {
        assert_eq!(check(&[("nonce", Some("\"n-11\""))]), Err(ClaimNonce));
        assert_eq!(check(&[("nonce", None)]), Err(ClaimNonce));
        assert_eq!(check(&[("nonce", Some("1"))]), Err(ClaimNonce));
        assert_eq!(check(&[("nonce", Some("\"n-1\""))]), Ok(()));
        // A refreshed token is checked without a nonce.
        assert!(verifier().validate_claims(&claims(&[("nonce", None)]), None, NOW).is_ok());
    }

    #[test]
    fn sub_is_required() {
        assert_eq!(check(&[("sub", None)]), Err(ClaimSub));
        assert_eq!(check(&[("sub", Some("\"\""))]), Err(ClaimSub));
        assert_eq!(check(&[("sub", Some("7"))]), Err(ClaimSub));
    }

    #[test]
    fn at_hash_is_the_left_half() {
        // OIDC Core A.3 example: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" → at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        use sha2::{Digest, Sha256};
        let d = Sha256::digest(b"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y");
        assert!(at_hash_matches("77QmUPtjPfzWtF2AnpK9RQ", &d));
        assert!(!at_hash_matches("77QmUPtjPfzWtF2AnpK9RR", &d));
    }

    #[test]
    fn refreshed_tokens_keep_their_identity() {
        let old = claims(&[("azp", Some("\"spa\""))]);
        assert!(check_refreshed_claims(&old, &claims(&[("azp", Some("\"spa\"")), ("iat", Some("1"))])).is_ok());
        for edit in [("iss", Some("\"https://op.example1\"")), ("sub", Some("\"bob\"")), ("aud", Some("[\"spa\"]")), ("azp", None)] {
            assert_eq!(
                check_refreshed_claims(&old, &claims(&[edit])).err().map(|e| e.code),
                Some(RefreshIdTokenMismatch),
                "{edit:?}"
            );
        }
    }
}
