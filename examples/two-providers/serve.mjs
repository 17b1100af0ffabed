// Runs the two-providers example (needs dist/ from `node scripts/build.mjs`): two local OpenID Providers
// (dev/provider.mjs) — a "workforce" one and a "customer" one, each with its client and its sample API
// (dev/api.mjs) — and this page at http://127.0.0.1:3005/, the redirect URI /callback shared by both clients.
//
//   node examples/two-providers/serve.mjs         # any username and password sign in at either provider
//   PORT=4005 node examples/two-providers/serve.mjs

import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from '../plain/serve.mjs';
import { SAMPLE_API_SCOPE, startProvider } from '../../dev/provider.mjs';
import { startApi } from '../../dev/api.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(resolve(here, '..', '..'), 'dist');
try {
  await stat(join(dist, 'index.js'));
} catch {
  console.error(`${dist}/index.js is missing: build the SDK first (node scripts/build.mjs)`);
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3005);
const origin = `http://127.0.0.1:${port}`;
const registration = { redirect_uris: [`${origin}/callback`], post_logout_redirect_uris: [`${origin}/`] };
const workforce = await startProvider({ clients: [{ client_id: 'workforce-app', ...registration }] });
const customers = await startProvider({ clients: [{ client_id: 'customer-app', ...registration }] });
const workforceApi = await startApi({ issuer: workforce.issuer, allowedOrigins: [origin] });
const customersApi = await startApi({ issuer: customers.issuer, allowedOrigins: [origin] });
const scope = `openid profile email ${SAMPLE_API_SCOPE}`;
const app = await startStaticServer({
  root: here,
  port,
  mounts: { '/dist/': dist },
  config: {
    clients: [
      { name: 'workforce', label: 'Workforce', issuer: workforce.issuer, clientId: 'workforce-app', scope, apiUrl: workforceApi.url },
      { name: 'customers', label: 'Customers', issuer: customers.issuer, clientId: 'customer-app', scope, apiUrl: customersApi.url },
    ],
  },
  connectSrc: [workforce.issuer, customers.issuer, workforceApi.url, customersApi.url],
});
console.log(`two providers on one page: ${app.url}`);
console.log(`workforce provider ${workforce.issuer}, customer provider ${customers.issuer} (any username and password). Ctrl-C stops.`);
const stop = () => Promise.all([app.close(), workforce.close(), customers.close(), workforceApi.close(), customersApi.close()]).then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
