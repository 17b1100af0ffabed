// Consumer tests: the package as an app gets it from `npm pack`, built by the app's own tooling and
// signed in through in headless Chromium against the local OpenID Provider.
//
//   node --test --test-timeout=600000 tests/consumers/     (after `node scripts/build.mjs`; needs Chromium)
//
// 1. `npm pack` of the repository into a temp dir; the tarball must hold every `exports` target.
// 2. Type check: tests/consumers/typed/index.tsx with `tsc --noEmit` against the packed declarations
//    (core, oidc-wasm/react, oidc-wasm/vue), moduleResolution bundler and NodeNext.
// 3. For each app, in a copy under the temp dir: `npm ci` with its committed lockfile pointed at the
//    tarball, a production build, the output served on 127.0.0.1 with a strict CSP (script-src 'self'
//    'wasm-unsafe-eval') and .wasm as application/wasm, then sign in through the provider's pages, check
//    that the page names the user, and sign out:
//      plain script tag (examples/plain, the tarball's dist/oidc-wasm.global.js), Vite + React 19
//      (examples/react), the same app on React 18 (tests/consumers/react18: manifest and lockfile),
//      Vite + Vue (examples/vue), webpack 5 (tests/consumers/webpack), and the React example under the
//      Vite dev server (dependency pre-bundling and the wasm URL). In the React (19 and 18) and Vue apps,
//      the route guards too (react-router's <RequireAuth>, vue-router's createAuthGuard): a protected
//      route comes back to itself signed in, a failed callback shows its error and logs in no more (the
//      navigations to the authorization endpoint counted), a public route starts no login.
//    Next.js (examples/nextjs, App Router): `next build` (one per run) and `next start`; the server-rendered
//    HTML holds the loading state; both wasm modules are emitted; a protected page signs in through the
//    development provider (dev/dev-provider.mjs, in-process), calls its sample API (200), signs out.
// 4. The README's first run, as a new user does it (issue #15): a new app from create-vite's react-ts
//    template (create-vite is a dev dependency of this repository, so its version is fixed), the
//    packed package and oidc-provider installed (tests/consumers/quickstart-react: the template's manifest
//    plus those two, with a lockfile), the README's snippets written into src/ as they are, `tsc --strict`
//    clean, `npx oidc-wasm dev-provider` started for the app's origins, and, in headless Chromium: the
//    provider down (the app shows network_error naming the discovery URL), then sign-in through the
//    provider's login and consent pages, the sample API called (200), sign-out through its logout
//    confirmation — under `vite` (http://localhost:5173; there also: `debug` is on by default in a
//    development build), `vite preview` (http://localhost:4173), and the production build behind the
//    README's Content-Security-Policy. The default ports (3001, 3002, 5173,
//    4173) are used when free, as the README says; when one is taken, another port is used and the
//    served copy of the snippet names it (the compiled one is the README's, always). The README's Vue
//    snippets are compiled with `vue-tsc --strict` in a new app from the vue-ts template, where the
//    dev-provider command, without oidc-provider installed, must name the install command.
//
// npm installs use npm's own cache only (`--prefer-offline`). Each step is bounded in time and its
// duration is printed as a test diagnostic. Failure messages carry the tail of the failing command's
// output; a failed sign-in leaves a screenshot in tests/consumers/artifacts/. No token is ever printed.
//
// Environment: CHROMIUM (default /usr/bin/chromium); CONSUMERS_PACKAGE_DIR (a directory to pack instead of
// the repository); CONSUMERS_ONLY (comma-separated subset: typed,plain,react,react18,react-dev,vue,webpack,
// quickstart,quickstart-vue);
// CONSUMERS_KEEP=1 keeps the temp dir; CONSUMERS_DEBUG=1 prints the pages' console.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { accountClaims, startProvider } from '../../dev/provider.mjs';
import { startDevProvider } from '../../dev/dev-provider.mjs';
import { startStaticServer } from '../../examples/plain/serve.mjs';
import { fileInside, sendFile, serve } from '../../examples/static.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGE_DIR = resolve(process.env.CONSUMERS_PACKAGE_DIR ?? REPO);
const ARTIFACTS = join(REPO, 'tests', 'consumers', 'artifacts');
const ONLY = process.env.CONSUMERS_ONLY ? new Set(process.env.CONSUMERS_ONLY.split(',').map((s) => s.trim())) : null;
const enabled = (name) => !ONLY || ONLY.has(name);

const MINUTE = 60_000;
const T = { pack: 2 * MINUTE, install: 4 * MINUTE, build: 2 * MINUTE, nextBuild: 6 * MINUTE, tsc: 2 * MINUTE, signIn: 45_000, step: 15_000, devServer: MINUTE };

// The apps: where their sources are (copied without node_modules and build output), how they are built,
// what is served, and who signs in. Their redirect URI is /callback.
const APPS = {
  react: { src: 'examples/react', build: ['npm', 'run', 'build'], serve: 'dist', user: 'ada', react: '19.', guards: ['margaret', 'katherine'], popup: 'ada' },
  // The same app on React 18: examples/react's sources with the manifest and lockfile of tests/consumers/react18.
  react18: { src: 'examples/react', manifest: 'tests/consumers/react18', build: ['npm', 'run', 'build'], serve: 'dist', user: 'alan', react: '18.', guards: ['dorothy', 'hedy'] },
  vue: { src: 'examples/vue', build: ['npm', 'run', 'build'], serve: 'dist', user: 'grace', guards: ['frances', 'radia'], popup: 'grace' },
  webpack: { src: 'tests/consumers/webpack', build: ['npm', 'run', 'build'], serve: 'public', user: 'barbara' },
};
const SKIP_COPY = new Set(['node_modules', 'dist', 'build', 'artifacts']);

const t0 = Date.now();
let work; // temp dir
let tarball; // absolute path of the packed package
let pkg; // the packed package.json
let op;
let browser;
const servers = {}; // name -> static server (started before the provider, so redirect URIs are known)
const children = new Set();

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs fn, and reports how long it took (test diagnostic and stdout). */
async function timed(t, label, fn) {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    const msg = `${label}: ${seconds(Date.now() - start)}`;
    if (t) t.diagnostic(msg);
    else console.log(`# ${msg}`);
  }
}

/** The environment for child npm/node commands: none of the parent npm's npm_* settings (under `npm
 * test` they name this repository as the project, and npm ci would work on it instead of the copy). */
function childEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', NO_COLOR: '1', ...extra };
}

/** Runs a command to completion within timeoutMs; throws with the tail of its output on failure. */
function run(cmd, args, { cwd, timeout, env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let output = '';
    const collect = (d) => { output = (output + d).slice(-64_000); };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout);
    child.on('error', (err) => { clearTimeout(timer); children.delete(child); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) return resolvePromise(output);
      const tail = output.trim().split('\n').slice(-40).join('\n');
      const why = timedOut ? `timed out after ${seconds(timeout)}` : `exited with ${code ?? signal}`;
      reject(new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} ${why}; last output:\n${tail}`));
    });
  });
}

/** Starts a long-running command (a dev server); resolves once its output matches `ready`. */
function startProcess(cmd, args, { cwd, env, ready, timeout }) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let output = '';
    const timer = setTimeout(() => {
      stop(child);
      reject(new Error(`\`${cmd} ${args.join(' ')}\` did not get ready within ${seconds(timeout)}; output:\n${output.slice(-4000)}`));
    }, timeout);
    const collect = (d) => {
      output = (output + d).slice(-64_000);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolvePromise({ child, output: () => output });
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      reject(new Error(`\`${cmd} ${args.join(' ')}\` exited with ${code}; output:\n${output.slice(-4000)}`));
    });
  });
}

function stop(child) {
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolvePromise(port));
    });
  });
}

