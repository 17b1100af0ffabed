//! The provider's JSON Web Key Set (RFC 7517 §5) and the choice of verification key.
//! Keys come only from the metadata's `jwks_uri`; a token's `jku`, `x5u`, `jwk` or `x5c` header is never
//! followed (OIDC Core §10.1, RFC 8725 §3.10). Keys this SDK cannot use are skipped, not fatal
//! (RFC 7517 §5: "implementations SHOULD ignore JWKs within a JWK Set that use kty values that are not
//! understood"), and a key is a candidate only if everything it says about itself fits the algorithm.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::alg::{JwsAlg, KeyKind};
use core::cell::Cell;
use crate::b64url;
use crate::error::{fail, ErrorCode::JwksInvalid, Result};
use crate::json::{self, Json};

pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// RSA keys below 2048 bits are refused (RFC 7518 §3.3, §3.5).
pub const MIN_RSA_BITS: usize = 2048;

/// A public key in a form this SDK can verify with, checked on parse.
#[derive(Clone, Debug, PartialEq)]
pub struct Jwk {
    pub kid: Option<String>,
    kind: KeyKind,
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    /// The members WebCrypto imports: (n, e) for RSA, (x, y) for EC, (x) for OKP; base64url as given.
    a: String,
    b: String,
    rsa_bits: usize,
    /// The host's handle for this key as imported into WebCrypto for `alg` (see `Client::key_handle`).
    pub imported: Cell<Option<(JwsAlg, u32)>>,
}

#[derive(Debug, Default)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

