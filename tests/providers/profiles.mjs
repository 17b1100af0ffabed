// The nine provider profiles played by profile-op.mjs: Keycloak, Auth0, Microsoft Entra ID, Okta, Amazon
// Cognito, Google, Ping (PingFederate), Zitadel and Authentik. Each profile is what the provider's public
// documentation says it does — the shape of its discovery document, its issuer form, where its endpoints
// are, what its token and refresh responses carry, how its logout page behaves and the errors it returns —
// with the documentation cited beside each quirk. The README recipe for the provider (the `createClient`
// config under `<!-- provider-config: NAME -->`) is run against it unchanged by providers.test.mjs.
//
// A profile is data plus hooks for profile-op.mjs:
//   name, title               the README's provider-config name, and a label
//   hosts                     every https host the README recipe names → the local server that plays it:
//                             'app' (the test page), 'api' (the profile's API) or one of `roles`
//   roles                     the OP's origins ('op' is the issuer's; Cognito and Google have a second)
//   recipeKeys, metadataKeys  the exact keys the recipe must have (a README change that breaks the
//                             profile fails loudly)
//   client                    the client registered in the provider's console: its client_id (redirect
//                             URI `<app>/callback`, post-logout URI `<app>/`)
//   issuer(o, ctx)            the issuer the app is configured with (o: role → local origin)
//   endpoints(o, ctx)         endpoint name → { role, path }: discovery, jwks, authorize, token, userinfo,
//                             revocation, endSession (absent: the provider has none)
//   discovery(ctx)            the discovery document, in the provider's shape
//   noCors                    endpoints served without CORS headers
//   exposeHeaders             Access-Control-Expose-Headers of the CORS endpoints
//   sendIss                   RFC 9207 `iss` in the authorization response
//   authorizeError(ctx, q, scope)  an error the authorization endpoint answers with, or null
//   user(ctx)                 the signed-in user's claims
//   accessTokenLifetime       expires_in (a test can shorten it through op.state.accessTokenLifetime)
//   accessToken(ctx, grant)   { token, userinfo? }: the access token (JWT or opaque)
//   issuesRefreshToken(ctx, grant)  whether the code exchange brings a refresh token
//   refresh                   { rotation: 'rotate' | 'same' | 'omit' | 'none', idToken: boolean }:
//                             a new refresh token each time / the same one back / none in the answer (the
//                             old one stays valid) / no refresh tokens at all; and whether an ID token
//                             comes with a refresh
//   idTokenClaims(ctx, grant, { grantType, accessToken })
//   tokenExtras(ctx, grant, grantType)  extra members of the token response
//   tokenHook(ctx, { req, form, grantType })  an early answer of the token endpoint (rate limits, ...)
//   endSession(ctx, query)    { redirect } or { status, title, text }: the logout page's decision
//   api(ctx, token)           { ok, sub, checked } or { ok: false, why }: how the API checks a token
//   expect                    what providers.test.mjs asserts for this profile (see there); `refused`:
//                             sign-ins the SDK must refuse, each with the OP state that makes it
//                             (op.state), the OidcError code, and whether the code is exchanged first
//
// Placeholder hosts are the README's; no request ever leaves 127.0.0.1.

export const SAMPLE_API = 'urn:oidc-wasm:sample-api'; // the sample API's identifier, as in dev/provider.mjs

const BASE_KEYS = ['issuer', 'clientId', 'redirectUri', 'postLogoutRedirectUri', 'scope', 'apiOrigins'];
const has = (scope, s) => scope.includes(s);
const iat = () => Math.floor(Date.now() / 1000);
const jti = (ctx) => ctx.opaque('', 12);

/** Checks shared by every JWT-access-token API: signature, `exp`, and that the OP issued it as an access
 * token (an ID token signed with the same key is not one). */
async function verifiedAccessJwt(ctx, token, issuer) {
  const claims = await ctx.verify(token, issuer ? { issuer } : {});
  const record = ctx.accessRecord(token);
  if (!record) return { claims, why: 'not an access token of this provider' };
  return { claims };
}

/** An opaque token checked the way an introspection (RFC 7662) or tokeninfo call would. */
function introspect(ctx, token) {
  const r = ctx.accessRecord(token);
  if (!r) return { active: false, why: 'unknown token' };
  if (r.revoked || r.grant.revoked) return { active: false, why: 'revoked' };
  if (r.exp <= iat()) return { active: false, why: 'expired' };
  return { active: true, record: r };
}

/** Standard RP-initiated logout decision: a registered post_logout_redirect_uri is honoured (with state). */
function backTo(ctx, q, uriParam = 'post_logout_redirect_uri') {
  const uri = q.get(uriParam);
  if (!uri) return { status: 200, title: 'Signed out', text: 'You have been signed out.' };
  if (!ctx.isPostLogoutUri(uri)) return { status: 400, title: 'Invalid redirect', text: `${uriParam} is not registered for this client` };
  const location = new URL(uri);
  if (q.has('state')) location.searchParams.set('state', q.get('state'));
  return { redirect: location.href, grantEnded: true };
}

