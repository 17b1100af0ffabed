// Popup sign-in (`client.loginWithPopup`, `handlePopupCallback`). The core makes the authorization request
// and keeps the login's transaction in memory (src/popup.rs); this file is the browser plumbing around it:
// the window, the relay of the response from the popup back to this page, and the two ends of the wait —
// the popup closed, the time run out.
//
// The relay is a BroadcastChannel named after the login's `state` (random, 256 bits, one per login), so
// only pages of this origin hear it, and only the page that started that login listens. It works under
// `Cross-Origin-Opener-Policy: same-origin`, where the popup loses `window.opener` on its way through the
// provider: no postMessage to an opener that may be null. The response goes nowhere else: not into storage,
// not into the opener's URL. Which relay is taken is the core's decision: `popupCallback` answers null for
// anything that is not the answer to a popup login this client is waiting for (a forged, repeated or stale
// relay), and the wait goes on.
//
// What can be seen of the popup: its closing, as long as this page still holds it — always without COOP.
// A page sent with `Cross-Origin-Opener-Policy: same-origin` loses its popup the moment the popup reaches
// the provider's origin: from then on `popup.closed` reads true whether or not the user closed it. So a
// `closed` is believed only when the popup was seen open after it left this page (at the provider: its
// location unreadable, or a new one) or before it left at all; a popup lost from sight that way is waited
// for until `timeoutSeconds`, and a user who closes it then gets `popup_timeout`, not `popup_closed`.

import { OidcError } from './errors.js';
import { POPUP_STATE } from './callback-url.js';
import type { Core } from './core.js';

/** The channel a popup login's response is relayed on, followed by its state. */
const CHANNEL = 'oidc-wasm.popup.';
/** Taken out of the popup's address bar before the relay: src/callback.rs RESPONSE_PARAMS. */
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];
/** The opener's answer to a relay: the popup may close. */
const RECEIVED = 'received';
/** How often the opener looks at the popup (ms). */
const POLL_MS = 250;
/** How long a popup waits for a page to take its response before it closes anyway (ms): the page that
 * opened it was closed, or has given this login up (timed out, or a newer one started). The response is
 * not kept: nobody is waiting for it. */
const UNCLAIMED_MS = 5000;

let relayed = false;

/**
 * On the page the provider sends the popup back to (the app's redirect URI): when this page holds a popup
 * login's authorization response, takes it out of the address bar, relays it to the page that opened the
 * popup, and closes the window once that page has it — or after 5 s when no page takes it (the opener was
 * closed or gave the login up), so a window is never left blank. Returns true then (the page should render nothing
 * more), false on any other page. Needs no client: call it first thing in the entry module, before the
 * framework starts (`createClient` calls it too, later).
 */
export function handlePopupCallback(): boolean {
  if (relayed) return true;
  if (typeof location === 'undefined' || typeof BroadcastChannel === 'undefined') return false;
  let url: URL;
  try {
    url = new URL(location.href);
  } catch {
    return false;
  }
  const q = url.searchParams;
  const state = q.get('state');
  if (state === null || !state.startsWith(POPUP_STATE) || !(q.has('code') || q.has('error'))) return false;
  const response = url.href;
  for (const p of RESPONSE_PARAMS) q.delete(p);
  try {
    history.replaceState(history.state, '', url.href);
  } catch { /* Safari's rate limit: the window closes in a moment anyway */ }
  relayed = true;
  const channel = new BroadcastChannel(CHANNEL + state);
  const done = () => {
    clearTimeout(unclaimed);
    channel.close();
    window.close();
  };
  const unclaimed = setTimeout(done, UNCLAIMED_MS);
  channel.onmessage = (e: MessageEvent) => {
    if (e.data === RECEIVED) done();
  };
  channel.postMessage({ response });
  return true;
}

/** Whether this page relayed a popup's response (no session check, no sealed restore here). */
export function isPopupRelay(): boolean {
  return relayed;
}

function shut(popup: Window): void {
  try {
    if (!popup.closed) popup.close();
  } catch { /* out of reach */ }
}

const closedError = () => new OidcError('popup_closed', 'the sign-in popup was closed before the provider answered');

/**
 * Runs a popup login in `popup` (open, still on this origin or anywhere the app sent it): the core's
 * authorization URL goes into it, and the login completes here when its response is relayed back.
 * Resolves to the callback result the core gives (JSON); rejects with the login's error, `popup_closed` or
 * `popup_timeout`.
 */
export async function popupLogin(core: Core, popup: Window, args: object): Promise<unknown> {
  if (typeof BroadcastChannel === 'undefined') {
    shut(popup);
    throw new OidcError('browser_error', 'loginWithPopup needs BroadcastChannel, which this browser lacks: use login()');
  }
  let started: { url: string; state: string; ms: number };
  try {
    started = await core.call('popupLogin', args);
  } catch (e) {
    shut(popup);
    throw e;
  }
  const { url, state, ms } = started;
  const channel = new BroadcastChannel(CHANNEL + state);
  let poll: ReturnType<typeof setInterval> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise((resolve, reject) => {
      // Relays being checked by the core. The popup closes once it has relayed, and the time may run out
      // during the code exchange: the wait ends with the relay's outcome, or with `late` if it was not ours.
      let checking = 0;
      let late: OidcError | undefined;
      const end = (e: OidcError) => {
        if (checking > 0) late = e;
        else reject(e);
      };
      channel.onmessage = (e: MessageEvent) => {
        const response = (e.data as { response?: unknown } | null)?.response;
        if (typeof response !== 'string') return;
        channel.postMessage(RECEIVED);
        checking += 1;
        core.call('popupCallback', { url: response }).then((r: unknown) => {
          checking -= 1;
          if (r !== null) resolve(r);
          else if (late && checking === 0) reject(late);
        }, (err: unknown) => {
          checking -= 1;
          reject(err);
        });
      };
      if (popup.closed) {
        reject(closedError()); // closed before it went anywhere: nothing can hide that
        return;
      }
      let before: string | undefined;
      try {
        before = popup.location.href;
      } catch {
        before = undefined;
      }
      let seen = false; // seen open after leaving `before`: from then on its `closed` is to be believed
      poll = setInterval(() => {
        if (popup.closed) {
          clearInterval(poll);
          if (seen) end(closedError());
          return; // else out of sight (COOP): the timeout ends the wait
        }
        if (!seen) {
          try {
            seen = popup.location.href !== before;
          } catch {
            seen = true; // at another origin, and still ours
          }
        }
      }, POLL_MS);
      timer = setTimeout(() => end(new OidcError('popup_timeout',
        'no answer came back from the sign-in popup in time (timeoutSeconds); under Cross-Origin-Opener-Policy: same-origin this is also how a closed popup ends')), ms);
      try {
        popup.location.replace(url);
      } catch {
        reject(new OidcError('browser_error', 'the popup could not be sent to the provider'));
      }
    });
  } finally {
    clearInterval(poll);
    clearTimeout(timer);
    channel.close();
    core.call('popupCancel', { state }).catch(() => {}); // a late or repeated relay is refused from now on
    shut(popup);
  }
}
