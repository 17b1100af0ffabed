// oidc-wasm: the public API. A thin layer over the Rust core (src/, compiled to wasm): it loads the
// wasm, hands the core the browser host, and turns results into objects and errors into OidcError.
// No protocol logic lives here.

import init, { Core } from '../build/wasm/oidc_wasm.js';
import { browserHost } from './host.js';
import { OidcError, toOidcError } from './errors.js';

export { OidcError };
export type { OidcErrorCode } from './errors.js';

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
  /** Where to load the wasm from, for hosts where `new URL('./oidc_wasm_bg.wasm', import.meta.url)`
   * does not resolve (CDNs, strict CSP setups): a URL, a Response, bytes or a compiled module. */
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module;
}

export interface LoginOptions {
  /** A path on this origin to come back to after the callback (`/orders/7`). */
  returnTo?: string;
  /** Extra authorization parameters (`prompt`, `login_hint`, `ui_locales`, ...). The protocol ones
   * (state, nonce, PKCE, redirect_uri, ...) cannot be overridden. */
  extraParams?: Record<string, string>;
}

/** Verified ID-token claims. */
export interface User {
  sub: string;
  iss: string;
  aud: string | string[];
  exp: number;
  iat: number;
  [claim: string]: unknown;
}

export interface CallbackResult {
  user: User;
  returnTo?: string;
}

export interface OidcClient {
  /** Starts a login: navigates this tab to the provider's authorization endpoint. */
  login(options?: LoginOptions): Promise<void>;
  /** On the redirect page: completes the login from `location.href`. Throws OidcError. */
  handleCallback(): Promise<CallbackResult>;
  /** The verified ID-token claims of the signed-in user, or null. */
  getUser(): User | null;
}

let loaded: Promise<unknown> | undefined;

function loadWasm(source: OidcConfig['wasm']): Promise<unknown> {
  loaded ??= init({ module_or_path: source ?? new URL('./oidc_wasm_bg.wasm', import.meta.url) }).catch((e) => {
    loaded = undefined; // a failed fetch (offline) may succeed on the next createClient
    throw e;
  });
  return loaded;
}

async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toOidcError(e);
  }
}

/** Creates a client: loads the wasm core, then fetches and checks the provider's discovery document. */
export async function createClient(config: OidcConfig): Promise<OidcClient> {
  const { wasm, ...settings } = config;
  await call(loadWasm(wasm));
  let core: Core;
  try {
    core = new Core(JSON.stringify(settings), browserHost() as never);
  } catch (e) {
    throw toOidcError(e);
  }
  await call(core.discover());

  return {
    async login(options: LoginOptions = {}) {
      const url: string = await call(core.login(JSON.stringify(options)));
      location.assign(url);
    },
    async handleCallback() {
      const text: string = await call(core.handleCallback(location.href));
      return JSON.parse(text) as CallbackResult;
    },
    getUser() {
      const claims = core.user();
      return claims === undefined ? null : (JSON.parse(claims) as User);
    },
  };
}
