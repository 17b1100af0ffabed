import { createClient } from '../../dist/index.js';

const B = window.BENCH;
const bench = (window.__bench = {});
const client = await createClient({
  issuer: B.issuer, clientId: B.clientId, redirectUri: B.redirectUri, scope: 'openid profile email', ...B.options,
});
bench.ready = performance.now();
bench.client = client;
if (location.pathname.endsWith('/callback')) {
  await client.handleCallback();
  const user = client.getUser();
  bench.user = performance.now();
  bench.name = user.name;
  const res = await client.fetchWithToken(B.api);
  bench.api = res.status;
} else {
  bench.login = () => client.login();
}
