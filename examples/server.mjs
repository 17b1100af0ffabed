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
// Referrer-Policy: no-referrer so the authorization response never leaks through the Referer header.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8', // .d.ts files, for reading only
};

/** The CSP a real deployment of an SPA using this SDK would send: fetches only to the given origins
 * (the OP's, the API's) besides its own. */
export function contentSecurityPolicy(...connectOrigins) {
  const connect = [...new Set(connectOrigins.filter(Boolean))];
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src 'self'${connect.map((o) => ` ${o}`).join('')}`,
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function commonHeaders() {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/**
 * Start the sample-app server.
 * @param {object} [options]
 * @param {number} [options.port=0]     0 picks a free port
 * @param {string} [options.root]       repository root (holds dist/ and examples/flow-explorer/)
 * @param {object} [options.config]     { issuer, clientId, scope?, apiUrl?, ... } served as /config.json;
 *                                      can be set later with configure(). `connectSrc` (extra origins for
 *                                      the CSP's connect-src, e.g. a test's third-party server) is not served.
 * @returns {Promise<{url: string, origin: string, redirectUri: string, configure(c: object): void, close(): Promise<void>}>}
 */
export async function startApp({ port = 0, root = REPO_ROOT, config } = {}) {
  const appDir = resolve(root, 'examples', 'flow-explorer');
  const distDir = resolve(root, 'dist');
  let current = config ?? null;

  async function sendFile(res, method, baseDir, relPath, extraHeaders = {}) {
    // Resolve inside baseDir only: decoded, normalised, and checked against the base with a separator.
    const file = resolve(baseDir, `.${sep}${relPath}`);
    if (file !== baseDir && !file.startsWith(baseDir + sep)) return sendText(res, 404, 'not found');
    let info;
    try {
      info = await stat(file);
    } catch {
      return sendText(res, 404, 'not found');
    }
    if (!info.isFile()) return sendText(res, 404, 'not found');
    const body = await readFile(file);
    res.writeHead(200, {
      ...commonHeaders(),
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': body.length,
      ...extraHeaders,
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  function sendText(res, status, text, headers = {}) {
    res.writeHead(status, { ...commonHeaders(), 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }

  function htmlHeaders() {
    const originOf = (u) => (u ? new URL(u).origin : '');
    const connect = [originOf(current?.issuer), originOf(current?.apiUrl), ...(current?.connectSrc ?? []).map(originOf)];
    return {
      'Content-Security-Policy': contentSecurityPolicy(...connect),
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    };
  }

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      }
      let path;
      try {
        path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        return sendText(res, 400, 'bad request');
      }
      if (path.includes('\0') || path.includes('\\')) return sendText(res, 400, 'bad request');

      if (path === '/' || path === '/index.html' || path === '/callback') {
        return await sendFile(res, req.method, appDir, 'index.html', htmlHeaders());
      }
      if (path === '/config.json') {
        if (!current) return sendText(res, 503, 'provider not configured yet');
        const { connectSrc, ...served } = current;
        const body = JSON.stringify({ scope: 'openid profile email', ...served });
        res.writeHead(200, { ...commonHeaders(), 'Content-Type': 'application/json; charset=utf-8' });
        return res.end(req.method === 'HEAD' ? undefined : body);
      }
      if (path.startsWith('/dist/')) {
        return await sendFile(res, req.method, distDir, path.slice('/dist/'.length));
      }
      const extra = extname(path).toLowerCase() === '.html' ? htmlHeaders() : {};
      return await sendFile(res, req.method, appDir, path.slice(1), extra);
    } catch (err) {
      console.error('[app] error serving', req.url?.split('?')[0], err);
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    }
  });

  await new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolvePromise(); });
  });
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    url: `${origin}/`,
    origin,
    redirectUri: `${origin}/callback`,
    configure(c) { current = c; },
    close() {
      return new Promise((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections?.();
      });
    },
  };
}
