import * as oauth from 'oauth4webapi';

const B = window.BENCH;
const bench = (window.__bench = {});
const issuer = new URL(B.issuer);
const client = { client_id: B.clientId };
const auth = oauth.None();
const http = { [oauth.allowInsecureRequests]: true }; // the bench OP is plain http on 127.0.0.1
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...http }));
bench.ready = performance.now();
if (location.pathname.endsWith('/callback')) {
  const tx = JSON.parse(sessionStorage.getItem('tx'));
  sessionStorage.removeItem('tx');
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), tx.state);
  history.replaceState(null, '', location.pathname);
  const response = await oauth.authorizationCodeGrantRequest(as, client, auth, params, B.redirectUri, tx.verifier, http);
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: tx.nonce, requireIdToken: true });
  await oauth.validateApplicationLevelSignature(as, response, http); // the ID token's signature (opt-in here)
  const user = oauth.getValidatedIdTokenClaims(result);
  bench.user = performance.now();
  bench.name = user.name;
  const res = await oauth.protectedResourceRequest(result.access_token, 'GET', new URL(B.api), undefined, undefined, http);
  bench.api = res.status;
} else {
  bench.login = async () => {
    const tx = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce() };
    sessionStorage.setItem('tx', JSON.stringify(tx));
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({
      client_id: client.client_id, redirect_uri: B.redirectUri, response_type: 'code', scope: 'openid profile email',
      state: tx.state, nonce: tx.nonce, code_challenge: await oauth.calculatePKCECodeChallenge(tx.verifier), code_challenge_method: 'S256',
    })) url.searchParams.set(k, v);
    location.assign(url.href);
  };
}
