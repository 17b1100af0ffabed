// oidc-wasm: the public API. A thin layer over the Rust core (src/, compiled to wasm): it loads the
// wasm, hands the core the browser host, and turns results into objects and errors into OidcError.
// No protocol logic lives here.

import { Core, loadCore, sharedGenerationReadable, type Module } from './core.js';
import { browserHost, prefetchEarly } from './host.js';
import { OidcError, toOidcError } from './errors.js';
import { responseKind } from './callback-url.js';
import { handlePopupCallback, isPopupRelay, popupLogin } from './popup.js';
import { openPopup } from './popup-window.js';
import { completeSessionCheck, startSessionCheck, type SessionCheck } from './session-check.js';
import { followTab } from './follow-tab.js';

export { OidcError, handlePopupCallback };
export type { OidcErrorCode } from './errors.js';
export type { SessionCheck };

export interface OidcConfig {
  /** The provider's issuer URL, exactly as its discovery document states it. */
  issuer: string;
  /** The client_id registered for this app (a public client: no secret). */
  clientId: string;
  /** The exact redirect URI registered for this app; the page there calls `handleCallback()`. */
  redirectUri: string;
  /** Space-separated scopes; `openid` is added if missing. Default `openid`. */
  scope?: string;
  /** `audience` parameter for providers that use it to pick the API (Auth0). */
  audience?: string;
  /** RFC 8707 resource indicator(s) for the API. */
  resource?: string | string[];
  /** Where the provider sends the browser after logout. */
  postLogoutRedirectUri?: string;
  /** Leeway for exp/iat/nbf in seconds (0-600). Default 60. */
  clockToleranceSeconds?: number;
  /** Origins (scheme://host[:port]) whose URLs `fetchWithToken` may send the login's access token to.
   * Default: this page's origin only (none when `apis` is given). Every other URL is fetched without it. */
  apiOrigins?: string[];
  /** Several APIs, one session: each API by its URL (an origin, or an origin and a path prefix), and, for one
   * that needs a token of its own, the `resource` (RFC 8707), `audience` (Auth0) or `scope` (Entra ID) to ask
   * the refresh token for it with. `fetchWithToken` picks the API by URL (the longest match) and sends it its
   * own token only; an entry without resource, audience and scope gets the login's token. */
  apis?: ApiConfig[];
  /** Allow `getAccessToken()` to hand the access token to JavaScript, for HTTP clients that need the string
   * (axios, SignalR, WebSocket). Default false: the token stays inside the SDK and `fetchWithToken`. */
  exposeAccessToken?: boolean;
  /** Refresh this many seconds before the access token's `expires_in` runs out. Default 30. */
  refreshMarginSeconds?: number;
  /** How many seconds before a session that cannot be extended ends the `sessionExpiring` event fires (0–86400).
   * Default 60. */
  sessionExpiringSeconds?: number;
  /** Refuse a login whose ID token's `acr` is not one of the `acr_values` it asked for (in `extraParams`),
   * with `claim_acr`. Default false: the `acr` returned is reported in the callback result. */
  requireAcr?: boolean;
  /** Discovery members that add to or override the provider's document (checked as strictly as discovered
   * ones; the issuer check stays exact). When it names `authorization_endpoint`, `token_endpoint` and
   * `jwks_uri`, the discovery document is not fetched (a provider that serves it without CORS). */
  metadata?: Record<string, unknown>;
  /** The provider's own logout URL, used instead of an `end_session_endpoint`: Auth0's
   * `https://TENANT/v2/logout?client_id={client_id}&returnTo={post_logout_redirect_uri}`, Cognito's
   * `https://DOMAIN/logout?client_id={client_id}&logout_uri={post_logout_redirect_uri}`. Only the
   * placeholders `{client_id}`, `{post_logout_redirect_uri}` and `{id_token_hint}` are filled. */
  logoutUrl?: string;
  /** Microsoft Entra ID multi-tenant apps (the `organizations` or `common` issuer): accept the discovery
   * document's `{tenantid}` issuer template, and require each ID token's `iss` to be that template with its
   * own `tid`, from `tenants` when given (`tenant_not_allowed`). Off by default: the issuer check is exact. */
  multiTenant?: boolean | { tenants?: string[] };
  /** RFC 9449 DPoP: bind the tokens to a non-extractable ES256 key kept in IndexedDB, and prove
   * possession on every token request and API call. The provider and the API must support DPoP. */
  dpop?: boolean;
  /** `'sealed'`: keep the session across reloads with nothing readable in storage — the refresh token
   * encrypted under a non-extractable AES-GCM key in IndexedDB; on load the SDK unseals it and refreshes.
   * Default `'none'`: tokens in memory only (other open tabs still hand their session over). */
  persistSession?: 'sealed' | 'none';
  /** For learning tools: called with each step of the flow (authorization request, callback, token
   * response, ID token with its checks, refresh, logout). Tokens are truncated by the core before they
   * get here. Also enables `client.teaching`. */
  trace?: (step: TraceStep) => void;
  /** Development help: a console warning when `fetchWithToken` sends a cross-origin request without the
   * access token because its origin is not in `apiOrigins` (the API then answers 401 and nothing else says
   * why). It names the origin and `apiOrigins`, never a token. Default: on when the bundler builds for
   * development (`process.env.NODE_ENV === 'development'`, as Vite's dev server and webpack's development
   * mode set it), off otherwise. */
  debug?: boolean;
  /** `'redirect'`: on a page load that ends up without a session (no other tab handed one over, no sealed
   * session restored), once per tab session, a top-level `prompt=none` request to the provider that comes
   * straight back: signed in again if the provider still has a session, else signed out without an error,
   * with the original URL put back either way. Costs a round trip and a full page load. Default `'off'`. */
  checkSession?: 'redirect' | 'off';
  /** Where to load the wasm from, for hosts where `new URL('./oidc_wasm_bg.wasm', import.meta.url)`
   * does not resolve (CDNs, strict CSP setups): a URL, a Response, bytes or a compiled module. */
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module;
}

