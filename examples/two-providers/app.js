// Two providers on one page (README "Two providers on one page"): one oidc-wasm client per provider — or per
// client id of one provider — side by side, e.g. a workforce and a customer sign-in. Their login
// transactions, locks, tab channels, generations, sealed sessions and DPoP keys are kept apart by issuer
// and client id; they share the redirect URI /callback, where the client whose login it is completes the
// callback (routed by `state`) and the other says `callback_not_for_this_client`.
// Plain ES module, no build step, no inline script (the page runs under a CSP).
//
// /config.json (examples/two-providers/serve.mjs, or a test): { clients: [{ name, label, issuer, clientId,
// scope?, apiUrl?, persistSession? }], testHooks?, manualCallback? }.
// Test hooks (only tests set `testHooks`): window.__clients (name → client), window.__events ({ client, type,
// secondsLeft? } per SDK event); `manualCallback`: the page leaves a callback to the test.

import { createClient } from '/dist/index.js';

const config = await (await fetch('/config.json', { cache: 'no-store' })).json();
const clients = {};
const sections = {};
const events = [];
if (config.testHooks) {
  window.__clients = clients;
  window.__events = events;
}

function describe(e) {
  return e && e.code ? `${e.code}: ${e.message}` : String(e);
}

function render(name) {
  const section = sections[name];
  const client = clients[name];
  const user = client?.getUser() ?? null;
  const error = section.querySelector('.error');
  section.querySelector('.user').textContent = user ? `Signed in as ${user.name ?? user.sub}` : client ? 'Signed out' : 'Loading…';
  section.querySelector('.sign-in').hidden = !client || !!user;
  section.querySelector('.signed-in').hidden = !user;
  section.dataset.state = user ? 'signed-in' : !error.hidden ? 'error' : client ? 'signed-out' : 'loading';
}

function showError(name, e) {
  const error = sections[name].querySelector('.error');
  error.textContent = describe(e);
  error.dataset.code = e?.code ?? '';
  error.hidden = false;
  render(name);
}

// One section per client.
for (const c of config.clients) {
  const section = document.getElementById('client').content.firstElementChild.cloneNode(true);
  section.dataset.client = c.name;
  section.querySelector('h2').textContent = c.label ?? c.name;
  sections[c.name] = section;
  document.getElementById('clients').append(section);
}

// The clients start in parallel: each loads its provider's discovery document and takes over the session
// an open tab of this app holds for it (and, with persistSession: 'sealed', restores its own sealed one).
await Promise.all(config.clients.map(async (c) => {
  try {
    const client = await createClient({
      issuer: c.issuer,
      clientId: c.clientId,
      redirectUri: `${location.origin}/callback`,
      postLogoutRedirectUri: `${location.origin}/`,
      scope: c.scope ?? 'openid profile email',
      ...(c.apiUrl && { apiOrigins: [new URL(c.apiUrl).origin] }),
      ...(c.persistSession && { persistSession: c.persistSession }),
    });
    clients[c.name] = client;
    for (const type of ['userChanged', 'tokensRefreshed', 'sessionEnded', 'error', 'sessionExpiring']) {
      client.on(type, (detail) => {
        events.push({ client: c.name, type, ...(type === 'sessionExpiring' && detail) });
        render(c.name);
      });
    }
    const section = sections[c.name];
    section.querySelector('.sign-in').addEventListener('click', () => client.login({ returnTo: '/' }).catch((e) => showError(c.name, e)));
    section.querySelector('.sign-out').addEventListener('click', () => client.logout().catch((e) => showError(c.name, e)));
    section.querySelector('.call-api').addEventListener('click', async () => {
      const answer = section.querySelector('.answer');
      try {
        const res = await client.fetchWithToken(`${c.apiUrl}/me`); // this client's token, to its API only
        answer.textContent = `${res.status} ${await res.text()}`;
      } catch (e) {
        answer.textContent = describe(e);
      }
    });
    render(c.name);
  } catch (e) {
    showError(c.name, e);
  }
}));

// The shared redirect URI: each client in turn; the one whose login it is completes it (and cleans the
// address bar), the others say it is not theirs and leave it alone.
const query = new URLSearchParams(location.search);
if (location.pathname === '/callback' && (query.has('code') || query.has('error')) && !config.manualCallback) {
  for (const [name, client] of Object.entries(clients)) {
    try {
      const { returnTo } = await client.handleCallback();
      history.replaceState(null, '', returnTo ?? '/');
      render(name);
      break;
    } catch (e) {
      if (e?.code === 'callback_not_for_this_client') continue;
      showError(name, e);
      break;
    }
  }
}
for (const c of config.clients) if (clients[c.name]) render(c.name);
document.body.dataset.state = 'ready';
