//! The UserInfo endpoint (OIDC Core §5.3): called with the access token, and its answer trusted only if
//! its `sub` is the verified ID token's `sub` (§5.3.2: "the sub Claim in the UserInfo Response MUST be
//! verified to exactly match the sub Claim in the ID Token; if they do not match, the UserInfo Response
//! values MUST NOT be used").

#[allow(unused_imports)]
use crate::prelude::*;
use crate::bearer;
use crate::client::Client;
use crate::error::{fail, ErrorCode::*, Result};
use crate::host::Host;
use crate::json::Json;

pub const MAX_USERINFO_BYTES: usize = 256 * 1024;

/// Checks a UserInfo response: 200, a JSON object (signed or encrypted UserInfo is not requested by this
/// client), and the same `sub`. Returns the JSON text.
pub fn process_userinfo_response(status: u16, body: &str, id_token_sub: &str) -> Result<String> {
    if status != 200 {
        return fail(HttpError, "the UserInfo endpoint did not answer 200");
    }
    if body.len() > MAX_USERINFO_BYTES {
        return fail(HttpError, "the UserInfo response is too large");
    }
    let v = Json::parse_object(body, HttpError)?;
    if v.str_member("sub") != Some(id_token_sub) {
        return fail(UserinfoSubMismatch, "the UserInfo sub is not the ID token's sub: its claims are not used");
    }
    Ok(body.into())
}

impl<H: Host> Client<H> {
    /// Fetches the UserInfo claims of the signed-in user.
    pub async fn userinfo(&self) -> Result<String> {
        let meta = self.metadata().await?;
        let Some(endpoint) = meta.userinfo_endpoint.clone() else {
            return fail(InvalidConfig, "the provider has no userinfo_endpoint");
        };
        self.ensure_fresh().await?;
        let (token, sub, key) = match self.session.get_ref().as_ref() {
            Some(s) => (s.tokens.access_token.clone(), s.sub().unwrap_or("").to_string(), s.dpop_key.clone()),
            None => return fail(NotSignedIn, "no user is signed in"),
        };
        let auth = bearer::authorization_header(&token, self.config.dpop());
        let mut retried = false;
        loop {
            let proof = self.dpop_proof(key.as_deref(), "GET", &endpoint, Some(&token)).await?;
            let res = self.host.get(&endpoint, Some(&auth), proof.as_deref()).await?;
            // RFC 9449 §9: a 401 with a new DPoP-Nonce asks for a proof with that nonce: one retry.
            let new_nonce = res.dpop_nonce.as_deref().is_some_and(|n| self.remember_dpop_nonce(&endpoint, n));
            if res.status == 401 && new_nonce && proof.is_some() && !retried {
                retried = true;
                continue;
            }
            return process_userinfo_response(res.status, &res.body, &sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_sub_is_accepted() {
        assert!(process_userinfo_response(200, r#"{"sub":"alice","email":"a@example.test"}"#, "alice").is_ok());
    }

    #[test]
    fn another_sub_is_refused() {
        for body in [r#"{"sub":"aliceinvalid"}"#, r#"{"email":"a@example.test"}"#, r#"{"sub":1}"#] {
            assert_eq!(process_userinfo_response(200, body, "alice").err().map(|e| e.code), Some(UserinfoSubMismatch), "{body}");
        }
    }

    #[test]
    fn errors_and_non_json_are_http_errors() {
        assert_eq!(process_userinfo_response(401, "", "alice").err().map(|e| e.code), Some(HttpError));
        assert_eq!(process_userinfo_response(200, "eyJhbGciOi.x.y", "alice").err().map(|e| e.code), Some(HttpError));
    }
}
