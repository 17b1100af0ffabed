import { createClient } from 'oidc-wasm';

const $ = (id) => document.getElementById(id);
const main = document.querySelector('main');

function render(client, error) {
  const user = client?.getUser() ?? null;
  if (error) {
    $('error').textContent = `${error.code ?? 'error'}: ${error.message}`;
    $('error').hidden = false;
  }
  $('sign-in').hidden = !client || !!user;
  $('signed-in').hidden = !user;
  $('user-name').textContent = user ? `Signed in as ${user.name ?? user.sub}` : '';
  $('claims').textContent = user ? JSON.stringify(user, null, 2) : '';
  main.dataset.state = user ? 'signed-in' : error ? 'error' : 'signed-out';
}

async function start() {
  // Settings at run time: the test's server serves { issuer, clientId } as /config.json.
  const { issuer, clientId } = await (await fetch('/config.json')).json();
  const client = await createClient({
    issuer,
    clientId,
    redirectUri: `${location.origin}/callback`,
    postLogoutRedirectUri: `${location.origin}/`,
    scope: 'openid profile email',
  });
  $('sign-in').onclick = () => client.login({ returnTo: '/' }).catch((e) => render(client, e));
  $('sign-out').onclick = () => client.logout().catch((e) => render(client, e));
  if (location.pathname === '/callback') {
    try {
      const { returnTo } = await client.handleCallback();
      history.replaceState(null, '', returnTo ?? '/');
    } catch (e) {
      return render(client, e);
    }
  }
  render(client);
}

start().catch((e) => render(null, e));
