// Static server for the provider-profile test page, on its own origin (127.0.0.1, ephemeral port), so the
// profile's OP and API are cross-origin as in a real deployment. Routes:
//   /, /callback    index.html with a strict CSP (examples/static.mjs): no inline script, 'wasm-unsafe-eval',
//                   connect-src 'self' and the profile's OP and API origins only; Referrer-Policy: no-referrer
//   /app.js         the page's script
//   /config.json    the createClient config (the README recipe, origins mapped), set with configure()
//   /dist/*         the SDK under test (a snapshot of the repository's dist/, see providers.test.mjs)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy, fileInside, pageHeaders, securityHeaders, sendFile, serve } from '../../../examples/static.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * @param {{ distDir: string }} options  the directory holding index.js and oidc_wasm_bg.wasm
 * @returns {Promise<{ origin: string, configure(config: object, connectSrc: string[]): void, close(): Promise<void> }>}
 */
export async function startTestApp({ distDir }) {
  let config = null;
  let connect = [];
  const reply = (res, status, headers = {}) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { ...securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', ...headers });
    res.end(String(status));
  };
  const { origin, close } = await serve(async (req, res, path) => {
    if (path === '/' || path === '/callback') {
      const headers = pageHeaders(contentSecurityPolicy(connect), { frameDeny: true });
      if (!await sendFile(res, req.method, join(HERE, 'index.html'), { headers })) reply(res, 404);
      return;
    }
    if (path === '/app.js') {
      if (!await sendFile(res, req.method, join(HERE, 'app.js'))) reply(res, 404);
      return;
    }
    if (path === '/config.json') {
      if (!config) return reply(res, 503);
      const body = JSON.stringify(config);
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'application/json; charset=utf-8' });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (path.startsWith('/dist/')) {
      if (!await sendFile(res, req.method, fileInside(distDir, path.slice('/dist/'.length)))) reply(res, 404);
      return;
    }
    if (path === '/favicon.ico') { res.writeHead(204, securityHeaders()); return res.end(); }
    reply(res, 404);
  }, { label: 'providers-app', reply });
  return {
    origin,
    configure(c, connectSrc) { config = c; connect = connectSrc; },
    close,
  };
}
