//! A strict JSON reader (RFC 8259) for everything the provider sends: discovery, JWKS, token responses,
//! JOSE headers and claims. Written here rather than pulling in serde_json because it is small in wasm,
//! it is the same code natively and in the browser (so every rule is host-tested and fuzzed), and it
//! does what `JSON.parse` cannot: it rejects duplicate member names (RFC 7519 §4, RFC 7515 §4), so the
//! value we check is the only value there is.
//!
//! Limits keep it panic-free and bounded: nesting depth, and the caller caps the input size.
//! Numbers are kept as f64 computed digit by digit: exact for every integer below 2^53, which covers
//! NumericDate and `expires_in`; no float-parsing tables are linked.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::{ErrorCode, OidcError};

const MAX_DEPTH: u32 = 32;

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    /// Members in document order; names are unique.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Parses a whole document. `code` is the error code to report for malformed input, since what a
    /// broken document means depends on where it came from.
    pub fn parse(text: &str, code: ErrorCode) -> Result<Json, OidcError> {
        let mut p = Parser { s: text.as_bytes(), i: 0 };
        let bad = OidcError::new(code, "not valid JSON (or a member name repeats)");
        p.ws();
        let v = p.value(0).ok_or_else(|| bad.clone())?;
        p.ws();
        if p.i != p.s.len() {
            return Err(bad);
        }
        Ok(v)
    }

    /// Parses a document that must be a JSON object.
    pub fn parse_object(text: &str, code: ErrorCode) -> Result<Json, OidcError> {
        match Json::parse(text, code)? {
            v @ Json::Obj(_) => Ok(v),
            _ => Err(OidcError::new(code, "expected a JSON object")),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }

    /// Writes the value back as JSON text. Only what this SDK needs to re-serialise (claims, headers):
    /// strings, booleans, null, integers, arrays and objects; `None` for a fractional number rather than
    /// reformat it.
    pub fn to_text(&self) -> Option<String> {
        fn write(o: &mut String, v: &Json) -> Option<()> {
            match v {
                Json::Null => o.push_str("null"),
                Json::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
                Json::Num(n) => {
                    if n.abs() > 9.0e15 || (*n as i64) as f64 != *n {
                        return None;
                    }
                    if *n < 0.0 {
                        o.push('-');
                    }
                    write_u64(o, n.abs() as u64);
                }
                Json::Str(s) => write_str(o, s),
                Json::Arr(a) => {
                    o.push('[');
                    for (i, x) in a.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        write(o, x)?;
                    }
                    o.push(']');
                }
                Json::Obj(m) => {
                    o.push('{');
                    for (i, (k, x)) in m.iter().enumerate() {
                        if i > 0 {
                            o.push(',');
                        }
                        write_str(o, k);
                        o.push(':');
                        write(o, x)?;
                    }
                    o.push('}');
                }
            }
            Some(())
        }
        let mut o = String::new();
        write(&mut o, self)?;
        Some(o)
    }

    pub fn str_member(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Json::as_str)
    }

    /// A member that is an array of strings; `None` when absent or of another shape.
    pub fn str_array_member(&self, name: &str) -> Option<Vec<&str>> {
        self.get(name)?.as_array()?.iter().map(Json::as_str).collect()
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8], v: Json) -> Option<Json> {
        if self.s.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(v)
        } else {
            None
        }
    }

    fn value(&mut self, depth: u32) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(Json::Str),
            b't' => self.lit(b"true", Json::Bool(true)),
            b'f' => self.lit(b"false", Json::Bool(false)),
            b'n' => self.lit(b"null", Json::Null),
            _ => self.number().map(Json::Num),
        }
    }

    fn object(&mut self, depth: u32) -> Option<Json> {
        self.i += 1; // '{'
        let mut members: Vec<(String, Json)> = Vec::new();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(Json::Obj(members));
        }
        loop {
            self.ws();
            if self.peek()? != b'"' {
                return None;
            }
            let name = self.string()?;
            self.ws();
            if self.bump()? != b':' {
                return None;
            }
            self.ws();
            let v = self.value(depth + 1)?;
            members.push((name, v));
            self.ws();
            match self.bump()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        // Duplicate member names: sort the names and compare neighbours (O(n log n), even for hostile input).
        let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
        heapsort(&mut names);
        if names.windows(2).any(|w| w.first() == w.get(1)) {
            return None;
        }
        Some(Json::Obj(members))
    }

    fn array(&mut self, depth: u32) -> Option<Json> {
        self.i += 1; // '['
        let mut items = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Json::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.bump()? {
                b',' => continue,
                b']' => return Some(Json::Arr(items)),
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0u32;
        for _ in 0..4 {
            let c = self.bump()?;
            let d = (c as char).to_digit(16)?;
            n = n * 16 + d;
        }
        Some(n)
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain characters at once. The input is a &str and a run ends only at an
            // ASCII byte, so the run is valid UTF-8 on its own.
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(core::str::from_utf8(self.s.get(start..self.i)?).ok()?);
            match self.bump()? {
                b'"' => return Some(out),
                b'\\' => {
                    let ch = match self.bump()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                // A high surrogate must be followed by an escaped low surrogate.
                                if self.bump()? != b'\\' || self.bump()? != b'u' {
                                    return None;
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)? // a lone low surrogate fails here
                        }
                        _ => return None,
                    };
                    out.push(ch);
                }
                _ => return None, // raw control character
            }
        }
    }

    fn digits(&mut self, acc: &mut f64, count: &mut i32) -> bool {
        let start = self.i;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            *acc = *acc * 10.0 + f64::from(c - b'0');
            *count += 1;
            self.i += 1;
        }
        self.i > start
    }

    fn number(&mut self) -> Option<f64> {
        let neg = self.peek()? == b'-';
        if neg {
            self.i += 1;
        }
        let mut mantissa = 0.0f64;
        let mut int_digits = 0;
        if self.peek()? == b'0' {
            self.i += 1;
        } else if !self.digits(&mut mantissa, &mut int_digits) {
            return None;
        }
        let mut scale: i32 = 0;
        if self.peek() == Some(b'.') {
            self.i += 1;
            let mut frac_digits = 0;
            if !self.digits(&mut mantissa, &mut frac_digits) {
                return None;
            }
            scale -= frac_digits;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let eneg = match self.peek()? {
                b'-' => {
                    self.i += 1;
                    true
                }
                b'+' => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let mut e = 0i32;
            let start = self.i;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                e = e.saturating_mul(10).saturating_add(i32::from(c - b'0'));
                self.i += 1;
            }
            if self.i == start {
                return None;
            }
            scale = scale.saturating_add(if eneg { -e } else { e });
        }
        let mut v = mantissa;
        // Below 10^-308, pow10 would take the reciprocal of an infinite power and give 0, so 300 ones
        // followed by e-400 (about 1e-101) would read as 0: divide by 1e308 first. At most three rounds,
        // since the mantissa is below 2e308.
        while scale < -308 && v != 0.0 {
            v /= 1e308;
            scale += 308;
        }
        if scale != 0 && v != 0.0 {
            v *= pow10(scale);
        }
        // RFC 8259 §9 lets a parser limit the range: a number beyond f64 (1e400, 400 digits) is refused
        // rather than read as infinity (an `expires_in` of forever), and 0e400 is 0, not 0 × ∞ = NaN.
        if !v.is_finite() {
            return None;
        }
        Some(if neg { -v } else { v })
    }
}

