// Shared by the React and Vue bindings: one client per config for the life of the page, and the
// callback handled exactly once (React StrictMode mounts twice; a second app may install the same
// config), kept in a module-level map keyed by the config. Browser only: called from effects, plugin
// installs and event handlers, never at import time.

import { createClient, OidcError, type OidcClient, type OidcConfig } from './index.js';
import type { CallbackResult } from './index.js';
import { isCallbackUrl } from './callback-url.js';

export interface Boot {
  client: Promise<OidcClient>;
  /** The callback in progress or not yet applied by a mounted provider; cleared once applied. */
  callback?: Promise<CallbackResult>;
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
    const callback = isCallbackPage(config) ? client.then((c) => c.handleCallback()) : undefined;
    callback?.catch(() => {}); // reported by the provider that applies it
    const ready = callback ? callback.then(() => client, () => client) : client;
    b = { client, callback, ready };
    boots.set(key, b);
  }
  return b;
}
