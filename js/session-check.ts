// `checkSession: 'redirect'`: the silent session check on load. The core decides whether one is due (the
// option, no session, not yet in this tab session) and makes its `prompt=none` request (src/session_check.rs);
// this file navigates there, and on the page the provider answers, completes it through the core, which
// recognises the silent transaction, signs in or out without an error for "no session", and puts the
// original URL back.

import { currentPath } from './callback-url.js';
import type { Core } from './core.js';
import { toOidcError, type OidcError } from './errors.js';

/** What the check that answered on this page load found: see `OidcClient.sessionCheck`. */
export interface SessionCheck {
  /** The provider still had a session: the user is signed in. */
  signedIn: boolean;
  /** The path, query and fragment the app was loaded at, now back in the address bar. */
  returnTo: string;
}

/** On a load without a session: goes to the provider when a check is due, and then never settles (the page
 * is leaving); resolves at once when none is. `location.replace`: the check leaves no history entry. */
export async function startSessionCheck(core: Core): Promise<void> {
  const url: string | null = await core.call('checkSession', { returnTo: currentPath() });
  if (url === null) return;
  location.replace(url);
  await new Promise<never>(() => {});
}

/** On the page the provider answered the check at: completes it. */
export async function completeSessionCheck(core: Core): Promise<{ check: SessionCheck | null; user: unknown; error?: OidcError }> {
  let user: unknown = null;
  let error: OidcError | undefined;
  try {
    user = ((await core.call('callback', { url: location.href })) as { user: unknown }).user;
  } catch (e) {
    error = toOidcError(e);
    // Two clients on one page: the answer to the other client's check, which that client completes.
    if (error.code === 'callback_not_for_this_client') return { check: null, user: null };
  }
  return { check: { signedIn: user !== null, returnTo: currentPath() }, user, error };
}
