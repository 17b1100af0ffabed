// Flow explorer page logic: signs in with the oidc-wasm SDK and shows the Authorization Code + PKCE flow
// step by step, from the SDK's `trace` callback: (1) authorization request, (2) callback, (3) token
// response, (4) ID token verification, (5) the access token, (6) the API called with the access token and
// with the ID token, (7) refresh with rotation, (8) logout.
// Plain ES module, no build step; loaded from index.html (no inline script: the page runs under a CSP).
//
// /config.json (examples/server.mjs): issuer, clientId, scope, and optionally apiUrl (the sample API,
// dev/api.mjs; its origin becomes the SDK's `apiOrigins`), refreshMarginSeconds, sessionExpiringSeconds, the SDK
// options `dpop`, `persistSession`, `debug`, `resource`, `apis` and `exposeAccessToken` (passed to createClient as
// they are), and `trace: false` to sign in without the step-by-step trace.
//
// Tokens: the SDK's trace objects carry tokens shortened by the core ("eyJhbGci… (812 chars)"); the
// page shows them as they come and keeps the trace in memory only. The one exception is the
// authorization_request step, which holds public values only (state, nonce, PKCE challenge, and a
// description of the verifier, not the verifier): it is kept in sessionStorage across the redirect to
// the provider so step 1 can be shown after the callback. The logout step (two booleans) is kept the
// same way across the redirect to the provider's logout page.
//
// Test hook: when /config.json says `testHooks: true` (only the end-to-end tests set it), the SDK client
// is exposed as `window.__oidc`, the SDK's events are recorded in `window.__oidcEvents` and the trace
// objects in `window.__oidcTrace`, so tests can drive and observe them. A real app must not put its
// client on `window`: any script on the page could then use the session.

import { createClient, handlePopupCallback, OidcError } from '/dist/index.js';

const $ = (id) => document.getElementById(id);

const STORED_AUTHZ = 'flow-explorer.trace.authorization_request';
const STORED_LOGOUT = 'flow-explorer.trace.logout';

// Why each authorization request parameter is there.
const PARAM_WHY = {
  response_type: 'code: the provider answers with a one-time code; tokens come only from the token endpoint (step 3).',
  client_id: 'This app\'s identifier at the provider.',
  redirect_uri: 'Where the provider sends the browser back; must match the registration exactly.',
  scope: 'What is asked for: openid (an ID token), claims such as profile and email, API scopes.',
  state: 'Random. Must come back unchanged in step 2: the response answers this tab\'s request.',
  nonce: 'Random. Must come back inside the ID token (step 4): the token was made for this request.',
  code_challenge: 'BASE64URL(SHA-256(code_verifier)). Only the hash leaves the browser.',
  code_challenge_method: 'S256: the challenge is a SHA-256 hash of the verifier.',
  resource: 'The API the access token is wanted for (RFC 8707).',
  audience: 'The API the access token is wanted for.',
  prompt: 'Whether the provider should ask to sign in or consent again.',
};

// What each common claim means, for the claims table.
const MEANINGS = {
  iss: 'Issuer: the provider that made this token. Must equal the configured issuer.',
  sub: 'Subject: the stable user identifier at this provider. Use it (with iss) as the user key.',
  aud: 'Audience: who the token is for. Must contain this app\'s client id.',
  azp: 'Authorized party: the client the token was issued to.',
  exp: 'Expiry: the token must not be accepted after this time.',
  iat: 'Issued at.',
  auth_time: 'When the user last actually authenticated at the provider.',
  nonce: 'The random value of step 1: proves the token answers this tab\'s request.',
  at_hash: 'Hash of half the access token: binds the access token to this ID token.',
  sid: 'Session id at the provider (used for logout).',
  acr: 'Authentication context class.',
  amr: 'Authentication methods used.',
  name: 'Full name (profile scope).',
  email: 'Email address (email scope).',
  email_verified: 'Whether the provider verified the email address.',
};
const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'nbf']);

// Token fields of the trace objects, and who each token is addressed to.
const TOKEN_FIELDS = {
  id_token: { reader: 'This app', use: 'step 4: verified, then read' },
  access_token: { reader: 'The API', use: 'step 5: kept unread, sent to the API' },
  refresh_token: { reader: 'The provider', use: 'step 7: exchanged for new tokens' },
};

