//! Input from other tabs and from resource servers: tab messages (`session::Message::parse`), a sealed
//! session read back (`Session::from_sealed_json`), UserInfo responses, `WWW-Authenticate` challenges and
//! DPoP `htu`. Properties: a parsed session message survives being written and read again; `htu` never
//! keeps a query or fragment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_wasm::session::{Message, Session};
use oidc_wasm::{bearer, dpop, userinfo};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(Message::Session { gen, session }) = Message::parse(text) {
        let again = Message::session(gen, &session);
        match Message::parse(&again) {
            Ok(Message::Session { gen: g2, session: s2 }) => {
                assert_eq!(g2, gen);
                assert_eq!(s2.claims_text, session.claims_text);
                assert_eq!(s2.tokens.access_token.as_str(), session.tokens.access_token.as_str());
                assert_eq!(s2.dpop_key, session.dpop_key);
            }
            _ => panic!("a session message did not survive a round trip"),
        }
    }
    if let Some((s, generation)) = Session::from_sealed_json(text) {
        let sealed = s.to_sealed_json(generation).expect("a restored session has a refresh token");
        let (back, g2) = Session::from_sealed_json(&sealed).expect("a sealed session reads back");
        assert_eq!(g2, generation);
        assert_eq!(back.claims_text, s.claims_text, "the verified claims text survives the seal byte for byte");
    }
    let _ = userinfo::process_userinfo_response(200, text, "alice");
    let _ = bearer::is_invalid_token_challenge(text);
    let _ = bearer::challenge_error_is(text, "use_dpop_nonce");
    let h = dpop::htu(text);
    assert!(!h.contains(['?', '#']));
    assert!(text.starts_with(h));
});
