// Flow explorer page logic: signs in with the oidc-wasm SDK, shows the verified ID-token claims, calls
// the sample API with the access token, refreshes, signs out, and lists the SDK's events.
// Plain ES module, no build step; loaded from index.html (no inline script: the page runs under a CSP).
//
// /config.json (examples/server.mjs): issuer, clientId, scope, and optionally apiUrl (the sample API,
// examples/api/server.mjs; its origin becomes the SDK's `apiOrigins`), refreshMarginSeconds, and the
// SDK options `dpop` (true: DPoP-bound tokens, RFC 9449) and `persistSession` ('sealed': the session
// survives a reload, sealed in IndexedDB), passed to createClient as they are.
//
// Test hook: when /config.json says `testHooks: true` (only the end-to-end tests set it), the SDK client
// is exposed as `window.__oidc` and the SDK's events are recorded in `window.__oidcEvents`, so tests can
// drive and observe it. A real app must not put its client on `window`: any script on the page could
// then use the session.

import { createClient, OidcError } from '/dist/index.js';

const $ = (id) => document.getElementById(id);

// What each common claim means, for the learning table.
const MEANINGS = {
  iss: 'Issuer: the provider that made this token. Must equal the issuer the SDK was configured with.',
  sub: 'Subject: the stable user identifier at this provider. Use it (with iss) as the user key.',
  aud: 'Audience: who the token is for. Must contain this app\'s client id.',
  azp: 'Authorized party: the client the token was issued to.',
  exp: 'Expiry: the token must not be accepted after this time.',
  iat: 'Issued at.',
  auth_time: 'When the user last actually authenticated at the provider.',
  nonce: 'Random value this tab created before the redirect; proves the token answers this tab\'s request.',
  at_hash: 'Hash of half the access token: binds the access token to this ID token.',
  sid: 'Session id at the provider (used for logout).',
  acr: 'Authentication context class.',
  amr: 'Authentication methods used.',
  name: 'Full name (profile scope).',
  email: 'Email address (email scope).',
  email_verified: 'Whether the provider verified the email address.',
};
const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'nbf']);

let testHooks = false;
let apiFeatures = false; // the SDK has fetchWithToken/refresh (and the page was given an API URL or not)

function show(state) {
  document.body.dataset.state = state;
  for (const id of ['loading', 'signed-out', 'signed-in', 'error']) $(id).hidden = id !== state;
  $('api').hidden = !(state === 'signed-in' && apiFeatures);
}

function showSignedOut(reason) {
  $('signed-out-reason').textContent = reason ?? '';
  $('signed-out-reason').hidden = !reason;
  $('sign-in').disabled = false;
  show('signed-out');
}

// One line per SDK event, newest first; in test mode also as data in window.__oidcEvents.
function logEvent(type, detail = {}) {
  if (testHooks) window.__oidcEvents.push({ type, at: Date.now(), ...detail });
  const item = document.createElement('li');
  item.dataset.event = type;
  item.textContent = `${new Date().toLocaleTimeString()}  ${type}${detail.code ? ` (${detail.code})` : ''}`;
  $('events').prepend(item);
}

function errorCode(err) {
  return err instanceof OidcError || err?.code ? err.code : (err?.name || 'error');
}

// The provider's own OAuth `error` / `error_description`, if the SDK error carries them (authorization and
// token errors). The field names are looked up defensively; the text is attacker-controllable (anyone can
// craft a callback URL), so it is only ever inserted as text.
function providerError(err) {
  const error = err?.error ?? err?.oauthError ?? err?.oauth_error;
  const description = err?.errorDescription ?? err?.error_description ?? err?.oauthDescription ?? err?.oauth_description;
  return typeof error === 'string' ? { error, description: typeof description === 'string' ? description : '' } : null;
}

function showError(err) {
  const code = errorCode(err);
  const message = err?.message || String(err);
  const provider = providerError(err);
  let text = `${code}: ${message}`;
  if (provider && !message.includes(provider.error)) {
    text += ` (provider said ${provider.error}${provider.description ? `: ${provider.description}` : ''})`;
  }
  $('error-text').textContent = text;
  $('error').dataset.code = String(code);
  if (testHooks) {
    // Test hook: the error's own fields (code, message, provider error…), as plain data.
    window.__oidcLastError = Object.fromEntries(
      [...Object.entries(err ?? {}), ['code', code], ['message', message], ['name', err?.name], ['providerError', provider?.error]]
        .filter(([k, v]) => k !== 'stack' && ['string', 'number', 'boolean'].includes(typeof v)),
    );
  }
  show('error');
}

function formatValue(name, value) {
  const cell = document.createElement('td');
  cell.className = 'value';
  cell.textContent = typeof value === 'string' ? value : JSON.stringify(value);
  if (TIME_CLAIMS.has(name) && typeof value === 'number') {
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = new Date(value * 1000).toISOString();
    cell.append(when);
  }
  return cell;
}

function renderUser(user) {
  const label = user.name || user.email || user.sub;
  $('signed-in-heading').textContent = `Signed in as ${label}`;
  const tbody = $('claims').tBodies[0];
  tbody.replaceChildren();
  for (const [name, value] of Object.entries(user)) {
    const row = document.createElement('tr');
    row.dataset.claim = name;
    const claimCell = document.createElement('td');
    claimCell.className = 'claim';
    claimCell.textContent = name;
    const meaning = document.createElement('td');
    meaning.className = 'meaning';
    meaning.textContent = MEANINGS[name] ?? '';
    row.append(claimCell, formatValue(name, value), meaning);
    tbody.append(row);
  }
  show('signed-in');
}

