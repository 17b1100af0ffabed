// A static host for a built single-page app, with the headers the SDK expects of a real deployment
// (examples/static.mjs): `.wasm` as application/wasm, and on HTML a strict Content-Security-Policy (fetches
// only to this origin and the provider's; img-src also allows data:) plus `Referrer-Policy: no-referrer`.
//
// As a script, it runs the plain script-tag example with no build step of its own (needs dist/ from
// `node scripts/build.mjs`): it starts the local OpenID Provider (dev/provider.mjs) and serves
// examples/plain/ at / and the repository's dist/ at /dist/:
//
//   node examples/plain/serve.mjs                 # http://127.0.0.1:3002/, any username/password
//   PORT=4000 node examples/plain/serve.mjs
//   node examples/plain/serve.mjs --issuer https://login.example.com --client-id my-spa   # your provider
//
// As a module (tests/consumers/): startStaticServer({ root, mounts, config, connectSrc, spa }).

import { stat } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contentSecurityPolicy as strictPolicy, fileInside, pageHeaders, sendFile, serve } from '../static.mjs';

export function contentSecurityPolicy(connectSrc = []) {
  return strictPolicy(connectSrc.map((u) => new URL(u).origin), { imgSrc: "'self' data:" });
}

// Errors: 404 says so in plain text; 400, 405 (with Allow) and 500 have no body.
function reply(res, status, headers = {}) {
  if (status === 404) {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    return res.end('not found');
  }
  if (!res.headersSent) res.writeHead(status, headers);
  res.end();
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

  // HTML, wherever it is served from, gets the page headers.
  const send = (res, method, file) => sendFile(res, method, file, {
    headers: (ext) => (ext === '.html' ? pageHeaders(contentSecurityPolicy(current.connectSrc)) : {}),
  });

  const { origin, close } = await serve(async (req, res, path) => {
    if (path === '/config.json' && current.config) {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      return res.end(req.method === 'HEAD' ? undefined : JSON.stringify(current.config));
    }
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (path.startsWith(prefix)) {
        if (!await send(res, req.method, fileInside(dir, path.slice(prefix.length)))) reply(res, 404);
        return;
      }
    }
    if (current.root) {
      if (await send(res, req.method, fileInside(current.root, path.endsWith('/') ? `${path.slice(1)}index.html` : path.slice(1)))) return;
      if (spa && !extname(path) && await send(res, req.method, join(current.root, 'index.html'))) return;
    }
    reply(res, 404);
  }, { port, label: 'static', reply });

  return {
    origin,
    url: `${origin}/`,
    /** Changes what is served: { root, config, connectSrc }. */
    configure(changes) { current = { ...current, ...changes, root: changes.root ? resolve(changes.root) : current.root }; },
    close,
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
    const { startProvider } = await import('../../dev/provider.mjs');
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
