//! The discovery document, checked against the configured issuer. Properties: accepted metadata names
//! the configured issuer, only https/loopback endpoints, and at least one ID token algorithm.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::discovery::ProviderMetadata;
use oidc_wasm::types::IssuerUrl;
use oidc_wasm::url::is_secure_or_loopback;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    let Ok(m) = ProviderMetadata::from_response(&IssuerUrl::new("https://op.example"), body) else { return };

    assert_eq!(m.issuer.as_str(), "https://op.example");
    for e in [&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri] {
        assert!(is_secure_or_loopback(e), "endpoint {e:?} accepted");
    }
    for e in [&m.userinfo_endpoint, &m.end_session_endpoint, &m.revocation_endpoint].into_iter().flatten() {
        assert!(is_secure_or_loopback(e), "endpoint {e:?} accepted");
    }
    assert!(!m.id_token_signing_alg_values_supported.is_empty());
});