/** One entry of `apis`. */
export interface ApiConfig {
  /** The API's origin (`https://orders.example.com`) or origin and path prefix (`https://example.com/orders`,
   * matching `/orders` and the paths below it), written as the browser writes URLs. */
  url: string;
  /** RFC 8707 resource indicator of its tokens (asked for at login and in the refresh grant for its token). */
  resource?: string;
  /** Auth0's `audience` for its tokens. */
  audience?: string;
  /** The scope of its tokens (Entra ID: `https://graph.microsoft.com/User.Read`, one resource per token). */
  scope?: string;
}

export interface LoginOptions {
  /** A path on this origin to come back to after the callback (`/orders/7`). */
  returnTo?: string;
  /** Extra authorization parameters (`prompt`, `login_hint`, `ui_locales`, ...). The protocol ones
   * (state, nonce, PKCE, redirect_uri, ...) cannot be overridden. */
  extraParams?: Record<string, string>;
}

export interface PopupLoginOptions extends LoginOptions {
  /** A window the app opened itself (in the click handler), to use instead of the one the SDK opens. */
  popup?: Window;
  /** How long to wait for the popup's answer, in seconds (1–600). Default 300. */
  timeoutSeconds?: number;
}

/** The `address` claim (OIDC Core §5.1.1). */
export interface AddressClaim {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** Verified ID-token claims: the ones the SDK checked (`sub`, `iss`, `aud`, `exp`, `iat`), the other ID-token
 * claims of OIDC Core §2, and the standard claims of §5.1, which a provider includes for the scopes
 * granted (`profile`: name, …; `email`: email, email_verified). The standard claims are typed as the
 * specification defines them; the SDK passes them on as the provider sent them. Any other claim is
 * `unknown`: check its type before use. */
export interface User {
  sub: string;
  iss: string;
  aud: string | string[];
  exp: number;
  iat: number;
  auth_time?: number;
  nonce?: string;
  acr?: string;
  amr?: string[];
  azp?: string;
  sid?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  preferred_username?: string;
  profile?: string;
  picture?: string;
  website?: string;
  email?: string;
  email_verified?: boolean;
  gender?: string;
  birthdate?: string;
  zoneinfo?: string;
  locale?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: AddressClaim;
  updated_at?: number;
  [claim: string]: unknown;
}

export interface CallbackResult {
  user: User;
  returnTo?: string;
  /** The `acr` the ID token reports, when the login asked for `acr_values`. */
  acr?: string;
}

export interface LogoutOptions {
  /** Where the browser goes after logout: a path on this origin (`/signed-out`) or a URL on this app's or
   * `postLogoutRedirectUri`'s origin; anything else is refused with `invalid_config` (no open redirect).
   * With an end-session endpoint the provider sends the browser there (it must be registered); without one
   * the SDK navigates there itself. Default: `postLogoutRedirectUri` from the config. */
  returnTo?: string;
  /** Sign out of this app only: revoke the refresh token and clear every tab, without going to the
   * provider (its session stays). Default false. */
  local?: boolean;
}

export interface OidcEvents {
  /** A user signed in (here or in another tab) or out. */
  userChanged: (user: User | null) => void;
  /** New tokens arrived (a refresh here or in another tab). */
  tokensRefreshed: () => void;
  /** The session ended: logout (here or in another tab), or the provider refused the refresh token. */
  sessionEnded: () => void;
  /** A failure not thrown to a caller, such as a background refresh that failed while the token still worked. */
  error: (error: OidcError) => void;
  /** The session will end soon and no refresh can extend it: it has no refresh token (it ends with its access
   * token), or the provider stated when its refresh token stops working (`refresh_expires_in`,
   * `refresh_token_expires_in`). Once per end, `sessionExpiringSeconds` ahead; `secondsLeft` until it ends.
   * A good moment to save the user's work and offer to sign in again. */
  sessionExpiring: (info: { secondsLeft: number }) => void;
}

/** One step of the learning trace; tokens appear only truncated (`eyJhbGci… (812 chars)`). */
export type TraceStep =
  | { step: 'authorization_request'; endpoint: string; params: Record<string, string>; code_verifier: string }
  | { step: 'callback'; params: { code: string; state: string; iss?: string } }
  | { step: 'token_response'; token_type: string; access_token: string; expires_in?: number; scope?: string; refresh_token?: string; id_token?: string }
  | { step: 'id_token'; header: Record<string, unknown>; claims: Record<string, unknown>; checks: { check: string; spec: string; detail: string }[] }
  | { step: 'refresh'; old_refresh_token: string; new_refresh_token: string; rotated: boolean; access_token: string; expires_in: number }
  | { step: 'logout'; revoked: boolean; end_session: boolean };

export interface Teaching {
  /** Sends the ID token to `url` (on apiOrigins) as if it were an access token — the classic mistake —
   * and resolves to the API's answer. The raw ID token stays inside the core. */
  callApiWithIdToken(url: string): Promise<{ status: number; body: string }>;
}

export interface OidcClient {
  /** Starts a login: navigates this tab to the provider's authorization endpoint. */
  login(options?: LoginOptions): Promise<void>;
  /** Signs in in a popup, without leaving this page: call it in a click handler, before any await (the
   * popup is opened at once). Resolves like handleCallback; rejects with `popup_blocked`, `popup_closed`,
   * `popup_timeout` or the login's error. */
  loginWithPopup(options?: PopupLoginOptions): Promise<CallbackResult>;
  /** With `checkSession`: what the silent check that answered on this page load found, or null. */
  readonly sessionCheck: SessionCheck | null;
  /** On the redirect page: completes the login from `location.href`. Throws OidcError; with several clients
   * on one page, `callback_not_for_this_client` when the response answers another client's login (left in
   * the address bar for that client). */
  handleCallback(): Promise<CallbackResult>;
  /** The verified ID-token claims of the signed-in user, or null. */
  getUser(): User | null;
  isAuthenticated(): boolean;
  /** The UserInfo claims, fetched with the access token; refused (`userinfo_sub_mismatch`) unless their
   * `sub` is the ID token's. */
  getUserInfo(): Promise<Record<string, unknown>>;
  /** `fetch`, with `Authorization: Bearer <access token>` for URLs on `apiOrigins` only. Refreshes ahead of
   * expiry; on a 401 `invalid_token` challenge refreshes once and retries once. A request carrying the token
   * does not follow redirects (`redirect_refused`); a request that gets no answer rejects with
   * `network_error` naming the URL. */
  fetchWithToken(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** The access token as a string, refreshed first when due, for HTTP clients that need it: the login's, or
   * with `api` (a URL, chosen as `fetchWithToken` chooses) that API's. Only with `exposeAccessToken: true`;
   * otherwise, and with `dpop: true` (use `fetchWithToken`), it rejects with `invalid_config`. */
  getAccessToken(options?: { api?: string }): Promise<string>;
  /** Refreshes the tokens now (one request however many callers; one tab at a time). */
  refresh(): Promise<void>;
  /** Ends the session in every tab, revokes the refresh token, and navigates to the provider's logout. */
  logout(options?: LogoutOptions): Promise<void>;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends keyof OidcEvents>(event: E, handler: OidcEvents[E]): () => void;
  /** Only when `trace` is set: demonstrations for learning tools. */
  teaching?: Teaching;
}

/** The options that need the full module (DPoP, sealed sessions, the learning trace). */
type Features = { dpop?: boolean; persistSession?: 'sealed' | 'none'; trace?: boolean | OidcConfig['trace'] };
const needsFull = (f: Features) => f.dpop === true || f.persistSession === 'sealed' || (f.trace !== undefined && f.trace !== false);

// The modules sit beside this file. Vite and webpack 5 see these `new URL(..., import.meta.url)` and ship
// both files with the app (only the one the config needs is fetched); the script-tag build defines
// `import.meta.url` as its own script's URL.
function defaultWasmUrl(full: boolean): URL {
  return full ? new URL('./oidc_wasm_full_bg.wasm', import.meta.url) : new URL('./oidc_wasm_bg.wasm', import.meta.url);
}

function loadWasm(source: OidcConfig['wasm'], features: Features): Promise<Module> {
  return loadCore(source ?? defaultWasmUrl(needsFull(features)));
}

/** `fetch`, with a failure before any answer turned into an OidcError that names the URL and the usual
 * causes. */
async function fetchOrFail(request: Request): Promise<Response> {
  try {
    return await fetch(request);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e; // the app's own signal: its error
    throw new OidcError('network_error',
      'the request failed before a response arrived: the server is down or unreachable, its CORS does not allow this origin, http was called from an https page (mixed content), or the page\'s CSP connect-src does not list it',
      undefined, undefined, request.url);
  }
}

// Bundlers replace `process.env.NODE_ENV` with a string ("development" in Vite's dev server and webpack's
// development mode); in a page without a bundler `process` does not exist and reading it throws.
declare const process: { env: { NODE_ENV?: string } };
function bundledForDevelopment(): boolean {
  try {
    return process.env.NODE_ENV === 'development';
  } catch {
    return false;
  }
}

async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toOidcError(e);
  }
}

