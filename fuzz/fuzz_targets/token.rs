//! The token endpoint's answer. Input: the HTTP status in the first two bytes (big-endian), the body after.
//! Each body is read as the answer to a plain and to a DPoP-bound request. Properties: success only on 200
//! with a non-empty access_token of the requested token_type; provider errors only on 4xx.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::json::Json;
use oidc_wasm::token::process_token_response;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]), rest),
        _ => return,
    };
    let Ok(body) = std::str::from_utf8(body) else { return };
    for dpop in [false, true] {
        match process_token_response(status, body, dpop) {
            Ok(t) => {
                assert_eq!(status, 200);
                assert!(!t.access_token.as_str().is_empty());
                let token_type = Json::parse(body, ErrorCode::TokenResponseInvalid).ok().and_then(|v| v.str_member("token_type").map(String::from));
                assert!(token_type.is_some_and(|tt| tt.eq_ignore_ascii_case(if dpop { "DPoP" } else { "Bearer" })));
                if let Some(e) = t.expires_in {
                    assert!(e.is_finite() && e >= 0.0);
                }
                for s in [t.refresh_token.as_ref().map(|r| r.as_str()), t.id_token.as_deref(), t.scope.as_deref()].into_iter().flatten() {
                    assert!(!s.is_empty());
                }
            }
            Err(e) if e.code == ErrorCode::TokenError => {
                assert!((400..500).contains(&status));
                assert!(e.oauth_error.is_some());
            }
            Err(_) => {}
        }
    }
});