/** Copies an app's sources to the temp dir (with the package.json and lockfile of `manifestDir` instead of
 * its own, when given) and points its package.json and lockfile at the tarball. The
 * lockfile keeps no integrity for the tarball: with the hash of an older build, `npm ci` would fail with
 * EINTEGRITY on a clean cache, and, worse, silently install the older build from a warm one. */
function prepareApp(name, src, manifestDir) {
  const dest = join(work, name);
  cpSync(join(REPO, src), dest, { recursive: true, filter: (p) => !SKIP_COPY.has(p.split(/[\\/]/).pop()) || p === join(REPO, src) });
  if (manifestDir) for (const f of ["package.json", "package-lock.json"]) cpSync(join(REPO, manifestDir, f), join(dest, f));
  pointAtTarball(dest, src);
  return dest;
}

/** Points the app's package.json and lockfile in `dest` at the tarball (`src` names it in messages). */
function pointAtTarball(dest, src) {
  const spec = `file:${relative(dest, tarball).split('\\').join('/')}`;
  const manifestFile = join(dest, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  assert.ok(manifest.dependencies?.['oidc-wasm'], `${src}/package.json depends on oidc-wasm`);
  manifest.dependencies['oidc-wasm'] = spec;
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const lockFile = join(dest, 'package-lock.json');
  if (existsSync(lockFile)) {
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    lock.packages[''].dependencies['oidc-wasm'] = spec;
    const entry = lock.packages['node_modules/oidc-wasm'];
    assert.ok(entry, `${src}/package-lock.json has node_modules/oidc-wasm`);
    entry.resolved = spec;
    entry.version = pkg.version;
    delete entry.integrity;
    writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
  }
}

async function install(t, dir) {
  const ci = existsSync(join(dir, 'package-lock.json'));
  const npmInstall = (...extra) => run('npm', [ci ? 'ci' : 'install', '--no-audit', '--no-fund', ...extra, '--loglevel=error'], { cwd: dir, timeout: T.install });
  await timed(t, ci ? 'npm ci' : 'npm install', async () => {
    try {
      await npmInstall('--prefer-offline');
    } catch (err) {
      // A package metadata document cached before the locked version was published: --prefer-offline
      // believes it (ETARGET). Once more, asking the registry.
      if (!/ETARGET|notarget/.test(err.message)) throw err;
      t?.diagnostic(`npm's cached metadata is older than the lockfile (${/No matching version found for (\S+)/.exec(err.message)?.[1] ?? 'ETARGET'}): installing again without --prefer-offline`);
      await npmInstall();
    }
  });
  const installed = JSON.parse(readFileSync(join(dir, 'node_modules', 'oidc-wasm', 'package.json'), 'utf8'));
  assert.equal(installed.version, pkg.version, 'the packed oidc-wasm is what got installed');
  // The bytes of this build, not an older one from npm's cache.
  const wasm = readFileSync(join(dir, 'node_modules', 'oidc-wasm', 'dist', 'oidc_wasm_bg.wasm'));
  assert.ok(wasm.equals(readFileSync(join(work, 'package', 'dist', 'oidc_wasm_bg.wasm'))), 'the installed wasm is the packed one');
}

async function screenshotOnFailure(page, name, fn) {
  try {
    return await fn();
  } catch (err) {
    try {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
      err.message += `\n  screenshot: ${file}\n  page: ${page.url().split('?')[0]}`;
    } catch { /* the browser may be gone */ }
    throw err;
  }
}

// Records, in the page, each `data-state` the app's <main> takes, so a test can see what the user saw on
// the way (a flash of "error" or "signed-out" on the callback page is a bug: a second callback, say).
const STATE_LOG_SCRIPT = () => {
  window.__states = [];
  const note = (el) => {
    const state = el?.matches?.('main[data-state]') ? el.getAttribute('data-state') : null;
    if (state && window.__states[window.__states.length - 1] !== state) window.__states.push(state);
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target);
      for (const n of r.addedNodes ?? []) {
        note(n);
        n.querySelectorAll?.('main[data-state]').forEach(note);
      }
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
};

/** The app's outcome after loading: 'signed-in', 'signed-out' or 'error' (with the error shown). */
async function outcome(page) {
  await page.waitForSelector('main[data-state="signed-in"], main[data-state="signed-out"], main[data-state="error"]', { timeout: T.signIn });
  const state = await page.getAttribute('main', 'data-state');
  if (state === 'error') {
    const text = (await page.textContent('#error').catch(() => '')) ?? '';
    return { state, error: text.trim() };
  }
  return { state };
}

/**
 * Signs in to the app at `origin` as `username` through the provider's login and consent pages, checks
 * the page names the user and the URL is clean, then signs out and checks the app is signed out.
 * `csp`: whether the page is served under the CSP (not by the Vite dev server), so violations count.
 */
async function signInAndOut(name, origin, username, { csp = true } = {}) {
  const context = await browser.newContext();
  context.setDefaultTimeout(T.step);
  await context.addInitScript(STATE_LOG_SCRIPT);
  const page = await context.newPage();
  // The app's console only (the provider's pages ask for a web font that loopback-only DNS refuses), less
  // the browser's own favicon request.
  const consoleMessages = [];
  const onApp = () => { try { return new URL(page.url()).origin === origin; } catch { return false; } };
  page.on('console', (msg) => {
    if (process.env.CONSUMERS_DEBUG) console.log(`# [${name}] ${msg.type()}: ${msg.text().slice(0, 300)}`);
    if (!onApp() || /\/favicon\.ico$/.test(msg.location()?.url ?? '')) return;
    consoleMessages.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`));
  const wasmResponses = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname.endsWith('.wasm')) {
      wasmResponses.push({ path: new URL(res.url()).pathname, status: res.status(), type: res.headers()['content-type'] });
    }
  });
  const opOrigin = new URL(op.issuer).origin;
  const where = () => `(${name}; console: ${JSON.stringify(consoleMessages.slice(-8).map((m) => m.slice(0, 300)))})`;
  try {
    await screenshotOnFailure(page, name, async () => {
      await page.goto(`${origin}/`);
      let o = await outcome(page);
      assert.equal(o.state, 'signed-out', `the app starts signed out ${o.error ?? ''} ${where()}`);
      assert.ok(wasmResponses.some((r) => r.status === 200 || r.status === 304), `the wasm was fetched: ${JSON.stringify(wasmResponses)}`);

      const codeGrants = () => op.tokenRequests.filter((r) => r.grantType === 'authorization_code').length;
      const grantsBefore = codeGrants();
      await page.click('#sign-in');
      await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'));
      await page.fill('input[name="login"]', username);
      await page.fill('input[name="password"]', 'any-password');
      await page.click('button[type="submit"]');
      await page.waitForURL((u) => u.origin === origin || (u.pathname.startsWith('/interaction/') && u.search === ''));
      if (new URL(page.url()).origin !== origin) {
        await page.click('button:has-text("Continue")'); // consent, on this account's first sign-in
        await page.waitForURL((u) => u.origin === origin);
      }
      o = await outcome(page);
      assert.equal(o.state, 'signed-in', `signed in after the callback ${o.error ? `— the app shows: ${o.error}` : ''} ${where()}`);
      const expected = accountClaims(username);
      assert.equal((await page.textContent('#user-name')).trim(), `Signed in as ${expected.name}`, `the page shows the user's name ${where()}`);
      assert.match(await page.textContent('#claims'), new RegExp(expected.email.replace(/\./g, '\\.')), 'the claims are shown');
      const seen = await page.evaluate(() => window.__states);
      assert.deepEqual(seen.filter((st) => st !== 'loading'), ['signed-in'], `on the callback page the app went only from loading to signed-in (saw ${seen.join(' → ')}) ${where()}`);
      // One code exchange: the callback ran once (React StrictMode mounts effects twice in development).
      assert.equal(codeGrants() - grantsBefore, 1, `one authorization_code token request ${where()}`);
      const url = new URL(page.url());
      assert.deepEqual(['code', 'state', 'iss', 'error'].filter((p) => url.searchParams.has(p)), [], 'no response parameters left in the URL');

      await page.click('#sign-out');
      await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/session/end'));
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL((u) => u.origin === origin);
      o = await outcome(page);
      assert.equal(o.state, 'signed-out', `signed out after the provider's logout ${o.error ?? ''} ${where()}`);

      const wasmTypes = [...new Set(wasmResponses.filter((r) => r.status === 200).map((r) => r.type))];
      if (csp) {
        assert.deepEqual(wasmTypes, ['application/wasm'], 'the wasm is served as application/wasm');
        const problems = consoleMessages.filter((m) => /Content Security Policy|Refused to|pageerror|^error:/i.test(m));
        assert.deepEqual(problems.map((m) => m.slice(0, 300)), [], `no CSP violations or errors in the console (${name})`);
      }
    });
  } finally {
    await context.close().catch(() => {});
  }
}