const CHIPS = { pending: 'not yet', ready: 'your turn', done: '✓ done', failed: '✗ failed', other: 'other tab' };
const STEP_SECTIONS = {
  authorization_request: 'step-authorization-request',
  callback: 'step-callback',
  token_response: 'step-token-response',
  id_token: 'step-id-token',
  access_token: 'step-access-token',
  api: 'step-api',
  refresh: 'step-refresh',
  logout: 'step-logout',
};

let testHooks = false;
let client = null;
let apiUrl = null;
let apiOrigins = [];
let clientId = '';

// What this page has seen of the flow. Memory only (apart from the two steps kept across redirects).
const traceLog = [];
const flow = {
  authz: null, // authorization_request step
  callback: null,
  tokens: null, // the sign-in's token_response
  idToken: null, // the sign-in's id_token step
  latestTokens: null, // the newest token_response (sign-in or refresh): what the SDK holds now
  latestTokensAt: 0,
  latestIdTokenShort: null, // the newest shortened ID token
  signInDone: false,
  handover: false, // signed in by another tab (or a restored session): steps 1-4 not traced here
  failedAt: null, // { key, text }
  api: null, // { access, id } results of the comparison
  apiBusy: false,
  refreshes: [], // { step, at, tokens?, idToken? }
  pendingRefreshParts: {},
  refreshError: null,
  logout: null,
  logoutError: null,
  leaving: false,
};

// ---------------------------------------------------------------------------------------------------
// Small DOM helpers (text only: nothing from the SDK, the provider or the API is parsed as HTML).

function el(tag, { className, text, data } = {}, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (data) Object.assign(node.dataset, data);
  node.append(...children);
  return node;
}

function code(text, className) {
  return el('code', { className, text: String(text) });
}

function showContent(sectionId) {
  const section = $(sectionId);
  const content = section.querySelector('.content');
  if (content) content.hidden = false;
}

function setFailure(sectionId, text) {
  const section = $(sectionId);
  let box = section.querySelector('.failure.step-failure');
  if (!box) {
    box = el('p', { className: 'failure step-failure' });
    section.append(box);
  }
  box.textContent = text ?? '';
  box.hidden = !text;
}

/** A shortened token as the core gave it. A value that does not look shortened is not shown. */
function tokenText(value) {
  if (typeof value !== 'string' || value === '') return '—';
  if (!value.includes('…') && value.length > 40) return `(not shown: ${value.length} characters, not shortened)`;
  return value;
}

