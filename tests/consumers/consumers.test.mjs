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
//      Vite dev server (dependency pre-bundling and the wasm URL).
//
// npm installs use npm's own cache only (`--prefer-offline`). Each step is bounded in time and its
// duration is printed as a test diagnostic. Failure messages carry the tail of the failing command's
// output; a failed sign-in leaves a screenshot in tests/consumers/artifacts/. No token is ever printed.
//
// Environment: CHROMIUM (default /usr/bin/chromium); CONSUMERS_PACKAGE_DIR (a directory to pack instead of
// the repository); CONSUMERS_ONLY (comma-separated subset: typed,plain,react,react18,react-dev,vue,webpack);
// CONSUMERS_KEEP=1 keeps the temp dir; CONSUMERS_DEBUG=1 prints the pages' console.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { accountClaims, startProvider } from '../../dev/provider.mjs';
import { startStaticServer } from '../../examples/plain/serve.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGE_DIR = resolve(process.env.CONSUMERS_PACKAGE_DIR ?? REPO);
const ARTIFACTS = join(REPO, 'tests', 'consumers', 'artifacts');
const ONLY = process.env.CONSUMERS_ONLY ? new Set(process.env.CONSUMERS_ONLY.split(',').map((s) => s.trim())) : null;
const enabled = (name) => !ONLY || ONLY.has(name);

const MINUTE = 60_000;
const T = { pack: 2 * MINUTE, install: 4 * MINUTE, build: 2 * MINUTE, tsc: 2 * MINUTE, signIn: 45_000, step: 15_000, devServer: MINUTE };

// The apps: where their sources are (copied without node_modules and build output), how they are built,
// what is served, and who signs in. Their redirect URI is /callback.
const APPS = {
  react: { src: 'examples/react', build: ['npm', 'run', 'build'], serve: 'dist', user: 'ada', react: '19.' },
  // The same app on React 18: examples/react's sources with the manifest and lockfile of tests/consumers/react18.
  react18: { src: 'examples/react', manifest: 'tests/consumers/react18', build: ['npm', 'run', 'build'], serve: 'dist', user: 'alan', react: '18.' },
  vue: { src: 'examples/vue', build: ['npm', 'run', 'build'], serve: 'dist', user: 'grace' },
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
  return dest;
}

async function install(t, dir) {
  const ci = existsSync(join(dir, 'package-lock.json'));
  await timed(t, ci ? 'npm ci' : 'npm install', () => run('npm', [ci ? 'ci' : 'install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, timeout: T.install }));
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

before(async () => {
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/react.js', 'dist/react.d.ts', 'dist/vue.js', 'dist/vue.d.ts', 'dist/oidc-wasm.global.js', 'dist/oidc_wasm_bg.wasm']) {
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
    for (const src of [...Object.values(APPS).map((a) => a.manifest ?? a.src), 'tests/consumers/typed']) {
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
    test(`${name}: install, production build, sign in and out`, { skip: !enabled(name), timeout: T.install + T.build + 2 * T.signIn }, async (t) => {
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
});