/**
 * The bindings' `loginWithPopup` and `sessionExpiresAt` (examples/react, examples/vue), under the page's CSP:
 *   1. "Sign in with a popup": the popup signs in at the provider, comes back to the app's /callback, hands
 *      the response over and closes; the page that opened it never navigates and shows the user; one code
 *      exchange;
 *   2. the session has no refresh token (the provider issues none to this app's client), so it ends when its
 *      access token does (1 h): with the page's clock moved on (Playwright's clock), the binding's
 *      `sessionExpiresAt` appears `sessionExpiringSeconds` (60 s) before that end — the app shows it — and
 *      at the end the app is signed out.
 */
async function popupSignIn(name, origin, username) {
  const context = await browser.newContext();
  context.setDefaultTimeout(T.step);
  await loopbackOnly(context);
  await context.addInitScript(STATE_LOG_SCRIPT);
  await context.clock.install(); // real time, until the test moves it on
  const page = await context.newPage();
  const consoleMessages = [];
  const onApp = (p) => { try { return new URL(p.url()).origin === origin; } catch { return false; } };
  const watch = (p, label) => {
    p.on('console', (msg) => {
      if (process.env.CONSUMERS_DEBUG) console.log(`# [${name} ${label}] ${msg.type()}: ${msg.text().slice(0, 300)}`);
      if (onApp(p) && !/\/favicon\.(ico|svg)$/.test(msg.location()?.url ?? '')) consoleMessages.push(`${label} ${msg.type()}: ${msg.text()}`);
    });
    p.on('pageerror', (err) => consoleMessages.push(`${label} pageerror: ${err.message}`));
  };
  watch(page, 'page');
  const navigations = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
  const where = () => `(${name} popup; console: ${JSON.stringify(consoleMessages.slice(-8).map((m) => m.slice(0, 300)))})`;
  try {
    await screenshotOnFailure(page, `${name}-popup`, async () => {
      await page.goto(`${origin}/`);
      let o = await outcome(page);
      assert.equal(o.state, 'signed-out', `the app starts signed out ${o.error ?? ''} ${where()}`);
      const codeGrants = () => op.tokenRequests.filter((r) => r.grantType === 'authorization_code').length;
      const grantsBefore = codeGrants();
      const navigationsBefore = navigations.length;

      const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#sign-in-popup')]);
      watch(popup, 'popup');
      const closed = popup.waitForEvent('close', { timeout: T.signIn });
      await popup.waitForURL((u) => u.pathname.startsWith('/interaction/'));
      await popup.fill('input[name="login"]', username);
      await popup.fill('input[name="password"]', 'any-password');
      await popup.click('button[type="submit"]');
      // Consent when this account has not yet allowed this client; then back to the app, which relays the
      // response and closes the popup.
      popup.waitForSelector('button:has-text("Continue")', { timeout: T.step }).then((b) => b.click()).catch(() => {});
      await closed;

      await page.waitForSelector('main[data-state="signed-in"]', { timeout: T.signIn });
      const expected = accountClaims(username);
      assert.equal((await page.textContent('#user-name')).trim(), `Signed in as ${expected.name}`, `the page shows the user's name ${where()}`);
      assert.deepEqual(navigations.slice(navigationsBefore), [], `the page that opened the popup never navigated ${where()}`);
      assert.equal(new URL(page.url()).pathname, '/', 'still on the page the popup was opened from');
      assert.equal(codeGrants() - grantsBefore, 1, `one authorization_code token request ${where()}`);
      assert.equal(await page.locator('#session-expiring').count(), 0, 'no end announced yet');

      // 1 h access token, no refresh token: sessionExpiring (and sessionExpiresAt) 60 s before the end.
      await page.clock.fastForward('58:30');
      assert.equal(await page.locator('#session-expiring').count(), 0, `90 s before the end: nothing announced yet ${where()}`);
      await page.clock.fastForward('01:00');
      await page.waitForSelector('#session-expiring', { timeout: T.step });
      assert.equal(await page.getAttribute('main', 'data-state'), 'signed-in', 'still signed in while the end is announced');
      assert.match(await page.textContent('#session-expiring'), /Your session ends at/, 'the app shows when the session ends');
      await page.clock.fastForward('01:00');
      await page.waitForSelector('main[data-state="signed-out"]', { timeout: T.step });
      assert.equal(await page.locator('#session-expiring').count(), 0, `the announcement goes with the session ${where()}`);

      const problems = consoleMessages.filter((m) => /Content Security Policy|Refused to|pageerror|error:/i.test(m));
      assert.deepEqual(problems.map((m) => m.slice(0, 300)), [], `no CSP violations or errors in the console ${where()}`);
    });
  } finally {
    await context.close().catch(() => {});
  }
}

/** Clicks the app's API button and checks what it shows, `<status> <body>`: 200 from the sample API, which saw
 * `username` and a token with the API scope. */
async function callsTheApi(page, button, answerSelector, username, where) {
  await page.click(button);
  await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '') !== '', answerSelector);
  const answer = (await page.textContent(answerSelector)).trim();
  const [status, ...body] = answer.split(' ');
  assert.equal(status, '200', `the sample API answers 200 to the access token: ${answer.slice(0, 300)} ${where()}`);
  const me = JSON.parse(body.join(' '));
  assert.equal(me.sub, username, 'the API saw the signed-in user');
  assert.ok(String(me.scope).split(' ').includes('api:read'), `the token carries the API scope: ${me.scope}`);
}

/** Requests that would leave loopback (the provider's pages ask for a web font) are refused at once, so a
 * page's load event never waits for a DNS lookup that cannot succeed here. */
async function loopbackOnly(context) {
  await context.route((url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname), (r) => { if (process.env.CONSUMERS_DEBUG) console.log(`# refused ${r.request().url().slice(0, 120)}`); return r.abort(); });
}

/** The provider's login page: username, any password, and the consent page on the account's first sign-in. */
async function providerSignIn(page, origin, username) {
  await page.fill('input[name="login"]', username);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => u.origin === origin || (u.pathname.startsWith('/interaction/') && u.search === ''));
  if (new URL(page.url()).origin !== origin) {
    await page.click('button:has-text("Continue")'); // consent, on this account's first sign-in
    await page.waitForURL((u) => u.origin === origin);
  }
}

/**
 * The route guards (issue #14 item 3) in the app at `origin` (examples/react with react-router's
 * <RequireAuth>, examples/vue with vue-router and createAuthGuard), each part in a new browser:
 *   1. a public route never starts a login; a link to the protected route /orders/7?tab=items#note goes
 *      to the provider once and, signed in, comes back to exactly that route; signing out there goes to
 *      the provider's logout, not to a new login;
 *   2. the protected route opened signed out, and the login cancelled at the provider: the callback
 *      (error=access_denied) shows the error; the protected route, followed again, shows the guard's
 *      error and goes nowhere — no second navigation to the authorization endpoint; the user's "Try
 *      again" signs in and comes back to the route.
 * Navigations to the authorization endpoint are counted in the browser.
 */
