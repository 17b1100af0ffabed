// Refresh that follows the tab (issue 14, item 7). Browsers throttle timers in background tabs (and freeze
// them), and requests fail while offline: a tab coming back may hold an access token that is due for a
// refresh, or a session that has ended. So when the page becomes visible again, or the browser comes back
// online, the wrapper asks the core to bring the session up to date (`resume`) before the app's next call
// needs it. The core decides everything (whether a refresh is due, the cross-tab single flight); this file
// only listens.

/** Calls `wake(online)` when the page becomes visible (`visibilitychange` to `visible`, which a restore from
 * the back/forward cache also fires) or the browser comes back online (`online`, then `wake(true)`). Does
 * nothing where those events do not exist. */
export function followTab(wake: (online: boolean) => void): void {
  if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') wake(false);
    });
  }
  if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
    window.addEventListener('online', () => wake(true));
  }
}
