// The popup window itself, in a file of its own: the React and Vue bindings open it in the app's click
// handler (js/boot.ts) and bundle only this, not the popup login's plumbing (js/popup.ts).

/** Opens an empty popup, centred over this window: synchronously, inside the click handler. */
export function openPopup(): Window | null {
  const width = 500;
  const height = 640;
  const left = Math.round(window.screenX + (window.outerWidth - width) / 2);
  const top = Math.round(window.screenY + (window.outerHeight - height) / 2);
  try {
    return window.open('about:blank', '_blank', `popup,width=${width},height=${height},left=${left},top=${top}`);
  } catch {
    return null;
  }
}