async function routeGuards(name, origin, [first, second]) {
  const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
  const authorizationEndpoint = discovery.authorization_endpoint;
  const opOrigin = new URL(op.issuer).origin;
  const ORDER = '/orders/7?tab=items#note';
  const route = (page) => { const u = new URL(page.url()); return `${u.pathname}${u.search}${u.hash}`; };

  async function inNewBrowser(label, fn) {
    const context = await browser.newContext();
    context.setDefaultTimeout(T.step);
    await loopbackOnly(context);
    const page = await context.newPage();
    const toProvider = [];
    page.on('request', (req) => {
      if (req.isNavigationRequest() && req.url().split('?')[0] === authorizationEndpoint) toProvider.push(req.url());
    });
    const consoleMessages = [];
    page.on('console', (msg) => {
      if (process.env.CONSUMERS_DEBUG) console.log(`# [${name} ${label}] ${msg.type()}: ${msg.text().slice(0, 300)}`);
      if (msg.type() === 'error' && new URL(page.url()).origin === origin) consoleMessages.push(msg.text());
    });
    page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`));
    const where = () => `(${name}, ${label}; at ${route(page)}; console: ${JSON.stringify(consoleMessages.slice(-5).map((m) => m.slice(0, 300)))})`;
    try {
      await screenshotOnFailure(page, `${name}-${label}`, () => fn(page, toProvider, where));
      assert.deepEqual(consoleMessages.filter((m) => /pageerror/.test(m)), [], `no page errors ${where()}`);
    } finally {
      await context.close().catch(() => {});
    }
  }

  await inNewBrowser('guard-signin', async (page, toProvider, where) => {
    await page.goto(`${origin}/about`);
    await page.waitForSelector('main[data-state="signed-out"] #about', { timeout: T.signIn });
    await page.waitForLoadState('networkidle');
    assert.equal(toProvider.length, 0, `a public route starts no login ${where()}`);

    await page.click('#nav-order');
    await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'));
    assert.equal(toProvider.length, 1, `the protected route sent the browser to the provider once ${where()}`);
    await providerSignIn(page, origin, first);
    await page.waitForSelector('main[data-state="signed-in"] #order', { timeout: T.signIn });
    assert.equal(route(page), ORDER, `back on the protected route, query and fragment kept (returnTo) ${where()}`);
    assert.equal((await page.textContent('#order-user')).trim(), `for ${accountClaims(first).name}`, `the route shows the signed-in user ${where()}`);
    assert.equal(toProvider.length, 1, `no second login after the callback ${where()}`);

    // Signing out on the protected route: the provider's logout, not a new login by the guard.
    await page.click('#order-sign-out');
    await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/session/end'));
    await page.click('button:has-text("Yes, sign me out")');
    await page.waitForURL((u) => u.origin === origin);
    await page.waitForSelector('main[data-state="signed-out"]', { timeout: T.signIn });
    assert.equal(toProvider.length, 1, `the sign-out started no login ${where()}`);
  });

  await inNewBrowser('guard-failed-callback', async (page, toProvider, where) => {
    await page.goto(`${origin}/orders/8`);
    await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'), { timeout: T.signIn });
    assert.equal(toProvider.length, 1, `opened signed out, the protected route went to the provider ${where()}`);
    await page.click('a:has-text("Cancel")'); // the provider answers error=access_denied to the redirect URI
    await page.waitForURL((u) => u.origin === origin);
    await page.waitForSelector('main[data-state="error"] #error', { timeout: T.signIn });
    assert.equal(await page.getAttribute('#error', 'data-code'), 'authorization_error', `the failed callback is shown ${where()}`);
    assert.match(await page.textContent('#error'), /access_denied/, `the provider's error is named ${where()}`);
    const url = new URL(page.url());
    assert.equal(url.pathname, '/callback', `the app stays on the redirect URI ${where()}`);
    assert.deepEqual(['code', 'state', 'iss', 'error'].filter((p) => url.searchParams.has(p)), [], 'the response was taken out of the address bar');

    // The protected route again, with the error in the state: the guard shows it and logs in no more.
    await page.click('#nav-order');
    const quiet = (p) => { p.catch(() => {}); return p; };
    const reaction = await Promise.race([
      quiet(page.waitForSelector('#guard-error').then(() => 'the guard shows the error')),
      quiet(page.waitForURL((u) => u.origin === opOrigin).then(() => 'went to the provider again')),
    ]);
    assert.equal(reaction, 'the guard shows the error', `the protected route after a failed callback ${where()}`);
    await page.waitForLoadState('networkidle');
    assert.equal(new URL(page.url()).origin, origin, `still in the app ${where()}`);
    assert.equal(toProvider.length, 1, `no redirect loop: no second navigation to the authorization endpoint ${where()}`);

    // The user's choice: try again; signed in, back on the route.
    await page.click('#retry');
    await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'));
    assert.equal(toProvider.length, 2, `"Try again" went to the provider ${where()}`);
    await providerSignIn(page, origin, second);
    await page.waitForSelector('main[data-state="signed-in"] #order', { timeout: T.signIn });
    assert.equal(route(page), ORDER, `back on the protected route after "Try again" ${where()}`);
    assert.equal(toProvider.length, 2, `one navigation to the provider per login ${where()}`);
  });
}

/**
 * The Next.js example at `origin`: the protected page, opened signed out, goes to the provider once and
 * comes back to itself (query kept) signed in; the sample API answers 200 to fetchWithToken; sign-out
 * through the provider's confirmation. The default wasm module is fetched as application/wasm; no CSP
 * violation or error in the console.
 */
async function nextFlow(origin, dev, username) {
  const context = await browser.newContext();
  context.setDefaultTimeout(T.step);
  await loopbackOnly(context);
  const page = await context.newPage();
  const opOrigin = new URL(dev.issuer).origin;
  const authorizationEndpoint = `${dev.issuer}/auth`;
  let toProvider = 0;
  page.on('request', (req) => {
    if (req.isNavigationRequest() && req.url().split('?')[0] === authorizationEndpoint) toProvider += 1;
  });
  const consoleMessages = [];
  const onApp = () => { try { return new URL(page.url()).origin === origin; } catch { return false; } };
  page.on('console', (msg) => {
    if (process.env.CONSUMERS_DEBUG) console.log(`# [nextjs] ${msg.type()}: ${msg.text().slice(0, 300)}`);
    if (onApp() && !/\/favicon\.ico$/.test(msg.location()?.url ?? '')) consoleMessages.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`));
  const wasmResponses = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.endsWith('.wasm')) wasmResponses.push({ path: new URL(r.url()).pathname, status: r.status(), type: r.headers()['content-type'] });
  });
  const where = () => `(nextjs; at ${page.url().split('?')[0]}; console: ${JSON.stringify(consoleMessages.slice(-8).map((m) => m.slice(0, 300)))})`;
  try {
    await screenshotOnFailure(page, 'nextjs', async () => {
      await page.goto(`${origin}/protected?tab=api`);
      await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'), { timeout: T.signIn });
      assert.equal(toProvider, 1, `signed out, the protected page went to the provider ${where()}`);
      await providerSignIn(page, origin, username);
      await page.waitForSelector('#session[data-state="signed-in"]', { timeout: T.signIn });
      await page.waitForSelector('#protected');
      const u = new URL(page.url());
      assert.equal(`${u.pathname}${u.search}`, '/protected?tab=api', `back on the protected page (returnTo, router.replace) ${where()}`);
      assert.equal((await page.textContent('#user-name')).trim(), `Signed in as ${accountClaims(username).name}`, 'the layout names the user');
      assert.equal((await page.textContent('#protected-user')).trim(), `Hello ${accountClaims(username).name}`, 'the protected page names the user');

      await callsTheApi(page, '#call-api', '#api-answer', username, where);

      // Two page loads (before the provider and after): the default module each time, never the full one.
      assert.ok(wasmResponses.length >= 1, 'the wasm was fetched');
      for (const r of wasmResponses) {
        assert.match(r.path, /^\/_next\/static\/media\/oidc_wasm_bg\.[^/]+\.wasm$/, `the default module, from Next's static media: ${JSON.stringify(wasmResponses)}`);
        assert.ok(r.status === 200 || r.status === 304, `fetched: ${JSON.stringify(r)}`);
        if (r.status === 200) assert.equal(r.type, 'application/wasm', 'served as application/wasm');
      }

      await page.click('#sign-out');
      await page.waitForURL((v) => v.origin === opOrigin && v.pathname.startsWith('/session/end'));
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL((v) => v.origin === origin);
      await page.waitForSelector('#session[data-state="signed-out"]', { timeout: T.signIn });
      assert.equal(toProvider, 1, `one login in all ${where()}`);
      const problems = consoleMessages.filter((m) => /Content Security Policy|Refused to|pageerror|^error:/i.test(m));
      assert.deepEqual(problems.map((m) => m.slice(0, 300)), [], `no CSP violations or errors in the console ${where()}`);
    });
  } finally {
    await context.close().catch(() => {});
  }
}