// Only same-origin paths are followed after sign-in (no open redirect through returnTo).
function safeReturnPath(returnTo) {
  if (typeof returnTo !== 'string' || !returnTo.startsWith('/') || returnTo.startsWith('//')) return '/';
  try {
    const url = new URL(returnTo, location.origin);
    if (url.origin !== location.origin || url.pathname === '/callback') return '/';
    return url.pathname + url.search + url.hash;
  } catch {
    return '/';
  }
}

async function main() {
  const config = await fetch('/config.json', { cache: 'no-store' }).then((r) => {
    if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
    return r.json();
  });

  testHooks = config.testHooks === true;
  if (testHooks) window.__oidcEvents = [];
  const apiUrl = typeof config.apiUrl === 'string' ? config.apiUrl.replace(/\/+$/, '') : null;

  const options = {
    issuer: config.issuer,
    clientId: config.clientId,
    redirectUri: `${location.origin}/callback`,
    postLogoutRedirectUri: `${location.origin}/`,
    scope: config.scope || 'openid profile email',
    clockToleranceSeconds: 30,
  };
  // Only the API's origin may receive the access token (the default would be this page's origin).
  if (apiUrl) options.apiOrigins = [new URL(apiUrl).origin];
  if (typeof config.refreshMarginSeconds === 'number') options.refreshMarginSeconds = config.refreshMarginSeconds;
  if (config.dpop !== undefined) options.dpop = config.dpop;
  if (config.persistSession !== undefined) options.persistSession = config.persistSession;
  const client = await createClient(options);
  if (testHooks) window.__oidc = client;

  apiFeatures = typeof client.fetchWithToken === 'function';
  if (apiFeatures) setUpApiCard(client, apiUrl);
  if (typeof client.on === 'function') {
    // Another tab signed in or out, or a refresh brought a new ID token.
    client.on('userChanged', (user) => {
      logEvent('userChanged', { signedIn: Boolean(user) });
      const current = client.getUser();
      if (current) renderUser(current);
      else if (document.body.dataset.state === 'signed-in') showSignedOut();
    });
    client.on('tokensRefreshed', () => logEvent('tokensRefreshed'));
    client.on('sessionEnded', () => {
      logEvent('sessionEnded');
      showSignedOut('Your session ended: you signed out (maybe in another tab), or the provider no longer accepts the refresh token.');
    });
    client.on('error', (err) => logEvent('error', { code: errorCode(err) }));
  }

  const signIn = async (button) => {
    button.disabled = true;
    try {
      await client.login({ returnTo: location.pathname === '/callback' ? '/' : location.pathname });
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  };
  $('sign-in').addEventListener('click', () => signIn($('sign-in')));
  $('sign-in-again').addEventListener('click', () => signIn($('sign-in-again')));

  if (location.pathname === '/callback') {
    const { user, returnTo } = await client.handleCallback();
    // The SDK has already removed code/state/iss from the address bar; leave /callback too, so a reload
    // does not look like a second authorization response.
    history.replaceState(history.state, '', safeReturnPath(returnTo));
    renderUser(client.getUser() ?? user);
    return;
  }

  // Signed in when another open tab of this app handed its session over at createClient, or when a
  // sealed session (persistSession: 'sealed') was restored there.
  const user = client.getUser();
  if (user) {
    renderUser(user);
  } else {
    showSignedOut();
  }
}

// The API card: call the sample API, refresh now, sign out. Results are shown as text (the API's JSON
// holds the user id and scope, never a token).
function setUpApiCard(client, apiUrl) {
  const result = $('api-result');
  const report = (text) => { result.textContent = text; };
  const failure = (err) => `${errorCode(err)}: ${err?.message || String(err)}`;

  $('api-origin').textContent = apiUrl ? new URL(apiUrl).origin : '(no API configured)';
  $('call-api').hidden = !apiUrl;
  $('call-api').addEventListener('click', async () => {
    $('call-api').disabled = true;
    report(`GET ${apiUrl}/me …`);
    try {
      const res = await client.fetchWithToken(`${apiUrl}/me`);
      let body = await res.text();
      try { body = JSON.stringify(JSON.parse(body), null, 2); } catch { /* not JSON: show as is */ }
      const challenge = res.headers.get('WWW-Authenticate');
      report(`${res.status} ${res.statusText}${challenge ? `\nWWW-Authenticate: ${challenge}` : ''}\n${body}`);
    } catch (err) {
      report(failure(err));
    } finally {
      $('call-api').disabled = false;
    }
  });

  $('refresh').addEventListener('click', async () => {
    $('refresh').disabled = true;
    report('Refreshing…');
    try {
      await client.refresh();
      report(`Tokens refreshed at ${new Date().toLocaleTimeString()} (the old refresh token is now invalid).`);
    } catch (err) {
      report(failure(err));
    } finally {
      $('refresh').disabled = false;
    }
  });

  $('sign-out').hidden = false;
  $('sign-out').addEventListener('click', async () => {
    $('sign-out').disabled = true;
    try {
      await client.logout(); // navigates to the provider's logout page
    } catch (err) {
      $('sign-out').disabled = false;
      report(failure(err));
    }
  });
}

main().catch(showError);
