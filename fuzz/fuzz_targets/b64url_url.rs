//! base64url and the URL helpers. Properties: strict base64url has one spelling per byte string (decode
//! then encode gives the input back) and encode then decode is the identity; form encoding round-trips;
//! a parsed query rebuilt with `Form` parses to the same pairs; `origin_of` is idempotent and agrees with
//! `is_secure_or_loopback`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::b64url;
use oidc_wasm::callback::RESPONSE_PARAMS;
use oidc_wasm::url::{
    decode_component, encode_component, is_secure_or_loopback, origin_of, parse_query, query_of, with_query,
    without_params, Form,
};

fuzz_target!(|data: &[u8]| {
    assert_eq!(b64url::decode(&b64url::encode(data)).as_deref(), Some(data));

    let Ok(text) = std::str::from_utf8(data) else { return };

    if let Some(bytes) = b64url::decode(text) {
        assert_eq!(b64url::encode(&bytes), text, "a second spelling of the same bytes was accepted");
    }

    let mut enc = String::new();
    encode_component(&mut enc, text);
    assert_eq!(decode_component(&enc).as_deref(), Some(text));
    let _ = decode_component(text);

    if let Some(pairs) = parse_query(text) {
        let mut f = Form::new();
        for (k, v) in &pairs {
            f.pair(k, v);
        }
        assert_eq!(parse_query(f.as_str()), Some(pairs));
    }
    let _ = parse_query(query_of(text));
    let _ = without_params(text, RESPONSE_PARAMS);
    let _ = with_query(text, "a=1");

    let secure = is_secure_or_loopback(text);
    match origin_of(text) {
        Some(o) => {
            assert_eq!(origin_of(&o).as_deref(), Some(o.as_str()), "origin_of is not idempotent on {text:?}");
            assert_eq!(is_secure_or_loopback(&o), secure);
            assert!(o.starts_with("https://") || o.starts_with("http://"));
        }
        None => assert!(!secure),
    }
});
