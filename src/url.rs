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

/// Where `needle` first occurs in `hay`: bytes compared directly (the std substring searcher, and the panic
/// formatting it links, stay out of the wasm).
pub fn find_sub(hay: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.as_bytes().windows(needle.len()).position(|w| w == needle.as_bytes())
}

/// `hay` with every `needle` replaced by `with`.
pub fn replace_all(hay: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = find_sub(rest, needle) {
        out.push_str(rest.get(..i).unwrap_or(""));
        out.push_str(with);
        rest = rest.get(i + needle.len()..).unwrap_or("");
    }
    out.push_str(rest);
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

/// An origin written in configuration (`apiOrigins`), normalised the way the browser serialises origins
/// (WHATWG URL): scheme and host lower-cased, the default port dropped (`https://a.example:443` →
/// `https://a.example`), a trailing `/` allowed. `None` for what could never equal a request's origin: a
/// path, query or fragment, user info, a non-ASCII host (the browser uses its punycode form, `xn--…`), a
/// port out of range, a numeric host that is not a plain dotted IPv4 address.
pub fn normalize_origin(entry: &str) -> Option<String> {
    let colon = entry.bytes().position(|b| b == b':')?;
    let scheme = entry.get(..colon)?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let rest = entry.get(colon + 1..)?.strip_prefix("//")?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || !authority.is_ascii() || authority.bytes().any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\' | b'%') || b <= b' ') {
        return None;
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return None;
            }
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return None,
            };
            (authority.get(..h.len() + 2)?, port)
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    if host.is_empty() || (!host.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    // WHATWG reads a host whose last label is a number as an IPv4 address (and rewrites forms like
    // `0x7f.1`): only the plain dotted form is taken as written.
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    if !host.starts_with('[') && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x")) {
        let parts: Vec<&str> = host.split('.').collect();
        let plain = parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0')) && p.parse::<u16>().is_ok_and(|n| n <= 255));
        if !plain {
            return None;
        }
    }
    let mut o = scheme;
    o.push_str("://");
    o.push_str(&host);
    match port {
        None | Some("") => {}
        Some(p) => {
            if p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n = p.parse::<u32>().ok()?;
            if n > 65535 {
                return None;
            }
            let canonical = p.trim_start_matches('0');
            let canonical = if canonical.is_empty() { "0" } else { canonical };
            if canonical != default_port {
                o.push(':');
                o.push_str(canonical);
            }
        }
    }
    Some(o)
}

/// An API's URL written in configuration (`apis[].url`): an origin, normalised as `normalize_origin` does,
/// optionally followed by a path prefix written as the browser writes paths (WHATWG URL), so that it can be
/// compared byte for byte with a request's path: no `.` or `..` segment (the browser resolves them), no
/// query or fragment, only characters the browser leaves as they are (`%XX` escapes included). A trailing
/// `/` is dropped: `https://a.example/v1/` and `https://a.example/v1` are one prefix.
pub fn normalize_api_url(entry: &str) -> Option<String> {
    // `origin_of` keeps the length of what it lower-cases: the path starts right after it.
    let split = origin_of(entry)?.len();
    let mut o = normalize_origin(entry.get(..split)?)?;
    let path = entry.get(split..)?.trim_end_matches('/');
    let b = path.as_bytes();
    let escape_at = |i: usize| b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
    let fine = b.iter().enumerate().all(|(i, c)| c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(c) || (*c == b'%' && escape_at(i)));
    if !fine || !path.split('/').all(|seg| !is_dot_segment(seg)) {
        return None;
    }
    o.push_str(path);
    Some(o)
}