fn bit_length(unsigned_be: &[u8]) -> usize {
    let start = unsigned_be.iter().position(|&b| b != 0).unwrap_or(unsigned_be.len());
    let rest = unsigned_be.get(start..).unwrap_or(&[]);
    match rest.first() {
        Some(&top) => (rest.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    }
}

impl Jwk {
    /// Reads one JWK; `None` for a key of a type, curve or shape this SDK does not use.
    fn from_json(v: &Json) -> Option<Jwk> {
        let s = |name: &str| v.str_member(name).map(String::from);
        let opt_string = |name: &str| -> Option<Option<String>> {
            match v.get(name) {
                None => Some(None),
                Some(Json::Str(x)) => Some(Some(x.clone())),
                Some(_) => None, // a member of the wrong type makes the key unusable
            }
        };
        let key_ops = match v.get("key_ops") {
            None => None,
            Some(ops) => Some(ops.as_array()?.iter().map(|o| o.as_str().map(String::from)).collect::<Option<Vec<_>>>()?),
        };
        let (kind, a, b, rsa_bits) = match v.str_member("kty")? {
            "RSA" => {
                let n = s("n")?;
                let e = s("e")?;
                let bits = bit_length(&b64url::decode(&n)?);
                let e_bytes = b64url::decode(&e)?;
                if e_bytes.is_empty() || e_bytes.len() > 8 {
                    return None;
                }
                (KeyKind::Rsa, n, e, bits)
            }
            "EC" => {
                let (crv, len) = match v.str_member("crv")? {
                    "P-256" => ("P-256", 32),
                    "P-384" => ("P-384", 48),
                    _ => return None,
                };
                let x = s("x")?;
                let y = s("y")?;
                if b64url::decode(&x)?.len() != len || b64url::decode(&y)?.len() != len {
                    return None;
                }
                (KeyKind::Ec(crv), x, y, 0)
            }
            "OKP" => {
                if v.str_member("crv")? != "Ed25519" {
                    return None;
                }
                let x = s("x")?;
                if b64url::decode(&x)?.len() != 32 {
                    return None;
                }
                (KeyKind::Okp("Ed25519"), x, String::new(), 0)
            }
            _ => return None,
        };
        // A JWK that carries private members is a provider bug; it is not used.
        if v.get("d").is_some() {
            return None;
        }
        Some(Jwk {
            kid: opt_string("kid")?,
            kind,
            use_: opt_string("use")?,
            key_ops,
            alg: opt_string("alg")?,
            a,
            b,
            rsa_bits,
            imported: Cell::new(None),
        })
    }

    /// Whether this key may verify a signature made with `alg` (RFC 7517 §4.2-4.4; RFC 8725 §3.1).
    /// `EdDSA` and `Ed25519` name the same signature on an Ed25519 key (RFC 9864), so a key labelled
    /// with either serves both (browsers export Ed25519 keys with `"alg":"Ed25519"`).
    pub fn fits(&self, alg: JwsAlg) -> bool {
        self.kind == alg.key_kind()
            && self.use_.as_deref().is_none_or(|u| u == "sig")
            && self.key_ops.as_ref().is_none_or(|ops| ops.iter().any(|o| o == "verify"))
            && self.alg.as_deref().is_none_or(|a| a == alg.name() || (alg.key_kind() == KeyKind::Okp("Ed25519") && (a == "EdDSA" || a == "Ed25519")))
            && (self.kind != KeyKind::Rsa || self.rsa_bits >= MIN_RSA_BITS)
    }

    /// The minimal public JWK handed to `crypto.subtle.importKey`: only the key material, so nothing the
    /// provider added (`alg`, `key_ops`, `ext`) can change how WebCrypto treats it.
    pub fn import_json(&self) -> String {
        let mut o = String::from("{\"kty\":");
        match self.kind {
            KeyKind::Rsa => {
                o.push_str("\"RSA\",\"n\":");
                json::write_str(&mut o, &self.a);
                o.push_str(",\"e\":");
                json::write_str(&mut o, &self.b);
            }
            KeyKind::Ec(crv) => {
                o.push_str("\"EC\",\"crv\":");
                json::write_str(&mut o, crv);
                o.push_str(",\"x\":");
                json::write_str(&mut o, &self.a);
                o.push_str(",\"y\":");
                json::write_str(&mut o, &self.b);
            }
            KeyKind::Okp(crv) => {
                o.push_str("\"OKP\",\"crv\":");
                json::write_str(&mut o, crv);
                o.push_str(",\"x\":");
                json::write_str(&mut o, &self.a);
            }
        }
        o.push('}');
        o
    }
}

impl Jwks {
    pub fn from_response(body: &str) -> Result<Jwks> {
        if body.len() > MAX_JWKS_BYTES {
            return fail(JwksInvalid, "the JWKS document is too large");
        }
        let v = Json::parse_object(body, JwksInvalid)?;
        let Some(keys) = v.get("keys").and_then(Json::as_array) else {
            return fail(JwksInvalid, "the JWKS document has no keys array");
        };
        Ok(Jwks { keys: keys.iter().filter_map(Jwk::from_json).collect() })
    }

    /// The keys that may verify a token with this `alg` and `kid`. With a `kid`, only keys with that
    /// exact kid; without one, every key that fits (the caller tries each: OIDC Core §10.1 lets a
    /// provider with one key per type omit kid).
    pub fn candidates(&self, alg: JwsAlg, kid: Option<&str>) -> Vec<&Jwk> {
        self.keys.iter().filter(|k| k.fits(alg) && kid.is_none_or(|id| k.kid.as_deref() == Some(id))).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 2048-bit modulus: 256 bytes with the top bit set.
    pub fn rsa_n(bytes: usize) -> String {
        let mut n = vec![0xABu8; bytes];
        n[0] = 0xC1;
        b64url::encode(&n)
    }

    fn ec(crv: &str, len: usize) -> String {
        let c = b64url::encode(&vec![7u8; len]);
        format!(r#"{{"kty":"EC","crv":"{crv}","x":"{c}","y":"{c}","kid":"ec-{crv}"}}"#)
    }

    fn set(keys: &[String]) -> Jwks {
        Jwks::from_response(&format!(r#"{{"keys":[{}]}}"#, keys.join(","))).ok().unwrap()
    }

    fn rsa(kid: &str, extra: &str) -> String {
        format!(r#"{{"kty":"RSA","kid":"{kid}","n":"{}","e":"AQAB"{extra}}}"#, rsa_n(256))
    }

    #[test]
    fn selects_by_kid_and_type() {
        let jwks = set(&[rsa("r1", ""), rsa("r2", ""), ec("P-256", 32)]);
        assert_eq!(jwks.candidates(JwsAlg::RS256, Some("r2")).len(), 1);
        assert_eq!(jwks.candidates(JwsAlg::RS256, Some("nope")).len(), 0);
        assert_eq!(jwks.candidates(JwsAlg::RS256, None).len(), 2);
        assert_eq!(jwks.candidates(JwsAlg::ES256, None).len(), 1);
        assert_eq!(jwks.candidates(JwsAlg::ES384, None).len(), 0, "P-256 key is no ES384 key");
        assert_eq!(jwks.candidates(JwsAlg::ES256, Some("r1")).len(), 0, "kid of a key of another type");
    }

    #[test]
    fn encryption_keys_and_restricted_keys_are_not_candidates() {
        let jwks = set(&[
            rsa("enc", r#","use":"enc""#),
            rsa("ops", r#","key_ops":["encrypt"]"#),
            rsa("alg", r#","alg":"PS256""#),
            rsa("ok", r#","use":"sig","key_ops":["verify"],"alg":"RS256""#),
        ]);
        let ids: Vec<_> = jwks.candidates(JwsAlg::RS256, None).iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(ids, vec!["ok"]);
        assert_eq!(jwks.candidates(JwsAlg::PS256, Some("alg")).len(), 1);
    }

    #[test]
    fn ed25519_keys_serve_both_names_of_the_algorithm() {
        let x = b64url::encode(&[1u8; 32]);
        let jwks = set(&[format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}","alg":"Ed25519"}}"#)]);
        assert_eq!(jwks.candidates(JwsAlg::EdDSA, None).len(), 1);
        assert_eq!(jwks.candidates(JwsAlg::Ed25519, None).len(), 1);
        assert_eq!(jwks.candidates(JwsAlg::ES256, None).len(), 0);
        let labelled_rs = set(&[rsa("r", r#","alg":"EdDSA""#)]);
        assert_eq!(labelled_rs.candidates(JwsAlg::RS256, None).len(), 0, "an RSA key labelled EdDSA serves nothing");
    }

    #[test]
    fn rsa_keys_below_2048_bits_are_refused() {
        let weak = format!(r#"{{"kty":"RSA","kid":"weak","n":"{}","e":"AQAB"}}"#, rsa_n(128));
        let jwks = set(&[weak, rsa("strong", "")]);
        assert_eq!(jwks.candidates(JwsAlg::RS256, Some("weak")).len(), 0);
        assert_eq!(jwks.candidates(JwsAlg::RS256, Some("strong")).len(), 1);
        // Leading zero bytes do not count as bits.
        let mut n = vec![0u8; 257];
        n[1] = 0x80;
        assert_eq!(bit_length(&n), 2048);
        assert_eq!(bit_length(&[0, 0, 1]), 1);
    }

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let jwks = set(&[
            r#"{"kty":"AKP","alg":"ML-DSA-44","pub":"abc"}"#.into(),
            r#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#.into(),
            r#"{"kty":"oct","k":"c2VjcmV0"}"#.into(),
            r#"{"kty":"RSA","n":"not base64!","e":"AQAB"}"#.into(),
            ec("P-256", 31),
            format!(r#"{{"kty":"RSA","n":"{}","e":"AQAB","d":"AQAB"}}"#, rsa_n(256)),
            r#"{"kty":"OKP","crv":"X25519","x":"AAAA"}"#.into(),
            "42".into(),
            rsa("good", ""),
        ]);
        assert_eq!(jwks.keys.len(), 1);
        assert_eq!(jwks.keys[0].kid.as_deref(), Some("good"));
    }

    #[test]
    fn malformed_sets_are_errors() {
        for body in ["[]", "{}", r#"{"keys":{}}"#, "nope", r#"{"keys":[],"keys":[]}"#] {
            assert_eq!(Jwks::from_response(body).err().map(|e| e.code), Some(JwksInvalid), "{body}");
        }
    }

    #[test]
    fn import_json_carries_only_key_material() {
        let jwks = set(&[rsa("r", r#","alg":"RS256","key_ops":["verify"],"ext":true"#)]);
        let j = jwks.keys[0].import_json();
        assert!(j.starts_with(r#"{"kty":"RSA","n":""#) && j.ends_with(r#","e":"AQAB"}"#), "{j}");
        let okp = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64url::encode(&[1u8; 32]));
        assert_eq!(set(&[okp]).keys[0].import_json(), format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64url::encode(&[1u8; 32])));
    }
}