// ---------------------------------------------------------------------------------------------------------
// Keycloak
//   Issuer and endpoints: https://www.keycloak.org/securing-apps/oidc-layers ("Available endpoints":
//     /realms/{realm-name}/.well-known/openid-configuration, .../protocol/openid-connect/{auth,token,
//     userinfo,logout,certs,revoke})
//   RFC 9207 `iss` in authorization responses, advertised as authorization_response_iss_parameter_supported
//     (Keycloak 15+): https://www.keycloak.org/docs/latest/release_notes/ (15.1.0, "iss parameter")
//   Refresh-token rotation is off by default (Realm settings → Sessions/Tokens → "Revoke Refresh Token"):
//     https://www.keycloak.org/docs/latest/server_admin/#_timeouts — modelled as the same refresh token back
//   Logout since Keycloak 18: `redirect_uri` is refused ("Invalid parameter: redirect_uri"),
//     `post_logout_redirect_uri` needs `id_token_hint` or `client_id`, and without a valid `id_token_hint`
//     a confirmation page is shown: https://www.keycloak.org/docs/latest/upgrading/#openid-connect-logout
//     The profile requires all three (the README promises id_token_hint + client_id +
//     post_logout_redirect_uri; Keycloak matches client_id against the hint's audience).
//   Token response members (refresh_expires_in, not-before-policy, session_state, scope), offline tokens
//     for offline_access: https://www.keycloak.org/securing-apps/oidc-layers (token endpoint) and
//     https://www.keycloak.org/docs/latest/server_admin/#_offline-access
//   The API audience comes from an Audience mapper: https://www.keycloak.org/docs/latest/server_admin/#audience-support
// ---------------------------------------------------------------------------------------------------------
const keycloak = {
  name: 'keycloak',
  title: 'Keycloak',
  hosts: { 'keycloak.example.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: BASE_KEYS,
  client: { clientId: 'spa' },
  issuer: (o) => `${o.op}/realms/demo`,
  endpoints() {
    const oidc = '/realms/demo/protocol/openid-connect';
    return {
      discovery: { role: 'op', path: '/realms/demo/.well-known/openid-configuration' },
      authorize: { role: 'op', path: `${oidc}/auth` },
      token: { role: 'op', path: `${oidc}/token` },
      userinfo: { role: 'op', path: `${oidc}/userinfo` },
      jwks: { role: 'op', path: `${oidc}/certs` },
      revocation: { role: 'op', path: `${oidc}/revoke` },
      endSession: { role: 'op', path: `${oidc}/logout` },
    };
  },
  discovery(ctx) {
    const i = ctx.issuer;
    return {
      issuer: i,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      introspection_endpoint: `${ctx.url('token')}/introspect`,
      userinfo_endpoint: ctx.url('userinfo'),
      end_session_endpoint: ctx.url('endSession'),
      frontchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
      jwks_uri: ctx.url('jwks'),
      check_session_iframe: `${i}/protocol/openid-connect/login-status-iframe.html`,
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'client_credentials', 'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:device_code'],
      acr_values_supported: ['0', '1'],
      response_types_supported: ['code', 'none', 'id_token', 'token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
      subject_types_supported: ['public', 'pairwise'],
      // Keycloak lists every algorithm it could use, HMAC ones included (the realm's RS256 key signs).
      id_token_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512'],
      userinfo_signing_alg_values_supported: ['PS384', 'RS384', 'EdDSA', 'ES384', 'HS256', 'HS512', 'ES256', 'RS256', 'HS384', 'ES512', 'PS256', 'PS512', 'RS512', 'none'],
      response_modes_supported: ['query', 'fragment', 'form_post', 'query.jwt', 'fragment.jwt', 'form_post.jwt', 'jwt'],
      registration_endpoint: `${i}/clients-registrations/openid-connect`,
      token_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
      claims_supported: ['aud', 'sub', 'iss', 'auth_time', 'name', 'given_name', 'family_name', 'preferred_username', 'email', 'acr'],
      claim_types_supported: ['normal'],
      claims_parameter_supported: true,
      scopes_supported: ['openid', 'profile', 'email', 'offline_access', 'roles', 'web-origins', 'acr', 'address', 'phone', 'microprofile-jwt', 'basic'],
      request_parameter_supported: true,
      request_uri_parameter_supported: true,
      require_request_uri_registration: true,
      code_challenge_methods_supported: ['plain', 'S256'],
      tls_client_certificate_bound_access_tokens: true,
      revocation_endpoint: ctx.url('revocation'),
      revocation_endpoint_auth_methods_supported: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'tls_client_auth', 'client_secret_jwt'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      device_authorization_endpoint: `${i}/protocol/openid-connect/auth/device`,
      require_pushed_authorization_requests: false,
      pushed_authorization_request_endpoint: `${i}/protocol/openid-connect/ext/par/request`,
      authorization_response_iss_parameter_supported: true,
      mtls_endpoint_aliases: { token_endpoint: ctx.url('token'), revocation_endpoint: ctx.url('revocation') },
    };
  },
  sendIss: true,
  user: () => ({
    sub: 'f3a4c1d2-7b8e-4d6f-9a0b-1c2d3e4f5a6b',
    preferred_username: 'alice',
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    email: 'alice@example.com',
    email_verified: true,
  }),
  accessTokenLifetime: 300, // Keycloak's default Access Token Lifespan: 5 minutes
  async accessToken(ctx, grant, { exp }) {
    const t = iat();
    return {
      token: await ctx.jwt({
        exp, iat: t, auth_time: grant.authTime, jti: crypto.randomUUID(), iss: ctx.issuer,
        aud: [SAMPLE_API, 'account'], sub: grant.user.sub, typ: 'Bearer', azp: ctx.client.clientId, sid: grant.sid,
        scope: grant.scope.filter((s) => s !== 'openid').join(' '),
        realm_access: { roles: ['offline_access', 'default-roles-demo'] },
        preferred_username: grant.user.preferred_username, email: grant.user.email,
      }),
    };
  },
  issuesRefreshToken: () => true, // standard flow always issues one (an offline token with offline_access)
  refreshPrefix: 'eyJ', // Keycloak's refresh tokens are JWTs the client must not read; opaque here
  refresh: { rotation: 'same', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      exp: t + 300, iat: t, auth_time: grant.authTime, jti: crypto.randomUUID(), iss: ctx.issuer, aud: ctx.client.clientId,
      sub: grant.user.sub, typ: 'ID', azp: ctx.client.clientId,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      sid: grant.sid, at_hash: ctx.atHash(accessToken), acr: '1', ...grant.user,
    };
  },
  tokenExtras: (ctx, grant) => ({
    refresh_expires_in: has(grant.scope, 'offline_access') ? 0 : 1800,
    'not-before-policy': 0,
    session_state: grant.sid,
    scope: grant.scope.join(' '),
  }),
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession(ctx, q) {
    if (q.has('redirect_uri')) return { status: 400, title: 'We are sorry...', text: 'Invalid parameter: redirect_uri' };
    const hint = q.get('id_token_hint');
    const clientId = q.get('client_id');
    const uri = q.get('post_logout_redirect_uri');
    if (uri && !hint && !clientId) return { status: 400, title: 'We are sorry...', text: 'Missing parameters: id_token_hint' };
    const record = hint ? ctx.idTokenRecord(hint) : null;
    if (hint && !record) return { status: 400, title: 'We are sorry...', text: 'Invalid parameter: id_token_hint' };
    if (clientId && clientId !== ctx.client.clientId) return { status: 400, title: 'We are sorry...', text: 'Invalid parameter: client_id' };
    if (!hint || !clientId || !uri) return { status: 200, title: 'Logging out', text: 'Do you want to log out?' }; // the confirmation page
    return backTo(ctx, q);
  },
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token, ctx.issuer);
    if (why) return { ok: false, why };
    if (![claims.aud].flat().includes(SAMPLE_API)) return { ok: false, why: `aud lacks ${SAMPLE_API}` };
    if (claims.azp !== ctx.client.clientId) return { ok: false, why: 'azp is not the client' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss', `aud ∋ ${SAMPLE_API}`, 'azp', 'exp'] };
  },
  expect: {
    user: { sub: 'f3a4c1d2-7b8e-4d6f-9a0b-1c2d3e4f5a6b', preferred_username: 'alice', email: 'alice@example.com', azp: 'spa' },
    discoveryFromPage: true,
    issInResponse: true,
    refresh: 'same',
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', client_id: 'clientId', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: true,
    refused: [{ what: 'an authorization response without the RFC 9207 iss the discovery document promises', state: { omitIss: true }, code: 'iss_missing', exchanged: false }],
  },
};

