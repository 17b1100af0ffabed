import { UserManager } from 'oidc-client-ts';

const B = window.BENCH;
const bench = (window.__bench = {});
const mgr = new UserManager({
  authority: B.issuer, client_id: B.clientId, redirect_uri: B.redirectUri, scope: 'openid profile email', response_type: 'code',
});
if (location.pathname.endsWith('/callback')) {
  await mgr.signinRedirectCallback();
  const user = await mgr.getUser();
  bench.user = performance.now();
  bench.name = user.profile.name;
  const res = await fetch(B.api, { headers: { authorization: `Bearer ${user.access_token}` } });
  bench.api = res.status;
} else {
  await mgr.metadataService.getMetadata(); // discovery is lazy in oidc-client-ts; "ready" includes it for all
  bench.ready = performance.now();
  bench.login = () => mgr.signinRedirect();
}
