//! Differential: the SDK's form decoding (`oidc_wasm::url::parse_query`, `decode_component`) and encoding
//! (`encode_component`, `Form`) against the `form_urlencoded` crate (the `url` crate's
//! `application/x-www-form-urlencoded`, WHATWG URL §5), which never refuses: it keeps a malformed `%`
//! as it is and decodes bytes that are not UTF-8 to U+FFFD.
//!
//! Properties:
//! - `parse_query(q)` refuses exactly when one of the rules below holds (each checked here on the raw
//!   input); otherwise it returns exactly `form_urlencoded::parse(q)`: the same pairs in the same order
//!   (same splitting at `&` and the first `=`, empty pieces skipped, `+` a space, `%XX` a byte).
//! - `decode_component(s)` refuses exactly when rule 1 or 2 holds for `s`; otherwise it equals the
//!   crate's decoding of `s` (as the value of `=s`, with `&` and `=` written `%26` and `%3D`).
//! - `encode_component(s)` writes only unreserved characters and upper-case `%XX`, and the crate decodes
//!   it back to `s`; a `Form` of any pairs parses with the crate to those pairs; a query the crate's
//!   `Serializer` writes (`+` for space, `*` kept) parses with `parse_query` to its pairs, unless a name
//!   repeats (rule 3).
//!
//! Allowed divergences (`parse_query` / `decode_component` refuse, the crate reads something):
//! 1. A `%` not followed by two hex digits: `decode_component` ("`%XX` a byte"; `to_digit(16)?` on the
//!    two bytes after `%`). The crate keeps such a `%` literally.
//! 2. A component whose decoded bytes are not UTF-8: `decode_component` ("the result must be UTF-8",
//!    `String::from_utf8(out).ok()`). The crate substitutes U+FFFD.
//! 3. A name that repeats after decoding: `parse_query` ("`None` when [...] a name repeats", RFC 6749
//!    §3.1). The crate returns every pair. Checked only when rules 1 and 2 do not hold for any component.
#![no_main]

use form_urlencoded::Serializer;
use libfuzzer_sys::fuzz_target;
use oidc_wasm::url::{decode_component, encode_component, parse_query, Form};
use percent_encoding::percent_decode;

/// Rule 1: a `%` without two hex digits after it.
fn malformed_escape(component: &str) -> bool {
    let b = component.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// Rule 2: the decoded bytes are not UTF-8 (`+` decodes to ASCII and cannot change that).
fn not_utf8(component: &str) -> bool {
    std::str::from_utf8(&percent_decode(component.as_bytes()).collect::<Vec<u8>>()).is_err()
}

/// The components of a query as both parsers split it: at `&`, empty pieces skipped, then at the first `=`.
fn components(query: &str) -> impl Iterator<Item = &str> {
    query.split('&').filter(|p| !p.is_empty()).flat_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        [k, v]
    })
}

/// Unreserved characters (RFC 3986 §2.3) and `%XX` with upper-case hex digits, nothing else.
fn only_unreserved_and_escapes(encoded: &str) -> bool {
    let mut b = encoded.as_bytes();
    while let Some((&c, rest)) = b.split_first() {
        if c == b'%' {
            let Some((hex, rest)) = rest.split_first_chunk::<2>() else { return false };
            if !hex.iter().all(|d| matches!(d, b'0'..=b'9' | b'A'..=b'F')) {
                return false;
            }
            b = rest;
        } else if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            b = rest;
        } else {
            return false;
        }
    }
    true
}

fn reference(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn repeats_a_name(pairs: &[(String, String)]) -> bool {
    let mut seen = std::collections::HashSet::new();
    pairs.iter().any(|(k, _)| !seen.insert(k.as_str()))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    // parse_query against form_urlencoded::parse.
    let theirs = reference(text);
    let escape = components(text).any(malformed_escape);
    let utf8 = components(text).any(not_utf8);
    let repeat = !escape && !utf8 && repeats_a_name(&theirs);
    match parse_query(text) {
        Some(ours) => {
            assert!(!escape, "parse_query accepted a malformed % escape in {text:?}");
            assert!(!utf8, "parse_query accepted a component that is not UTF-8 in {text:?}");
            assert!(!repeat, "parse_query accepted a repeated name in {text:?}");
            assert_eq!(ours, theirs, "parse_query({text:?})");
        }
        None => {
            assert!(escape || utf8 || repeat, "parse_query refused {text:?}, read by form_urlencoded as {theirs:?}")
        }
    }

    // decode_component against the crate's decoding of one value.
    let as_value = format!("={}", text.replace('&', "%26").replace('=', "%3D"));
    let their_value = reference(&as_value).pop().map(|(_, v)| v);
    match decode_component(text) {
        Some(ours) => {
            assert!(!malformed_escape(text) && !not_utf8(text), "decode_component accepted {text:?}");
            assert_eq!(Some(ours), their_value, "decode_component({text:?})");
        }
        None => assert!(malformed_escape(text) || not_utf8(text), "decode_component refused {text:?}"),
    }

    // encode_component on the whole input.
    let mut enc = String::new();
    encode_component(&mut enc, text);
    assert!(only_unreserved_and_escapes(&enc), "encode_component({text:?}) wrote {enc:?}");
    assert_eq!(
        reference(&format!("={enc}")),
        vec![(String::new(), text.to_owned())],
        "encode_component({text:?}) = {enc:?}"
    );

    // Form and form_urlencoded's Serializer on the input's lines taken as name, value, name, value, ...
    let lines: Vec<&str> = text.split('\n').collect();
    let pairs: Vec<(String, String)> =
        lines.chunks(2).map(|c| (c[0].to_owned(), c.get(1).copied().unwrap_or("").to_owned())).collect();
    let mut form = Form::new();
    let mut serializer = Serializer::new(String::new());
    for (k, v) in &pairs {
        form.pair(k, v);
        serializer.append_pair(k, v);
    }
    assert_eq!(reference(form.as_str()), pairs, "Form {:?} of {pairs:?}", form.as_str());
    let written = serializer.finish();
    let parsed = parse_query(&written);
    if repeats_a_name(&pairs) {
        assert_eq!(parsed, None, "parse_query accepted a repeated name in {written:?}");
    } else {
        assert_eq!(parsed, Some(pairs), "parse_query of form_urlencoded's {written:?}");
    }
});