// ---------------------------------------------------------------------------------------------------------
// Auth0
//   Issuer with a trailing slash, discovery at https://{domain}/.well-known/openid-configuration, JWKS at
//     /.well-known/jwks.json: https://auth0.com/docs/get-started/applications/configure-applications-with-oidc-discovery
//     and https://auth0.com/docs/secure/tokens/json-web-tokens/locate-json-web-key-sets
//   `audience` selects the API; without it the access token is opaque and good for /userinfo only:
//     https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens and
//     https://auth0.com/docs/secure/tokens/access-tokens (opaque access tokens)
//   JWT access token claims (aud = [API identifier, https://{domain}/userinfo], azp, scope):
//     https://auth0.com/docs/secure/tokens/access-tokens/access-token-profiles
//   Refresh tokens only with `offline_access`; rotation, and reuse revoking the whole family:
//     https://auth0.com/docs/secure/tokens/refresh-tokens/get-refresh-tokens and
//     https://auth0.com/docs/secure/tokens/refresh-tokens/refresh-token-rotation
//   Revocation: POST /oauth/revoke: https://auth0.com/docs/api/authentication#revoke-refresh-token
//   Logout: GET /v2/logout?client_id=…&returnTo=… (returnTo in the application's Allowed Logout URLs);
//     end_session_endpoint only once "RP-Initiated Logout End Session Endpoint Discovery" is on, so an older
//     tenant's discovery has none: https://auth0.com/docs/authenticate/login/logout/log-users-out-of-auth0
//     and https://auth0.com/docs/authenticate/login/logout/log-users-out-of-auth0#enable-endpoint-discovery
//   An unknown audience: "Service not found" (access_denied): https://auth0.com/docs/troubleshoot/authentication-issues
// ---------------------------------------------------------------------------------------------------------
const auth0 = {
  name: 'auth0',
  title: 'Auth0',
  hosts: { 'example-tenant.us.auth0.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: [...BASE_KEYS, 'audience', 'logoutUrl'],
  client: { clientId: 'spa' },
  issuer: (o) => `${o.op}/`,
  endpoints: () => ({
    discovery: { role: 'op', path: '/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/authorize' },
    token: { role: 'op', path: '/oauth/token' },
    userinfo: { role: 'op', path: '/userinfo' },
    jwks: { role: 'op', path: '/.well-known/jwks.json' },
    revocation: { role: 'op', path: '/oauth/revoke' },
    endSession: { role: 'op', path: '/v2/logout' }, // Auth0's own logout, not in discovery
  }),
  discovery(ctx) {
    const i = ctx.issuer;
    return {
      issuer: i,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      device_authorization_endpoint: `${i}oauth/device/code`,
      userinfo_endpoint: ctx.url('userinfo'),
      mfa_challenge_endpoint: `${i}mfa/challenge`,
      jwks_uri: ctx.url('jwks'),
      registration_endpoint: `${i}oidc/register`,
      revocation_endpoint: ctx.url('revocation'),
      scopes_supported: ['openid', 'profile', 'offline_access', 'name', 'given_name', 'family_name', 'nickname', 'email', 'email_verified', 'picture', 'created_at', 'identities', 'phone', 'address'],
      response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
      code_challenge_methods_supported: ['S256', 'plain'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['public'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      claims_supported: ['aud', 'auth_time', 'created_at', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'identities', 'iss', 'name', 'nickname', 'phone_number', 'picture', 'sub'],
      request_uri_parameter_supported: false,
      request_parameter_supported: false,
      id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      // no end_session_endpoint: RP-initiated logout discovery is off on this (older) tenant
    };
  },
  authorizeError(ctx, q) {
    const audience = q.get('audience');
    if (audience !== null && audience !== ctx.origins.api) return { error: 'access_denied', error_description: `Service not found: ${audience}` };
    return null;
  },
  user: () => ({
    sub: 'auth0|64f0c0ffee0123456789abcd',
    nickname: 'alice',
    name: 'Alice Example',
    picture: 'https://s.gravatar.com/avatar/0?s=480&r=pg&d=mp',
    updated_at: '2024-05-01T09:00:00.000Z',
    email: 'alice@example.com',
    email_verified: true,
  }),
  accessTokenLifetime: 86400, // an API's default token lifetime: 24 h
  async accessToken(ctx, grant, { exp }) {
    const audience = grant.params.audience;
    if (!audience) return { token: ctx.opaque('', 24), userinfo: true }; // opaque: /userinfo only
    return {
      token: await ctx.jwt({
        iss: ctx.issuer, sub: grant.user.sub, aud: [audience, `${ctx.issuer}userinfo`], iat: iat(), exp,
        scope: grant.scope.join(' '), azp: ctx.client.clientId,
      }, { typ: 'JWT' }),
    };
  },
  issuesRefreshToken: (ctx, grant) => has(grant.scope, 'offline_access'),
  refreshPrefix: 'v1.',
  refresh: { rotation: 'rotate', idToken: true },
  idTokenClaims(ctx, grant, { grantType }) {
    const t = iat();
    return {
      ...grant.user, iss: ctx.issuer, aud: ctx.client.clientId, sub: grant.user.sub, iat: t, exp: t + 36000, sid: grant.sid,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
    };
  },
  tokenExtras: (ctx, grant) => ({ scope: grant.scope.join(' ') }),
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession(ctx, q) {
    const returnTo = q.get('returnTo');
    if (!returnTo) return { status: 200, title: 'Logged out', text: 'You have been logged out.' };
    if (q.get('client_id') !== ctx.client.clientId || !ctx.isPostLogoutUri(returnTo)) {
      return { status: 400, title: 'Oops!, something went wrong', text: `The "returnTo" querystring parameter "${returnTo}" is not defined as a valid URL in "Allowed Logout URLs".` };
    }
    return { redirect: returnTo, grantEnded: true };
  },
  async api(ctx, token) {
    let claims;
    try {
      ({ claims } = await verifiedAccessJwt(ctx, token, ctx.issuer));
    } catch {
      return { ok: false, why: 'not a JWT for this API (an opaque token is for /userinfo only)' };
    }
    if (!ctx.accessRecord(token)) return { ok: false, why: 'not an access token of this provider' };
    if (![claims.aud].flat().includes(ctx.origins.api)) return { ok: false, why: 'aud lacks the API identifier' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss', 'aud ∋ API identifier', 'exp'] };
  },
  expect: {
    user: { sub: 'auth0|64f0c0ffee0123456789abcd', nickname: 'alice', email: 'alice@example.com' },
    discoveryFromPage: true,
    issInResponse: false,
    authorizeParams: (ctx) => ({ audience: ctx.origins.api }),
    refresh: 'rotate',
    logout: {
      kind: 'navigate', role: 'op',
      params: { client_id: 'clientId', returnTo: 'postLogout' },
      absent: ['id_token_hint', 'post_logout_redirect_uri'],
    },
    revocation: true,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Microsoft Entra ID (v2.0 endpoints)
//   The multi-tenant `organizations` discovery document and its issuer template
//     https://login.microsoftonline.com/{tenantid}/v2.0: https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc
//     ("Find your app's OpenID configuration document URI", "issuer ... {tenantid}")
//   Validating `iss` against the token's own `tid`: https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-the-issuer
//     and https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference (iss, tid, oid, ver)
//   No revocation endpoint (refresh tokens are revoked server-side only):
//     https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens#token-revocation
//   The document lists no code_challenge_methods_supported; SPAs must use PKCE all the same, and redeem
//     codes cross-origin (AADSTS9002327 without an Origin header):
//     https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
//     and https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
//   One resource per access token (`api://<app-id>/<scope>`; scopes of two resources are refused), v2.0
//     access tokens with aud = the API's app id and `scp`:
//     https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc and .../access-token-claims-reference
//   Refresh tokens with offline_access, a new one on each use, 24 h for SPAs:
//     https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens
//   Logout: end_session_endpoint .../oauth2/v2.0/logout with post_logout_redirect_uri:
//     https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
// ---------------------------------------------------------------------------------------------------------
const ENTRA_APP = '6731de76-14a6-49ae-97bc-6eba6914391e';
const ENTRA_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
export const ENTRA_OTHER_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const GRAPH = '00000003-0000-0000-c000-000000000000';
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const entraResources = (scope) => [...new Set(scope.filter((s) => !OIDC_SCOPES.includes(s)).map((s) => s.slice(0, s.lastIndexOf('/'))))];

const entra = {
  name: 'entra',
  title: 'Microsoft Entra ID',
  hosts: { 'login.microsoftonline.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: ['issuer', 'multiTenant', 'clientId', 'redirectUri', 'postLogoutRedirectUri', 'scope', 'apiOrigins'],
  client: { clientId: ENTRA_APP },
  initialState: { tid: ENTRA_TENANT },
  issuer: (o) => `${o.op}/organizations/v2.0`,
  tokenIssuer: (ctx, tid) => `${ctx.origins.op}/${tid}/v2.0`,
  endpoints: () => ({
    discovery: { role: 'op', path: '/organizations/v2.0/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/organizations/oauth2/v2.0/authorize' },
    token: { role: 'op', path: '/organizations/oauth2/v2.0/token' },
    jwks: { role: 'op', path: '/organizations/discovery/v2.0/keys' },
    endSession: { role: 'op', path: '/organizations/oauth2/v2.0/logout' },
  }),
  discovery(ctx) {
    const o = ctx.origins.op;
    return {
      token_endpoint: ctx.url('token'),
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: ctx.url('jwks'),
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${o}/{tenantid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: ctx.url('authorize'),
      device_authorization_endpoint: `${o}/organizations/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: ctx.url('endSession'),
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${o}/organizations/kerberos`,
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
      // no revocation_endpoint, no code_challenge_methods_supported
    };
  },
  authorizeError(ctx, q, scope) {
    if (entraResources(scope).length > 1) {
      return { error: 'invalid_scope', error_description: 'AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource.' };
    }
    return null;
  },
  user: (ctx) => ({
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    tid: ctx.state.tid,
    name: 'Alice Example',
    preferred_username: 'alice@contoso.example',
    email: 'alice@contoso.example',
  }),
  accessTokenLifetime: 3600,
  async accessToken(ctx, grant, { exp }) {
    const t = iat();
    const [resource] = entraResources(grant.scope);
    const appId = resource?.startsWith('api://') ? resource.slice('api://'.length) : null;
    return {
      token: await ctx.jwt({
        aud: appId ?? GRAPH, iss: entra.tokenIssuer(ctx, grant.user.tid), iat: t, nbf: t, exp,
        aio: ctx.opaque('', 24), azp: ctx.client.clientId, azpacr: '0', name: grant.user.name, oid: grant.user.oid,
        preferred_username: grant.user.preferred_username, rh: '0.AAAA', sub: grant.user.sub, tid: grant.user.tid,
        scp: appId ? grant.scope.filter((s) => s.startsWith(resource)).map((s) => s.slice(resource.length + 1)).join(' ') : 'openid profile email User.Read',
        uti: ctx.opaque('', 16), ver: '2.0',
      }),
      userinfo: !appId, // a token for the API is not one for Graph's UserInfo
    };
  },
  issuesRefreshToken: (ctx, grant) => has(grant.scope, 'offline_access'),
  refreshPrefix: '0.AAAA',
  refresh: { rotation: 'rotate', idToken: true },
  idTokenClaims(ctx, grant, { grantType }) {
    const t = iat();
    const u = grant.user;
    return {
      aud: ctx.client.clientId, iss: entra.tokenIssuer(ctx, u.tid), iat: t, nbf: t, exp: t + 3600,
      aio: ctx.opaque('', 24), name: u.name,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      oid: u.oid, preferred_username: u.preferred_username, email: u.email, rh: '0.AAAA', sid: grant.sid,
      sub: u.sub, tid: u.tid, uti: ctx.opaque('', 16), ver: '2.0',
    };
  },
  tokenExtras(ctx, grant) {
    const [resource] = entraResources(grant.scope);
    return {
      scope: resource ? grant.scope.filter((s) => s.startsWith(resource)).join(' ') : 'openid profile email User.Read',
      ext_expires_in: 3600,
      ...(has(grant.scope, 'offline_access') && { refresh_token_expires_in: 86399 }),
    };
  },
  tokenHook(ctx, { req }) {
    if (!req.headers.origin) {
      return {
        status: 400, headers: {},
        body: { error: 'invalid_request', error_description: "AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.", error_codes: [9002327] },
      };
    }
    return null;
  },
  endSession(ctx, q) {
    const uri = q.get('post_logout_redirect_uri');
    if (!uri || !ctx.isPostLogoutUri(uri)) return { status: 200, title: 'Sign out', text: 'You signed out of your account. It\'s a good idea to close all browser windows.' };
    return backTo(ctx, q);
  },
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token);
    if (why) return { ok: false, why };
    if (!/^[0-9a-f-]{36}$/.test(claims.tid ?? '') || claims.iss !== entra.tokenIssuer(ctx, claims.tid)) return { ok: false, why: 'iss is not the issuer template with the token\'s tid' };
    if (claims.tid !== ENTRA_TENANT) return { ok: false, why: 'tenant not allowed' };
    if (claims.aud !== ENTRA_APP) return { ok: false, why: 'aud is not this API' };
    if (!String(claims.scp ?? '').split(' ').includes('orders.read')) return { ok: false, why: 'scp lacks orders.read' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss = {tenantid} template with tid', 'tid allowed', 'aud = app id', 'scp ∋ orders.read', 'exp'] };
  },
  expect: {
    user: { sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', tid: ENTRA_TENANT, ver: '2.0', preferred_username: 'alice@contoso.example' },
    userIss: (ctx) => `${ctx.origins.op}/${ENTRA_TENANT}/v2.0`,
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'rotate',
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: false,
    refused: [{ what: 'a user of a tenant not in multiTenant.tenants', state: { tid: ENTRA_OTHER_TENANT }, code: 'tenant_not_allowed', exchanged: true }],
  },
};

// ---------------------------------------------------------------------------------------------------------
// Okta (custom authorization server "default")
//   Issuer https://{yourOktaDomain}/oauth2/default and the /v1/{authorize,token,userinfo,keys,revoke,logout}
//     endpoints: https://developer.okta.com/docs/reference/api/oidc/ and
//     https://developer.okta.com/docs/concepts/auth-servers/ (aud of the default server: api://default)
//   Access token claims (ver, jti, iss, aud, cid, uid, scp): https://developer.okta.com/docs/reference/api/oidc/#access-token
//   Refresh tokens need the Refresh Token grant and offline_access; SPAs get rotating refresh tokens:
//     https://developer.okta.com/docs/guides/refresh-tokens/main/ and .../refresh-tokens/main/#refresh-token-rotation
//   Logout: GET /v1/logout with id_token_hint (required) and post_logout_redirect_uri:
//     https://developer.okta.com/docs/reference/api/oidc/#logout
//   Rate limits: HTTP 429 with X-Rate-Limit-Limit/-Remaining/-Reset (reset in UTC epoch seconds), error
//     E0000047: https://developer.okta.com/docs/reference/rl-best-practices/ and
//     https://developer.okta.com/docs/reference/error-codes/#E0000047 — the profile adds Retry-After: 1
//     (the seconds to the reset) and exposes it to the page through CORS, as the test asks.
//   CORS for Trusted Origins: https://developer.okta.com/docs/guides/enable-cors/main/
// ---------------------------------------------------------------------------------------------------------
const okta = {
  name: 'okta',
  title: 'Okta',
  hosts: { 'example.okta.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: BASE_KEYS,
  client: { clientId: '0oa1spa' },
  issuer: (o) => `${o.op}/oauth2/default`,
  endpoints() {
    const v1 = '/oauth2/default/v1';
    return {
      discovery: { role: 'op', path: '/oauth2/default/.well-known/openid-configuration' },
      authorize: { role: 'op', path: `${v1}/authorize` },
      token: { role: 'op', path: `${v1}/token` },
      userinfo: { role: 'op', path: `${v1}/userinfo` },
      jwks: { role: 'op', path: `${v1}/keys` },
      revocation: { role: 'op', path: `${v1}/revoke` },
      endSession: { role: 'op', path: `${v1}/logout` },
    };
  },
  discovery(ctx) {
    const i = ctx.issuer;
    return {
      issuer: i,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      userinfo_endpoint: ctx.url('userinfo'),
      registration_endpoint: `${ctx.origins.op}/oauth2/v1/clients`,
      jwks_uri: ctx.url('jwks'),
      response_types_supported: ['code', 'id_token', 'code id_token', 'code token', 'id_token token', 'code id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post', 'okta_post_message'],
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'password', 'urn:ietf:params:oauth:grant-type:device_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access', 'device_sso'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      claims_supported: ['iss', 'ver', 'sub', 'aud', 'iat', 'exp', 'jti', 'auth_time', 'amr', 'idp', 'nonce', 'name', 'nickname', 'preferred_username', 'given_name', 'family_name', 'email', 'email_verified', 'at_hash', 'c_hash'],
      code_challenge_methods_supported: ['S256'],
      introspection_endpoint: `${i}/v1/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      revocation_endpoint: ctx.url('revocation'),
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'],
      end_session_endpoint: ctx.url('endSession'),
      request_parameter_supported: true,
      request_object_signing_alg_values_supported: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
      device_authorization_endpoint: `${i}/v1/device/authorize`,
      dpop_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
    };
  },
  exposeHeaders: ['WWW-Authenticate', 'Retry-After', 'X-Rate-Limit-Limit', 'X-Rate-Limit-Remaining', 'X-Rate-Limit-Reset'],
  user: () => ({
    sub: '00u1a2b3c4d5e6f7g8h9',
    name: 'Alice Example',
    email: 'alice@example.com',
    preferred_username: 'alice@example.com',
  }),
  accessTokenLifetime: 3600,
  async accessToken(ctx, grant, { exp }) {
    return {
      token: await ctx.jwt({
        ver: 1, jti: `AT.${jti(ctx)}`, iss: ctx.issuer, aud: 'api://default', iat: iat(), exp,
        cid: ctx.client.clientId, uid: grant.user.sub, scp: grant.scope, auth_time: grant.authTime, sub: grant.user.email,
      }),
    };
  },
  issuesRefreshToken: (ctx, grant) => has(grant.scope, 'offline_access'),
  refresh: { rotation: 'rotate', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      sub: grant.user.sub, name: grant.user.name, email: grant.user.email, ver: 1, iss: ctx.issuer, aud: ctx.client.clientId,
      iat: t, exp: t + 3600, jti: `ID.${jti(ctx)}`, amr: ['pwd'], idp: '00o1idp',
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      preferred_username: grant.user.preferred_username, auth_time: grant.authTime, at_hash: ctx.atHash(accessToken),
    };
  },
  tokenExtras: (ctx, grant) => ({ scope: grant.scope.join(' ') }),
  tokenHook(ctx, { grantType }) {
    // The FIRST refresh of the run is rate-limited; the retry after Retry-After succeeds.
    if (grantType !== 'refresh_token' || ctx.state.rateLimited) return null;
    ctx.state.rateLimited = true;
    return {
      status: 429,
      headers: {
        'Retry-After': '1',
        'X-Rate-Limit-Limit': '600',
        'X-Rate-Limit-Remaining': '0',
        'X-Rate-Limit-Reset': String(iat() + 1),
      },
      body: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.', errorLink: 'E0000047', errorId: `oae${jti(ctx)}`, errorCauses: [] },
    };
  },
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession(ctx, q) {
    const hint = q.get('id_token_hint');
    if (!hint) return { status: 400, title: 'Bad request', text: 'The id_token_hint parameter is required.' };
    if (!ctx.idTokenRecord(hint)) return { status: 400, title: 'Bad request', text: 'The id_token_hint is invalid.' };
    return backTo(ctx, q);
  },
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token, ctx.issuer);
    if (why) return { ok: false, why };
    if (claims.aud !== 'api://default') return { ok: false, why: 'aud is not api://default' };
    if (claims.cid !== ctx.client.clientId) return { ok: false, why: 'cid is not the client' };
    // An Okta access token's `sub` is the login name; `uid` is the user's id (the ID token's `sub`).
    return { ok: true, sub: claims.uid, checked: ['signature', 'iss', 'aud = api://default', 'cid', 'exp'] };
  },
  expect: {
    user: { sub: '00u1a2b3c4d5e6f7g8h9', email: 'alice@example.com', ver: 1 },
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'rotate',
    rateLimitedRefresh: true,
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: true,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Amazon Cognito (user pool with a hosted-UI / managed-login domain)
//   Issuer https://cognito-idp.{region}.amazonaws.com/{userPoolId}, discovery and JWKS there; the OAuth
//     endpoints (/oauth2/authorize, /oauth2/token, /oauth2/userInfo) on the user pool's domain:
//     https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-userpools-server-contract-reference.html
//     and https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html
//   Revocation at https://{domain}/oauth2/revoke (refresh tokens; not in the discovery document):
//     https://docs.aws.amazon.com/cognito/latest/developerguide/revocation-endpoint.html
//   Logout at https://{domain}/logout?client_id=…&logout_uri=… (logout_uri among the app client's sign-out
//     URLs; no end_session_endpoint): https://docs.aws.amazon.com/cognito/latest/developerguide/logout-endpoint.html
//   The refresh_token grant answers access and ID tokens, no refresh token (not rotated by default):
//     https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html and
//     https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-refresh-token.html
//   Access tokens carry client_id and token_use, no aud:
//     https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-access-token.html
//   ID token claims (cognito:username, token_use, origin_jti, event_id, at_hash):
//     https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html
// ---------------------------------------------------------------------------------------------------------
const COGNITO_POOL = 'eu-west-1_Example';
const cognito = {
  name: 'cognito',
  title: 'Amazon Cognito',
  hosts: {
    'cognito-idp.eu-west-1.amazonaws.com': 'op',
    'example.auth.eu-west-1.amazoncognito.com': 'hostedUi',
    'app.example.com': 'app',
    'api.example.com': 'api',
  },
  roles: ['op', 'hostedUi'],
  recipeKeys: [...BASE_KEYS, 'metadata', 'logoutUrl'],
  metadataKeys: ['revocation_endpoint'],
  client: { clientId: '1example23456789' },
  issuer: (o) => `${o.op}/${COGNITO_POOL}`,
  endpoints: () => ({
    discovery: { role: 'op', path: `/${COGNITO_POOL}/.well-known/openid-configuration` },
    jwks: { role: 'op', path: `/${COGNITO_POOL}/.well-known/jwks.json` },
    authorize: { role: 'hostedUi', path: '/oauth2/authorize' },
    token: { role: 'hostedUi', path: '/oauth2/token' },
    userinfo: { role: 'hostedUi', path: '/oauth2/userInfo' },
    revocation: { role: 'hostedUi', path: '/oauth2/revoke' },
    endSession: { role: 'hostedUi', path: '/logout' },
  }),
  discovery(ctx) {
    return {
      authorization_endpoint: ctx.url('authorize'),
      id_token_signing_alg_values_supported: ['RS256'],
      issuer: ctx.issuer,
      jwks_uri: ctx.url('jwks'),
      response_types_supported: ['code', 'token'],
      scopes_supported: ['openid', 'email', 'phone', 'profile'],
      subject_types_supported: ['public'],
      token_endpoint: ctx.url('token'),
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: ctx.url('userinfo'),
      // no revocation_endpoint, no end_session_endpoint, no code_challenge_methods_supported
    };
  },
  user: () => ({
    sub: '4f8e2a3b-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
    'cognito:username': 'alice',
    name: 'Alice Example',
    email: 'alice@example.com',
    email_verified: true,
  }),
  accessTokenLifetime: 3600,
  async accessToken(ctx, grant, { exp }) {
    return {
      token: await ctx.jwt({
        sub: grant.user.sub, iss: ctx.issuer, client_id: ctx.client.clientId, origin_jti: grant.sid, event_id: grant.id,
        token_use: 'access', scope: grant.scope.join(' '), auth_time: grant.authTime, exp, iat: iat(),
        jti: crypto.randomUUID(), username: grant.user['cognito:username'], version: 2,
      }),
    };
  },
  issuesRefreshToken: () => true,
  refreshPrefix: 'eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.',
  refresh: { rotation: 'omit', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      at_hash: ctx.atHash(accessToken), sub: grant.user.sub, email_verified: true, iss: ctx.issuer,
      'cognito:username': grant.user['cognito:username'], origin_jti: grant.sid, aud: ctx.client.clientId,
      event_id: grant.id, token_use: 'id', auth_time: grant.authTime, name: grant.user.name,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      exp: t + 3600, iat: t, jti: crypto.randomUUID(), email: grant.user.email,
    };
  },
  userinfoClaims: (ctx, grant) => ({ sub: grant.user.sub, email: grant.user.email, email_verified: 'true', username: 'alice' }),
  endSession(ctx, q) {
    const clientId = q.get('client_id');
    if (!clientId) return { status: 400, title: 'Error', text: "Required String parameter 'client_id' is not present" };
    if (clientId !== ctx.client.clientId) return { status: 400, title: 'Error', text: 'invalid_request: client_id' };
    const uri = q.get('logout_uri');
    if (!uri || !ctx.isPostLogoutUri(uri)) return { status: 400, title: 'Error', text: 'redirect_mismatch' };
    return { redirect: uri, grantEnded: true };
  },
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token, ctx.issuer);
    if (why) return { ok: false, why };
    if (claims.token_use !== 'access') return { ok: false, why: 'token_use is not access' };
    if (claims.client_id !== ctx.client.clientId) return { ok: false, why: 'client_id is not the app client' };
    if ('aud' in claims) return { ok: false, why: 'a Cognito access token has no aud' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss', 'token_use = access', 'client_id', 'exp'] };
  },
  expect: {
    user: { sub: '4f8e2a3b-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 'cognito:username': 'alice', token_use: 'id' },
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'omit',
    logout: {
      kind: 'navigate', role: 'hostedUi',
      params: { client_id: 'clientId', logout_uri: 'postLogout' },
      absent: ['id_token_hint', 'post_logout_redirect_uri'],
    },
    revocation: true,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Google
//   Discovery at https://accounts.google.com/.well-known/openid-configuration, issuer
//     https://accounts.google.com (no path); token, UserInfo, revocation and keys on googleapis.com hosts
//     (played here by one second origin): https://developers.google.com/identity/openid-connect/openid-connect#discovery
//   No end_session_endpoint in the document (same page).
//   Refresh tokens only with access_type=offline for server-side (confidential) apps; `offline_access` is
//     not a Google scope (invalid_scope): https://developers.google.com/identity/protocols/oauth2/web-server#offline
//     and https://developers.google.com/identity/protocols/oauth2/javascript-implicit-flow (browser
//     clients get no refresh token)
//   Access tokens are opaque (ya29.…), checked with tokeninfo; lifetime 3599 s:
//     https://developers.google.com/identity/protocols/oauth2#expiration and
//     https://developers.google.com/identity/sign-in/web/backend-auth (tokeninfo)
//   ID token claims (azp, aud, at_hash, email, email_verified, name, picture):
//     https://developers.google.com/identity/openid-connect/openid-connect#an-id-tokens-payload
//   The test shortens the access-token lifetime to a few seconds (op.state.accessTokenLifetime) to see
//     the session end.
// ---------------------------------------------------------------------------------------------------------
const google = {
  name: 'google',
  title: 'Google',
  hosts: { 'accounts.google.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op', 'googleapis'],
  recipeKeys: ['issuer', 'clientId', 'redirectUri', 'scope', 'apiOrigins'],
  client: { clientId: '1234567890-example.apps.googleusercontent.com' },
  issuer: (o) => o.op,
  endpoints: () => ({
    discovery: { role: 'op', path: '/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/o/oauth2/v2/auth' },
    token: { role: 'googleapis', path: '/token' },
    userinfo: { role: 'googleapis', path: '/v1/userinfo' },
    revocation: { role: 'googleapis', path: '/revoke' },
    jwks: { role: 'googleapis', path: '/oauth2/v3/certs' },
  }),
  discovery(ctx) {
    return {
      issuer: ctx.issuer,
      authorization_endpoint: ctx.url('authorize'),
      device_authorization_endpoint: `${ctx.origins.googleapis}/device/code`,
      token_endpoint: ctx.url('token'),
      userinfo_endpoint: ctx.url('userinfo'),
      revocation_endpoint: ctx.url('revocation'),
      jwks_uri: ctx.url('jwks'),
      response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
      code_challenge_methods_supported: ['plain', 'S256'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
    };
  },
  authorizeError(ctx, q, scope) {
    if (has(scope, 'offline_access')) return { error: 'invalid_scope', error_description: 'Some requested scopes were invalid. {invalid=[offline_access]}' };
    return null;
  },
  user: () => ({
    sub: '109876543210987654321',
    email: 'alice@gmail.example',
    email_verified: true,
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    picture: 'https://lh3.googleusercontent.com/a/default-user',
  }),
  accessTokenLifetime: 3599,
  accessToken: (ctx) => ({ token: ctx.opaque('ya29.', 96), userinfo: true, azp: ctx.client.clientId }),
  issuesRefreshToken: () => false,
  refresh: { rotation: 'none', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      iss: ctx.issuer, azp: ctx.client.clientId, aud: ctx.client.clientId, sub: grant.user.sub,
      email: grant.user.email, email_verified: true, at_hash: ctx.atHash(accessToken),
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      name: grant.user.name, picture: grant.user.picture, given_name: grant.user.given_name, family_name: grant.user.family_name,
      iat: t, exp: t + 3600,
    };
  },
  tokenExtras: () => ({ scope: 'openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email' }),
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  revocationBody: '{}',
  endSession: () => ({ status: 404, title: 'Not found', text: 'Google has no end-session endpoint' }),
  api(ctx, token) {
    const info = introspect(ctx, token); // tokeninfo
    if (!info.active) return { ok: false, why: info.why };
    if (info.record.azp !== ctx.client.clientId) return { ok: false, why: 'issued to another client' };
    return { ok: true, sub: info.record.grant.user.sub, checked: ['tokeninfo: active', 'azp = client', 'expires_in > 0'] };
  },
  expect: {
    user: { sub: '109876543210987654321', email: 'alice@gmail.example', azp: '1234567890-example.apps.googleusercontent.com' },
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'none',
    logout: { kind: 'local' },
    revocation: false,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Ping (PingFederate; PingOne shares the quirks)
//   Endpoints /as/authorization.oauth2, /as/token.oauth2, /as/revoke_token.oauth2, /as/introspect.oauth2,
//     /idp/userinfo.openid, /pf/JWKS and /.well-known/openid-configuration, whose document advertises the
//     end-session endpoint /idp/startSLO.ping as `ping_end_session_endpoint`:
//     https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_oauth_20_endpoints.html
//   RP-initiated logout at /idp/startSLO.ping with id_token_hint and post_logout_redirect_uri:
//     https://docs.pingidentity.com/pingfederate/latest/developers_reference_guide/pf_idp_endpoints.html
//   CORS on the OAuth endpoints (discovery included) only for the origins an administrator allows on the
//     Authorization Server Settings page — a deployment that has not allowed the app's origin serves the
//     discovery document without CORS: https://docs.pingidentity.com/pingfederate/latest/introduction_to_pingfederate/pf_cors_support_oauth_endpoints.html
//   A refresh answers a new access token and (with "Roll refresh token values" on the client) a new refresh
//     token, but no ID token: PingFederate Administrator's Reference Guide, "Configuring OAuth clients"
//     (Refresh token rolling policy): https://docs.pingidentity.com/pingfederate/latest/administrators_reference_guide/pf_configuring_oauth_clients.html
//   Reference (opaque) access tokens from the internally managed token manager, checked by introspection:
//     PingFederate Administrator's Reference Guide, "Access token management"
// ---------------------------------------------------------------------------------------------------------
const ping = {
  name: 'ping',
  title: 'Ping (PingFederate)',
  hosts: { 'sso.example.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: [...BASE_KEYS, 'metadata'],
  metadataKeys: ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'revocation_endpoint', 'end_session_endpoint', 'id_token_signing_alg_values_supported'],
  client: { clientId: 'spa' },
  issuer: (o) => o.op,
  endpoints: () => ({
    discovery: { role: 'op', path: '/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/as/authorization.oauth2' },
    token: { role: 'op', path: '/as/token.oauth2' },
    userinfo: { role: 'op', path: '/idp/userinfo.openid' },
    jwks: { role: 'op', path: '/pf/JWKS' },
    revocation: { role: 'op', path: '/as/revoke_token.oauth2' },
    endSession: { role: 'op', path: '/idp/startSLO.ping' },
  }),
  noCors: ['discovery'],
  discovery(ctx) {
    const o = ctx.origins.op;
    return {
      issuer: ctx.issuer,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      revocation_endpoint: ctx.url('revocation'),
      userinfo_endpoint: ctx.url('userinfo'),
      introspection_endpoint: `${o}/as/introspect.oauth2`,
      jwks_uri: ctx.url('jwks'),
      registration_endpoint: `${o}/as/clients.oauth2`,
      ping_revoked_sris_endpoint: `${o}/pf-ws/rest/sessionMgmt/revokedSris`,
      ping_session_management_sris_endpoint: `${o}/pf-ws/rest/sessionMgmt/sessions`,
      ping_session_management_users_endpoint: `${o}/pf-ws/rest/sessionMgmt/users`,
      ping_end_session_endpoint: ctx.url('endSession'),
      device_authorization_endpoint: `${o}/as/device_authz.oauth2`,
      scopes_supported: ['openid', 'profile', 'email', 'address', 'phone'],
      response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token'],
      response_modes_supported: ['fragment', 'query', 'form_post'],
      grant_types_supported: ['implicit', 'authorization_code', 'refresh_token', 'password', 'client_credentials', 'urn:pingidentity.com:oauth2:grant_type:validate_bearer', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:saml2-bearer', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['none', 'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'client_secret_jwt', 'tls_client_auth'],
      claim_types_supported: ['normal'],
      claims_parameter_supported: false,
      request_parameter_supported: true,
      request_uri_parameter_supported: false,
      code_challenge_methods_supported: ['plain', 'S256'],
      backchannel_logout_supported: true,
      frontchannel_logout_supported: true,
      // the end-session endpoint only as ping_end_session_endpoint
    };
  },
  user: () => ({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com' }),
  accessTokenLifetime: 7200,
  accessToken: (ctx) => ({ token: ctx.opaque('', 24), userinfo: true }), // a reference token
  issuesRefreshToken: () => true,
  refresh: { rotation: 'rotate', idToken: false },
  idTokenClaims(ctx, grant, { grantType }) {
    const t = iat();
    return {
      sub: grant.user.sub, aud: ctx.client.clientId, jti: jti(ctx), iss: ctx.issuer, iat: t, exp: t + 300,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      auth_time: grant.authTime, sid: grant.sid, acr: 'urn:acr:form', name: grant.user.name, email: grant.user.email,
    };
  },
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession(ctx, q) {
    const hint = q.get('id_token_hint');
    if (!hint || !ctx.idTokenRecord(hint)) return { status: 200, title: 'Sign Off Successful', text: 'You have been signed off.' };
    return backTo(ctx, q);
  },
  api(ctx, token) {
    const info = introspect(ctx, token);
    if (!info.active) return { ok: false, why: info.why };
    return { ok: true, sub: info.record.grant.user.sub, checked: ['introspection: active', 'client_id'] };
  },
  expect: {
    user: { sub: 'alice', email: 'alice@example.com', acr: 'urn:acr:form' },
    discoveryFromPage: false,
    issInResponse: false,
    refresh: 'rotate',
    refreshWithoutIdToken: true,
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: true,
  },
};

// ---------------------------------------------------------------------------------------------------------
// Zitadel
//   Issuer = the instance's domain; endpoints /oauth/v2/{authorize,token,keys,revoke,introspect},
//     /oidc/v1/{userinfo,end_session}: https://zitadel.com/docs/apis/openidoauth/endpoints
//   Project audience scope urn:zitadel:iam:org:project:id:{projectid}:aud adds the project to the
//     audience; aud lists the client ids of the project's apps and the project id, azp names the client:
//     https://zitadel.com/docs/apis/openidoauth/scopes and https://zitadel.com/docs/apis/openidoauth/claims
//   Refresh tokens with offline_access, a new one on each refresh:
//     https://zitadel.com/docs/apis/openidoauth/grant-types#refresh-token
//   end_session: post_logout_redirect_uri is honoured only with id_token_hint or client_id (otherwise the
//     user lands on Zitadel's own logged-out page): https://zitadel.com/docs/apis/openidoauth/endpoints#end_session_endpoint
//   JWT access tokens when the app's token type is JWT: https://zitadel.com/docs/guides/integrate/login/oidc/login-users
// ---------------------------------------------------------------------------------------------------------
const ZITADEL_PROJECT = '245012345678900000';
const ZITADEL_OTHER_APP = '245012345678905678@demo';
const zitadel = {
  name: 'zitadel',
  title: 'Zitadel',
  hosts: { 'example-instance.zitadel.cloud': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: BASE_KEYS,
  client: { clientId: '245012345678901234@demo' },
  issuer: (o) => o.op,
  endpoints: () => ({
    discovery: { role: 'op', path: '/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/oauth/v2/authorize' },
    token: { role: 'op', path: '/oauth/v2/token' },
    userinfo: { role: 'op', path: '/oidc/v1/userinfo' },
    jwks: { role: 'op', path: '/oauth/v2/keys' },
    revocation: { role: 'op', path: '/oauth/v2/revoke' },
    endSession: { role: 'op', path: '/oidc/v1/end_session' },
  }),
  discovery(ctx) {
    const o = ctx.origins.op;
    return {
      issuer: ctx.issuer,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      introspection_endpoint: `${o}/oauth/v2/introspect`,
      userinfo_endpoint: ctx.url('userinfo'),
      revocation_endpoint: ctx.url('revocation'),
      end_session_endpoint: ctx.url('endSession'),
      device_authorization_endpoint: `${o}/oauth/v2/device_authorization`,
      jwks_uri: ctx.url('jwks'),
      scopes_supported: ['openid', 'profile', 'email', 'phone', 'address', 'offline_access'],
      response_types_supported: ['code', 'id_token', 'id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      grant_types_supported: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      request_object_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
      claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'auth_time', 'nonce', 'acr', 'amr', 'c_hash', 'at_hash', 'act', 'scopes', 'client_id', 'azp', 'preferred_username', 'name', 'family_name', 'given_name', 'locale', 'email', 'email_verified', 'phone_number', 'phone_number_verified'],
      code_challenge_methods_supported: ['S256'],
      ui_locales_supported: ['en', 'de', 'fr', 'it'],
      request_parameter_supported: true,
      request_uri_parameter_supported: false,
    };
  },
  user: () => ({
    sub: '245012345678912345',
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    preferred_username: 'alice@example-instance.zitadel.cloud',
    email: 'alice@example.com',
    email_verified: true,
    locale: 'en',
  }),
  /** aud: the client, then — with the project audience scope — the project and its other app. */
  audience(ctx, grant) {
    const projects = grant.scope.map((s) => /^urn:zitadel:iam:org:project:id:([0-9]+):aud$/.exec(s)?.[1]).filter(Boolean);
    return projects.includes(ZITADEL_PROJECT) ? [ctx.client.clientId, ZITADEL_PROJECT, ZITADEL_OTHER_APP] : [ctx.client.clientId];
  },
  accessTokenLifetime: 43199,
  async accessToken(ctx, grant, { exp }) {
    const t = iat();
    return {
      token: await ctx.jwt({
        iss: ctx.issuer, sub: grant.user.sub, aud: zitadel.audience(ctx, grant), exp, iat: t, nbf: t,
        client_id: ctx.client.clientId, jti: jti(ctx),
      }),
    };
  },
  issuesRefreshToken: (ctx, grant) => has(grant.scope, 'offline_access'),
  refresh: { rotation: 'rotate', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      iss: ctx.issuer, sub: grant.user.sub, aud: zitadel.audience(ctx, grant), exp: t + 43200, iat: t,
      auth_time: grant.authTime, amr: ['pwd'], azp: ctx.state.azp ?? ctx.client.clientId, client_id: ctx.client.clientId,
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      at_hash: ctx.atHash(accessToken), sid: grant.sid, ...grant.user,
    };
  },
  tokenExtras: () => ({}),
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession(ctx, q) {
    const uri = q.get('post_logout_redirect_uri');
    const known = (q.get('id_token_hint') && ctx.idTokenRecord(q.get('id_token_hint'))) || q.get('client_id') === ctx.client.clientId;
    if (uri && known && ctx.isPostLogoutUri(uri)) return backTo(ctx, q);
    // post_logout_redirect_uri ignored: Zitadel's own page.
    return { redirect: `${ctx.origins.op}/ui/login/logout/done` };
  },
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token, ctx.issuer);
    if (why) return { ok: false, why };
    if (![claims.aud].flat().includes(ZITADEL_PROJECT)) return { ok: false, why: 'aud lacks the project' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss', `aud ∋ project ${ZITADEL_PROJECT}`, 'exp'] };
  },
  expect: {
    user: { sub: '245012345678912345', azp: '245012345678901234@demo', aud: ['245012345678901234@demo', ZITADEL_PROJECT, ZITADEL_OTHER_APP] },
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'rotate',
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', client_id: 'clientId', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: true,
    refused: [{ what: 'an ID token whose azp names another app of the project', state: { azp: ZITADEL_OTHER_APP }, code: 'claim_azp', exchanged: true }],
  },
};

// ---------------------------------------------------------------------------------------------------------
// Authentik (OAuth2/OpenID provider, application slug "demo")
//   Per-application issuer /application/o/<slug>/ with a trailing slash, discovery at
//     /application/o/<slug>/.well-known/openid-configuration; shared endpoints /application/o/{authorize,
//     token,userinfo,revoke,introspect}/ and per-application /end-session/ and /jwks/:
//     https://docs.goauthentik.io/docs/add-secure-apps/providers/oauth2/ ("Endpoints")
//   Refresh tokens only with offline_access: same page ("offline_access" scope)
//   JWT access tokens with aud = the client id: https://docs.goauthentik.io/docs/add-secure-apps/providers/oauth2/ (JWT)
// ---------------------------------------------------------------------------------------------------------
const authentik = {
  name: 'authentik',
  title: 'Authentik',
  hosts: { 'auth.example.com': 'op', 'app.example.com': 'app', 'api.example.com': 'api' },
  roles: ['op'],
  recipeKeys: BASE_KEYS,
  client: { clientId: 'spa' },
  issuer: (o) => `${o.op}/application/o/demo/`,
  endpoints: () => ({
    discovery: { role: 'op', path: '/application/o/demo/.well-known/openid-configuration' },
    authorize: { role: 'op', path: '/application/o/authorize/' },
    token: { role: 'op', path: '/application/o/token/' },
    userinfo: { role: 'op', path: '/application/o/userinfo/' },
    revocation: { role: 'op', path: '/application/o/revoke/' },
    endSession: { role: 'op', path: '/application/o/demo/end-session/' },
    jwks: { role: 'op', path: '/application/o/demo/jwks/' },
  }),
  discovery(ctx) {
    const o = ctx.origins.op;
    return {
      issuer: ctx.issuer,
      authorization_endpoint: ctx.url('authorize'),
      token_endpoint: ctx.url('token'),
      userinfo_endpoint: ctx.url('userinfo'),
      end_session_endpoint: ctx.url('endSession'),
      introspection_endpoint: `${o}/application/o/introspect/`,
      revocation_endpoint: ctx.url('revocation'),
      device_authorization_endpoint: `${o}/application/o/device/`,
      response_types_supported: ['code', 'id_token', 'id_token token', 'code token', 'code id_token', 'code id_token token'],
      response_modes_supported: ['query', 'fragment', 'form_post'],
      jwks_uri: ctx.url('jwks'),
      grant_types_supported: ['authorization_code', 'refresh_token', 'implicit', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code'],
      id_token_signing_alg_values_supported: ['RS256'],
      subject_types_supported: ['public'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      acr_values_supported: ['goauthentik.io/providers/oauth2/default'],
      scopes_supported: ['openid', 'email', 'profile', 'offline_access'],
      request_parameter_supported: false,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'amr', 'nonce', 'email', 'email_verified', 'name', 'given_name', 'preferred_username', 'nickname', 'groups'],
      claims_parameter_supported: false,
      code_challenge_methods_supported: ['plain', 'S256'],
    };
  },
  user: () => ({
    sub: 'c9e1f0a7d3b2a4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d', // hashed user id (the default subject mode)
    email: 'alice@example.com',
    email_verified: true,
    name: 'Alice Example',
    given_name: 'Alice Example',
    preferred_username: 'alice',
    nickname: 'alice',
    groups: ['authentik Admins'],
  }),
  accessTokenLifetime: 300,
  async accessToken(ctx, grant, { exp }) {
    const t = iat();
    return {
      token: await ctx.jwt({
        iss: ctx.issuer, sub: grant.user.sub, aud: ctx.client.clientId, exp, iat: t, auth_time: grant.authTime,
        acr: 'goauthentik.io/providers/oauth2/default', azp: ctx.client.clientId, uid: jti(ctx),
        scope: grant.scope.join(' '),
      }),
    };
  },
  issuesRefreshToken: (ctx, grant) => has(grant.scope, 'offline_access'),
  refresh: { rotation: 'rotate', idToken: true },
  idTokenClaims(ctx, grant, { grantType, accessToken }) {
    const t = iat();
    return {
      iss: ctx.issuer, sub: grant.user.sub, aud: ctx.client.clientId, exp: t + 300, iat: t, auth_time: grant.authTime,
      acr: 'goauthentik.io/providers/oauth2/default', amr: ['pwd'],
      ...(grantType === 'authorization_code' && grant.nonce !== undefined && { nonce: grant.nonce }),
      at_hash: ctx.atHash(accessToken), sid: grant.sid, ...grant.user,
    };
  },
  tokenExtras: (ctx, grant) => ({ scope: grant.scope.join(' ') }),
  userinfoClaims: (ctx, grant) => ({ ...grant.user }),
  endSession: (ctx, q) => backTo(ctx, q),
  async api(ctx, token) {
    const { claims, why } = await verifiedAccessJwt(ctx, token, ctx.issuer);
    if (why) return { ok: false, why };
    if (claims.aud !== ctx.client.clientId) return { ok: false, why: 'aud is not the client id' };
    return { ok: true, sub: claims.sub, checked: ['signature', 'iss (trailing slash)', 'aud = client id', 'exp'] };
  },
  expect: {
    user: { preferred_username: 'alice', email: 'alice@example.com' },
    userIss: (ctx) => `${ctx.origins.op}/application/o/demo/`,
    discoveryFromPage: true,
    issInResponse: false,
    refresh: 'rotate',
    logout: {
      kind: 'navigate', role: 'op',
      params: { id_token_hint: 'idToken', post_logout_redirect_uri: 'postLogout' },
      absent: ['redirect_uri'],
    },
    revocation: true,
  },
};

export const PROFILES = [keycloak, auth0, entra, okta, cognito, google, ping, zitadel, authentik];
export const profileByName = (name) => PROFILES.find((p) => p.name === name);
