// The benchmark's app server on 127.0.0.1: the four minimal apps, the verification page and a tiny API.
//
//   /<lib>/, /<lib>/callback   the app page of a library (its redirect URI is /<lib>/callback)
//   /storm/, /storm/callback   the oidc-wasm app as the `bench-storm` client (short-lived access tokens)
//   /<lib>/<file>              bench/out/<lib>/<file> (the bundle; oidc-wasm's wasm beside its bundle)
//   /verify/                   the verification-cost page (bench/out/verify/)
//   /api/ping                  200 "ok"; counts requests, and Authorization headers by SHA-256
//                              fingerprint (never the token), for the fetch and storm measurements
//
// Each HTML page starts with a classic inline script that records `window.__t0` (the page's first
// script), then (app pages) the phase probes (PHASES below), then `window.BENCH` (where the OP and the API
// are), then the app's module bundle.
// Bundles and wasm are cacheable (a warm cache on the redirect page, as after a real login redirect);
// HTML is not. Nothing is compressed: on loopback the byte count barely matters, parse/compile does.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';

// The phase probes of the app pages (not the verification page): each call of these browser functions is
// recorded as [start, end] (ms, the page's clock) in `window.__phases[name]` — the wasm compile and instantiate,
// the Web Locks query (oidc-wasm asks whether other tabs are open), WebCrypto's key import, verify and digest.
// Timing only: arguments and results pass through untouched, and nothing else is read. Every library's page
// has them; a call costs a closure and a timestamp.
const PHASES = `(function () {
  var P = (window.__phases = {});
  function wrap(o, k, name) {
    var f = o && o[k];
    if (typeof f !== 'function') return;
    o[k] = function () {
      var s = [performance.now(), null];
      var list = (P[name] = P[name] || []);
      if (list.length < 50) list.push(s);
      var r = f.apply(this, arguments);
      var end = function () { if (s[1] === null) s[1] = performance.now(); };
      Promise.resolve(r).then(end, end);
      return r;
    };
  }
  wrap(WebAssembly, 'instantiateStreaming', 'instantiate');
  wrap(WebAssembly, 'instantiate', 'instantiate');
  if (navigator.locks) wrap(navigator.locks, 'query', 'locksQuery');
  if (window.crypto && crypto.subtle) ['importKey', 'verify', 'digest'].forEach(function (k) { wrap(crypto.subtle, k, k); });
})();`;

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };

export async function startAppServer({ outDir, libs }) {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  let issuer = null;
  const api = { requests: 0, authorized: 0, fingerprints: new Map(), authLength: 0 };

  const page = (dir, bench) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${dir}</title>
<script>window.__t0 = performance.now();</script>${dir === 'verify' ? '' : `
<script>${PHASES}</script>`}
<script>window.BENCH = ${JSON.stringify(bench).replace(/</g, '\\u003c')};</script>
<script type="module" src="/${dir}/app.js"></script>
</head><body></body></html>`;

  function appConfig(name) {
    if (name === 'storm') {
      return { dir: 'oidc-wasm', clientId: 'bench-storm', options: { refreshMarginSeconds: 0 } };
    }
    return libs.includes(name) ? { dir: name, clientId: name } : null;
  }

  server.on('request', async (req, res) => {
    const url = new URL(req.url, origin);
    const parts = url.pathname.split('/').filter(Boolean);
    try {
      if (url.pathname === '/api/ping') {
        api.requests += 1;
        const auth = req.headers.authorization;
        if (auth) {
          api.authorized += 1;
          api.authLength = auth.length;
          const fp = createHash('sha256').update(auth).digest('base64url').slice(0, 16);
          api.fingerprints.set(fp, (api.fingerprints.get(fp) ?? 0) + 1);
        }
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
        res.end('ok');
        return;
      }
      const cfg = parts[0] === 'verify' ? { dir: 'verify' } : appConfig(parts[0]);
      if (cfg && (parts.length === 1 || (parts.length === 2 && parts[1] === 'callback'))) {
        const bench = cfg.clientId
          ? { issuer, clientId: cfg.clientId, redirectUri: `${origin}/${parts[0]}/callback`, api: `${origin}/api/ping`, options: cfg.options }
          : {};
        // The verification page is cross-origin isolated: performance.now() at 5 µs instead of 100 µs.
        const isolation = cfg.dir === 'verify' ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
        res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store', ...isolation });
        res.end(page(cfg.dir, bench));
        return;
      }
      if (cfg && parts.length === 2) {
        const file = normalize(join(outDir, cfg.dir, parts[1]));
        if (!file.startsWith(join(outDir, cfg.dir))) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
        const body = await readFile(file);
        const ext = file.slice(file.lastIndexOf('.'));
        res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'cache-control': 'public, max-age=3600' });
        res.end(body);
        return;
      }
      res.writeHead(404).end();
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' ? 404 : 500).end();
    }
  });

  return {
    origin,
    api,
    redirectUri: (name) => `${origin}/${name}/callback`,
    setIssuer(i) { issuer = i; },
    resetApi() { api.requests = 0; api.authorized = 0; api.fingerprints.clear(); },
    close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections?.(); }),
  };
}