/// `.` or `..`, also written with `%2e` (WHATWG URL: "single-dot" and "double-dot" segments).
fn is_dot_segment(seg: &str) -> bool {
    let (mut rest, mut dots) = (seg, 0);
    while !rest.is_empty() {
        rest = match rest.strip_prefix('.') {
            Some(r) => r,
            None if rest.get(..3).is_some_and(|e| e.eq_ignore_ascii_case("%2e")) => rest.get(3..).unwrap_or(""),
            None => return false,
        };
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// The path of an absolute http(s) URL (`/` when it has none), without query or fragment, and its origin as
/// `origin_of` gives it.
pub fn origin_and_path(url: &str) -> Option<(String, &str)> {
    let origin = origin_of(url)?;
    let rest = url.get(origin.len()..)?;
    let end = rest.bytes().position(|b| matches!(b, b'?' | b'#')).unwrap_or(rest.len());
    let path = rest.get(..end)?;
    Some((origin, if path.is_empty() { "/" } else { path }))
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
    fn configured_origins_are_normalised_as_the_browser_serialises_them() {
        for (entry, want) in [
            ("https://api.example", "https://api.example"),
            ("https://API.Example/", "https://api.example"),
            ("HTTPS://api.example:443", "https://api.example"),
            ("http://api.example:80/", "http://api.example"),
            ("https://api.example:8443", "https://api.example:8443"),
            ("https://api.example:08443", "https://api.example:8443"),
            ("https://api.example:", "https://api.example"),
            ("http://127.0.0.1:4000", "http://127.0.0.1:4000"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ] {
            assert_eq!(normalize_origin(entry).as_deref(), Some(want), "{entry}");
        }
        for bad in [
            "https://bücher.example",
            "https://api.example/v1",
            "https://api.example?x",
            "https://api.example#x",
            "https://user@api.example",
            "https://api.example:65536",
            "https://api.example:x",
            "ftp://api.example",
            "api.example",
            "https://",
            "https://0x7f.1",
            "https://127.1",
            "https://1.2.3.04",
            "https://api example",
            "https://api.example%2F",
            "https://[::1",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_and_replaces_substrings() {
        assert_eq!(find_sub("a{b}{b}", "{b}"), Some(1));
        assert_eq!(find_sub("abc", "x"), None);
        assert_eq!(find_sub("ab", "abc"), None);
        assert_eq!(replace_all("x={a}&y={a}", "{a}", "é"), "x=é&y=é");
        assert_eq!(replace_all("none", "{a}", "z"), "none");
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

    #[test]
    fn api_urls_are_written_as_the_browser_writes_them() {
        for (entry, want) in [
            ("https://API.example:443", Some("https://api.example")),
            ("https://api.example/", Some("https://api.example")),
            ("https://api.example/v1/", Some("https://api.example/v1")),
            ("http://127.0.0.1:4000/a/b%2Fc/", Some("http://127.0.0.1:4000/a/b%2Fc")),
            ("https://api.example/V1/~x:y@z", Some("https://api.example/V1/~x:y@z")),
            ("https://api.example/.well-known", Some("https://api.example/.well-known")),
            ("https://api.example/v1/./x", None),
            ("https://api.example/v1/..", None),
            ("https://api.example/%2E%2e/x", None),
            ("https://api.example/v1?q", None),
            ("https://api.example/v1#f", None),
            ("https://api.example/a\\b", None),
            ("https://api.example/é", None),
            ("https://api.example/%4", None),
            ("https://user@api.example/v1", None),
            ("ftp://api.example/v1", None),
            ("https:///v1", None),
        ] {
            assert_eq!(normalize_api_url(entry).as_deref(), want, "{entry}");
        }
    }

    #[test]
    fn the_origin_and_path_of_a_request() {
        let path = |u: &str| origin_and_path(u).map(|(_, p)| p.to_string());
        assert_eq!(path("https://a.example").as_deref(), Some("/"));
        assert_eq!(path("https://a.example?x=/y").as_deref(), Some("/"));
        assert_eq!(path("https://a.example/v1/x?y=/z#f").as_deref(), Some("/v1/x"));
        assert_eq!(path("https://a.example#/v1").as_deref(), Some("/"));
        assert_eq!(origin_and_path("HTTPS://A.example:8443/V1").map(|(o, p)| (o, p.to_string())), Some(("https://a.example:8443".into(), "/V1".into())));
        assert_eq!(path("mailto:a@b"), None);
    }
}
