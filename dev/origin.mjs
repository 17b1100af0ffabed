// App origins given to the development provider (`--origin`), checked before anything starts.

/**
 * An app origin as the browser writes it (`http://localhost:5173`), or a TypeError that says what is wrong
 * with it: a URL with a path, query or user info is refused (an origin is scheme, host and port only).
 */
export function parseOrigin(text) {
  let url;
  try {
    url = new URL(String(text));
  } catch {
    throw new TypeError(`--origin ${text}: not a URL; an origin looks like http://localhost:5173`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`--origin ${text}: only http: and https: origins can run a browser app`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new TypeError(`--origin ${text}: an origin has no path, query or user info; did you mean --origin ${url.origin}?`);
  }
  return url.origin;
}
