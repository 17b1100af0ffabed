// Static-file serving for the sample servers (examples/server.mjs, examples/plain/serve.mjs), with the
// headers the SDK expects of a real deployment: `.wasm` as application/wasm (WebAssembly.instantiateStreaming
// needs it), `nosniff` and `no-store` on every file, and pageHeaders() for HTML pages: a strict
// Content-Security-Policy (no inline script; `'wasm-unsafe-eval'` to compile the wasm; fetches only to the
// page's own origin and the given ones) plus `Referrer-Policy: no-referrer` (the callback URL carries the
// authorization code).
//
// node:http only, bound to 127.0.0.1. serve() answers GET and HEAD, decodes the path and refuses what
// cannot name a file (malformed escapes, NUL, backslash); fileInside() keeps a path inside its directory.
// How an error looks (status, headers, body) is the caller's `reply`, so each server keeps its own.

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

export const CONTENT_TYPES = {
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
};

/** The headers every file gets. */
export function securityHeaders() {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

/**
 * The CSP a real deployment of an SPA using this SDK would send: fetches only to the given origins (the
 * OP's, the API's) besides its own. `imgSrc` is the img-src sources.
 */
export function contentSecurityPolicy(connectOrigins = [], { imgSrc = "'self'" } = {}) {
  const connect = [...new Set(connectOrigins.filter(Boolean))];
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src 'self'${connect.map((o) => ` ${o}`).join('')}`,
    "style-src 'self'",
    `img-src ${imgSrc}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The headers of an HTML page: its CSP, no Referer, and with `frameDeny` X-Frame-Options: DENY. */
export function pageHeaders(policy, { frameDeny = false } = {}) {
  return {
    'Content-Security-Policy': policy,
    'Referrer-Policy': 'no-referrer',
    ...(frameDeny && { 'X-Frame-Options': 'DENY' }),
  };
}

/** `relPath` (decoded) resolved inside `dir`, or null when it would leave it. */
export function fileInside(dir, relPath) {
  const base = resolve(dir);
  const file = resolve(base, `.${sep}${relPath}`);
  return file === base || file.startsWith(base + sep) ? file : null;
}

/**
 * Sends `file` with its content type (from `types`) and securityHeaders(), then `headers`: an object, or a
 * function of the file's extension called once the file is found. Returns false, having sent nothing, when
 * `file` is null or not a regular file.
 */
export async function sendFile(res, method, file, { types = CONTENT_TYPES, headers = {} } = {}) {
  if (!file) return false;
  let info;
  try {
    info = await stat(file);
  } catch {
    return false;
  }
  if (!info.isFile()) return false;
  const body = await readFile(file);
  const ext = extname(file).toLowerCase();
  res.writeHead(200, {
    ...securityHeaders(),
    'Content-Type': types[ext] ?? 'application/octet-stream',
    'Content-Length': body.length,
    ...(typeof headers === 'function' ? headers(ext) : headers),
  });
  res.end(method === 'HEAD' ? undefined : body);
  return true;
}

/**
 * Listens on 127.0.0.1:`port` (0 picks a free port). `route(req, res, path)` gets GET and HEAD requests
 * with the decoded path. `reply(res, status, headers?)` answers 405 (with Allow), 400 (a path that cannot
 * name a file), 500 (route threw; it may be called after the headers went out) and whatever route passes it;
 * `label` prefixes the error log.
 * @returns {Promise<{origin: string, close(): Promise<void>}>}
 */
export async function serve(route, { port = 0, label, reply }) {
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, { Allow: 'GET, HEAD' });
      let path;
      try {
        path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        return reply(res, 400);
      }
      if (path.includes('\0') || path.includes('\\')) return reply(res, 400);
      await route(req, res, path);
    } catch (err) {
      console.error(`[${label}] error serving`, req.url?.split('?')[0], err);
      reply(res, 500);
    }
  });

  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => { server.off('error', fail); done(); });
  });
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close() {
      return new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections?.();
      });
    },
  };
}
