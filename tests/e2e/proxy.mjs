// Fault-injecting reverse proxy for the end-to-end tests: sits in front of the whole OpenID Provider,
// whose issuer is then the proxy's URL (startProvider({ issuer: proxy.url })), so discovery, the
// authorization endpoint, JWKS and the token endpoint are all reached through it and the page's CSP
// needs no extra origin. Requests that match `isFaultTarget` (default: POST to the token endpoint) get
// the current mode; everything else is passed through.
//
//   const proxy = await startProxy();                      // listens first: the OP's issuer needs its port
//   const op = await startProvider({ issuer: proxy.url, ... });
//   proxy.setTarget(op.internalUrl);
//   proxy.setMode('500');     // 'pass' | '500' | 'drop'
//   proxy.counters            // { requests, faultTargets, passed, failed500, dropped, upstreamErrors }
//
// Modes for the fault target:
//   pass   forward to the provider
//   500    answer 500 text/plain without asking the provider (with CORS headers for the request's
//          Origin, like a gateway that sets them: the page can read the status, an http_error)
//   drop   destroy the socket without an answer (the page sees a network error)
// Nothing is logged: request bodies and URLs carry codes and tokens.

import { request as httpRequest, createServer } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'proxy-authenticate', 'proxy-authorization',
]);

function endToEndHeaders(headers) {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

const MODES = new Set(['pass', '500', 'drop']);

/**
 * @param {object} [options]
 * @param {number} [options.port=0]
 * @param {string} [options.target]     the provider's own URL (op.internalUrl); can be set later
 * @param {(req: import('node:http').IncomingMessage) => boolean} [options.isFaultTarget]
 */
export async function startProxy({ port = 0, target, isFaultTarget } = {}) {
  let upstream = target ? new URL(target) : null;
  let mode = 'pass';
  const faultTarget = isFaultTarget ?? ((req) => req.method === 'POST' && new URL(req.url, 'http://x').pathname === '/token');
  const counters = { requests: 0, faultTargets: 0, passed: 0, failed500: 0, dropped: 0, upstreamErrors: 0 };
  const sockets = new Set();

  const server = createServer((req, res) => {
    counters.requests += 1;
    const isTarget = faultTarget(req);
    if (isTarget) {
      counters.faultTargets += 1;
      if (mode === 'drop') {
        counters.dropped += 1;
        req.socket.destroy();
        return;
      }
      if (mode === '500') {
        counters.failed500 += 1;
        req.resume();
        const origin = req.headers.origin;
        res.writeHead(500, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          ...(origin && { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' }),
        });
        res.end('Internal Server Error');
        return;
      }
      counters.passed += 1;
    }
    if (!upstream) {
      req.resume();
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('proxy has no target yet');
      return;
    }
    const forward = httpRequest({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      // Host stays the proxy's (the public one), as behind any reverse proxy.
      headers: endToEndHeaders(req.headers),
    }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
      upstreamRes.pipe(res);
    });
    forward.on('error', () => {
      counters.upstreamErrors += 1;
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('bad gateway');
      } else {
        res.destroy();
      }
    });
    req.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });
  const url = `http://127.0.0.1:${server.address().port}`;

  return {
    url,
    counters,
    get mode() { return mode; },
    setMode(next) {
      if (!MODES.has(next)) throw new TypeError(`unknown proxy mode ${next}`);
      mode = next;
    },
    setTarget(next) { upstream = new URL(next); },
    resetCounters() { for (const k of Object.keys(counters)) counters[k] = 0; },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
