//! The redirect-URI callback: `parse_callback` → `require_state` → `validate_auth_response`, and the
//! address-bar scrubbing. Properties beyond "no panic": scrubbing is idempotent, never lengthens the URL,
//! and leaves no authorization response behind.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::callback::{parse_callback, require_state, scrubbed_url, validate_auth_response};
use oidc_wasm::discovery::ProviderMetadata;
use oidc_wasm::types::IssuerUrl;

fn meta(iss_supported: bool) -> ProviderMetadata {
    ProviderMetadata {
        issuer: IssuerUrl::new("https://op.example"),
        authorization_endpoint: "https://op.example/authorize".into(),
        token_endpoint: "https://op.example/token".into(),
        jwks_uri: "https://op.example/jwks".into(),
        userinfo_endpoint: None,
        end_session_endpoint: None,
        revocation_endpoint: None,
        id_token_signing_alg_values_supported: vec!["RS256".into()],
        authorization_response_iss_parameter_supported: iss_supported,
        issuer_template: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else { return };

    let scrubbed = scrubbed_url(url);
    assert!(scrubbed.len() <= url.len(), "scrubbing lengthened {url:?}");
    assert_eq!(scrubbed_url(&scrubbed), scrubbed, "scrubbing is not idempotent for {url:?}");

    let Ok(params) = parse_callback(url) else { return };
    // Once scrubbed, the same URL must not read as an authorization response any more.
    assert!(parse_callback(&scrubbed).is_err(), "{url:?} still holds a response after scrubbing: {scrubbed:?}");

    if let Ok(state) = require_state(&params) {
        assert!(!state.as_str().is_empty());
    }
    for iss_supported in [true, false] {
        if let Ok(code) = validate_auth_response(&params, &meta(iss_supported)) {
            assert!(!code.as_str().is_empty());
            assert_eq!(params.code.as_deref(), Some(code.as_str()));
            assert!(params.error.is_none());
        }
    }
});
