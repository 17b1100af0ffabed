// Static server for the conformance test page, on its own origin (127.0.0.1, ephemeral port) so the
// hostile OP is cross-origin as in a real deployment. Routes:
//   /start/<case>, /callback/<case>   index.html, under a strict CSP (no inline script; script-src 'self'
//                                     'wasm-unsafe-eval'; connect-src 'self' and the OP's origin)
//   /app.js                           the page's script
//   /case/<case>.json                 the case's client settings and flow, from caseConfig(name)
//   /dist/*                           the built SDK from the repository's dist/
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..', '..');

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };

export function contentSecurityPolicy(opOrigin) {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src 'self' ${opOrigin}`,
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * @param {{ opOrigin: string | (() => string), caseConfig: (name: string) => object | undefined, distDir?: string }} options
 */
export async function startApp({ opOrigin, caseConfig, distDir = join(REPO, 'dist') }) {
  const send = (res, status, type, body, extra = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
    res.end(body);
  };
  const server = createServer(async (req, res) => {
    try {
      const path = new URL(req.url, 'http://x').pathname;
      if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed');
      if (/^\/(start|callback)\/[a-z0-9-]+$/.test(path)) {
        return send(res, 200, TYPES['.html'], await readFile(join(HERE, 'index.html')), {
          'Content-Security-Policy': contentSecurityPolicy(typeof opOrigin === 'function' ? opOrigin() : opOrigin),
          'Referrer-Policy': 'no-referrer',
        });
      }
      if (path === '/app.js') return send(res, 200, TYPES['.js'], await readFile(join(HERE, 'app.js')));
      const m = /^\/case\/([a-z0-9-]+)\.json$/.exec(path);
      if (m) {
        const cfg = caseConfig(m[1]);
        return cfg ? send(res, 200, 'application/json', JSON.stringify(cfg)) : send(res, 404, 'text/plain', 'unknown case');
      }
      if (path.startsWith('/dist/')) {
        const file = resolve(distDir, `.${sep}${decodeURIComponent(path.slice('/dist/'.length))}`);
        if (!file.startsWith(distDir + sep)) return send(res, 404, 'text/plain', 'not found');
        const ext = file.slice(file.lastIndexOf('.'));
        return send(res, 200, TYPES[ext] ?? 'application/octet-stream', await readFile(file));
      }
      return send(res, 404, 'text/plain', 'not found');
    } catch (err) {
      return send(res, err?.code === 'ENOENT' ? 404 : 500, 'text/plain', 'error');
    }
  });
  await new Promise((r, j) => { server.once('error', j); server.listen(0, '127.0.0.1', r); });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
  };
}
