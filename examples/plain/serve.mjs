// A static host for a built single-page app, with the headers the SDK expects of a real deployment:
// `.wasm` as application/wasm (WebAssembly.instantiateStreaming needs it), and on HTML a strict
// Content-Security-Policy (no inline script; `'wasm-unsafe-eval'` to compile the wasm; fetches only to
// this origin and the provider's) plus `Referrer-Policy: no-referrer` (the callback URL carries the code).
//
// As a script, it runs the plain script-tag example with no build step of its own (needs dist/ from
// `node scripts/build.mjs`): it starts the local OpenID Provider (tests/op/provider.mjs) and serves
// examples/plain/ at / and the repository's dist/ at /dist/:
//
//   node examples/plain/serve.mjs                 # http://127.0.0.1:3002/, any username/password
//   PORT=4000 node examples/plain/serve.mjs
//   node examples/plain/serve.mjs --issuer https://login.example.com --client-id my-spa   # your provider
//
// As a module (tests/consumers/): startStaticServer({ root, mounts, config, connectSrc, spa }).

import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
};

export function contentSecurityPolicy(connectSrc = []) {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    `connect-src ${["'self'", ...new Set(connectSrc.map((u) => new URL(u).origin))].join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Serves `root` on 127.0.0.1.
 * @param {object} options
 * @param {string} [options.root]        the app's files (a build output, or examples/plain/)
 * @param {Record<string,string>} [options.mounts]  URL prefix → directory, e.g. { '/dist/': '.../dist' }
 * @param {object} [options.config]      served as /config.json (settable later with configure())
 * @param {string[]} [options.connectSrc] origins the page may fetch besides its own (the provider's)
 * @param {boolean} [options.spa=true]   unknown paths without an extension get root/index.html (/callback)
 * @param {number} [options.port=0]
 */
export async function startStaticServer({ root, mounts = {}, config, connectSrc = [], spa = true, port = 0 } = {}) {
  let current = { root: root && resolve(root), config, connectSrc };

  async function send(res, method, file, headers = {}) {
    let info;
    try {
      info = await stat(file);
    } catch {
      info = null;
    }
    if (!info?.isFile()) return false;
    const body = await readFile(file);
    const ext = extname(file).toLowerCase();
    res.writeHead(200, {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(ext === '.html' && {
        'Content-Security-Policy': contentSecurityPolicy(current.connectSrc),
        'Referrer-Policy': 'no-referrer',
      }),
      ...headers,
    });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  }

  // A path inside dir, or null when it would leave it.
  function inside(dir, rel) {
    const file = resolve(dir, `.${sep}${rel}`);
    return file === dir || file.startsWith(dir + sep) ? file : null;
  }

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' });
        return res.end();
      }
      let path;
      try {
        path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      } catch {
        path = null;
      }
      if (!path || path.includes('\0') || path.includes('\\')) {
        res.writeHead(400);
        return res.end();
      }
      if (path === '/config.json' && current.config) {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
        return res.end(req.method === 'HEAD' ? undefined : JSON.stringify(current.config));
      }
      for (const [prefix, dir] of Object.entries(mounts)) {
        if (path.startsWith(prefix)) {
          const file = inside(resolve(dir), path.slice(prefix.length));
          if (file && await send(res, req.method, file)) return;
          res.writeHead(404, { 'Content-Type': 'text/plain' });
          return res.end('not found');
        }
      }
      if (current.root) {
        const file = inside(current.root, path.endsWith('/') ? `${path.slice(1)}index.html` : path.slice(1));
        if (file && await send(res, req.method, file)) return;
        if (spa && !extname(path) && await send(res, req.method, join(current.root, 'index.html'))) return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
    } catch (err) {
      console.error('[static] error serving', req.url?.split('?')[0], err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => { server.off('error', fail); done(); });
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: `${origin}/`,
    /** Changes what is served: { root, config, connectSrc }. */
    configure(changes) { current = { ...current, ...changes, root: changes.root ? resolve(changes.root) : current.root }; },
    close() {
      return new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections?.();
      });
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = resolve(here, '..', '..');
  const args = Object.fromEntries(process.argv.slice(2).join(' ').split(/\s*--/).filter(Boolean)
    .map((a) => a.split(/[ =]/)).map(([k, ...v]) => [k, v.join(' ')]));
  const port = Number(process.env.PORT ?? 3002);
  const origin = `http://127.0.0.1:${port}`;
  const dist = join(repo, 'dist');
  try {
    await stat(join(dist, 'oidc-wasm.global.js'));
  } catch {
    console.error(`${dist}/oidc-wasm.global.js is missing: build the SDK first (node scripts/build.mjs)`);
    process.exit(1);
  }
  let op = null;
  let issuer = args.issuer;
  const clientId = args['client-id'] ?? 'plain-example';
  if (!issuer) {
    const { startProvider } = await import('../../tests/op/provider.mjs');
    op = await startProvider({
      port: Number(process.env.OP_PORT ?? 0),
      clients: [{ client_id: clientId, redirect_uris: [`${origin}/`], post_logout_redirect_uris: [`${origin}/`] }],
    });
    issuer = op.issuer;
  }
  const app = await startStaticServer({
    root: here, port, mounts: { '/dist/': dist }, config: { issuer, clientId }, connectSrc: [issuer], spa: false,
  });
  console.log(`plain script-tag example: ${app.url}`);
  console.log(op ? `local OpenID Provider: ${issuer} (any username and password sign in). Ctrl-C stops.`
    : `provider: ${issuer}, client_id ${clientId}, redirect URI ${app.url}`);
  const stop = () => Promise.all([app.close(), op?.close()]).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
