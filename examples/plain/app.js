// The plain script-tag example: no build step, no framework. `OidcWasm` comes from
// /dist/oidc-wasm.global.js (loaded before this file). The redirect URI is this page itself.
// Settings come from config.json ({ issuer, clientId }), which examples/plain/serve.mjs serves.
(async () => {
  const $ = (id) => document.getElementById(id);
  const main = document.querySelector('main');
  let client = null;

  function showError(e) {
    $('error').textContent = e && e.code ? `${e.code}: ${e.message}` : String(e);
    $('error').dataset.code = (e && e.code) || '';
    $('error').hidden = false;
  }

  function render() {
    const user = client && client.getUser();
    $('loading').hidden = true;
    $('sign-in').hidden = !client || !!user;
    $('signed-in').hidden = !user;
    main.dataset.state = user ? 'signed-in' : $('error').hidden ? 'signed-out' : 'error';
    const rows = $('claims').tBodies[0];
    rows.replaceChildren();
    if (!user) return;
    // textContent only: claims are data from the provider, never markup.
    $('user-name').textContent = `Signed in as ${user.name || user.sub}`;
    for (const [claim, value] of Object.entries(user)) {
      const row = rows.insertRow();
      row.dataset.claim = claim;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = claim;
      row.append(th);
      row.insertCell().textContent = typeof value === 'string' ? value : JSON.stringify(value);
    }
  }

  $('sign-in').addEventListener('click', () => client.login().catch((e) => { showError(e); render(); }));
  $('sign-out').addEventListener('click', () => client.logout().catch((e) => { showError(e); render(); }));

  try {
    const { issuer, clientId } = await (await fetch('config.json')).json();
    client = await OidcWasm.createClient({
      issuer,
      clientId,
      redirectUri: `${location.origin}/`,
      postLogoutRedirectUri: `${location.origin}/`,
      scope: 'openid profile email',
    });
    client.on('userChanged', render);
    const params = new URLSearchParams(location.search);
    if (params.has('code') || params.has('error')) {
      const { returnTo } = await client.handleCallback(); // removes code/state from the address bar first
      history.replaceState(null, '', returnTo || '/');
    }
  } catch (e) {
    showError(e);
  }
  render();
})();
