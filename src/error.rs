//! Every failure the SDK reports: a stable string `code` (documented in README.md, never renamed) plus a
//! fixed English detail. No `format!`: messages are `&'static str`, which keeps the formatting machinery
//! out of the wasm. An OAuth error returned by the provider keeps the provider's own `error` and
//! `error_description` beside our code.

#[allow(unused_imports)]
use crate::prelude::*;

/// The stable error codes. `as_str` is the public contract: JavaScript sees `OidcError.code`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ErrorCode {
    /// The configuration passed to `createClient` (or an option of a call) is unusable.
    InvalidConfig,
    /// The request could not be sent or its response could not be read (offline, DNS, CORS, reset).
    NetworkError,
    /// An endpoint answered with an HTTP status the protocol does not allow, and no OAuth error body.
    HttpError,
    /// The discovery document is not valid JSON or lacks a required member (OIDC Discovery §3, §4.3).
    DiscoveryInvalid,
    /// The discovery document's `issuer` is not exactly the configured issuer (OIDC Discovery §4.3).
    IssuerMismatch,
    /// The provider says it does not support PKCE with S256 (RFC 7636 §4.2; RFC 9700 §2.1.1).
    PkceUnsupported,
    /// The callback URL is malformed: no query, a repeated parameter, no `code` (RFC 6749 §3.1, §4.1.2).
    CallbackInvalid,
    /// The callback has no `state` (RFC 6749 §4.1.2; RFC 9700 §4.7.1).
    StateMissing,
    /// No pending login in this tab has this `state`: forged, replayed, or from another tab.
    StateUnknown,
    /// The pending login is older than its lifetime (10 minutes).
    TransactionExpired,
    /// The authorization response has no `iss` though the provider promises one (RFC 9207 §2.4).
    IssMissing,
    /// The authorization response's `iss` is not the issuer the login went to (RFC 9207 §2.4).
    IssMismatch,
    /// The provider returned an OAuth error to the redirect URI (RFC 6749 §4.1.2.1).
    AuthorizationError,
    /// The token endpoint returned an OAuth error such as `invalid_grant` (RFC 6749 §5.2).
    TokenError,
    /// The token response breaks RFC 6749 §5.1 / OIDC Core §3.1.3.3 (no access_token, wrong token_type, no id_token).
    TokenResponseInvalid,
    /// The ID token is not a compact JWS: parts, base64url, JSON, size (RFC 7515 §7.1; RFC 7519 §7.2).
    JwtMalformed,
    /// The JWS header's `alg` is not allowed: not advertised, `none`, HS*, or unsupported (RFC 8725 §3.1).
    AlgNotAllowed,
    /// The JWS header has a `crit` member, or a `typ` of another kind of JWT (RFC 7515 §4.1.11; RFC 8725 §3.11).
    HeaderUnsupported,
    /// The JWKS document is not valid (RFC 7517 §5).
    JwksInvalid,
    /// No key in the provider's JWKS can verify this token, even after one refetch (OIDC Core §10.1.1).
    NoMatchingKey,
    /// The signature does not verify with the provider's key (OIDC Core §3.1.3.7 step 6).
    SignatureInvalid,
    /// The browser's WebCrypto refused the key or the algorithm.
    CryptoUnavailable,
    /// `iss` is not the issuer (OIDC Core §3.1.3.7 step 2).
    ClaimIss,
    /// `aud` does not contain the client_id (OIDC Core §3.1.3.7 step 3).
    ClaimAud,
    /// `azp` is missing though `aud` names others, or is not the client_id (OIDC Core §3.1.3.7 steps 4-5).
    ClaimAzp,
    /// `exp` is missing, not a number, or past (OIDC Core §3.1.3.7 step 9).
    ClaimExp,
    /// `iat` is missing, not a number, in the future or too old (OIDC Core §3.1.3.7 step 10).
    ClaimIat,
    /// `nbf` is not a number or in the future (RFC 7519 §4.1.5).
    ClaimNbf,
    /// `nonce` is missing or not the one this login sent (OIDC Core §3.1.3.7 step 11).
    ClaimNonce,
    /// `sub` is missing or empty (OIDC Core §2).
    ClaimSub,
    /// `at_hash` does not match the access token (OIDC Core §3.1.3.8).
    AtHashMismatch,
    /// A refreshed ID token names another `iss`, `sub`, `aud` or `azp` than the first (OIDC Core §12.2).
    RefreshIdTokenMismatch,
    /// The UserInfo `sub` differs from the ID token's (OIDC Core §5.3.2).
    UserinfoSubMismatch,
    /// The call needs a signed-in user and there is none.
    NotSignedIn,
    /// sessionStorage refused the login transaction (disabled, full, or a sandboxed frame).
    StorageUnavailable,
    /// The session is over: the refresh token was refused (`invalid_grant`), revoked, or spent by another
    /// tab whose new tokens never arrived. The app should offer to sign in again.
    SessionEnded,
    /// A 401 asked for a new token but the request body (a stream) cannot be sent twice.
    RequestNotReplayable,
    /// A browser API the SDK relies on threw or refused (history.replaceState, Web Locks, the app's `trace`
    /// callback): the call stopped cleanly, nothing is left held.
    BrowserError,
    /// A request carrying a token was answered with a redirect, which the SDK does not follow (it could take
    /// the token to another origin).
    RedirectRefused,
    /// The login asked for `max_age` and the ID token's `auth_time` is missing or too old (OIDC Core §3.1.3.7
    /// step 13, §3.1.2.1).
    ClaimAuthTime,
    /// `requireAcr` is on and the ID token's `acr` is not one of the requested `acr_values` (OIDC Core §3.1.2.1,
    /// §5.5.1.1).
    ClaimAcr,
    /// `multiTenant` with a list of tenants: the ID token's `tid` is not one of them.
    TenantNotAllowed,
    /// Two clients on one page: this authorization response answers a login the other client started (its
    /// `state` is under that client's transaction); nothing of it was touched, that client completes it.
    CallbackNotForThisClient,
    /// `loginWithPopup`: the browser refused to open the popup (`window.open` returned null).
    PopupBlocked,
    /// `loginWithPopup`: the user closed the popup before the provider answered.
    PopupClosed,
    /// `loginWithPopup`: no answer came back from the popup within its timeout.
    PopupTimeout,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::NetworkError => "network_error",
            ErrorCode::HttpError => "http_error",
            ErrorCode::DiscoveryInvalid => "discovery_invalid",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::PkceUnsupported => "pkce_unsupported",
            ErrorCode::CallbackInvalid => "callback_invalid",
            ErrorCode::StateMissing => "state_missing",
            ErrorCode::StateUnknown => "state_unknown",
            ErrorCode::TransactionExpired => "transaction_expired",
            ErrorCode::IssMissing => "iss_missing",
            ErrorCode::IssMismatch => "iss_mismatch",
            ErrorCode::AuthorizationError => "authorization_error",
            ErrorCode::TokenError => "token_error",
            ErrorCode::TokenResponseInvalid => "token_response_invalid",
            ErrorCode::JwtMalformed => "jwt_malformed",
            ErrorCode::AlgNotAllowed => "alg_not_allowed",
            ErrorCode::HeaderUnsupported => "header_unsupported",
            ErrorCode::JwksInvalid => "jwks_invalid",
            ErrorCode::NoMatchingKey => "no_matching_key",
            ErrorCode::SignatureInvalid => "signature_invalid",
            ErrorCode::CryptoUnavailable => "crypto_unavailable",
            ErrorCode::ClaimIss => "claim_iss",
            ErrorCode::ClaimAud => "claim_aud",
            ErrorCode::ClaimAzp => "claim_azp",
            ErrorCode::ClaimExp => "claim_exp",
            ErrorCode::ClaimIat => "claim_iat",
            ErrorCode::ClaimNbf => "claim_nbf",
            ErrorCode::ClaimNonce => "claim_nonce",
            ErrorCode::ClaimSub => "claim_sub",
            ErrorCode::AtHashMismatch => "at_hash_mismatch",
            ErrorCode::RefreshIdTokenMismatch => "refresh_id_token_mismatch",
            ErrorCode::UserinfoSubMismatch => "userinfo_sub_mismatch",
            ErrorCode::NotSignedIn => "not_signed_in",
            ErrorCode::StorageUnavailable => "storage_unavailable",
            ErrorCode::SessionEnded => "session_ended",
            ErrorCode::RequestNotReplayable => "request_not_replayable",
            ErrorCode::BrowserError => "browser_error",
            ErrorCode::RedirectRefused => "redirect_refused",
            ErrorCode::ClaimAuthTime => "claim_auth_time",
            ErrorCode::ClaimAcr => "claim_acr",
            ErrorCode::TenantNotAllowed => "tenant_not_allowed",
            ErrorCode::CallbackNotForThisClient => "callback_not_for_this_client",
            ErrorCode::PopupBlocked => "popup_blocked",
            ErrorCode::PopupClosed => "popup_closed",
            ErrorCode::PopupTimeout => "popup_timeout",
        }
    }
}

/// An error with its code, a fixed detail, the provider's OAuth `error` / `error_description` when the
/// provider sent them (authorization and token errors only), and the value it is about when that helps the
/// developer find it (a configuration entry, a URL).
#[derive(Clone, PartialEq, Debug)]
pub struct OidcError {
    pub code: ErrorCode,
    pub detail: &'static str,
    pub oauth_error: Option<String>,
    pub oauth_description: Option<String>,
    pub context: Option<String>,
}

impl OidcError {
    pub const fn new(code: ErrorCode, detail: &'static str) -> Self {
        OidcError { code, detail, oauth_error: None, oauth_description: None, context: None }
    }

    /// The value the error is about (never a token or a secret).
    pub fn with_context(mut self, value: &str) -> Self {
        self.context = Some(value.into());
        self
    }
}

pub type Result<T> = core::result::Result<T, OidcError>;

/// Shorthand for `Err(OidcError::new(code, detail))`.
pub fn fail<T>(code: ErrorCode, detail: &'static str) -> Result<T> {
    Err(OidcError::new(code, detail))
}
