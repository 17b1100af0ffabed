//! The JWS algorithms an ID token may be signed with, and how WebCrypto names each (RFC 7518 §3; RFC 8037
//! §3.1 for EdDSA; RFC 9864 for the fully-specified `Ed25519`). The list is closed: `none`, HS*
//! (a public client has no secret, RFC 8725 §3.1) and anything WebCrypto cannot verify are not here, and
//! names compare case-sensitively, so `None` or `nOnE` are as unknown as `XYZ`.

#[allow(unused_imports)]
use crate::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JwsAlg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    Ed25519,
}

/// The key type and curve a JWK needs for an algorithm (RFC 7518 §6; RFC 8037 §2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeyKind {
    Rsa,
    Ec(&'static str),
    Okp(&'static str),
}

/// What `crypto.subtle.importKey` and `verify` need to be told.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WebCryptoParams {
    pub name: &'static str,
    pub hash: &'static str,
    pub named_curve: &'static str,
    pub salt_length: u32,
}

impl JwsAlg {
    pub fn from_name(name: &str) -> Option<JwsAlg> {
        Some(match name {
            "RS256" => JwsAlg::RS256,
            "RS384" => JwsAlg::RS384,
            "RS512" => JwsAlg::RS512,
            "PS256" => JwsAlg::PS256,
            "PS384" => JwsAlg::PS384,
            "PS512" => JwsAlg::PS512,
            "ES256" => JwsAlg::ES256,
            "ES384" => JwsAlg::ES384,
            "EdDSA" => JwsAlg::EdDSA,
            "Ed25519" => JwsAlg::Ed25519,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            JwsAlg::RS256 => "RS256",
            JwsAlg::RS384 => "RS384",
            JwsAlg::RS512 => "RS512",
            JwsAlg::PS256 => "PS256",
            JwsAlg::PS384 => "PS384",
            JwsAlg::PS512 => "PS512",
            JwsAlg::ES256 => "ES256",
            JwsAlg::ES384 => "ES384",
            JwsAlg::EdDSA => "EdDSA",
            JwsAlg::Ed25519 => "Ed25519",
        }
    }

    pub fn key_kind(self) -> KeyKind {
        match self {
            JwsAlg::RS256 | JwsAlg::RS384 | JwsAlg::RS512 | JwsAlg::PS256 | JwsAlg::PS384 | JwsAlg::PS512 => KeyKind::Rsa,
            JwsAlg::ES256 => KeyKind::Ec("P-256"),
            JwsAlg::ES384 => KeyKind::Ec("P-384"),
            JwsAlg::EdDSA | JwsAlg::Ed25519 => KeyKind::Okp("Ed25519"),
        }
    }

    /// The hash named by the algorithm, also the one `at_hash` uses (OIDC Core §3.1.3.6); SHA-512 for
    /// Ed25519, as the OpenID errata specify.
    pub fn hash(self) -> &'static str {
        match self {
            JwsAlg::RS256 | JwsAlg::PS256 | JwsAlg::ES256 => "SHA-256",
            JwsAlg::RS384 | JwsAlg::PS384 | JwsAlg::ES384 => "SHA-384",
            JwsAlg::RS512 | JwsAlg::PS512 | JwsAlg::EdDSA | JwsAlg::Ed25519 => "SHA-512",
        }
    }

    pub fn webcrypto(self) -> WebCryptoParams {
        let (name, named_curve, salt_length) = match self {
            JwsAlg::RS256 | JwsAlg::RS384 | JwsAlg::RS512 => ("RSASSA-PKCS1-v1_5", "", 0),
            // RFC 7518 §3.5: the salt is as long as the hash output.
            JwsAlg::PS256 => ("RSA-PSS", "", 32),
            JwsAlg::PS384 => ("RSA-PSS", "", 48),
            JwsAlg::PS512 => ("RSA-PSS", "", 64),
            JwsAlg::ES256 => ("ECDSA", "P-256", 0),
            JwsAlg::ES384 => ("ECDSA", "P-384", 0),
            JwsAlg::EdDSA | JwsAlg::Ed25519 => ("Ed25519", "", 0),
        };
        WebCryptoParams { name, hash: self.hash(), named_curve, salt_length }
    }

    /// The exact signature length where the algorithm fixes it: ECDSA is R‖S, not DER (RFC 7518 §3.4).
    pub fn fixed_signature_len(self) -> Option<usize> {
        match self {
            JwsAlg::ES256 | JwsAlg::EdDSA | JwsAlg::Ed25519 => Some(64),
            JwsAlg::ES384 => Some(96),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_compare_case_sensitively() {
        for a in [JwsAlg::RS256, JwsAlg::PS512, JwsAlg::ES384, JwsAlg::EdDSA, JwsAlg::Ed25519] {
            assert_eq!(JwsAlg::from_name(a.name()), Some(a));
        }
        for bad in ["none", "None", "nOnE", "HS256", "HS512", "rs256", "ES512", "ES256K", ""] {
            assert_eq!(JwsAlg::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn webcrypto_parameters() {
        assert_eq!(JwsAlg::PS384.webcrypto(), WebCryptoParams { name: "RSA-PSS", hash: "SHA-384", named_curve: "", salt_length: 48 });
        assert_eq!(JwsAlg::ES256.webcrypto().named_curve, "P-256");
        assert_eq!(JwsAlg::ES256.fixed_signature_len(), Some(64));
        assert_eq!(JwsAlg::RS256.fixed_signature_len(), None);
    }
}
