// OidcError: every failure of the SDK, with a stable `code` (see README "Error codes").

/** The stable error codes. Never renamed; new ones may be added. */
export type OidcErrorCode =
  | 'invalid_config' | 'network_error' | 'http_error' | 'discovery_invalid' | 'issuer_mismatch'
  | 'pkce_unsupported' | 'callback_invalid' | 'state_missing' | 'state_unknown' | 'transaction_expired'
  | 'iss_missing' | 'iss_mismatch' | 'authorization_error' | 'token_error' | 'token_response_invalid'
  | 'jwt_malformed' | 'alg_not_allowed' | 'header_unsupported' | 'jwks_invalid' | 'no_matching_key'
  | 'signature_invalid' | 'crypto_unavailable' | 'claim_iss' | 'claim_aud' | 'claim_azp' | 'claim_exp'
  | 'claim_iat' | 'claim_nbf' | 'claim_nonce' | 'claim_sub' | 'at_hash_mismatch' | 'refresh_id_token_mismatch'
  | 'userinfo_sub_mismatch' | 'not_signed_in' | 'storage_unavailable' | 'session_ended'
  | 'request_not_replayable' | 'browser_error' | 'redirect_refused' | 'claim_auth_time' | 'claim_acr'
  | 'tenant_not_allowed' | 'callback_not_for_this_client' | 'popup_blocked' | 'popup_closed' | 'popup_timeout' | 'internal_error';

export class OidcError extends Error {
  /** Stable machine-readable code. */
  readonly code: OidcErrorCode;
  /** The provider's OAuth `error` (authorization_error, token_error), e.g. `access_denied`, `invalid_grant`. */
  readonly error?: string;
  /** The provider's `error_description`, if it sent one. Text from the provider: display, don't trust. */
  readonly errorDescription?: string;

  /** What the error is about, when that helps to find it: the URL of a failed request, a configuration
   * entry. Never a token. Also in the message. */
  readonly context?: string;

  constructor(code: OidcErrorCode, message: string, error?: string, errorDescription?: string, context?: string) {
    const about = context !== undefined ? ` [${context}]` : '';
    super(error ? `${message}${about} (${error}${errorDescription ? `: ${errorDescription}` : ''})` : `${message}${about}`);
    this.name = 'OidcError';
    this.code = code;
    if (error !== undefined) this.error = error;
    if (errorDescription !== undefined) this.errorDescription = errorDescription;
    if (context !== undefined) this.context = context;
  }
}

/** The Rust core rejects with `[code, message, error, description, context]` (absent ones undefined);
 * anything else is a bug or a trap. */
export function toOidcError(e: unknown): OidcError {
  if (e instanceof OidcError) return e;
  if (Array.isArray(e) && typeof e[0] === 'string') return new OidcError(e[0] as OidcErrorCode, e[1], e[2], e[3], e[4]);
  return new OidcError('internal_error', e instanceof Error ? e.message : String(e));
}