/** The discovery URL the core will ask for (OIDC Discovery §4), when the issuer is one it accepts and
 * `metadata` does not name the endpoints (then the core asks for nothing); only a hint to start that
 * request while the wasm compiles: the core still builds the URL and checks the answer. */
function discoveryUrlHint(issuer: unknown, metadata?: Record<string, unknown>): string | undefined {
  if (typeof issuer !== 'string') return undefined;
  if (metadata && ['authorization_endpoint', 'token_endpoint', 'jwks_uri'].every((m) => m in metadata)) return undefined;
  try {
    const u = new URL(issuer);
    const loopback = u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if ((u.protocol !== 'https:' && !loopback) || u.search || u.hash) return undefined;
  } catch {
    return undefined;
  }
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

/** Starts loading the core now — the wasm download and compilation, and the provider's discovery document
 * when `issuer` is given — so that a later `createClient` finds them under way or done. Give the same
 * `dpop`, `persistSession` and `trace` as the config (`trace: true` is enough here): they need the full
 * module. Call it first thing
 * in the app's entry module, before the framework renders. Idempotent; never throws (a failure surfaces in
 * `createClient`, which tries again). */
export function preload(options: { issuer?: string; metadata?: Record<string, unknown>; wasm?: OidcConfig['wasm'] } & Features = {}): void {
  const discovery = discoveryUrlHint(options.issuer, options.metadata);
  if (discovery) prefetchEarly(discovery);
  loadWasm(options.wasm, options).catch(() => {});
}

/** How long a new tab waits for an open tab of the same app to hand its session over. */
const HANDOFF_WAIT_MS = 500;

/** Creates a client: loads the wasm core, fetches and checks the provider's discovery document, and
 * takes over the session of an open tab of the same app, if there is one. */
export async function createClient(config: OidcConfig): Promise<OidcClient> {
  const { wasm, trace, debug, ...settings } = config;
  // A popup's answer is relayed to its opener at once, before anything else (js/popup.ts).
  const response = typeof location === 'undefined' ? null : responseKind(config.redirectUri, location.href);
  if (response === 'popup') handlePopupCallback();
  if (!globalThis.crypto?.subtle) {
    throw new OidcError('crypto_unavailable', 'WebCrypto (crypto.subtle) is not available: serve the page over https, or from localhost / 127.0.0.1 in development');
  }
  const host = browserHost();
  const discovery = discoveryUrlHint(settings.issuer, settings.metadata);
  if (discovery) host.prefetch(discovery); // in parallel with fetching and compiling the wasm
  // Whether other tabs of this app are open (they hold its presence lock): asked now, because the answer
  // takes a while in a new tab.
  const locks = globalThis.navigator?.locks;
  const canShare = typeof BroadcastChannel !== 'undefined';
  const held = locks && canShare ? locks.query().catch(() => undefined) : undefined;
  const module = await call(loadWasm(wasm, config));
  if (trace) host.onTrace = (step) => trace(JSON.parse(step) as TraceStep);
  let core: Core;
  try {
    core = new Core(module, JSON.stringify({ ...settings, trace: !!trace, appOrigin: location.origin }), host);
  } catch (e) {
    throw toOidcError(e);
  }
  await call(core.call('discover'));

  const handlers: { [E in keyof OidcEvents]: Set<OidcEvents[E]> } = {
    userChanged: new Set(), tokensRefreshed: new Set(), sessionEnded: new Set(), error: new Set(), sessionExpiring: new Set(),
  };
  const emit = <E extends keyof OidcEvents>(event: E, ...args: Parameters<OidcEvents[E]>) => {
    for (const h of handlers[event]) {
      try {
        (h as (...a: unknown[]) => void)(...args);
      } catch (e) {
        queueMicrotask(() => { throw e; }); // an app handler's bug must not break the SDK
      }
    }
  };
  const getUser = (): User | null => {
    return core.query('user') as User | null;
  };
  let reported: number = core.query('generation'); // the newest session generation an event was emitted for
  // A session without a refresh token ends when its access token does, in every tab: a timer asks the core
  // to end it then (the core decides; timers are throttled in background tabs, so calls check too).
  let expiry: ReturnType<typeof setTimeout> | undefined;
  // `sessionExpiring`: the core says when to tell the app (unix ms) and, when the timer fires, whether it is
  // time (once per end). A timer waits at most 2^31-1 ms; a longer wait is re-armed.
  let warning: ReturnType<typeof setTimeout> | undefined;
  const armExpiry = () => {
    clearTimeout(expiry);
    clearTimeout(warning);
    const deadline: number | null = core.query('deadline');
    if (deadline !== null) expiry = setTimeout(() => { track(core.call('expire')).catch(() => {}); }, Math.max(0, deadline * 1000 - Date.now()) + 50);
    const tellAt: number | null = core.query('expiring');
    if (tellAt !== null) {
      warning = setTimeout(() => {
        const secondsLeft: number | null = core.query('expiring', 'take');
        if (secondsLeft !== null) emit('sessionExpiring', { secondsLeft });
        armExpiry();
      }, Math.min(Math.max(0, tellAt - Date.now()), 2 ** 31 - 1));
    }
  };
  // Runs a core call; afterwards reports what changed: a session that ended, an absorbed failure.
  async function track<T>(p: Promise<T>): Promise<T> {
    const before: boolean = core.query('authenticated');
    try {
      return await call(p);
    } finally {
      armExpiry();
      const absorbed = core.query('backgroundError');
      if (absorbed !== null) emit('error', toOidcError(absorbed));
      const after: boolean = core.query('authenticated');
      if (before && !after) {
        emit('sessionEnded');
        emit('userChanged', null);
      } else if (before && after && core.query('generation') > reported) {
        emit('tokensRefreshed'); // a refresh made here (refresh(), fetchWithToken, getUserInfo): once per refresh
      }
      reported = Math.max(reported, core.query('generation'));
    }
  }

  // Tabs of the same app share one session, memory to memory.
  const name: string = core.query('name');
  let handedOver: (() => void) | undefined;
  if (canShare) {
    const channel = new BroadcastChannel(name);
    host.channel = channel;
    channel.onmessage = (e: MessageEvent) => {
      if (typeof e.data !== 'string') return;
      const change = core.message(e.data);
      reported = Math.max(reported, core.query('generation'));
      switch (change) {
        case 'signedIn': emit('userChanged', getUser()); handedOver?.(); break;
        case 'refreshed': emit('tokensRefreshed'); break;
        case 'ended': emit('sessionEnded'); emit('userChanged', null); break;
      }
      armExpiry();
    };
    core.call('listening');
  }
  // Each live tab holds a shared "present" lock; a new tab asks for the session only if one exists. Which
  // tabs are open is waited for only when one may hold a session: the core reads the tabs' newest state
  // from localStorage (`sessionElsewhere`: not when it is an end, or there is none — a first visit, a
  // signed-out app). That answer takes tens of milliseconds in a new tab. Where localStorage is refused the
  // record cannot be read, and the tabs are looked at anyway.
  if (locks && host.channel) {
    const others = (!sharedGenerationReadable() || core.query('sessionElsewhere') as boolean)
      && (await held)?.held?.some((l) => l.name === `${name}|tab`);
    locks.request(`${name}|tab`, { mode: 'shared' }, () => new Promise<void>(() => {}));
    if (others) {
      await new Promise<void>((done) => {
        handedOver = done;
        setTimeout(done, HANDOFF_WAIT_MS);
        core.call('ask');
      });
      handedOver = undefined;
    }
  }
  core.call('joined');
  // The answer to a silent session check (checkSession): the core completes it and puts the URL back.
  let sessionCheck: SessionCheck | null = null;
  if (response === 'silent') {
    const { check, user, error } = await completeSessionCheck(core);
    sessionCheck = check;
    setTimeout(() => (error ? emit('error', error) : user !== null && emit('userChanged', getUser())));
    reported = core.query('generation');
  }
  // A sealed session survives the reload: unseal it and refresh — not on a callback page, where a new login
  // is being completed (a redirect URI that is the app's main page is one only with a response in its URL),
  // unless the response is another client's (two clients on one page).
  const completing = response !== null && !(response === 'callback' && core.query('foreignCallback', location.href));
  if (config.persistSession === 'sealed' && !core.query('authenticated') && !completing && !isPopupRelay()) {
    // The events wait one task, so that handlers the app registers right after `await createClient()`
    // hear them.
    try {
      if (await call(core.call('restore'))) setTimeout(() => emit('userChanged', getUser()));
    } catch (e) {
      const err = toOidcError(e); // signed out, as without persistence; the app can login()
      setTimeout(() => emit('error', err));
    }
    reported = core.query('generation');
  }
  // Still no session: the silent session check, when asked for and due (navigates away; see
  // js/session-check.ts). Not on a page that holds an authorization response.
  if (config.checkSession === 'redirect' && !core.query('authenticated') && response === null && !isPopupRelay()) {
    try {
      await startSessionCheck(core);
    } catch (e) {
      const err = toOidcError(e);
      setTimeout(() => emit('error', err));
    }
  }
  armExpiry();
  // Visible again or back online: refresh now if due (the core decides), before the app's next call.
  followTab((online) => {
    track(core.call('resume', { online })).catch((e: OidcError) => emit('error', e));
  });

  // Development help (`debug`): a cross-origin request that goes without the token because its origin is
  // not in apiOrigins, once per origin. The origin and the configured list only; never a token.
  const warnings = debug ?? bundledForDevelopment();
  const warned = new Set<string>();
  const warnNotOnApiOrigins = (url: string) => {
    let origin: string;
    try {
      const u = new URL(url);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return;
      origin = u.origin;
    } catch {
      return;
    }
    if (origin === location.origin || warned.has(origin) || !core.query('authenticated')) return;
    warned.add(origin);
    const listed = settings.apiOrigins ?? (settings.apis ? [] : [location.origin]);
    console.warn(`oidc-wasm: fetchWithToken sent a request to ${origin} without the access token, because ${origin} is not in apiOrigins ${JSON.stringify(listed)}${settings.apiOrigins || settings.apis ? '' : ' (the default: this page\'s origin)'}${settings.apis ? ' and the URL is on none of apis' : ''}. If it is your API, add it: createClient({ …, apiOrigins: [${JSON.stringify(origin)}] }). (This warning appears in development builds or with debug: true; debug: false turns it off.)`);
  };

  return {
    async login(options: LoginOptions = {}) {
      const url: string = await call(core.call('login', options));
      location.assign(url);
    },
    loginWithPopup(options: PopupLoginOptions = {}) {
      // Synchronously, in the app's click handler: a window.open after an await is blocked.
      const { popup, ...args } = options;
      const win = popup ?? openPopup();
      if (!win) {
        return Promise.reject(new OidcError('popup_blocked',
          'the browser blocked the sign-in popup (window.open returned null): call loginWithPopup() in a click handler before any await, or open the window yourself and pass it as { popup }'));
      }
      return track(popupLogin(core, win, args)).then((result) => {
        const r = result as CallbackResult;
        emit('userChanged', r.user);
        return r;
      });
    },
    sessionCheck,
    async handleCallback() {
      const result: CallbackResult = await track(core.call('callback', { url: location.href }));
      emit('userChanged', result.user);
      return result;
    },
    getUser,
    isAuthenticated: () => core.query('authenticated') as boolean,
    async getUserInfo() {
      return await track(core.call('userinfo')) as Record<string, unknown>;
    },

    async fetchWithToken(input: RequestInfo | URL, init?: RequestInit) {
      const request = new Request(input, init);
      // A valid Bearer token (or a URL off the API origins) comes back at once; a refresh or a DPoP proof
      // is awaited.
      const ready: string | false | null = core.query('authorizationNow', request.url);
      const headers: [string, string?] | null = ready === null
        ? await track(core.call('authorization', { url: request.url, method: request.method }))
        : ready === false ? null : [ready];
      if (headers === null) {
        if (ready === false && warnings) warnNotOnApiOrigins(request.url);
        return fetchOrFail(request);
      }
      // A request carrying the token never follows a redirect: the browser drops Authorization on a redirect
      // to another origin only in recent versions, and keeps a DPoP header always. ('error' stays 'error'.)
      const first = new Request(request, { redirect: request.redirect === 'error' ? 'error' : 'manual' });
      // A streamed body can be sent once only; anything else is kept for one retry.
      const streamed = typeof ReadableStream !== 'undefined' && init?.body instanceof ReadableStream;
      // A request without a body can be sent again as it is; one with a body is cloned for the retry.
      const spare = streamed ? undefined : first.body === null ? first : first.clone();
      const send = async (r: Request, [authorization, proof]: [string, string?]) => {
        r.headers.set('authorization', authorization);
        if (proof !== undefined) r.headers.set('dpop', proof);
        const res = await fetchOrFail(r);
        if (res.type === 'opaqueredirect') {
          throw new OidcError('redirect_refused',
            'the API answered with a redirect, which a request carrying the access token does not follow (it could take the token to another origin): call the final URL', undefined, undefined, r.url);
        }
        const nonce = proof !== undefined ? res.headers.get('dpop-nonce') : null;
        if (nonce !== null && res.status !== 401) core.query('rememberNonce', `${r.url}\n${nonce}`); // RFC 9449 §9
        return res;
      };
      const res = await send(first, headers);
      if (res.status !== 401) return res;
      const retry: boolean = await track(core.call('after401', { url: first.url, used: headers[0],
        www: res.headers.get('www-authenticate') ?? '', nonce: res.headers.get('dpop-nonce') ?? undefined }));
      if (!retry) return res;
      if (!spare) {
        throw new OidcError('request_not_replayable',
          'the API refused the access token and the request body was a stream that cannot be sent again; the tokens were refreshed, so send the request again');
      }
      const again: [string, string?] | null = await track(core.call('authorization', { url: spare.url, method: spare.method }));
      return again === null ? fetchOrFail(spare) : send(spare, again);
    },

    async getAccessToken(options: { api?: string } = {}) {
      const api = options.api === undefined ? undefined : new URL(options.api, location.href).href;
      return await track(core.call('accessToken', { api })) as string;
    },

    async refresh() {
      await track(core.call('refresh'));
    },

    async logout(options: LogoutOptions = {}) {
      // The core checks returnTo and says where to go: the end-session endpoint, or the checked returnTo.
      const url: string | null = await track(core.call('logout', { returnTo: options.returnTo, local: options.local === true }));
      if (url !== null) location.assign(url);
    },

    on(event, handler) {
      handlers[event].add(handler as never);
      return () => { handlers[event].delete(handler as never); };
    },
    teaching: trace && {
      async callApiWithIdToken(url: string) {
        const [status, body] = await call(core.call('idtoken', { url: new URL(url, location.href).href })) as [number, string];
        return { status, body };
      },
    },
  };
}
