// The provider-profile test page: the SDK built in dist/ (served at /dist/index.js), configured with the
// README recipe the test serves as /config.json (origins mapped to the local servers). On a URL with an
// authorization response (code or error) it completes the login; otherwise it shows whether a session is
// held (another tab may hand one over). It exposes the client as window.__oidc, records every SDK event
// in window.__events ({ type, at, sub?, code? } — never a token), the last error in window.__lastError,
// and shows body[data-state] = loading | signed-in | signed-out | error (with data-error-code).
// window.__run(method, ...args) starts an SDK call that may navigate away (login, logout) and keeps its
// failure, if any, in window.__runError.
import { createClient } from '/dist/index.js';

window.__events = [];
window.__lastError = null;
window.__runError = null;

const $ = (id) => document.getElementById(id);

function show(state) {
  document.body.dataset.state = state;
  $('state').textContent = state;
  const user = window.__oidc?.getUser?.() ?? null;
  $('user').textContent = user ? `signed in as ${user.name ?? user.sub}` : '';
}

function describe(e) {
  return { code: e?.code ?? null, error: e?.error ?? null, message: String(e?.message ?? e).slice(0, 500) };
}

function fail(e) {
  window.__lastError = describe(e);
  document.body.dataset.errorCode = window.__lastError.code ?? 'unknown';
  $('error').textContent = `${window.__lastError.code}: ${window.__lastError.message}`;
  show('error');
}

async function main() {
  const config = await (await fetch('/config.json')).json();
  const client = await createClient(config);
  window.__oidc = client;
  const log = (type, extra = {}) => window.__events.push({ type, at: Date.now(), ...extra });
  client.on('userChanged', (user) => {
    log('userChanged', { sub: user?.sub ?? null });
    if (document.body.dataset.state !== 'error') show(user ? 'signed-in' : 'signed-out');
  });
  client.on('tokensRefreshed', () => log('tokensRefreshed'));
  client.on('sessionEnded', () => {
    log('sessionEnded');
    if (document.body.dataset.state !== 'error') show('signed-out');
  });
  client.on('error', (e) => log('error', { code: e?.code ?? null }));
  window.__run = (method, ...args) => {
    window.__runError = null;
    client[method](...args).catch((e) => { window.__runError = describe(e); });
  };

  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    try {
      const { returnTo } = await client.handleCallback();
      history.replaceState(null, '', returnTo ?? '/');
    } catch (e) {
      return fail(e);
    }
  }
  show(client.isAuthenticated() ? 'signed-in' : 'signed-out');
}

main().catch(fail);
