//! The app's configuration, the stored login transaction, and ID token claims validation, all fed the
//! same text. Properties: an accepted config always requests `openid` with a bounded clock tolerance; a
//! read transaction survives `to_json` → `from_json`; claims that validate also pass the refresh check
//! against themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::config::Config;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::id_token::{check_refreshed_claims, IdTokenVerifier};
use oidc_wasm::json::Json;
use oidc_wasm::transaction::{check_return_to, LoginTransaction};
use oidc_wasm::types::{ClientId, IssuerUrl, Nonce};
use oidc_wasm::url::is_secure_or_loopback;

const NOW: f64 = 1_700_000_000.0;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    let mut verifiers = vec![IdTokenVerifier {
        issuer: IssuerUrl::new("https://op.example"),
        client_id: ClientId::new("spa"),
        clock_tolerance: 60.0,
    }];
    if let Ok(c) = Config::from_json(text) {
        assert!(c.scope.split(' ').any(|s| s == "openid"));
        assert!((0.0..=600.0).contains(&c.clock_tolerance));
        assert!(is_secure_or_loopback(c.issuer.as_str()));
        assert!(!c.client_id.as_str().is_empty());
        verifiers.push(IdTokenVerifier { issuer: c.issuer, client_id: c.client_id, clock_tolerance: c.clock_tolerance });
    }

    if let Ok(tx) = LoginTransaction::from_json(text) {
        let again = match LoginTransaction::from_json(&tx.to_json()) {
            Ok(a) => a,
            Err(_) => panic!("a transaction read from {text:?} does not read back from {:?}", tx.to_json()),
        };
        assert!(again.state == tx.state && again.code_verifier == tx.code_verifier && again.nonce == tx.nonce);
        assert!(again.issuer == tx.issuer && again.return_to == tx.return_to);
        if tx.expires_at < 1 << 53 {
            assert_eq!(again.expires_at, tx.expires_at);
        }
    }
    let _ = check_return_to(text);

    let Ok(claims) = Json::parse(text, ErrorCode::JwtMalformed) else { return };
    let nonce = Nonce::new("n-1");
    for v in &verifiers {
        for n in [Some(&nonce), None] {
            if v.validate_claims(&claims, n, NOW).is_ok() {
                assert!(check_refreshed_claims(&claims, &claims).is_ok(), "valid claims differ from themselves: {text:?}");
            }
        }
        for now in [0.0, -1e300, f64::MAX, f64::NAN] {
            let _ = v.validate_claims(&claims, Some(&nonce), now);
        }
    }
});
