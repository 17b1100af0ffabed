import { createAuth0Client } from '@auth0/auth0-spa-js';

const B = window.BENCH;
const bench = (window.__bench = {});
// auth0-spa-js has no discovery: it builds /authorize and /oauth/token from `domain` (the bench OP aliases them).
const auth0 = await createAuth0Client({
  domain: B.issuer.replace(/\/$/, ''), clientId: B.clientId,
  authorizationParams: { redirect_uri: B.redirectUri, scope: 'openid profile email' },
});
bench.ready = performance.now();
if (location.pathname.endsWith('/callback')) {
  await auth0.handleRedirectCallback();
  const user = await auth0.getUser();
  bench.user = performance.now();
  bench.name = user.name;
  const token = await auth0.getTokenSilently();
  const res = await fetch(B.api, { headers: { authorization: `Bearer ${token}` } });
  bench.api = res.status;
} else {
  bench.login = () => auth0.loginWithRedirect();
}
