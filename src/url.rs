//! The URL pieces the flow needs, and no general URL parser: `application/x-www-form-urlencoded`
//! encoding and decoding (used for query strings and token request bodies, RFC 6749 Appendix B), the
//! query of a redirect URL, and the origin of an absolute http(s) URL.

#[allow(unused_imports)]
use crate::prelude::*;

/// Appends `s` percent-encoded so that it is one form value (unreserved characters stay as they are).
pub fn encode_component(out: &mut String, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => {
                out.push('%');
                out.push(hex_digit(b >> 4));
                out.push(hex_digit(b & 15));
            }
        }
    }
}

fn hex_digit(n: u8) -> char {
    char::from_digit(u32::from(n), 16).map_or('0', |c| c.to_ascii_uppercase())
}

/// A form body or query string, built pair by pair.
#[derive(Default)]
pub struct Form(String);

impl Form {
    pub fn new() -> Self {
        Form(String::new())
    }
    pub fn pair(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_component(&mut self.0, name);
        self.0.push('=');
        encode_component(&mut self.0, value);
        self
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the result must be UTF-8.
pub fn decode_component(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = (*b.get(i + 1)? as char).to_digit(16)?;
                let lo = (*b.get(i + 2)? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The query of a URL (between `?` and `#`), or "" when there is none.
pub fn query_of(url: &str) -> &str {
    let before_fragment = url.split('#').next().unwrap_or("");
    match before_fragment.split_once('?') {
        Some((_, q)) => q,
        None => "",
    }
}

/// Parses a query into decoded pairs. `None` when a component is not decodable or a name repeats:
/// "Request and response parameters MUST NOT be included more than once" (RFC 6749 §3.1).
pub fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = decode_component(k)?;
        let v = decode_component(v)?;
        if pairs.iter().any(|(n, _)| *n == k) {
            return None;
        }
        pairs.push((k, v));
    }
    Some(pairs)
}

/// The URL with the named query parameters removed, everything else (path, other parameters, fragment)
/// kept as it was. Used to scrub `code`, `state` and friends from the address bar.
pub fn without_params(url: &str, names: &[&str]) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (url, None),
    };
    let (base, query) = before_fragment.split_once('?').unwrap_or((before_fragment, ""));
    let mut out = String::from(base);
    let mut first = true;
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let raw_name = part.split('=').next().unwrap_or("");
        let name = decode_component(raw_name).unwrap_or_default();
        if names.contains(&name.as_str()) {
            continue;
        }
        out.push(if first { '?' } else { '&' });
        first = false;
        out.push_str(part);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Appends a query to an endpoint URL that may already carry one (RFC 6749 §3.1: keep it).
pub fn with_query(endpoint: &str, query: &str) -> String {
    let base = endpoint.split('#').next().unwrap_or(endpoint);
    let mut out = String::from(base);
    out.push(if base.contains('?') { '&' } else { '?' });
    out.push_str(query);
    out
}

/// The origin of an absolute `http:` or `https:` URL, lower-cased scheme and host (`https://a.example:8443`).
/// `None` for anything else, including URLs with user info.
pub fn origin_of(url: &str) -> Option<String> {
    // Split at the first ':' and require "//" after it: byte checks, no substring searcher.
    let colon = url.bytes().position(|b| b == b':')?;
    let scheme = url.get(..colon)?.to_ascii_lowercase();
    let rest = url.get(colon + 1..)?.strip_prefix("//")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    if authority.is_empty() || authority.contains('@') || authority.contains(['\\', ' ']) {
        return None;
    }
    let mut o = scheme;
    o.push_str("://");
    o.push_str(&authority.to_ascii_lowercase());
    Some(o)
}

/// True for URLs this SDK will talk to: `https:`, or `http:` on a loopback host (local development,
/// RFC 8252 §8.3 spirit). Everything the provider names (endpoints, jwks_uri) must pass this.
pub fn is_secure_or_loopback(url: &str) -> bool {
    let Some(origin) = origin_of(url) else { return false };
    if origin.starts_with("https://") {
        return true;
    }
    let host_port = origin.get("http://".len()..).unwrap_or("");
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        // `[::1]` or `[::1]:port`, nothing else after the bracket.
        match v6.split_once(']') {
            Some((h, rest)) if rest.is_empty() || rest.starts_with(':') => Some(h),
            _ => None,
        }
    } else {
        host_port.split(':').next()
    };
    matches!(host, Some("127.0.0.1" | "localhost" | "::1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_form_values() {
        let mut f = Form::new();
        f.pair("redirect_uri", "https://app.example/cb?x=1&y=2").pair("scope", "openid profile");
        assert_eq!(f.as_str(), "redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1%26y%3D2&scope=openid%20profile");
    }

    #[test]
    fn decodes_plus_and_percent() {
        assert_eq!(decode_component("a+b%20c%C3%A9").as_deref(), Some("a b cé"));
        assert_eq!(decode_component("%ZZ"), None);
        assert_eq!(decode_component("%C3"), None, "not UTF-8");
        assert_eq!(decode_component("%4"), None);
    }

    #[test]
    fn parses_a_query_and_refuses_repeated_names() {
        let q = parse_query("code=abc&state=x%2By&empty").unwrap();
        assert_eq!(q, vec![("code".into(), "abc".into()), ("state".into(), "x+y".into()), ("empty".into(), "".into())]);
        assert_eq!(parse_query("state=a&state=b"), None);
        assert_eq!(parse_query("st%61te=a&state=b"), None, "names compare after decoding");
    }

    #[test]
    fn finds_the_query_before_the_fragment() {
        assert_eq!(query_of("https://a/cb?code=1#frag?x"), "code=1");
        assert_eq!(query_of("https://a/cb#x?y"), "");
    }

    #[test]
    fn removes_only_the_named_parameters() {
        let u = "https://app.example/cb?keep=1&code=abc&state=s&iss=https%3A%2F%2Fop#tab";
        assert_eq!(without_params(u, &["code", "state", "iss"]), "https://app.example/cb?keep=1#tab");
        assert_eq!(without_params("https://a/cb?code=1", &["code"]), "https://a/cb");
    }

    #[test]
    fn keeps_an_existing_endpoint_query() {
        assert_eq!(with_query("https://op/authorize?tenant=x", "a=1"), "https://op/authorize?tenant=x&a=1");
        assert_eq!(with_query("https://op/authorize", "a=1"), "https://op/authorize?a=1");
    }

    #[test]
    fn origins() {
        assert_eq!(origin_of("HTTPS://API.Example:8443/x?y").as_deref(), Some("https://api.example:8443"));
        assert_eq!(origin_of("https://user@evil.example/"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert!(is_secure_or_loopback("https://op.example"));
        assert!(is_secure_or_loopback("http://127.0.0.1:3001/"));
        assert!(is_secure_or_loopback("http://[::1]:80/"));
        assert!(!is_secure_or_loopback("http://op.example/"));
        assert!(!is_secure_or_loopback("http://127.0.0.1.evil.example/"));
        assert!(!is_secure_or_loopback("http://[::1]evil.example/"));
        assert!(!is_secure_or_loopback("http://[::1"));
    }
}
