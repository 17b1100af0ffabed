// `npm start` (after the build): the local OpenID Provider, the flow-explorer sample app and the sample API.
// The provider and the API are the development provider of `npx oidc-wasm dev-provider` (dev/dev-provider.mjs),
// with the client `flow-explorer` registered for the app's origin; all three listen on 127.0.0.1 only.
//   OP_PORT  (default 3001)  the provider, http://127.0.0.1:$OP_PORT
//   APP_PORT (default 3000)  the app, http://127.0.0.1:$APP_PORT/ (redirect URI /callback)
//   API_PORT (default 3002)  the sample API, http://127.0.0.1:$API_PORT/api/me (JWT access tokens,
//                            aud urn:oidc-wasm:sample-api, scope api:read; 5-minute lifetime so refreshes show)
// Runs until Ctrl-C. The provider's state (sessions, grants) lives in memory and ends with the process.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevProvider } from '../dev/dev-provider.mjs';
import { startApp } from './server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opPort = Number(process.env.OP_PORT ?? 3001);
const appPort = Number(process.env.APP_PORT ?? 3000);
const apiPort = Number(process.env.API_PORT ?? 3002);
const clientId = 'flow-explorer';

if (!existsSync(resolve(root, 'dist', 'index.js'))) {
  console.error('dist/index.js is missing: build the SDK first (node scripts/build.mjs, or npm start).');
  process.exit(1);
}

function explainListenError(what, port, err) {
  if (err?.code === 'EADDRINUSE') {
    const variable = { app: 'APP_PORT', provider: 'OP_PORT', API: 'API_PORT' }[what];
    console.error(`Port ${port} (${what}) is already in use. Stop the other process or choose another port, e.g. ${variable}=${port + 10} npm start`);
  } else {
    console.error(`Could not start the ${what}:`, err);
  }
  process.exit(1);
}

const app = await startApp({ port: appPort, root }).catch((err) => explainListenError('app', appPort, err));
const dev = await startDevProvider({
  origins: [app.origin], port: opPort, apiPort, clientId, accessTokenTTL: 300,
}).catch((err) => explainListenError(err.server ?? 'provider', err.server === 'API' ? apiPort : opPort, err));
const { op, api } = dev;
app.configure({ issuer: dev.issuer, clientId, scope: dev.scope, apiUrl: api.url });

console.log('');
console.log(`  OpenID Provider  ${op.issuer}   (client_id ${clientId}, redirect URI ${app.redirectUri})`);
console.log(`  Sample app       ${app.url}`);
console.log(`  Sample API       ${api.url}/me   (access tokens live ${op.resourceServer.accessTokenTTL} s)`);
console.log('  All three listen on 127.0.0.1 (loopback) only.');
console.log('');
console.log(`  Open ${app.url} and sign in with any username/password`);
console.log('  Ctrl-C stops all three.');
console.log('');

let stopping = false;
async function stop() {
  if (stopping) process.exit(1);
  stopping = true;
  await Promise.allSettled([app.close(), dev.close()]);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