function formatTime(seconds) {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function prettyBody(body) {
  if (typeof body !== 'string') return JSON.stringify(body ?? null, null, 2);
  try { return JSON.stringify(JSON.parse(body), null, 2); } catch { return body; }
}

// ---------------------------------------------------------------------------------------------------
// Session state (the four status cards), errors, events.

function signedIn() {
  try { return Boolean(client?.isAuthenticated?.() ?? client?.getUser?.()); } catch { return false; }
}

function show(state) {
  document.body.dataset.state = state;
  for (const id of ['loading', 'signed-out', 'signed-in', 'error']) $(id).hidden = id !== state;
  paint();
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
  const about = detail.code ? ` (${detail.code})` : detail.secondsLeft !== undefined ? ` (${detail.secondsLeft} s left)` : '';
  item.textContent = `${new Date().toLocaleTimeString()}  ${type}${about}`;
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

function describeError(err) {
  const code = errorCode(err);
  const message = err?.message || String(err);
  const provider = providerError(err);
  let text = `${code}: ${message}`;
  if (provider && !message.includes(provider.error)) {
    text += ` (provider said ${provider.error}${provider.description ? `: ${provider.description}` : ''})`;
  }
  return text;
}

function showError(err) {
  const code = errorCode(err);
  const message = err?.message || String(err);
  const provider = providerError(err);
  $('error-text').textContent = describeError(err);
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

// A sign-in that failed stopped at the first step the trace did not reach.
function markSignInFailure(err) {
  const key = !flow.callback ? 'callback' : !flow.tokens ? 'token_response' : 'id_token';
  flow.failedAt = { key, text: `Stopped here. ${describeError(err)}` };
  setFailure(STEP_SECTIONS[key], flow.failedAt.text);
  paint();
}

// ---------------------------------------------------------------------------------------------------
// The trace: the SDK calls this at each step with a plain object (tokens shortened by the core).

// It runs inside an SDK call: it copies the step and keeps what must survive a redirect at once, and
// draws later (a microtask), so the page never calls back into the SDK from within its call.
function onTrace(step) {
  if (testHooks && window.__traceThrows) throw new Error('the trace function failed (test hook)');
  try {
    if (!step || typeof step !== 'object' || typeof step.step !== 'string') return;
    const copy = JSON.parse(JSON.stringify(step));
    keepAcrossRedirect(copy);
    queueMicrotask(() => {
      try {
        record(copy);
      } catch (err) {
        console.error('flow explorer: a trace step could not be shown:', err?.message ?? String(err));
      }
    });
  } catch (err) {
    console.error('flow explorer: a trace step could not be read:', err?.message ?? String(err));
  }
}

// The two steps that come right before the SDK navigates away. Public values only: no token.
function keepAcrossRedirect(step) {
  try {
    if (step.step === 'authorization_request') {
      // About to leave for the provider: keep the public parameters for the page after the callback.
      sessionStorage.setItem(STORED_AUTHZ, JSON.stringify({
        step: step.step, endpoint: step.endpoint, params: step.params, code_verifier: step.code_verifier,
      }));
    } else if (step.step === 'logout') {
      sessionStorage.setItem(STORED_LOGOUT, JSON.stringify({
        step: step.step, revoked: step.revoked, end_session: step.end_session,
      }));
    }
  } catch { /* storage full or blocked: the step is just not shown after the redirect */ }
}

function record(step, { restored = false } = {}) {
  traceLog.push(step);
  const line = `${new Date().toLocaleTimeString()}  ${step.step}${restored ? '  (kept in sessionStorage across the redirect)' : ''}\n`;
  $('trace-log').append(line, JSON.stringify(step, null, 2), '\n\n');

  switch (step.step) {
    case 'authorization_request':
      flow.authz = step;
      renderAuthorizationRequest();
      break;
    case 'callback':
      flow.callback = step;
      renderCallback();
      break;
    case 'token_response':
      flow.latestTokens = step;
      flow.latestTokensAt = Date.now();
      if (typeof step.id_token === 'string') flow.latestIdTokenShort = step.id_token;
      if (flow.signInDone || flow.handover) attachToRefresh('tokens', step);
      else flow.tokens = step;
      renderTokenResponse();
      renderAccessToken();
      break;
    case 'id_token':
      if (flow.signInDone || flow.handover) attachToRefresh('idToken', step);
      else flow.idToken = step;
      renderIdToken();
      if (flow.signInDone || flow.handover) renderAccessToken();
      break;
    case 'refresh':
      flow.refreshes.push({ step, at: Date.now(), ...flow.pendingRefreshParts });
      flow.pendingRefreshParts = {};
      flow.refreshError = null;
      renderRefreshes();
      renderAccessToken();
      break;
    case 'logout':
      flow.logout = step;
      renderLogout();
      break;
    default:
      break; // other steps appear in the raw trace only
  }
  paint();
}

// A refresh's token response and ID token may be reported before or after its `refresh` step.
function attachToRefresh(part, step) {
  const last = flow.refreshes.at(-1);
  if (last && !last[part] && !flow.pendingRefreshParts[part]) {
    last[part] = step;
    renderRefreshes();
  } else {
    flow.pendingRefreshParts[part] = step;
  }
}

/** Reads (and removes) a step kept in sessionStorage across a redirect. */
function takeStored(key) {
  try {
    const text = sessionStorage.getItem(key);
    sessionStorage.removeItem(key);
    const value = text ? JSON.parse(text) : null;
    return value && typeof value === 'object' && typeof value.step === 'string' ? value : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Step cards.

function renderAuthorizationRequest() {
  const step = flow.authz;
  if (!step) return;
  $('authz-endpoint').textContent = step.endpoint ?? '';
  const tbody = $('authz-params').tBodies[0];
  tbody.replaceChildren();
  for (const [name, value] of Object.entries(step.params ?? {})) {
    const highlight = ['state', 'nonce', 'code_challenge', 'code_challenge_method'].includes(name) ? 'key-param' : '';
    tbody.append(el('tr', { className: highlight, data: { param: name } },
      el('td', { className: 'name' }, code(name)),
      el('td', { className: 'value', text: typeof value === 'string' ? value : JSON.stringify(value) }),
      el('td', { className: 'why', text: PARAM_WHY[name] ?? '' })));
  }
  $('authz-verifier').textContent = step.code_verifier ?? '';
  showContent('step-authorization-request');
}

function renderCallback() {
  const step = flow.callback;
  if (!step) return;
  const sent = flow.authz?.params ?? {};
  const checked = {
    code: 'One-time and short-lived; useless without the code_verifier (step 3).',
    state: sent.state === undefined ? '✓ matches this tab\'s login transaction'
      : step.params?.state === sent.state ? '✓ the same as in step 1' : '✓ matched the login transaction',
    iss: '✓ the configured issuer (RFC 9207): the answer comes from the provider this tab asked',
  };
  const tbody = $('callback-params').tBodies[0];
  tbody.replaceChildren();
  for (const [name, value] of Object.entries(step.params ?? {})) {
    const shown = name === 'code' ? tokenText(value) : (typeof value === 'string' ? value : JSON.stringify(value));
    tbody.append(el('tr', { data: { param: name } },
      el('td', { className: 'name' }, code(name)),
      el('td', { className: 'value', text: shown }),
      el('td', { className: name === 'code' ? 'why' : 'why ok', text: checked[name] ?? '' })));
  }
  showContent('step-callback');
}

function renderTokenResponse() {
  const step = flow.tokens;
  if (!step) return;
  const tbody = $('token-response').tBodies[0];
  tbody.replaceChildren();
  const row = (name, value, forWhom, className) => el('tr', { className, data: { field: name } },
    el('td', { className: 'name' }, code(name)),
    el('td', { className: 'value', text: value }),
    forWhom);
  for (const name of ['token_type', 'expires_in', 'scope']) {
    if (step[name] === undefined) continue;
    const value = name === 'expires_in' ? `${step[name]} s` : String(step[name]);
    tbody.append(row(name, value, el('td', { className: 'why' })));
  }
  for (const [name, { reader, use }] of Object.entries(TOKEN_FIELDS)) {
    if (step[name] === undefined || step[name] === null) {
      if (name === 'refresh_token') tbody.append(row(name, '(none issued)', el('td', { className: 'why', text: 'no refresh: sign in again when the access token expires' })));
      continue;
    }
    tbody.append(row(name, tokenText(step[name]),
      el('td', { className: 'for' }, el('span', { className: `reader reader-${name}`, text: reader }), ` ${use}`),
      'token-row'));
  }
  showContent('step-token-response');
}

function renderIdToken() {
  const step = flow.idToken;
  const section = 'step-id-token';
  const split = $(section).querySelector('.split');
  split.hidden = !step;
  if (step) {
    const header = $('id-header');
    header.replaceChildren();
    for (const [name, value] of Object.entries(step.header ?? {})) {
      header.append(el('dt', {}, code(name)), el('dd', { text: typeof value === 'string' ? value : JSON.stringify(value) }));
    }
    const list = $('id-checks');
    list.replaceChildren();
    const checks = Array.isArray(step.checks) ? step.checks : [];
    for (const check of checks) {
      const passed = check.passed !== false && check.ok !== false && check.result !== 'failed';
      list.append(el('li', { className: passed ? 'ok' : 'bad', data: { check: String(check.check ?? '') } },
        el('span', { className: 'mark', text: passed ? '✓' : '✗' }),
        el('span', { className: 'what' }, code(check.check ?? '?'), ' ', el('span', { className: 'detail', text: check.detail ?? '' })),
        el('span', { className: 'spec', text: check.spec ?? '' })));
    }
    $('checks-count').textContent = `${checks.length} passed`;
  }
  showContent(section);
}

function renderUser(user) {
  const label = user.name || user.email || user.sub;
  $('signed-in-heading').textContent = `Signed in as ${label}`;
  const tbody = $('claims').tBodies[0];
  tbody.replaceChildren();
  for (const [name, value] of Object.entries(user)) {
    const cell = el('td', { className: 'value', text: typeof value === 'string' ? value : JSON.stringify(value) });
    if (TIME_CLAIMS.has(name) && typeof value === 'number') cell.append(el('span', { className: 'when', text: formatTime(value) }));
    tbody.append(el('tr', { data: { claim: name } },
      el('td', { className: 'claim', text: name }),
      cell,
      el('td', { className: 'meaning', text: MEANINGS[name] ?? '' })));
  }
  renderIdToken();
  show('signed-in');
}

// A refresh reported without its token response: the tokens shown before are no longer the current ones.
function renewedSince() {
  const last = flow.refreshes.at(-1);
  return last && !last.tokens && last.at >= flow.latestTokensAt ? new Date(last.at).toLocaleTimeString() : null;
}

function renderAccessToken() {
  const facts = $('access-facts');
  facts.replaceChildren();
  const add = (term, ...value) => facts.append(el('dt', { text: term }), el('dd', {}, ...value));
  const step = flow.latestTokens;
  const renewed = renewedSince();
  if (step) {
    add('Value', renewed ? `a new one since the refresh at ${renewed} (step 7)` : code(tokenText(step.access_token), 'tok'));
    if (step.token_type) add('Type', `${step.token_type}${/^dpop$/i.test(step.token_type) ? ' (bound to this browser\'s key, RFC 9449)' : ''}`);
    if (typeof step.expires_in === 'number') add('Lifetime', `${step.expires_in} s; the SDK refreshes shortly before`);
    if (step.scope) add('Scope', code(step.scope));
  } else {
    add('Value', 'received in another tab of this app');
  }
  add('Sent only to', ...apiOrigins.flatMap((o, i) => (i ? [', ', code(o)] : [code(o)])));
  add('Read by this app', 'never: who you are comes from the ID token (step 4)');
  showContent('step-access-token');
  // The Authorization headers shown in step 6.
  const accessPanel = $('api-with-access');
  const renewedText = `the one from the refresh at ${renewed}`;
  accessPanel.querySelector('.tok').textContent = renewed ? renewedText : tokenText(step?.access_token);
  accessPanel.querySelector('.scheme').textContent = step?.token_type && /^dpop$/i.test(step.token_type) ? 'DPoP' : 'Bearer';
  const idRenewed = renewed && flow.refreshes.at(-1)?.idToken;
  $('api-with-id').querySelector('.tok').textContent = idRenewed ? renewedText : tokenText(flow.latestIdTokenShort);
  paint();
}

function renderApiPanel(panelId, result) {
  const panel = $(panelId);
  const status = panel.querySelector('.http-status');
  const body = panel.querySelector('.body');
  status.replaceChildren();
  if (!result) {
    panel.dataset.outcome = 'busy';
    status.textContent = '…';
    body.textContent = '';
    return;
  }
  if (result.error) {
    panel.dataset.outcome = 'error';
    status.textContent = 'no answer';
    body.textContent = result.error;
    return;
  }
  const ok = result.status >= 200 && result.status < 300;
  panel.dataset.outcome = ok ? 'ok' : 'refused';
  status.append(el('span', { className: 'code', text: String(result.status) }), ` ${result.statusText || (ok ? 'OK' : result.status === 401 ? 'Unauthorized' : '')}`);
  body.textContent = prettyBody(result.body);
}

function renderApi() {
  const result = flow.api;
  $('api-compare').hidden = !result && !flow.apiBusy;
  renderApiPanel('api-with-access', result?.access);
  renderApiPanel('api-with-id', result?.id);
  if (result?.access?.status && result?.id?.status) {
    $('map-api-result').textContent = `access token ${result.access.status} · ID token ${result.id.status}`;
  }
}

function renderRefreshes() {
  const list = $('refresh-list');
  list.replaceChildren();
  for (const entry of flow.refreshes) {
    const { step } = entry;
    const rotated = step.rotated === true;
    const item = el('li', { data: { rotated: String(rotated) } },
      el('span', { className: 'time', text: new Date(entry.at).toLocaleTimeString() }),
      el('span', { className: 'rotation' },
        el('span', { className: 'old' }, 'old ', code(tokenText(step.old_refresh_token), 'tok')),
        el('span', { className: 'arrow', text: ' → ' }),
        el('span', { className: 'new' }, 'new ', code(tokenText(step.new_refresh_token), 'tok'))),
      el('span', { className: rotated ? 'badge ok' : 'badge', text: rotated ? 'rotated: yes, the old one is now refused' : 'rotated: no, the provider kept the same one' }));
    const extra = [];
    if (entry.tokens?.access_token) extra.push('new access token ', code(tokenText(entry.tokens.access_token), 'tok'));
    if (entry.idToken) {
      const n = Array.isArray(entry.idToken.checks) ? entry.idToken.checks.length : 0;
      extra.push(`${extra.length ? '; ' : ''}new ID token verified again (${n} checks passed)`);
    }
    if (extra.length) item.append(el('span', { className: 'extra' }, ...extra));
    list.append(item);
  }
  $('refresh-error').textContent = flow.refreshError ?? '';
  $('refresh-error').hidden = !flow.refreshError;
}

function renderLogout() {
  const facts = $('logout-facts');
  facts.replaceChildren();
  const step = flow.logout;
  if (step) {
    const yesNo = (v) => (v === true ? 'yes' : v === false ? 'no' : '—');
    facts.append(
      el('dt', { text: 'Refresh token revoked (RFC 7009)' }), el('dd', { className: step.revoked ? 'ok' : '', text: yesNo(step.revoked), data: { fact: 'revoked' } }),
      el('dt', { text: 'Sent to the provider\'s end-session endpoint' }), el('dd', { className: step.end_session ? 'ok' : '', text: yesNo(step.end_session), data: { fact: 'end_session' } }),
      el('dt', { text: 'Tokens in memory' }), el('dd', { className: 'ok', text: 'dropped, in every tab of this app' }));
  }
  facts.hidden = !step;
  $('logout-error').textContent = flow.logoutError ?? '';
  $('logout-error').hidden = !flow.logoutError;
}

// Step status chips, the picture's arrows, placeholders and buttons, from what has happened so far.
function paint() {
  const live = signedIn();
  const state = document.body.dataset.state;
  const signInStatus = (key, seen) => {
    if (flow.failedAt?.key === key) return 'failed';
    if (seen) return 'done';
    if (flow.handover && live) return 'other';
    if (key === 'authorization_request' && state === 'signed-out') return 'ready';
    return 'pending';
  };
  const statuses = {
    authorization_request: signInStatus('authorization_request', flow.authz),
    callback: signInStatus('callback', flow.callback),
    token_response: signInStatus('token_response', flow.tokens),
    id_token: signInStatus('id_token', flow.idToken),
    access_token: flow.tokens || (flow.latestTokens && live) ? 'done' : flow.handover && live ? 'other' : 'pending',
    api: flow.api?.access?.status && flow.api?.id?.status ? 'done' : flow.api?.access?.error || flow.api?.id?.error ? 'failed' : live && apiUrl ? 'ready' : 'pending',
    refresh: flow.refreshError ? 'failed' : flow.refreshes.length ? 'done' : live ? 'ready' : 'pending',
    logout: flow.logoutError ? 'failed' : flow.logout ? 'done' : live ? 'ready' : 'pending',
  };
  for (const [key, status] of Object.entries(statuses)) {
    const section = $(STEP_SECTIONS[key]);
    section.dataset.status = status;
    section.querySelector('.chip').textContent = CHIPS[status];
    const arrow = document.querySelector(`#map [data-map="${key}"]`);
    if (arrow) arrow.dataset.status = status;
  }
  // Placeholders: shown until the step has something to show (not for steps that failed or happened in
  // another tab: the chip says so).
  for (const key of ['authorization_request', 'callback', 'token_response', 'id_token', 'access_token']) {
    const section = $(STEP_SECTIONS[key]);
    const content = section.querySelector('.content');
    section.querySelector('.placeholder').hidden = Boolean(content && !content.hidden)
      || statuses[key] === 'failed' || statuses[key] === 'other';
  }
  $('api-placeholder').textContent = !apiUrl ? 'No API configured (config.json has no apiUrl).' : 'Sign in first.';
  $('api-placeholder').hidden = Boolean(live && apiUrl) || Boolean(flow.api);
  $('refresh-placeholder').hidden = live || flow.refreshes.length > 0;
  $('logout-placeholder').hidden = live || Boolean(flow.logout);
  $('call-api').disabled = !live || !apiUrl || flow.apiBusy;
  $('refresh').disabled = !live;
  $('sign-out').disabled = !live;
  $('sign-in').disabled = state !== 'signed-out' || flow.leaving;
  $('sign-in-popup').disabled = state !== 'signed-out' || flow.leaving;
}

// ---------------------------------------------------------------------------------------------------
// Actions.

async function compareApiCalls() {
  const url = `${apiUrl}/me`;
  flow.apiBusy = true;
  flow.api = null;
  renderApi();
  paint();
  const result = {};
  try {
    const res = await client.fetchWithToken(url);
    result.access = { status: res.status, statusText: res.statusText, body: await res.text() };
  } catch (err) {
    result.access = { error: describeError(err) };
  }
  try {
    if (typeof client.teaching?.callApiWithIdToken !== 'function') {
      throw new Error('this SDK build has no client.teaching.callApiWithIdToken (it comes with the trace option)');
    }
    const answer = await client.teaching.callApiWithIdToken(url);
    result.id = { status: answer?.status, statusText: '', body: answer?.body };
  } catch (err) {
    result.id = { error: describeError(err) };
  }
  flow.api = result;
  flow.apiBusy = false;
  const aud = client.getUser()?.aud;
  if (aud !== undefined) {
    const typ = flow.idToken?.header?.typ;
    $('api-why').replaceChildren('wrong audience: its ', code('aud'), ' is ', code(Array.isArray(aud) ? aud.join(', ') : aud),
      ' (this app\'s client id), not the API',
      ...(typeof typ === 'string' ? ['; and its ', code('typ'), ' is ', code(typ), ', not ', code('at+jwt')]
        : ['; and it has no ', code('typ'), ' ', code('at+jwt')]));
  }
  renderApi();
  paint();
}

async function refreshNow() {
  $('refresh').disabled = true;
  try {
    await client.refresh();
  } catch (err) {
    flow.refreshError = `Refresh failed. ${describeError(err)}`;
    renderRefreshes();
  } finally {
    paint();
  }
}

async function signOut() {
  $('sign-out').disabled = true;
  try {
    await client.logout(); // navigates to the provider's logout page
  } catch (err) {
    flow.logoutError = `Sign-out failed. ${describeError(err)}`;
    renderLogout();
    paint();
  }
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
  // In the sign-in popup, back from the provider: relay the answer to the page that opened the popup, which
  // completes the sign-in; this window then closes.
  if (handlePopupCallback()) {
    $('loading-text').textContent = 'Signing in… this window closes by itself.';
    return;
  }
  const config = await fetch('/config.json', { cache: 'no-store' }).then((r) => {
    if (!r.ok) throw new Error(`config.json: HTTP ${r.status}`);
    return r.json();
  });

  testHooks = config.testHooks === true;
  if (testHooks) {
    window.__oidcEvents = [];
    window.__oidcTrace = traceLog;
  }
  apiUrl = typeof config.apiUrl === 'string' ? config.apiUrl.replace(/\/+$/, '') : null;
  clientId = String(config.clientId ?? '');
  $('op-origin').textContent = new URL(config.issuer).host;
  $('api-origin').textContent = apiUrl ? new URL(apiUrl).host : 'not configured';
  if (apiUrl) $('api-url').textContent = `GET ${apiUrl}/me`;

  // The redirect URI is /callback (tests may set another path, `/` among them); a page there is the callback
  // only when it carries an authorization response.
  const redirectPath = typeof config.redirectPath === 'string' ? config.redirectPath : '/callback';
  const query = new URLSearchParams(location.search);
  // The answer to a silent session check (checkSession) is completed by createClient itself.
  const onCallback = location.pathname === redirectPath && (query.has('code') || query.has('error'))
    && !(query.get('state') ?? '').startsWith('s.');
  // Steps kept across a redirect: step 1 before the provider's login, step 8 before its logout page.
  const storedAuthz = takeStored(STORED_AUTHZ);
  const storedLogout = takeStored(STORED_LOGOUT);
  if (onCallback && storedAuthz) record(storedAuthz, { restored: true });
  if (!onCallback && storedLogout) record(storedLogout, { restored: true });

  const options = {
    issuer: config.issuer,
    clientId,
    redirectUri: `${location.origin}${redirectPath}`,
    postLogoutRedirectUri: `${location.origin}/`,
    scope: config.scope || 'openid profile email',
    clockToleranceSeconds: 30,
  };
  // Only the API's origin may receive the access token (the default would be this page's origin).
  apiOrigins = apiUrl ? [new URL(apiUrl).origin] : [location.origin];
  if (apiUrl) options.apiOrigins = apiOrigins;
  if (typeof config.refreshMarginSeconds === 'number') options.refreshMarginSeconds = config.refreshMarginSeconds;
  if (typeof config.sessionExpiringSeconds === 'number') options.sessionExpiringSeconds = config.sessionExpiringSeconds;
  if (config.dpop !== undefined) options.dpop = config.dpop;
  if (config.persistSession !== undefined) options.persistSession = config.persistSession;
  if (config.debug !== undefined) options.debug = config.debug;
  if (config.checkSession !== undefined) options.checkSession = config.checkSession;
  // Several APIs and the token for other HTTP clients (README "Several APIs" and "getAccessToken"), as given.
  for (const name of ['resource', 'apis', 'exposeAccessToken']) if (config[name] !== undefined) options[name] = config[name];
  if (config.trace !== false) options.trace = onTrace; // for learning tools: the core reports each step
  client = await createClient(options);
  if (testHooks) window.__oidc = client;

  if (typeof client.on === 'function') {
    // Another tab signed in or out, or a refresh brought a new ID token.
    client.on('userChanged', (user) => {
      logEvent('userChanged', { signedIn: Boolean(user) });
      const current = client.getUser();
      if (current) {
        if (!flow.signInDone && !onCallback && !flow.popup) {
          flow.handover = true;
          $('handover-note').hidden = false;
        }
        renderUser(current);
        renderAccessToken();
      } else if (document.body.dataset.state === 'signed-in') {
        showSignedOut();
      }
    });
    client.on('tokensRefreshed', () => logEvent('tokensRefreshed'));
    client.on('sessionEnded', () => {
      logEvent('sessionEnded');
      showSignedOut('Your session ended: you signed out (maybe in another tab), or the provider no longer accepts the refresh token.');
    });
    client.on('error', (err) => logEvent('error', { code: errorCode(err) }));
    // The session cannot be extended (no refresh token, or one with a stated end) and ends soon.
    client.on('sessionExpiring', ({ secondsLeft }) => logEvent('sessionExpiring', { secondsLeft }));
  }

  const signIn = async (button) => {
    button.disabled = true;
    flow.leaving = true; // until the browser has left for the provider
    try {
      await client.login({ returnTo: location.pathname === '/callback' ? '/' : location.pathname });
    } catch (err) {
      flow.leaving = false;
      button.disabled = false;
      flow.failedAt = { key: 'authorization_request', text: `Stopped here. ${describeError(err)}` };
      setFailure(STEP_SECTIONS.authorization_request, flow.failedAt.text);
      showError(err);
    }
  };
  $('sign-in').addEventListener('click', () => signIn($('sign-in')));
  // The popup is opened in the click handler itself, before any await (browsers block it otherwise).
  $('sign-in-popup').addEventListener('click', () => {
    const button = $('sign-in-popup');
    button.disabled = true;
    flow.popup = true; // its userChanged is this tab's own sign-in, not a hand-over
    client.loginWithPopup().then((result) => {
      flow.popup = false;
      flow.signInDone = true;
      renderUser(client.getUser() ?? result.user);
      renderAccessToken();
    }, (err) => {
      flow.popup = false;
      button.disabled = false;
      logEvent('popupFailed', { code: errorCode(err) });
      if (err?.code === 'popup_closed' || err?.code === 'popup_blocked' || err?.code === 'popup_timeout') {
        showSignedOut(`The popup sign-in did not complete: ${describeError(err)}`);
      } else {
        markSignInFailure(err);
        showError(err);
      }
    });
  });
  $('sign-in-again').addEventListener('click', () => signIn($('sign-in-again')));
  $('call-api').addEventListener('click', () => compareApiCalls());
  $('refresh').addEventListener('click', () => refreshNow());
  $('sign-out').addEventListener('click', () => signOut());

  if (onCallback) {
    let result;
    try {
      result = await client.handleCallback();
    } catch (err) {
      markSignInFailure(err);
      throw err;
    }
    flow.signInDone = true;
    // The SDK has already removed code/state/iss from the address bar; leave /callback too, so a reload
    // does not look like a second authorization response.
    history.replaceState(history.state, '', safeReturnPath(result.returnTo));
    renderUser(client.getUser() ?? result.user);
    renderAccessToken();
    return;
  }

  // Signed in when another open tab of this app handed its session over at createClient, when a sealed
  // session (persistSession: 'sealed') was restored there, or by the silent session check (checkSession).
  const user = client.getUser();
  if (user && client.sessionCheck) {
    // The silent check's answer was completed on this page (steps 2–4 above); step 1 was the page before.
    flow.signInDone = true;
    $('handover-note').textContent = 'Signed in again by the silent session check (checkSession): the provider still had a session, so a prompt=none request came straight back without showing a page.';
    $('handover-note').hidden = false;
    renderUser(user);
    renderAccessToken();
  } else if (user) {
    flow.handover = true;
    $('handover-note').hidden = false;
    renderUser(user);
    renderAccessToken();
  } else {
    showSignedOut(flow.logout ? 'You signed out (step 8).' : undefined);
  }
}

main().catch(showError);
