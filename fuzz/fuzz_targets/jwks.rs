//! The provider's JWKS: parsing, key selection for every algorithm, and the JWK handed to WebCrypto.
//! Properties: every candidate fits its alg and has the asked kid; `import_json()` is a JSON object that
//! parses back with the SDK's own reader and carries only kty, crv and strict-base64url key material.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::alg::JwsAlg;
use oidc_wasm::b64url;
use oidc_wasm::error::ErrorCode;
use oidc_wasm::json::Json;
use oidc_wasm::jwks::Jwks;

const ALGS: [JwsAlg; 10] = [
    JwsAlg::RS256,
    JwsAlg::RS384,
    JwsAlg::RS512,
    JwsAlg::PS256,
    JwsAlg::PS384,
    JwsAlg::PS512,
    JwsAlg::ES256,
    JwsAlg::ES384,
    JwsAlg::EdDSA,
    JwsAlg::Ed25519,
];

fn check_import_json(text: &str, alg: JwsAlg) {
    let v = match Json::parse_object(text, ErrorCode::JwksInvalid) {
        Ok(v) => v,
        Err(_) => panic!("import_json() is not a JSON object: {text:?}"),
    };
    let Json::Obj(members) = &v else { unreachable!() };
    let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    let b64 = |name: &str| {
        let s = v.str_member(name).unwrap_or_else(|| panic!("{name} missing in {text:?}"));
        assert!(b64url::decode(s).is_some(), "{name} is not strict base64url in {text:?}");
    };
    match (v.str_member("kty"), alg) {
        (Some("RSA"), JwsAlg::RS256 | JwsAlg::RS384 | JwsAlg::RS512 | JwsAlg::PS256 | JwsAlg::PS384 | JwsAlg::PS512) => {
            assert_eq!(names, ["kty", "n", "e"]);
            b64("n");
            b64("e");
        }
        (Some("EC"), JwsAlg::ES256 | JwsAlg::ES384) => {
            assert_eq!(names, ["kty", "crv", "x", "y"]);
            let want = if alg == JwsAlg::ES256 { "P-256" } else { "P-384" };
            assert_eq!(v.str_member("crv"), Some(want));
            b64("x");
            b64("y");
        }
        (Some("OKP"), JwsAlg::EdDSA | JwsAlg::Ed25519) => {
            assert_eq!(names, ["kty", "crv", "x"]);
            assert_eq!(v.str_member("crv"), Some("Ed25519"));
            b64("x");
        }
        (kty, _) => panic!("a {kty:?} key was offered for {alg:?}: {text:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else { return };
    let Ok(jwks) = Jwks::from_response(body) else { return };

    let mut kids: Vec<&str> = jwks.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
    kids.push("k1");
    for alg in ALGS {
        let any = jwks.candidates(alg, None);
        for key in &any {
            assert!(key.fits(alg));
            check_import_json(&key.import_json(), alg);
        }
        for kid in &kids {
            for key in jwks.candidates(alg, Some(kid)) {
                assert_eq!(key.kid.as_deref(), Some(*kid));
                assert!(any.iter().any(|k| std::ptr::eq(*k, key)), "a kid match is not among the kid-less candidates");
            }
        }
    }
});
