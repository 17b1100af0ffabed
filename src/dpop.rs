//! DPoP: sender-constrained tokens (RFC 9449). With `dpop: true` the client holds an ES256 key pair
//! that WebCrypto generated as non-extractable (kept as a CryptoKey in IndexedDB, never as bytes), and
//! proves possession of it on every token request and every API call: the tokens are bound to the key
//! (`cnf.jkt`), so a copied access or refresh token is useless without it.
//!
//! Pure parts here: the proof's JOSE header and claims (§4.2), `htu` (§4.2), `ath` (§4.2), the JWK
//! thumbprint for `dpop_jkt` (§10, RFC 7638), and nonce bookkeeping (§8, §9). Signing is the host's.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::b64url;
use crate::client::Client;
use crate::error::{ErrorCode, OidcError, Result};
use crate::host::Host;
use crate::json::{self, Json};
use crate::types::AccessToken;
use crate::url;

/// `htu`: the request URL without query and fragment (§4.2).
pub fn htu(request_url: &str) -> &str {
    let end = request_url.find(['?', '#']).unwrap_or(request_url.len());
    request_url.get(..end).unwrap_or(request_url)
}

/// The public JWK as the canonical JSON of RFC 7638 §3.2 (members in lexicographic order, no spaces):
/// what the thumbprint hashes, and what the proof header carries.
pub fn canonical_public_jwk(jwk_json: &str) -> Result<String> {
    let bad = || OidcError::new(ErrorCode::CryptoUnavailable, "the DPoP public key is not a P-256 JWK");
    let v = Json::parse_object(jwk_json, ErrorCode::CryptoUnavailable)?;
    if v.str_member("kty") != Some("EC") || v.str_member("crv") != Some("P-256") {
        return Err(bad());
    }
    let (Some(x), Some(y)) = (v.str_member("x"), v.str_member("y")) else { return Err(bad()) };
    let mut o = String::from("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":");
    json::write_str(&mut o, x);
    o.push_str(",\"y\":");
    json::write_str(&mut o, y);
    o.push('}');
    Ok(o)
}

/// The signing input of a DPoP proof: `BASE64URL(header) '.' BASE64URL(claims)`.
pub fn proof_signing_input(jwk: &str, htm: &str, htu: &str, iat: u64, jti: &str, ath: Option<&str>, nonce: Option<&str>) -> String {
    let mut h = String::from("{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"jwk\":");
    h.push_str(jwk);
    h.push('}');
    let mut c = String::from("{\"jti\":");
    json::write_str(&mut c, jti);
    c.push_str(",\"htm\":");
    json::write_str(&mut c, htm);
    c.push_str(",\"htu\":");
    json::write_str(&mut c, htu);
    c.push_str(",\"iat\":");
    json::write_u64(&mut c, iat);
    if let Some(a) = ath {
        c.push_str(",\"ath\":");
        json::write_str(&mut c, a);
    }
    if let Some(n) = nonce {
        c.push_str(",\"nonce\":");
        json::write_str(&mut c, n);
    }
    c.push('}');
    let mut out = b64url::encode(h.as_bytes());
    out.push('.');
    out.push_str(&b64url::encode(c.as_bytes()));
    out
}

impl<H: Host> Client<H> {
    /// The host's name for the key pair `id` (a login's, a session's): `<app>|dpop|<id>` (`<app>|dpop` for a
    /// session sealed before key ids existed).
    #[cfg(feature = "dpop")]
    fn dpop_key_name(&self, id: Option<&str>) -> String {
        let mut n = self.coordination_name();
        n.push_str("|dpop");
        if let Some(id) = id {
            n.push('|');
            n.push_str(id);
        }
        n
    }

    /// At the end of a session: deletes its key pair from the browser (every tab shares the store), so the
    /// next login starts with a new one.
    pub(crate) async fn forget_dpop_key(&self, id: Option<&str>) {
        #[cfg(feature = "dpop")]
        if self.config.dpop() {
            if self.dpop_jwk.get_ref().as_ref().is_some_and(|(k, _)| k.as_deref() == id) {
                *self.dpop_jwk.get_mut_ref() = None;
            }
            if id.is_some() {
                self.host.dpop_forget(&self.dpop_key_name(id)).await;
            }
        }
        #[cfg(not(feature = "dpop"))]
        let _ = id;
    }

    /// The canonical public JWK of the key pair `id` (made now when `create`: a new login); the last one
    /// is cached.
    #[cfg(feature = "dpop")]
    pub(crate) async fn dpop_jwk(&self, id: Option<&str>, create: bool) -> Result<String> {
        if let Some((k, j)) = self.dpop_jwk.get_ref().as_ref() {
            if k.as_deref() == id {
                return Ok(j.clone());
            }
        }
        let raw = self.host.dpop_public_jwk(&self.dpop_key_name(id), create).await?;
        let jwk = canonical_public_jwk(&raw)?;
        *self.dpop_jwk.get_mut_ref() = Some((id.map(String::from), jwk.clone()));
        Ok(jwk)
    }

    /// `dpop_jkt` for the authorization request (§10): binds the authorization code to the new key pair `id`.
    #[cfg(feature = "dpop")]
    pub(crate) async fn dpop_jkt(&self, id: Option<&str>) -> Result<String> {
        let jwk = self.dpop_jwk(id, true).await?;
        Ok(b64url::encode(&self.host.digest("SHA-256", jwk.as_bytes()).await?))
    }

    /// A DPoP proof made with the key pair `key` (the session's, or the login's for its code exchange) for
    /// `htm` on `request_url`; with the access token's hash when calling a resource. `None` when DPoP is off.
    pub(crate) async fn dpop_proof(&self, key: Option<&str>, htm: &str, request_url: &str, access_token: Option<&AccessToken>) -> Result<Option<String>> {
        #[cfg(not(feature = "dpop"))]
        {
            let _ = (key, htm, request_url, access_token);
            Ok(None)
        }
        #[cfg(feature = "dpop")]
        self.dpop_proof_with(key, htm, request_url, access_token).await
    }

    #[cfg(feature = "dpop")]
    async fn dpop_proof_with(&self, key: Option<&str>, htm: &str, request_url: &str, access_token: Option<&AccessToken>) -> Result<Option<String>> {
        if !self.config.dpop() {
            return Ok(None);
        }
        let jwk = self.dpop_jwk(key, false).await?;
        let ath = match access_token {
            Some(t) => Some(b64url::encode(&self.host.digest("SHA-256", t.as_str().as_bytes()).await?)),
            None => None,
        };
        let nonce = self.dpop_nonce(request_url);
        let jti = b64url::encode(&self.host.random32());
        let input = proof_signing_input(&jwk, htm, htu(request_url), self.host.now() as u64, &jti, ath.as_deref(), nonce.as_deref());
        let sig = self.host.dpop_sign(&self.dpop_key_name(key), input.as_bytes()).await?;
        let mut proof = input;
        proof.push('.');
        proof.push_str(&b64url::encode(&sig));
        Ok(Some(proof))
    }

    /// The last nonce the server at `url`'s origin gave (§8 for the provider, §9 for resource servers).
    #[cfg(feature = "dpop")]
    fn dpop_nonce(&self, request_url: &str) -> Option<String> {
        let origin = url::origin_of(request_url)?;
        self.dpop_nonces.get_ref().iter().find(|(o, _)| *o == origin).map(|(_, n)| n.clone())
    }

    /// Remembers a `DPoP-Nonce` response header; returns whether it is new.
    pub fn remember_dpop_nonce(&self, request_url: &str, nonce: &str) -> bool {
        if !cfg!(feature = "dpop") {
            return false;
        }
        let Some(origin) = url::origin_of(request_url) else { return false };
        if nonce.is_empty() || nonce.len() > 512 {
            return false;
        }
        let mut nonces = self.dpop_nonces.get_mut_ref();
        match nonces.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, n)) if n == nonce => false,
            Some((_, n)) => {
                *n = nonce.into();
                true
            }
            None => {
                nonces.push((origin, nonce.into()));
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_query_and_fragment() {
        assert_eq!(htu("https://api.example/v1/orders?id=7#x"), "https://api.example/v1/orders");
        assert_eq!(htu("https://op.example/token"), "https://op.example/token");
    }

    #[test]
    fn the_public_key_is_canonical_for_the_thumbprint() {
        // RFC 7638 §3.2 ordering; extra members (key_ops, ext, alg) are dropped.
        let raw = r#"{"key_ops":[],"ext":true,"y":"Y","x":"X","kty":"EC","crv":"P-256"}"#;
        assert_eq!(canonical_public_jwk(raw).ok().as_deref(), Some(r#"{"crv":"P-256","kty":"EC","x":"X","y":"Y"}"#));
        assert!(canonical_public_jwk(r#"{"kty":"RSA","n":"x","e":"AQAB"}"#).is_err());
        assert!(canonical_public_jwk(r#"{"kty":"EC","crv":"P-384","x":"X","y":"Y"}"#).is_err());
    }

    #[test]
    fn proof_header_and_claims() {
        let input = proof_signing_input(r#"{"crv":"P-256","kty":"EC","x":"X","y":"Y"}"#, "POST", "https://op.example/token", 1_700_000_000, "j1", Some("ATH"), Some("n-1"));
        let (h, c) = input.split_once('.').unwrap();
        let h = String::from_utf8(b64url::decode(h).unwrap()).unwrap();
        let c = String::from_utf8(b64url::decode(c).unwrap()).unwrap();
        assert_eq!(h, r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"crv":"P-256","kty":"EC","x":"X","y":"Y"}}"#);
        assert_eq!(c, r#"{"jti":"j1","htm":"POST","htu":"https://op.example/token","iat":1700000000,"ath":"ATH","nonce":"n-1"}"#);
    }
}
