//! A newtype for each protocol value, so a nonce cannot be passed where a state belongs and the
//! compiler keeps the flow's pieces apart. Secrets (verifier, tokens) have no `Debug` that shows them.

#[allow(unused_imports)]
use crate::prelude::*;

macro_rules! newtype {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);
        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                $name(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

newtype!(
    /// The exact issuer identifier, compared byte for byte (OIDC Discovery §4.3, Core §3.1.3.7 step 2).
    IssuerUrl
);
newtype!(
    /// The client identifier registered at the provider (RFC 6749 §2.2).
    ClientId
);
newtype!(
    /// The exact redirect URI registered for the client (RFC 6749 §3.1.2).
    RedirectUri
);
newtype!(
    /// The CSRF `state` value: 256 random bits, single use (RFC 6749 §10.12, RFC 9700 §4.7.1).
    State
);
newtype!(
    /// The OpenID `nonce`: 256 random bits, bound into the ID token (OIDC Core §3.1.2.1, §15.5.2).
    Nonce
);
newtype!(
    /// The PKCE `code_verifier`: 32 random bytes, base64url (RFC 7636 §4.1). Secret until the token request.
    PkceCodeVerifier
);
newtype!(
    /// The PKCE `code_challenge` = BASE64URL(SHA-256(verifier)) (RFC 7636 §4.2).
    PkceCodeChallenge
);
newtype!(
    /// The authorization code from the callback (RFC 6749 §4.1.2). Single use, short lived.
    AuthorizationCode
);
newtype!(
    /// An access token: opaque to this SDK, addressed to the API (RFC 6749 §1.4).
    AccessToken
);
newtype!(
    /// A refresh token (RFC 6749 §1.5); replaced on every rotation.
    RefreshToken
);

/// What a token response carries once checked (RFC 6749 §5.1).
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: AccessToken,
    /// Seconds of validity the provider announced, if it did.
    pub expires_in: Option<f64>,
    pub refresh_token: Option<RefreshToken>,
    /// The raw compact ID token (verified separately).
    pub id_token: Option<String>,
    pub scope: Option<String>,
}
