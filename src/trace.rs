//! An opt-in trace of the flow for learning tools (`createClient({ trace })`): each protocol step as a
//! small JSON object, with every token truncated here in the core (`eyJhbGci… (812 chars)`), so a full
//! token never reaches the trace. Nothing is traced unless the app asks for it.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::json::{self, Json};

/// The first 8 characters of a secret and its length: enough to tell two tokens apart on screen.
pub fn truncated(secret: &str) -> String {
    let mut o: String = secret.chars().take(8).collect();
    o.push_str("… (");
    json::write_u64(&mut o, secret.chars().count() as u64);
    o.push_str(" chars)");
    o
}

/// A JSON object built member by member.
pub struct TraceStep(String);

impl TraceStep {
    pub fn new(step: &str) -> Self {
        let mut o = String::from("{\"step\":");
        json::write_str(&mut o, step);
        TraceStep(o)
    }
    fn name(&mut self, name: &str) {
        self.0.push(',');
        json::write_str(&mut self.0, name);
        self.0.push(':');
    }
    pub fn str(mut self, name: &str, value: &str) -> Self {
        self.name(name);
        json::write_str(&mut self.0, value);
        self
    }
    pub fn secret(self, name: &str, value: &str) -> Self {
        self.str(name, &truncated(value))
    }
    pub fn num(mut self, name: &str, value: u64) -> Self {
        self.name(name);
        json::write_u64(&mut self.0, value);
        self
    }
    pub fn bool(mut self, name: &str, value: bool) -> Self {
        self.name(name);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }
    /// `raw` must already be JSON text.
    pub fn raw(mut self, name: &str, raw: &str) -> Self {
        self.name(name);
        self.0.push_str(raw);
        self
    }
    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// A query string as a JSON object of its (decoded) parameters.
pub fn query_object(query: &str) -> String {
    let mut o = String::from("{");
    for (i, (k, v)) in crate::url::parse_query(query).unwrap_or_default().iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        json::write_str(&mut o, k);
        o.push(':');
        json::write_str(&mut o, v);
    }
    o.push('}');
    o
}

/// One verification check that passed, with the rule it comes from.
pub fn check(out: &mut String, check: &str, spec: &str, detail: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    let mut c = TraceStep(String::from("{\"check\":"));
    json::write_str(&mut c.0, check);
    out.push_str(&c.str("spec", spec).str("detail", detail).finish());
}

/// The checks an ID token passed, for the `id_token` trace step.
pub fn id_token_checks(alg: &str, kid: Option<&str>, claims: &Json, issuer: &str, client_id: &str, nonce_checked: bool) -> String {
    let mut out = String::from("[");
    let mut d = String::from(alg);
    d.push_str(" signature verified by WebCrypto with the provider's key");
    if let Some(k) = kid {
        d.push_str(" kid=");
        d.push_str(k);
    }
    d.push_str(" from its jwks_uri (never from the token's own headers)");
    check(&mut out, "signature", "OIDC Core 3.1.3.7 step 6", &d);
    check(&mut out, "alg", "RFC 8725 §3.1", "on the SDK's allowlist and advertised by the provider; never none or HS*");
    let mut d = String::from("iss is exactly ");
    d.push_str(issuer);
    check(&mut out, "iss", "OIDC Core 3.1.3.7 step 2", &d);
    let mut d = String::from("aud contains this app's client_id ");
    d.push_str(client_id);
    d.push_str(": the ID token is addressed to the app, not to an API");
    check(&mut out, "aud", "OIDC Core 3.1.3.7 step 3", &d);
    check(&mut out, "azp", "OIDC Core 3.1.3.7 steps 4-5", "no other audience without azp = client_id");
    let num = |name: &str| claims.get(name).and_then(Json::as_f64).map(|n| n.max(0.0) as u64);
    let mut d = String::from("exp ");
    json::write_u64(&mut d, num("exp").unwrap_or(0));
    d.push_str(" is in the future (with the clock tolerance)");
    check(&mut out, "exp", "OIDC Core 3.1.3.7 step 9", &d);
    let mut d = String::from("iat ");
    json::write_u64(&mut d, num("iat").unwrap_or(0));
    d.push_str(" is not in the future and less than a day old");
    check(&mut out, "iat", "OIDC Core 3.1.3.7 step 10", &d);
    if nonce_checked {
        check(&mut out, "nonce", "OIDC Core 3.1.3.7 step 11", "equals the nonce this tab sent in the authorization request");
    }
    let mut d = String::from("sub present: ");
    d.push_str(claims.str_member("sub").unwrap_or(""));
    check(&mut out, "sub", "OIDC Core §2", &d);
    if claims.get("at_hash").is_some() {
        check(&mut out, "at_hash", "OIDC Core 3.1.3.8", "the left half of the access token's hash matches");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn secrets_are_truncated() {
        assert_eq!(truncated("eyJhbGciOiJSUzI1NiJ9.abc"), "eyJhbGci… (24 chars)");
        assert_eq!(truncated("ab"), "ab… (2 chars)");
    }

    #[test]
    fn steps_are_json() {
        let t = TraceStep::new("callback").str("state", "s\"1").secret("code", "0123456789").num("n", 7).bool("ok", true).raw("p", "{}").finish();
        let v = Json::parse(&t, ErrorCode::JwtMalformed).ok().unwrap();
        assert_eq!(v.str_member("code"), Some("01234567… (10 chars)"));
        assert_eq!(v.str_member("state"), Some("s\"1"));
        let q = Json::parse(&query_object("a=1&b=x%20y"), ErrorCode::JwtMalformed).ok().unwrap();
        assert_eq!(q.str_member("b"), Some("x y"));
        let claims = Json::parse(r#"{"sub":"alice","exp":1700000300,"iat":1700000000,"at_hash":"x"}"#, ErrorCode::JwtMalformed).ok().unwrap();
        let checks = Json::parse(&id_token_checks("RS256", Some("k1"), &claims, "https://op", "spa", true), ErrorCode::JwtMalformed).ok().unwrap();
        let names: Vec<_> = checks.as_array().unwrap().iter().map(|c| c.str_member("check").unwrap()).collect();
        assert_eq!(names, vec!["signature", "alg", "iss", "aud", "azp", "exp", "iat", "nonce", "sub", "at_hash"]);
    }
}
