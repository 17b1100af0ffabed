// Whether this page is the callback of a login: on the redirect URI's path, with an authorization response
// in its query (`code` or `error`, RFC 6749 §4.1.2; one without `state` too, so that handleCallback refuses
// it and takes it out of the address bar). The one rule for the wrapper (no sealed restore on a callback
// page) and the framework bindings (handleCallback once): a redirect URI that is the app's main page (`/`)
// is the callback only when it carries a response. The core checks the response itself.

export function isCallbackUrl(redirectUri: string, href: string): boolean {
  let page: URL;
  let redirect: URL;
  try {
    page = new URL(href);
    redirect = new URL(redirectUri, href);
  } catch {
    return false; // createClient reports a bad redirectUri as invalid_config
  }
  const q = page.searchParams;
  return page.origin === redirect.origin && page.pathname === redirect.pathname && (q.has('code') || q.has('error'));
}
