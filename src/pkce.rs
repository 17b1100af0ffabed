//! PKCE with S256 (RFC 7636). The verifier comes from 32 CSPRNG bytes; the challenge needs SHA-256,
//! which the browser computes (SubtleCrypto.digest), so this module only shapes the values.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::b64url;
use crate::types::{PkceCodeChallenge, PkceCodeVerifier};

/// Bytes of randomness in a verifier, state and nonce: 256 bits (RFC 7636 §7.1 asks for 256 bits of entropy).
pub const RANDOM_BYTES: usize = 32;

impl PkceCodeVerifier {
    /// RFC 7636 §4.1: BASE64URL of 32 random octets = a 43-character verifier.
    pub fn from_random(bytes: &[u8; RANDOM_BYTES]) -> Self {
        PkceCodeVerifier::new(b64url::encode(bytes))
    }
}

impl PkceCodeChallenge {
    /// RFC 7636 §4.2: `code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))`; `sha256` is that digest.
    pub fn from_sha256(sha256: &[u8]) -> Self {
        PkceCodeChallenge::new(b64url::encode(sha256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    // RFC 7636 Appendix B.
    const OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191,
        240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = PkceCodeVerifier::from_random(&OCTETS);
        assert_eq!(verifier.as_str(), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let challenge = PkceCodeChallenge::from_sha256(&Sha256::digest(verifier.as_str().as_bytes()));
        assert_eq!(challenge.as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_has_the_allowed_length_and_alphabet() {
        let v = PkceCodeVerifier::from_random(&[0xff; 32]);
        assert_eq!(v.as_str().len(), 43); // RFC 7636 §4.1: 43..=128
        assert!(v.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
}