// --- The README's first run (issue #15) --------------------------------------------------------------

// Each new app: its create-vite template, and the committed manifest and lockfile that stand for
// `npm install oidc-wasm` (+ `npm install --save-dev oidc-provider@9` for React, whose app runs the
// development provider) run in it. The template's oxlint is left out (a linter's native binary, no part of
// what is tested).
const QUICKSTART = {
  react: { template: 'react-ts', manifest: 'tests/consumers/quickstart-react', dir: 'quickstart-react' },
  vue: { template: 'vue-ts', manifest: 'tests/consumers/quickstart-vue', dir: 'quickstart-vue' },
};
const CREATE_VITE = join(REPO, 'node_modules', 'create-vite', 'index.js');
// The README's defaults: the development provider's ports and Vite's.
const DEFAULT_PORTS = { op: 3001, api: 3002, dev: 5173, preview: 4173 };

/** The README's marked code blocks: `<!-- quick-start: <framework> <file> -->` or `<!-- snippet: … -->`
 * right before a fenced block, as { kind, framework, file, code }; and the `<!-- csp -->` block. */
function readmeBlocks() {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const snippets = [...readme.matchAll(/<!-- (quick-start|snippet): (\w+) (\S+) -->\n```\w*\n([\s\S]*?)```\n/g)]
    .map(([, kind, framework, file, code]) => ({ kind, framework, file, code }));
  const csp = /<!-- csp -->\n```\n([\s\S]*?)```\n/.exec(readme)?.[1];
  return { snippets, csp };
}

function portIsFree(port) {
  return new Promise((resolvePromise) => {
    const s = createServer();
    s.once('error', () => resolvePromise(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolvePromise(true)));
  });
}

/** `port` when it is free on 127.0.0.1, else any free port. */
async function preferredPort(port) {
  return (await portIsFree(port)) ? port : freePort();
}

/** A new app from create-vite's template, with the committed manifest and lockfile pointed at the tarball
 * and installed. The template's own dependencies must all be in the committed manifest, with the same
 * ranges: a create-vite update that changes them fails here, naming the dependency. */
async function scaffold(t, { template, manifest, dir: name }) {
  await timed(t, `create-vite --template ${template}`, () => run(process.execPath,
    [CREATE_VITE, name, '--template', template, '--no-interactive', '--no-immediate'], { cwd: work, timeout: T.step }));
  const dir = join(work, name);
  const scaffolded = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const committed = JSON.parse(readFileSync(join(REPO, manifest, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const [dep, range] of Object.entries(scaffolded[field] ?? {})) {
      if (dep === 'oxlint') continue;
      assert.equal(committed[field]?.[dep], range, `${manifest}/package.json has the template's ${field}.${dep} ${range}`);
    }
  }
  assert.deepEqual(committed.scripts, Object.fromEntries(Object.entries(scaffolded.scripts).filter(([k]) => k !== 'lint')), `${manifest}/package.json has the template's scripts`);
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(REPO, manifest, f), join(dir, f));
  pointAtTarball(dir, manifest);
  await install(t, dir);
  return dir;
}

/** Writes the README's snippets for `framework` into the app, each to the file its marker names. */
function writeSnippets(dir, framework) {
  const { snippets } = readmeBlocks();
  const mine = snippets.filter((s) => s.framework === framework);
  for (const s of mine) {
    mkdirSync(dirname(join(dir, s.file)), { recursive: true });
    writeFileSync(join(dir, s.file), s.code);
  }
  return mine;
}

/** Serves a production build with the given headers on its HTML (and index.html for /callback), on 127.0.0.1. */
async function startBuildServer(root, htmlHeaders) {
  const reply = (res, status) => { res.writeHead(status, { 'Content-Type': 'text/plain' }); res.end(String(status)); };
  return serve(async (req, res, path) => {
    const send = (file) => sendFile(res, req.method, file, { headers: (ext) => (ext === '.html' ? htmlHeaders : {}) });
    if (await send(fileInside(root, path.endsWith('/') ? `${path.slice(1)}index.html` : path.slice(1)))) return;
    if (!extname(path) && await send(join(root, 'index.html'))) return;
    reply(res, 404);
  }, { label: 'quickstart', reply });
}

/**
 * In a page of the Vite dev server, signed in: a second client from the module the app uses (Vite's
 * pre-bundled oidc-wasm, where Vite set process.env.NODE_ENV to "development"), handed the session by the
 * app's client, and created without `debug`, warns when fetchWithToken goes to an origin off apiOrigins:
 * `debug` defaults to on in a development build.
 */
async function debugDefaultInDevelopment(page, { issuer, apiOrigin }) {
  const r = await page.evaluate(async ([issuer, apiOrigin]) => {
    const url = performance.getEntriesByType('resource').map((e) => e.name).find((n) => /\/\.vite\/deps\/oidc-wasm\.js(\?|$)/.test(n));
    if (!url) return { error: 'the page did not load /node_modules/.vite/deps/oidc-wasm.js' };
    const warnings = [];
    const original = console.warn;
    console.warn = (...args) => { warnings.push(args.map(String).join(' ')); original.apply(console, args); };
    try {
      const { createClient } = await import(url);
      const client = await createClient({
        issuer, clientId: 'my-app', redirectUri: `${location.origin}/callback`, scope: 'openid profile email api:read', apiOrigins: [apiOrigin],
      });
      if (!client.isAuthenticated()) return { error: 'the second client was not handed the session' };
      const res = await client.fetchWithToken(`${issuer}/.well-known/openid-configuration`);
      return { status: res.status, warnings };
    } catch (e) {
      return { error: String(e) };
    } finally {
      console.warn = original;
    }
  }, [issuer, apiOrigin]);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.status, 200, 'the request off apiOrigins went through (without the token)');
  const mine = r.warnings.filter((w) => w.includes('apiOrigins'));
  assert.equal(mine.length, 1, `in a development build, debug is on by default: one warning (${JSON.stringify(r.warnings)})`);
  assert.ok(mine[0].includes(new URL(issuer).origin) && mine[0].includes(JSON.stringify([apiOrigin])), `the warning names the origin and apiOrigins: ${mine[0]}`);
}

/**
 * The README's app at `origin`, as a new user uses it: Sign in (the provider's login page, and its consent
 * page the first time), "Signed in as <name>", Call the API (200, the user's sub, the API scope), Sign out
 * (the provider's logout confirmation), and signed out again. One code exchange. No console errors, no CSP
 * violations and no apiOrigins warning from the app.
 */