/// In-place heapsort: O(n log n) on any input, and a few hundred bytes of wasm where the standard
/// library's sort brings several kilobytes.
fn heapsort(v: &mut [&str]) {
    fn sift_down(v: &mut [&str], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && v.get(child) < v.get(child + 1) {
                child += 1;
            }
            if v.get(root) >= v.get(child) {
                return;
            }
            v.swap(root, child);
            root = child;
        }
    }
    let n = v.len();
    for start in (0..n / 2).rev() {
        sift_down(v, start, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

fn pow10(e: i32) -> f64 {
    let mut r = 1.0f64;
    let mut n = e.unsigned_abs().min(400);
    let mut base = 10.0f64;
    while n > 0 {
        if n & 1 == 1 {
            r *= base;
        }
        base *= base;
        n >>= 1;
    }
    if e < 0 {
        1.0 / r
    } else {
        r
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let n = c as u32;
                out.push(char::from_digit(n >> 4, 16).unwrap_or('0'));
                out.push(char::from_digit(n & 15, 16).unwrap_or('0'));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a non-negative integer in decimal (no float formatting is linked).
pub fn write_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for &b in buf.get(i..).unwrap_or(&[]) {
        out.push(b as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const C: ErrorCode = ErrorCode::JwtMalformed;

    fn ok(s: &str) -> Json {
        Json::parse(s, C).expect(s)
    }
    fn bad(s: &str) {
        assert!(Json::parse(s, C).is_err(), "accepted {s:?}");
    }

    #[test]
    fn parses_every_kind_of_value() {
        let v = ok(r#" {"a":[1,-2.5,3e2,true,false,null],"b":"x\"\u00e9\ud83d\ude00\n","c":{}} "#);
        assert_eq!(v.get("a").and_then(Json::as_array).map(|a| a.len()), Some(6));
        assert_eq!(v.get("a").unwrap().as_array().unwrap()[1], Json::Num(-2.5));
        assert_eq!(v.get("a").unwrap().as_array().unwrap()[2], Json::Num(300.0));
        assert_eq!(v.str_member("b"), Some("x\"é😀\n"));
    }

    #[test]
    fn integers_are_exact_up_to_2_pow_53() {
        assert_eq!(ok("9007199254740992").as_f64(), Some(9007199254740992.0));
        assert_eq!(ok("1700000000").as_f64(), Some(1700000000.0));
        assert_eq!(ok("1.5E+3").as_f64(), Some(1500.0));
    }

    #[test]
    fn numbers_are_finite() {
        assert_eq!(ok("0e400").as_f64(), Some(0.0));
        assert_eq!(ok("-0E+999999999").as_f64(), Some(-0.0));
        assert_eq!(ok("1e-400").as_f64(), Some(0.0));
        assert!(ok("1e308").as_f64().is_some_and(f64::is_finite));
        bad("1e400");
        bad("-1e309");
        bad(&"9".repeat(400));
        bad(&format!("{}e-400", "1".repeat(400)));
    }

    #[test]
    fn tiny_exponents_keep_the_value() {
        // Found by the diff_json fuzz target: 10^-scale overflowed for scale < -308, so the value read as 0.
        let ones = |n: usize| "1".repeat(n);
        let close = |s: &str, want: f64| {
            let got = ok(s).as_f64().unwrap();
            // Digit by digit is not correctly rounded; subnormals are allowed a few of their steps.
            assert!((got - want).abs() <= want.abs() * 1e-12 + 1e-322, "{s}: {got:e} vs {want:e}");
        };
        close(&format!("{}e-400", ones(206)), 1.111111111111111e-195);
        close(&format!("{}e-400", ones(300)), 1.111111111111111e-101);
        close("2.5e-308", 2.5e-308);
        close("123456789e-310", 1.23456789e-302);
        close(&format!("{}e-620", ones(300)), 1.111_111_111_111_1e-321);
        close("1e-309", 1e-309);
        assert_eq!(ok("-1e-99999999999").as_f64(), Some(-0.0));
    }

    #[test]
    fn rejects_duplicate_member_names() {
        bad(r#"{"sub":"alice","sub":"mallory"}"#);
        bad(r#"{"a":{"x":1,"x":1}}"#);
        ok(r#"{"sub":"alice","Sub":"mallory"}"#);
    }

    #[test]
    fn rejects_malformed_documents() {
        for s in [
            "", "{", "{\"a\":1,}", "[1,]", "01", "1.", "-", "+1", ".5", "1e", "tru", "nul", "\"\\x\"", "\"a\u{1}\"",
            "\"\\ud800\"", "\"\\udc00\"", "{\"a\" 1}", "{a:1}", "{} {}", "\u{feff}{}", "NaN", "'a'",
        ] {
            bad(s);
        }
    }

    #[test]
    fn heapsort_sorts() {
        let mut v = vec!["d", "a", "c", "b", "a", "", "zz", "z"];
        heapsort(&mut v);
        assert_eq!(v, vec!["", "a", "a", "b", "c", "d", "z", "zz"]);
        let many: Vec<String> = (0..1000).map(|i| format!("{}", (i * 7919) % 1000)).collect();
        let mut refs: Vec<&str> = many.iter().map(String::as_str).collect();
        heapsort(&mut refs);
        let mut expected: Vec<&str> = many.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(refs, expected);
    }

    #[test]
    fn nesting_is_bounded() {
        bad(&"[".repeat(10_000));
        ok(&format!("{}{}", "[".repeat(30), "]".repeat(30)));
    }

    #[test]
    fn writes_strings_and_integers() {
        let mut s = String::new();
        write_str(&mut s, "a\"b\\c\u{1}é");
        write_u64(&mut s, 0);
        write_u64(&mut s, 1700000000);
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001é\"01700000000");
        assert_eq!(ok(&s[..=s.rfind('"').unwrap()]).as_str(), Some("a\"b\\c\u{1}é"));
    }
}
