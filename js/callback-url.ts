// Whether this page is the callback of a login: on the redirect URI's path, with an authorization response
// in its query (`code` or `error`, RFC 6749 §4.1.2; one without `state` too, so that handleCallback refuses
// it and takes it out of the address bar). The one rule for the wrapper (no sealed restore on a callback
// page) and the framework bindings (handleCallback once): a redirect URI that is the app's main page (`/`)
// is the callback only when it carries a response. The core checks the response itself.
//
// Two kinds of response are not the app's to handle, told apart by the front of their `state`, which the
// core writes (src/transaction.rs, LoginKind): `p.` — a popup login's, relayed to the page that opened the
// popup (js/popup.ts); `s.` — the answer to `checkSession`'s silent request, completed by createClient.

/** The state prefixes of src/transaction.rs `LoginKind::state_prefix`. */
export const POPUP_STATE = 'p.';
export const SILENT_STATE = 's.';

/** The kind of authorization response `href` holds, when it is on the redirect URI's path: `'popup'`,
 * `'silent'`, `'callback'` (an ordinary login's), or `null` (none). */
export function responseKind(redirectUri: string, href: string): 'popup' | 'silent' | 'callback' | null {
  let page: URL;
  let redirect: URL;
  try {
    page = new URL(href);
    redirect = new URL(redirectUri, href);
  } catch {
    return null; // createClient reports a bad redirectUri as invalid_config
  }
  const q = page.searchParams;
  if (page.origin !== redirect.origin || page.pathname !== redirect.pathname || !(q.has('code') || q.has('error'))) return null;
  const state = q.get('state') ?? '';
  return state.startsWith(POPUP_STATE) ? 'popup' : state.startsWith(SILENT_STATE) ? 'silent' : 'callback';
}

export function isCallbackUrl(redirectUri: string, href: string): boolean {
  return responseKind(redirectUri, href) === 'callback';
}

/** The page's path, query and fragment: where a login started here comes back to (browser only). */
export function currentPath(): string {
  return `${location.pathname}${location.search}${location.hash}`;
}
