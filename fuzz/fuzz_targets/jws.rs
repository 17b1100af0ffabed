//! Compact JWS parsing of ID tokens, with every algorithm name advertised (plus `none` and `HS256`, which
//! must still be refused). Properties: an accepted token is exactly
//! `signing_input '.' BASE64URL(signature)`, its alg is the header's, and its payload text parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::alg::JwsAlg;
use oidc_wasm::b64url;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::json::Json;
use oidc_wasm::jws::{parse_compact_jws, MAX_JWT_BYTES};

const ADVERTISED: &[&str] =
    &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "Ed25519", "none", "HS256"];

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let advertised: Vec<String> = ADVERTISED.iter().map(|s| s.to_string()).collect();
    let Ok(jws) = parse_compact_jws(token, &advertised) else { return };

    assert!(token.len() <= MAX_JWT_BYTES);
    assert_eq!(JwsAlg::from_name(jws.alg.name()), Some(jws.alg));
    assert_eq!(jws.header.str_member("alg"), Some(jws.alg.name()));
    assert!(jws.header.get("crit").is_none());
    let mut rebuilt = String::from(jws.signing_input);
    rebuilt.push('.');
    rebuilt.push_str(&b64url::encode(&jws.signature));
    assert_eq!(rebuilt, token);
    if let Some(n) = jws.alg.fixed_signature_len() {
        assert_eq!(jws.signature.len(), n);
    }
    assert!(Json::parse(&jws.payload_text, ErrorCode::JwtMalformed).is_ok());
    assert!(matches!(jws.payload, Json::Obj(_)));
    // Nothing else may be accepted with a narrower allowlist than the token's own alg.
    assert!(parse_compact_jws(token, &["RS256x".to_string()]).is_err());
});
