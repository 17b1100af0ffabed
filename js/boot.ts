// Shared by the React and Vue bindings: one client per config for the life of the page, and the
// callback handled exactly once (React StrictMode mounts twice; a second app may install the same
// config), kept in a module-level map keyed by the config. Two clients on one page (two providers, or two
// client ids) sharing a redirect URI each try the callback: the one whose login it is completes it, the
// other finds the address bar already clean or is told `callback_not_for_this_client`, and goes on as on
// any other page. Browser only: called from effects, plugin installs and event handlers, never at import
// time.

import { createClient, OidcError, type OidcClient, type OidcConfig } from './index.js';
import type { CallbackResult, PopupLoginOptions } from './index.js';
import { isCallbackUrl } from './callback-url.js';
import { openPopup } from './popup-window.js';

export interface Boot {
  client: Promise<OidcClient>;
  /** The callback in progress or not yet applied by a mounted provider; cleared once applied. Resolves to
   * `undefined` when the page turned out to hold another client's response. */
  callback?: Promise<CallbackResult | undefined>;
  /** Resolves once the client exists and any callback has settled. */
  ready: Promise<OidcClient>;
}

const boots = new Map<string, Boot>();

export function configKey(config: OidcConfig): string {
  const { wasm, ...rest } = config;
  return JSON.stringify([rest, typeof wasm === 'string' || wasm instanceof URL ? String(wasm) : null]);
}

function isCallbackPage(config: OidcConfig): boolean {
  return isCallbackUrl(config.redirectUri, location.href);
}

export function asOidcError(e: unknown): OidcError {
  return e instanceof OidcError ? e : new OidcError('internal_error', e instanceof Error ? e.message : String(e));
}

/** The page's one client for this config (browser only: called from effects and event handlers). */
export function boot(key: string, config: OidcConfig): Boot {
  let b = boots.get(key);
  if (!b) {
    const client = createClient(config);
    // A failed start (provider unreachable) is not cached: the next mount tries again.
    client.catch(() => { if (boots.get(key) === b) boots.delete(key); });
    const callback = isCallbackPage(config) ? client.then(async (c) => {
      // Another client of this page may have completed its own callback (and cleaned the URL) meanwhile.
      if (!isCallbackPage(config)) return undefined;
      try {
        return await c.handleCallback();
      } catch (e) {
        if (e instanceof OidcError && e.code === 'callback_not_for_this_client') return undefined;
        throw e;
      }
    }) : undefined;
    callback?.catch(() => {}); // reported by the provider that applies it
    const ready = callback ? callback.then(() => client, () => client) : client;
    b = { client, callback, ready };
    boots.set(key, b);
  }
  return b;
}

/**
 * `loginWithPopup` for the bindings' `useAuth()`: the popup opens now, inside the app's click handler (after an
 * await the browser may block it), even while the client is still loading; the login starts in it once the
 * client is ready. A popup the browser blocked is left to `client.loginWithPopup`, which tries once more and
 * rejects with `popup_blocked`; a client that failed to start closes the popup and rejects with its error.
 */
export async function loginWithPopup(b: Boot, options: PopupLoginOptions = {}): Promise<CallbackResult> {
  const popup = options.popup ?? openPopup();
  let c: OidcClient;
  try {
    c = await b.ready;
  } catch (e) {
    if (popup && !options.popup) popup.close();
    throw e;
  }
  return c.loginWithPopup(popup ? { ...options, popup } : options);
}