async function quickstartFlow(name, origin, username, { issuer, whileSignedIn }) {
  const context = await browser.newContext();
  context.setDefaultTimeout(T.step);
  const page = await context.newPage();
  const consoleMessages = [];
  const onApp = () => { try { return new URL(page.url()).origin === origin; } catch { return false; } };
  page.on('console', (msg) => {
    if (process.env.CONSUMERS_DEBUG) console.log(`# [${name}] ${msg.type()}: ${msg.text().slice(0, 300)}`);
    if (onApp() && !/\/favicon\.(ico|svg)$/.test(msg.location()?.url ?? '')) consoleMessages.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`));
  let codeExchanges = 0;
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url() === `${issuer}/token` && /grant_type=authorization_code/.test(req.postData() ?? '')) codeExchanges += 1;
  });
  const opOrigin = new URL(issuer).origin;
  const where = () => `(${name}; console: ${JSON.stringify(consoleMessages.slice(-8).map((m) => m.slice(0, 300)))})`;
  try {
    await screenshotOnFailure(page, name, async () => {
      await page.goto(`${origin}/`);
      await page.waitForSelector('button:has-text("Sign in")', { timeout: T.signIn });
      assert.equal(await page.locator('[role="alert"]').count(), 0, `no error shown before signing in ${where()}`);
      await page.click('button:has-text("Sign in")');
      await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/interaction/'));
      await page.fill('input[name="login"]', username);
      await page.fill('input[name="password"]', 'any-password');
      await page.click('button[type="submit"]');
      await page.waitForURL((u) => u.origin === origin || (u.pathname.startsWith('/interaction/') && u.search === ''));
      if (new URL(page.url()).origin !== origin) {
        await page.click('button:has-text("Continue")'); // the consent page, on this account's first sign-in
        await page.waitForURL((u) => u.origin === origin);
      }
      const signedIn = page.locator('p:has-text("Signed in as")');
      await signedIn.waitFor({ timeout: T.signIn }).catch(async () => {
        const alert = await page.locator('[role="alert"]').textContent().catch(() => null);
        assert.fail(`not signed in after the callback${alert ? ` — the app shows: ${alert}` : ''} ${where()}`);
      });
      assert.equal((await signedIn.textContent()).trim(), `Signed in as ${accountClaims(username).name}`, `the page names the user ${where()}`);
      assert.equal(codeExchanges, 1, `one code exchange (StrictMode mounts twice in development) ${where()}`);
      assert.equal(new URL(page.url()).search, '', 'no response parameters left in the URL');

      await callsTheApi(page, 'button:has-text("Call the API")', 'pre', username, where);
      if (whileSignedIn) {
        // Whatever it logs is its own business, not the app's.
        const mark = consoleMessages.length;
        await whileSignedIn(page);
        consoleMessages.splice(mark);
      }

      await page.click('button:has-text("Sign out")');
      await page.waitForURL((u) => u.origin === opOrigin && u.pathname.startsWith('/session/end'));
      await page.click('button:has-text("Yes, sign me out")');
      await page.waitForURL((u) => u.origin === origin);
      await page.waitForSelector('button:has-text("Sign in")', { timeout: T.signIn });
      assert.equal(await page.locator('p:has-text("Signed in as")').count(), 0, 'signed out');

      const problems = consoleMessages.filter((m) => /Content Security Policy|Refused to|pageerror|^error:|apiOrigins/i.test(m));
      assert.deepEqual(problems.map((m) => m.slice(0, 300)), [], `no CSP violations, errors or apiOrigins warnings in the console (${name})`);
    });
  } finally {
    await context.close().catch(() => {});
  }
}

before(async () => {
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/react.js', 'dist/react.d.ts', 'dist/vue.js', 'dist/vue.d.ts', 'dist/oidc-wasm.global.js', 'dist/oidc_wasm_bg.wasm', 'dist/oidc_wasm_full_bg.wasm']) {
    if (!existsSync(join(PACKAGE_DIR, f))) {
      throw new Error(`${join(PACKAGE_DIR, f)} is missing: build the SDK first (node scripts/build.mjs)`);
    }
  }
  work = mkdtempSync(join(tmpdir(), 'oidc-wasm-consumers-'));

  // 1. The tarball, as `npm publish` would upload it.
  const packed = await timed(null, 'npm pack', () => run('npm', ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE_DIR, timeout: T.pack }));
  const [info] = JSON.parse(packed.slice(packed.indexOf('[')));
  tarball = join(work, info.filename);
  await run('tar', ['-xzf', tarball, '-C', work], { cwd: work, timeout: T.pack });
  pkg = JSON.parse(readFileSync(join(work, 'package', 'package.json'), 'utf8'));

  // Static servers first: the provider registers their origins as redirect URIs.
  // The plain page is examples/plain itself, with the tarball's dist/ at /dist/ (no build step).
  servers.plain = await startStaticServer({
    root: join(REPO, 'examples', 'plain'), mounts: { '/dist/': join(work, 'package', 'dist') }, spa: false,
  });
  for (const name of Object.keys(APPS)) servers[name] = await startStaticServer({});
  const devPort = await freePort();
  servers['react-dev'] = { origin: `http://127.0.0.1:${devPort}`, port: devPort };
  const callbackOf = (name) => (name === 'plain' ? '/' : '/callback');
  op = await startProvider({
    clients: Object.entries(servers).map(([name, s]) => ({
      client_id: `${name}-consumer`,
      redirect_uris: [`${s.origin}${callbackOf(name)}`],
      post_logout_redirect_uris: [`${s.origin}/`],
      // The apps that test sessionExpiresAt (popupSignIn) get no refresh token: their session ends with its
      // access token, an end the SDK announces.
      ...(APPS[name]?.popup ? { grant_types: ['authorization_code'] } : {}),
    })),
  });
  for (const s of Object.values(servers)) s.configure?.({ connectSrc: [op.issuer] });
  browser = await launchChromium({ timeout: 30_000 });
}, { timeout: T.pack * 2 });

after(async () => {
  for (const child of children) stop(child);
  await browser?.close().catch(() => {});
  await Promise.allSettled([op?.close(), ...Object.values(servers).map((s) => s.close?.())]);
  if (work && !process.env.CONSUMERS_KEEP) rmSync(work, { recursive: true, force: true });
  else if (work) console.log(`# kept ${work}`);
  console.log(`# consumers: total ${seconds(Date.now() - t0)}`);
});

describe('the packed package in real consumers', () => {
  test('the tarball holds every export target, the dev-provider command, and only dist/, dev/, package.json, README', () => {
    const files = [];
    const walk = (obj) => {
      if (typeof obj === 'string') files.push(obj);
      else if (obj && typeof obj === 'object') Object.values(obj).forEach(walk);
    };
    walk(pkg.exports);
    for (const f of files) assert.ok(existsSync(join(work, 'package', f)), `exports target ${f} is in the tarball`);
    for (const f of [pkg.main, pkg.module, pkg.types, pkg.unpkg].filter(Boolean)) {
      assert.ok(existsSync(join(work, 'package', f)), `${f} is in the tarball`);
    }
    const packed = readdirSync(join(work, 'package'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile()).map((e) => relative(join(work, 'package'), join(e.parentPath ?? e.path, e.name)));
    const stray = packed.filter((f) => !/^(dist\/|dev\/|package\.json$|README\.md$|LICENSE)/.test(f));
    assert.deepEqual(stray, [], 'nothing but dist/, dev/, package.json and README.md is published');
    // `npx oidc-wasm dev-provider`: the command and the modules it loads (oidc-provider comes from the app).
    assert.deepEqual(pkg.bin, { 'oidc-wasm': 'dev/cli.mjs' }, 'the package has the oidc-wasm command');
    assert.deepEqual(packed.filter((f) => f.startsWith('dev/')).sort(),
      ['dev/api.mjs', 'dev/cli.mjs', 'dev/deps.mjs', 'dev/dev-provider.mjs', 'dev/origin.mjs', 'dev/provider.mjs'],
      'dev/ holds the development provider and nothing else');
    assert.match(readFileSync(join(work, 'package', 'dev', 'cli.mjs'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'the command starts with a node shebang');
    assert.equal(pkg.peerDependenciesMeta?.['oidc-provider']?.optional, true, 'oidc-provider is an optional peer dependency');
  });

  test('committed lockfiles do not pin the tarball\'s integrity (npm ci would install a stale build or fail)', () => {
    for (const src of [...Object.values(APPS).map((a) => a.manifest ?? a.src), 'tests/consumers/typed', 'examples/nextjs', ...Object.values(QUICKSTART).map((q) => q.manifest)]) {
      const lock = JSON.parse(readFileSync(join(REPO, src, 'package-lock.json'), 'utf8'));
      const entry = lock.packages['node_modules/oidc-wasm'];
      assert.ok(entry, `${src}/package-lock.json has oidc-wasm`);
      assert.match(entry.resolved ?? '', /^file:.*oidc-wasm-[^/]+\.tgz$/, `${src}: oidc-wasm resolves to the packed tarball`);
      assert.equal(entry.integrity, undefined, `${src}/package-lock.json has an integrity for the tarball: delete that line (see the README's Examples section)`);
    }
  });

  test('types: a TypeScript app using the core, oidc-wasm/react and oidc-wasm/vue', { skip: !enabled('typed'), timeout: T.install + 2 * T.tsc }, async (t) => {
    const dir = prepareApp('typed', 'tests/consumers/typed');
    await install(t, dir);
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const project of ['tsconfig.json', 'tsconfig.nodenext.json']) {
      await timed(t, `tsc -p ${project}`, () => run(process.execPath, [tsc, '-p', project], { cwd: dir, timeout: T.tsc }));
    }
  });

  test('plain <script> tag: examples/plain with the tarball\'s oidc-wasm.global.js', { skip: !enabled('plain'), timeout: 2 * T.signIn }, async (t) => {
    servers.plain.configure({ config: { issuer: op.issuer, clientId: 'plain-consumer' } });
    await timed(t, 'sign in and out', () => signInAndOut('plain', servers.plain.origin, 'alan'));
  });

  for (const [name, app] of Object.entries(APPS)) {
    test(`${name}: install, production build, sign in and out`, { skip: !enabled(name), timeout: T.install + T.build + 6 * T.signIn }, async (t) => {
      const dir = prepareApp(name, app.src, app.manifest);
      await install(t, dir);
      if (app.react) {
        const react = JSON.parse(readFileSync(join(dir, 'node_modules', 'react', 'package.json'), 'utf8')).version;
        assert.ok(react.startsWith(app.react), `${name} runs on React ${app.react}x (installed: ${react})`);
      }
      await timed(t, 'build', () => run(app.build[0], app.build.slice(1), {
        cwd: dir,
        timeout: T.build,
        env: { VITE_OIDC_ISSUER: op.issuer, VITE_OIDC_CLIENT_ID: `${name}-consumer` },
      }));
      servers[name].configure({ root: join(dir, app.serve), config: { issuer: op.issuer, clientId: `${name}-consumer` } });
      await timed(t, 'sign in and out', () => signInAndOut(name, servers[name].origin, app.user));
      if (app.guards) await timed(t, 'route guards: a protected route, a failed callback, a public route', () => routeGuards(name, servers[name].origin, app.guards));
      if (app.popup) await timed(t, 'useAuth().loginWithPopup, then sessionExpiresAt before the session ends', () => popupSignIn(name, servers[name].origin, app.popup));
    });
  }

  test('react under the Vite dev server (dependency pre-bundling keeps the wasm URL working)', { skip: !enabled('react-dev'), timeout: T.install + T.devServer + 2 * T.signIn }, async (t) => {
    let dir = join(work, 'react');
    if (!existsSync(join(dir, 'node_modules'))) {
      dir = prepareApp('react', APPS.react.src);
      await install(t, dir);
    }
    const { port, origin } = servers['react-dev'];
    const vite = await timed(t, 'vite dev server start', () => startProcess(process.execPath,
      [join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
        cwd: dir,
        env: { VITE_OIDC_ISSUER: op.issuer, VITE_OIDC_CLIENT_ID: 'react-dev-consumer' },
        ready: /Local:\s+http/,
        timeout: T.devServer,
      }));
    try {
      await timed(t, 'sign in and out', () => signInAndOut('react-dev', origin, 'edsger', { csp: false }));
    } finally {
      stop(vite.child);
    }
  });

  test('nextjs: examples/nextjs (App Router) — next build, next start, server-rendered loading state, a protected page signed in, the API called, signed out', { skip: !enabled('nextjs'), timeout: T.install + T.nextBuild + T.devServer + 2 * T.signIn }, async (t) => {
    const dir = prepareApp('nextjs', 'examples/nextjs');
    await install(t, dir);
    const next = join(dir, 'node_modules', 'next', 'dist', 'bin', 'next');
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const dev = await startDevProvider({ origins: [origin], port: 0, apiPort: 0, clientId: 'nextjs-consumer' });
    const running = [];
    try {
      const env = {
        NEXT_TELEMETRY_DISABLED: '1',
        NEXT_PUBLIC_APP_ORIGIN: origin,
        NEXT_PUBLIC_OIDC_ISSUER: dev.issuer,
        NEXT_PUBLIC_OIDC_CLIENT_ID: dev.clientId,
        NEXT_PUBLIC_API_URL: dev.apiUrl,
      };
      // The build prerenders every page on the server: oidc-wasm and oidc-wasm/react are imported and
      // rendered there, so one that touched window, document or sessionStorage would fail here.
      await timed(t, 'next build', () => run(process.execPath, [next, 'build'], { cwd: dir, timeout: T.nextBuild, env }));
      const media = readdirSync(join(dir, '.next', 'static', 'media'));
      for (const module of ['oidc_wasm_bg', 'oidc_wasm_full_bg']) {
        assert.ok(media.some((f) => f.startsWith(`${module}.`) && f.endsWith('.wasm')), `Next's bundler emitted ${module}.wasm (.next/static/media: ${media.join(', ')})`);
      }
      const server = await timed(t, 'next start', () => startProcess(process.execPath, [next, 'start', '-H', '127.0.0.1', '-p', String(port)], {
        cwd: dir, env, ready: /Ready in/, timeout: T.devServer,
      }));
      running.push(server.child);

      // Server rendering, no JavaScript: the loading state and the guard's fallback, nothing signed in.
      const res = await fetch(`${origin}/protected?tab=api`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src [^;]*'wasm-unsafe-eval'/, 'the example sends a CSP with \'wasm-unsafe-eval\'');
      const html = await res.text();
      assert.match(html, /<section id="session" data-state="loading">/, 'the server renders the loading state');
      assert.match(html, /id="guard-wait"/, 'the server renders <RequireAuth>\'s fallback');
      assert.doesNotMatch(html, /id="protected"|Signed in as/, 'nothing of a session on the server');

      await timed(t, 'sign in on the protected page, API, sign out', () => nextFlow(origin, dev, 'ada'));
    } finally {
      for (const child of running) stop(child);
      await dev.close();
    }
  });

  test('the README\'s quick start, as a new user: fresh Vite + React TS app, tsc --strict, dev provider, sign-in, API call, sign-out in dev, preview and behind the README\'s CSP', { skip: !enabled('quickstart'), timeout: T.install + T.build + 2 * T.tsc + 6 * T.signIn }, async (t) => {
    const { snippets, csp } = readmeBlocks();
    assert.deepEqual(snippets.filter((s) => s.framework === 'react').map((s) => s.file).sort(), ['src/main.tsx', 'src/react-section.tsx'],
      'the README marks the React snippets (quick start and the React section)');
    assert.ok(csp, 'the README marks its Content-Security-Policy example (<!-- csp -->)');
    const dir = await scaffold(t, QUICKSTART.react);
    const written = writeSnippets(dir, 'react');
    const mainTsx = written.find((s) => s.file === 'src/main.tsx').code;
    const tsc = join(dir, 'node_modules', '.bin', 'tsc');
    await timed(t, 'tsc --strict (the README\'s snippets, as written)', () => run(tsc, ['-p', 'tsconfig.app.json', '--strict', '--noEmit'], { cwd: dir, timeout: T.tsc }));

    // Ports: the README's when free.
    const ports = {};
    for (const [k, p] of Object.entries(DEFAULT_PORTS)) ports[k] = await preferredPort(p);
    const moved = Object.entries(ports).filter(([k, p]) => p !== DEFAULT_PORTS[k]);
    if (moved.length) t.diagnostic(`ports in use, moved: ${moved.map(([k, p]) => `${k} ${DEFAULT_PORTS[k]} → ${p}`).join(', ')}`);
    const issuer = `http://127.0.0.1:${ports.op}`;
    const apiOrigin = `http://127.0.0.1:${ports.api}`;
    // The served copy names the ports in use (the same text when the defaults were free).
    const served = mainTsx.replaceAll(`http://127.0.0.1:${DEFAULT_PORTS.op}`, issuer).replaceAll(`http://127.0.0.1:${DEFAULT_PORTS.api}`, apiOrigin);
    writeFileSync(join(dir, 'src', 'main.tsx'), served);
    const devOrigin = `http://localhost:${ports.dev}`;
    const previewOrigin = `http://localhost:${ports.preview}`;
    // The production build behind the README's CSP, with its example origins replaced by the provider's and the API's.
    const policy = csp.trim().split('\n').map((line) => line.split(/:\s(.*)/s)).filter(([, v]) => v);
    const headers = Object.fromEntries(policy.map(([k, v]) => [k, v.replaceAll('https://login.example.com', issuer).replaceAll('https://api.example.com', apiOrigin)]));
    assert.match(headers['Content-Security-Policy'] ?? '', new RegExp(`connect-src [^;]*${apiOrigin.replace(/[.:/]/g, '\\$&')}`), 'the README\'s CSP lists the API origin in connect-src');
    const cspServer = await startBuildServer(join(dir, 'dist'), headers);
    const vite = join(dir, 'node_modules', 'vite', 'bin', 'vite.js');
    const running = [];
    try {
      // 1. The dev server, before the provider is up: the app shows network_error naming the discovery URL.
      const dev = await timed(t, 'vite dev server start', () => startProcess(process.execPath, [vite, '--port', String(ports.dev), '--strictPort'],
        { cwd: dir, ready: /Local:\s+http/, timeout: T.devServer }));
      running.push(dev.child);
      assert.match(dev.output(), new RegExp(`Local:\\s+${devOrigin.replace(/[.:/]/g, '\\$&')}/`), 'Vite prints the localhost origin the provider is started for');
      await timed(t, 'provider down: the app shows the error', async () => {
        const context = await browser.newContext();
        try {
          const page = await context.newPage();
          await page.goto(`${devOrigin}/`);
          const alert = page.locator('[role="alert"]');
          await alert.waitFor({ timeout: T.signIn });
          const text = await alert.textContent();
          assert.match(text, /^network_error: /, `the app shows the error code: ${text}`);
          assert.ok(text.includes(`${issuer}/.well-known/openid-configuration`), `the error names the discovery URL: ${text}`);
        } finally {
          await context.close().catch(() => {});
        }
      });

      // 2. The development provider, started as the README says, for the app's origins.
      const args = ['--no', 'oidc-wasm', 'dev-provider', '--origin', devOrigin, '--origin', previewOrigin, '--origin', cspServer.origin];
      if (ports.op !== DEFAULT_PORTS.op) args.push('--port', String(ports.op));
      if (ports.api !== DEFAULT_PORTS.api) args.push('--api-port', String(ports.api));
      const provider = await timed(t, 'npx oidc-wasm dev-provider start', () => startProcess('npx', args, { cwd: dir, ready: /Ctrl-C stops/, timeout: T.devServer }));
      running.push(provider.child);
      const printed = provider.output();
      assert.match(printed, /listens on 127\.0\.0\.1 \(loopback\) only/, 'the command says it listens on loopback only');
      assert.match(printed, /any username and password/, 'the command says any username and password sign in');
      for (const o of [devOrigin, previewOrigin, cspServer.origin]) assert.ok(printed.includes(`redirect URI ${o}/callback`), `${o} is registered`);
      const block = /\n {2}(const config: OidcConfig = \{\n[\s\S]*?\n {2}\};)\n/.exec(printed)?.[1].replace(/^ {2}/gm, '');
      assert.ok(block, `the command prints the config to paste:\n${printed}`);
      const asReadme = block.replaceAll(issuer, `http://127.0.0.1:${DEFAULT_PORTS.op}`).replaceAll(apiOrigin, `http://127.0.0.1:${DEFAULT_PORTS.api}`);
      assert.ok(mainTsx.includes(asReadme), `the README's quick start has the config the command prints:\n${asReadme}`);

      // 3. Under the dev server.
      await timed(t, 'vite dev: sign in, API, sign out', () => quickstartFlow('quickstart-dev', devOrigin, 'ada', { issuer, whileSignedIn: (page) => debugDefaultInDevelopment(page, { issuer, apiOrigin }) }));
      stop(dev.child);

      // 4. The production build: `npm run build` (tsc -b && vite build), then `vite preview`.
      await timed(t, 'npm run build (tsc -b && vite build)', () => run('npm', ['run', 'build'], { cwd: dir, timeout: T.build }));
      const preview = await timed(t, 'vite preview start', () => startProcess(process.execPath, [vite, 'preview', '--port', String(ports.preview), '--strictPort'],
        { cwd: dir, ready: /Local:\s+http/, timeout: T.devServer }));
      running.push(preview.child);
      await timed(t, 'vite preview: sign in, API, sign out', () => quickstartFlow('quickstart-preview', previewOrigin, 'grace', { issuer }));
      stop(preview.child);

      // 5. The same build behind the README's CSP.
      await timed(t, 'static server with the README\'s CSP: sign in, API, sign out', () => quickstartFlow('quickstart-csp', cspServer.origin, 'barbara', { issuer }));
    } finally {
      for (const child of running) stop(child);
      await cspServer.close();
    }
  });

  test('the README\'s Vue snippets compile with vue-tsc --strict in a fresh Vite + Vue TS app; there, without oidc-provider, the command names what to install', { skip: !enabled('quickstart-vue'), timeout: T.install + 2 * T.tsc }, async (t) => {
    const { snippets } = readmeBlocks();
    assert.deepEqual(snippets.filter((s) => s.framework === 'vue').map((s) => s.file).sort(),
      ['src/App.vue', 'src/main.ts', 'src/section/App.vue', 'src/section/main.ts'], 'the README marks the Vue snippets');
    const dir = await scaffold(t, QUICKSTART.vue);
    writeSnippets(dir, 'vue');
    await timed(t, 'vue-tsc --strict', () => run(join(dir, 'node_modules', '.bin', 'vue-tsc'), ['-p', 'tsconfig.app.json', '--strict', '--noEmit'], { cwd: dir, timeout: T.tsc }));
    // This app has no oidc-provider: the command says how to get it, and starts nothing.
    await assert.rejects(
      run('npx', ['--no', 'oidc-wasm', 'dev-provider', '--origin', 'http://localhost:5173'], { cwd: dir, timeout: T.step }),
      (err) => {
        assert.match(err.message, /exited with 1/, err.message);
        assert.match(err.message, /npm install --save-dev oidc-provider@9/, `it names the install command: ${err.message}`);
        return true;
      });
  });
});
