// Static server for the sample app ("flow explorer") used by `npm start` and the end-to-end tests.
//
// node:http only, bound to 127.0.0.1. Routes:
//   /, /callback        examples/flow-explorer/index.html (the SPA page; /callback is its redirect URI)
//   /config.json        { issuer, clientId, scope, apiUrl?, dpop?, persistSession?, ... } for the page, so
//                       ports can be ephemeral (dpop and persistSession go to createClient as they are)
//   /dist/*             the built SDK (repo's dist/), .wasm served as application/wasm
//   anything else       files from examples/flow-explorer/
// HTML gets the headers a real SPA should send: a strict Content-Security-Policy that allows only
// same-origin scripts, wasm compilation ('wasm-unsafe-eval') and fetches to the OP's and the API's origins, and
// Referrer-Policy: no-referrer so the authorization response never leaks through the Referer header; and,
// when the config says `coop` ('same-origin', 'same-origin-allow-popups', ...), that
// Cross-Origin-Opener-Policy (the popup sign-in's tests).
// The file serving itself (content types, security headers, paths kept inside their directory) is ./static.mjs.

import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_TYPES, contentSecurityPolicy as strictPolicy, fileInside, pageHeaders, securityHeaders, sendFile, serve } from './static.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  ...CONTENT_TYPES,
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8', // .d.ts files, for reading only
};

const MESSAGES = { 400: 'bad request', 404: 'not found', 405: 'method not allowed', 500: 'internal error' };

/** The CSP a real deployment of an SPA using this SDK would send: fetches only to the given origins
 * (the OP's, the API's) besides its own. */
export function contentSecurityPolicy(...connectOrigins) {
  return strictPolicy(connectOrigins);
}

/**
 * Start the sample-app server.
 * @param {object} [options]
 * @param {number} [options.port=0]     0 picks a free port
 * @param {string} [options.root]       repository root (holds dist/ and examples/flow-explorer/)
 * @param {object} [options.config]     { issuer, clientId, scope?, apiUrl?, ... } served as /config.json;
 *                                      can be set later with configure(). `connectSrc` (extra origins for
 *                                      the CSP's connect-src, e.g. a test's third-party server) and `coop`
 *                                      (a Cross-Origin-Opener-Policy for the HTML pages) are not served.
 * @returns {Promise<{url: string, origin: string, redirectUri: string, configure(c: object): void, close(): Promise<void>}>}
 */
export async function startApp({ port = 0, root = REPO_ROOT, config } = {}) {
  const appDir = resolve(root, 'examples', 'flow-explorer');
  const distDir = resolve(root, 'dist');
  let current = config ?? null;

  // Errors are plain text with the security headers; after the headers went out (500), the connection is cut.
  function sendText(res, status, text, headers = {}) {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }
  const reply = (res, status, headers) => sendText(res, status, MESSAGES[status], headers);

  async function sendFrom(res, method, baseDir, relPath, headers) {
    if (!await sendFile(res, method, fileInside(baseDir, relPath), { types: TYPES, headers })) reply(res, 404);
  }

  function htmlHeaders() {
    const originOf = (u) => (u ? new URL(u).origin : '');
    const connect = [originOf(current?.issuer), originOf(current?.apiUrl), ...(current?.connectSrc ?? []).map(originOf)];
    const headers = pageHeaders(contentSecurityPolicy(...connect), { frameDeny: true });
    return current?.coop ? { ...headers, 'Cross-Origin-Opener-Policy': current.coop } : headers;
  }

  const { origin, close } = await serve(async (req, res, path) => {
    if (path === '/' || path === '/index.html' || path === '/callback') {
      return sendFrom(res, req.method, appDir, 'index.html', htmlHeaders());
    }
    if (path === '/config.json') {
      if (!current) return sendText(res, 503, 'provider not configured yet');
      const { connectSrc, coop, ...served } = current;
      const body = JSON.stringify({ scope: 'openid profile email', ...served });
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'application/json; charset=utf-8' });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (path.startsWith('/dist/')) {
      return sendFrom(res, req.method, distDir, path.slice('/dist/'.length));
    }
    const extra = extname(path).toLowerCase() === '.html' ? htmlHeaders() : {};
    return sendFrom(res, req.method, appDir, path.slice(1), extra);
  }, { port, label: 'app', reply });

  return {
    url: `${origin}/`,
    origin,
    redirectUri: `${origin}/callback`,
    configure(c) { current = c; },
    close,
  };
}
