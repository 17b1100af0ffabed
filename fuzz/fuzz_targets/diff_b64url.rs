//! Differential: `oidc_wasm::b64url` against the `base64` crate's strict engine: the URL-safe alphabet
//! (RFC 4648 §5), no padding accepted (`DecodePaddingMode::RequireNone`), non-zero trailing bits refused
//! (`decode_allow_trailing_bits(false)`).
//!
//! Properties: `b64url::decode` accepts exactly the texts the strict engine accepts and yields the same
//! bytes; `b64url::encode` equals the crate's `URL_SAFE_NO_PAD` (and the strict engine's) encoding of
//! any bytes. Input that is not UTF-8 cannot reach `decode` (it takes `&str`); the strict engine must
//! refuse it too (every non-ASCII byte is outside the alphabet).
//!
//! Allowed divergences: none. The stricter rules b64url.rs documents ("rejects [...] `+`, `/`, `=`,
//! white space, a length of 4n+1, and non-zero trailing bits") are all rules of the strict engine too.
#![no_main]

use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use oidc_wasm::b64url;

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

fuzz_target!(|data: &[u8]| {
    let ours = b64url::encode(data);
    assert_eq!(ours, URL_SAFE_NO_PAD.encode(data), "encode({data:?})");
    assert_eq!(ours, STRICT.encode(data), "encode({data:?})");

    let Ok(text) = std::str::from_utf8(data) else {
        assert!(STRICT.decode(data).is_err(), "the strict engine decoded non-UTF-8 input {data:?}");
        return;
    };
    match (b64url::decode(text), STRICT.decode(text)) {
        (Some(a), Ok(b)) => assert_eq!(a, b, "decode({text:?})"),
        (None, Err(_)) => {}
        (Some(a), Err(e)) => panic!("b64url accepts what the strict engine refuses ({e}): {text:?} -> {a:?}"),
        (None, Ok(b)) => panic!("b64url refuses what the strict engine accepts: {text:?} -> {b:?}"),
    }
});
