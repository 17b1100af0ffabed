//! The strict JSON reader every provider response goes through. Properties: `parse_object` agrees with
//! `parse`, and a parsed document written back out (strings with `json::write_str`, the writer the SDK
//! uses for JWKs and stored transactions) parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::json::{write_str, Json};

/// Writes `v` as JSON; `false` when a number has no exact integer spelling (the round trip is then skipped).
fn write(out: &mut String, v: &Json) -> bool {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => {
            assert!(n.is_finite(), "the reader never yields NaN or infinity");
            if !(n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0) {
                return false;
            }
            out.push_str(&(*n as i64).to_string());
        }
        Json::Str(s) => write_str(out, s),
        Json::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write(out, item) {
                    return false;
                }
            }
            out.push(']');
        }
        Json::Obj(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                if !write(out, item) {
                    return false;
                }
            }
            out.push('}');
        }
    }
    true
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = Json::parse(text, ErrorCode::JwtMalformed);
    let object = Json::parse_object(text, ErrorCode::JwtMalformed);
    assert_eq!(object.is_ok(), matches!(parsed, Ok(Json::Obj(_))));
    let Ok(v) = parsed else { return };

    let mut out = String::new();
    if write(&mut out, &v) {
        match Json::parse(&out, ErrorCode::JwtMalformed) {
            Ok(again) => assert_eq!(again, v, "round trip changed {text:?} (written as {out:?})"),
            Err(_) => panic!("{text:?} written back as {out:?} does not parse"),
        }
    }
});
