// Benchmarks oidc-wasm beside oidc-client-ts, @auth0/auth0-spa-js and oauth4webapi, in one headless
// Chromium against one local OpenID Provider on 127.0.0.1, and writes BENCHMARKS.md.
//
//   npm run bench        (= scripts/setup.sh --browser, scripts/build.mjs, then this file)
//   node bench/run.mjs   (needs dist/ and build/wasm/ from `node scripts/build.mjs`)
//
// Environment: BENCH_QUICK=1 (few iterations: proves the harness, numbers not for publishing);
// BENCH_ROUNDS (page loads per library for cold start and callback, default 20), BENCH_ITERATIONS
// (verification and fetch iterations, default 1000), BENCH_STORM (concurrent calls per storm, default 1000;
// the multi-tab storm splits them evenly across its tabs),
// BENCH_TABS (tabs in the multi-tab storm, default 5), CHROMIUM (default /usr/bin/chromium),
// BENCH_RAW (also every measurement as JSON, to that path), BENCH_OUT (report path, default BENCHMARKS.md at the repository root), BENCH_ONLY (comma-separated subset of
// cold,callback,verify,fetch,storm: runs only those and prints their medians instead of writing a report — for
// checking one change quickly; published numbers come from a full run).
// Tokens are never printed: the OP and the API record SHA-256 fingerprints only.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH = join(ROOT, 'bench');
const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 20));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? (QUICK ? 200 : 1000));
const STORM = Number(process.env.BENCH_STORM ?? 1000); // concurrent calls per storm (split across the tabs)
const TABS = Number(process.env.BENCH_TABS ?? 5);
const STORM_TTL = 8; // seconds: the bench-storm client's access-token lifetime
const OUT = resolve(ROOT, process.env.BENCH_OUT ?? 'BENCHMARKS.md');
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : null;
const want = (section) => !ONLY || ONLY.has(section);
const started = Date.now();
const log = (...a) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s]`, ...a);

// The libraries compared, installed from bench/package-lock.json (dev dependencies of bench/ only).
const LIB_DEPS = ['oidc-client-ts', '@auth0/auth0-spa-js', 'oauth4webapi'];
if (!LIB_DEPS.every((d) => existsSync(join(BENCH, 'node_modules', d, 'package.json')))) {
  log('installing the compared libraries: npm ci --prefix bench (from bench/package-lock.json)');
  execFileSync('npm', ['ci', '--prefix', BENCH, '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: ROOT, stdio: 'inherit' });
}

const { buildAll, LIBS, FULL } = await import('./build.mjs');
const { startBenchOp } = await import('./op.mjs');
const { startAppServer } = await import('./server.mjs');
const { writeReport, median, pairedRatio } = await import('./report.mjs');
const { chromium } = await import('playwright-core');

// ---------------------------------------------------------------------------------------------------
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shuffle = (a) => {
  const b = [...a];
  for (let i = b.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
};

log(`mode: ${QUICK ? 'QUICK (reduced counts)' : 'full'}; rounds ${ROUNDS}, iterations ${ITERATIONS}, storm ${STORM} × ${TABS} tabs`);
const load0 = loadavg();
log('building the minimal apps and measuring sizes');
const built = buildAll(ROOT, log);

const app = await startAppServer({ outDir: join(BENCH, 'out'), libs: LIBS });
const op = await startBenchOp({
  clients: [...LIBS.map((l) => ({ client_id: l, redirect_uris: [app.redirectUri(l)] })), { client_id: 'bench-storm', redirect_uris: [app.redirectUri('storm')] }],
  stormTtl: STORM_TTL,
});
app.setIssuer(op.issuer);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
const chromiumVersion = browser.version();
const pageErrors = [];
async function newContext() {
  const context = await browser.newContext();
  context.setDefaultTimeout(30_000);
  context.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${new URL(p.url()).pathname}: ${e.message}`)));
  return context;
}
const waitBench = (page, key) => page.waitForFunction((k) => window.__bench?.[k] !== undefined || window.__bench?.error !== undefined, key)
  .then(() => page.evaluate(() => window.__bench?.error)).then((err) => { if (err) throw new Error(err); });

const results = { coldStart: {}, callback: {}, callbackRequests: {}, timelines: { cold: [], callback: [] }, verify: null, fetch: null, storms: [] };
// Where oidc-wasm's time goes on a page: its requests from the page's resource timing (ms from navigation
// start; cross-origin entries keep startTime and responseEnd), the first script, ready and user, and the
// calls the page's phase probes recorded (bench/server.mjs: wasm instantiation, the Web Locks query,
// WebCrypto), each [start, end].
const timeline = (page) => page.evaluate(() => {
  const entry = (re) => performance.getEntriesByType('resource').find((e) => re.test(new URL(e.name).pathname));
  const span = (re) => { const e = entry(re); return e ? [e.startTime, e.responseEnd] : null; };
  return {
    t0: window.__t0, app: span(/app\.js$/), wasm: span(/\.wasm$/), discovery: span(/openid-configuration$/),
    token: span(/\/token$/), jwks: span(/\/jwks$/), ready: window.__bench.ready, user: window.__bench.user ?? null,
    calls: window.__phases ?? {},
  };
});
try {
  // 2. Cold start: a fresh context (empty HTTP cache, no compiled-code cache) per page load.
  if (want('cold')) log(`cold start: ${ROUNDS} page loads per library`);
  for (const lib of LIBS) results.coldStart[lib] = [];
  for (let r = 0; r < (want('cold') ? ROUNDS : 0); r += 1) {
    for (const lib of shuffle(LIBS)) {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${app.origin}/${lib}/`);
      await waitBench(page, 'ready');
      results.coldStart[lib].push(await page.evaluate(() => window.__bench.ready));
      if (lib === 'oidc-wasm') results.timelines.cold.push(await timeline(page));
      await context.close();
    }
  }

  // 3. Callback: a fresh context per login; the app page loads (so the bundle is in the HTTP cache, as
  // after a real login redirect), login() goes to the OP, which auto-approves and redirects back.
  if (want('callback')) log(`callback: ${ROUNDS} logins per library`);
  for (const lib of LIBS) { results.callback[lib] = []; results.callbackRequests[lib] = {}; }
  for (let r = 0; r < (want('callback') ? ROUNDS : 0); r += 1) {
    for (const lib of shuffle(LIBS)) {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(`${app.origin}/${lib}/`);
      await waitBench(page, 'ready');
      const before = { ...op.counters };
      await Promise.all([page.waitForURL(`${app.origin}/${lib}/callback?**`), page.evaluate(() => { window.__bench.login(); })]);
      await waitBench(page, 'api');
      const b = await page.evaluate(() => ({ ms: window.__bench.user - window.__t0, name: window.__bench.name, api: window.__bench.api }));
      if (b.name !== 'Bench User' || b.api !== 200) throw new Error(`${lib}: callback gave name ${b.name}, API status ${b.api}`);
      results.callback[lib].push(b.ms);
      if (lib === 'oidc-wasm') results.timelines.callback.push(await timeline(page));
      for (const [k, v] of Object.entries(op.counters)) {
        const d = v - (before[k] ?? 0);
        if (d && !/^(authorization|interaction)/.test(k)) results.callbackRequests[lib][k] = (results.callbackRequests[lib][k] ?? 0) + d;
      }
      await context.close();
    }
  }
  for (const lib of LIBS) for (const k of Object.keys(results.callbackRequests[lib])) results.callbackRequests[lib][k] /= ROUNDS;

  // 4. Verification cost.
  if (want('verify')) {
  log(`verification: ${ITERATIONS} iterations each (${built.coreHook ? 'the core\'s verifyIdToken method (bench feature)' : 'through the callback: no hook in this core'})`);
  {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${app.origin}/verify/?n=${ITERATIONS}`);
    await page.waitForFunction(() => window.__bench?.result || window.__bench?.error, null, { timeout: 600_000 });
    const { result, error } = await page.evaluate(() => window.__bench);
    if (error) throw new Error(`verification page: ${error}`);
    results.verify = result;
    await context.close();
  }
  }

  // 5. fetchWithToken overhead: signed in with oidc-wasm, then alternating blocks of sequential calls.
  if (want('fetch')) {
  log(`fetchWithToken: ${ITERATIONS} sequential calls against raw fetch`);
  {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${app.origin}/oidc-wasm/`);
    await waitBench(page, 'ready');
    await Promise.all([page.waitForURL(`${app.origin}/oidc-wasm/callback?**`), page.evaluate(() => { window.__bench.login(); })]);
    await waitBench(page, 'api');
    const authLength = app.api.authLength; // so the raw fetch sends a header of the same size (a dummy)
    results.fetch = await page.evaluate(async ({ n, block, authLength: len, api }) => {
      const client = window.__bench.client;
      const header = `Bearer ${'x'.repeat(len - 7)}`;
      const contestants = {
        fetchWithToken: () => client.fetchWithToken(api).then((r) => r.text()),
        raw: () => fetch(api, { headers: { authorization: header } }).then((r) => r.text()),
      };
      for (let i = 0; i < 30; i += 1) { await contestants.fetchWithToken(); await contestants.raw(); }
      const samples = { fetchWithToken: [], raw: [] };
      const names = Object.keys(contestants);
      for (let b = 0; b < Math.max(1, Math.round(n / block)); b += 1) {
        for (const name of (b % 2 ? [...names].reverse() : names)) {
          const t0 = performance.now();
          for (let i = 0; i < block; i += 1) await contestants[name]();
          samples[name].push(((performance.now() - t0) / block) * 1000); // µs per call
        }
      }
      return { n: Math.max(1, Math.round(n / block)) * block, block, samples };
    }, { n: ITERATIONS, block: 10, authLength, api: `${app.origin}/api/ping` });
    await context.close();
  }
  }

  // 6. Refresh storms: `bench-storm` tokens live STORM_TTL s and the app refreshes at expiry (margin 0).
  for (const tabs of want('storm') ? [1, TABS] : []) {
    const calls = Math.ceil(STORM / tabs);
    log(`refresh storm: ${calls} concurrent fetchWithToken calls in each of ${tabs} tab(s) on an expired token`);
    const context = await newContext();
    try {
    const pages = [await context.newPage()];
    await pages[0].goto(`${app.origin}/storm/`);
    await waitBench(pages[0], 'ready');
    await Promise.all([pages[0].waitForURL(`${app.origin}/storm/callback?**`), pages[0].evaluate(() => { window.__bench.login(); })]);
    await waitBench(pages[0], 'api');
    const signedInAt = Date.now();
    for (let t = 1; t < tabs; t += 1) {
      const p = await context.newPage();
      await p.goto(`${app.origin}/storm/`); // takes the session over from the open tab (BroadcastChannel)
      await waitBench(p, 'ready');
      await p.waitForFunction(() => window.__bench.client.isAuthenticated());
      pages.push(p);
    }
    await sleep(Math.max(0, signedInAt + (STORM_TTL + 1) * 1000 - Date.now()));
    op.reset();
    app.resetApi();
    const at = Date.now() + 500; // every tab starts at the same moment
    const perTab = await Promise.all(pages.map((p) => p.evaluate(async ({ n, at: start, api }) => {
      await new Promise((r) => setTimeout(r, Math.max(0, start - Date.now())));
      const t0 = performance.now();
      const outcomes = await Promise.all(Array.from({ length: n }, () => window.__bench.client.fetchWithToken(api)
        .then((r) => String(r.status), (e) => `error ${e?.code ?? e?.message ?? e}`)));
      const counts = {};
      for (const o of outcomes) counts[o] = (counts[o] ?? 0) + 1;
      return { ms: performance.now() - t0, counts };
    }, { n: calls, at, api: `${app.origin}/api/ping` })));
    const refreshes = op.tokenRequests.filter((t) => t.grantType === 'refresh_token');
    const presented = refreshes.map((t) => t.presented);
    const counts = {};
    for (const t of perTab) for (const [k, v] of Object.entries(t.counts)) counts[k] = (counts[k] ?? 0) + v;
    results.storms.push({
      tabs,
      callsPerTab: calls,
      tokenRequests: op.tokenRequests.length,
      refreshRequests: refreshes.length,
      refreshTokenReused: presented.length !== new Set(presented).size,
      refreshStatuses: refreshes.map((t) => t.status),
      refreshAt: refreshes.map((t) => t.at - at), // ms after the storm's start
      outcomes: counts,
      apiRequests: app.api.requests,
      distinctAuthorization: app.api.fingerprints.size,
      msPerTab: perTab.map((t) => t.ms),
    });
    } catch (e) {
      results.storms.push({ tabs, callsPerTab: calls, error: String(e?.message ?? e).split('\n')[0] });
    } finally {
      await context.close().catch(() => {});
    }
  }
} finally {
  await browser.close().catch(() => {});
  await op.close();
  await app.close();
}

// ---------------------------------------------------------------------------------------------------
const cpuModel = (() => {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model ?? 'unknown';
  }
})();
const git = (args) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return ''; } };
const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
const machine = {
  cores: cpus().length,
  cpuModel,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  chromium: chromiumVersion,
  loadBefore: load0,
  loadAfter: loadavg(),
  commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'src', 'js', 'Cargo.toml', 'Cargo.lock']) ? ' (with uncommitted changes to src/js)' : ''}`,
  versions: {
    'oidc-wasm': JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    'oidc-client-ts': version(join(BENCH, 'node_modules', 'oidc-client-ts')),
    'auth0-spa-js': version(join(BENCH, 'node_modules', '@auth0', 'auth0-spa-js')),
    oauth4webapi: version(join(BENCH, 'node_modules', 'oauth4webapi')),
    esbuild: version(join(ROOT, 'node_modules', 'esbuild')),
    'oidc-provider': version(join(ROOT, 'node_modules', 'oidc-provider')),
    'playwright-core': version(join(ROOT, 'node_modules', 'playwright-core')),
  },
};
const command = process.env.npm_lifecycle_event === 'bench' ? 'npm run bench' : `node ${relative(ROOT, fileURLToPath(import.meta.url))}`;
const envUsed = ['BENCH_QUICK', 'BENCH_ROUNDS', 'BENCH_ITERATIONS', 'BENCH_STORM', 'BENCH_TABS'].filter((k) => process.env[k] !== undefined)
  .map((k) => `${k}=${process.env[k]}`).join(' ');
// BENCH_RAW=<file>: every measurement as JSON too (per load, per call), to look at what the medians hide.
if (process.env.BENCH_RAW) writeFileSync(resolve(process.env.BENCH_RAW), JSON.stringify({ counts: { rounds: ROUNDS, iterations: ITERATIONS }, results }, null, 1));
if (ONLY) {
  for (const name of ['oidc-wasm', FULL]) {
    const size = built.sizes[name];
    log(`${name} size: JS ${size.js.gzip} + wasm ${size.wasm.gzip} = ${size.js.gzip + size.wasm.gzip} B gzip`);
  }
  for (const [name, per] of [['cold start', results.coldStart], ['callback', results.callback]]) {
    const line = Object.entries(per).filter(([, v]) => v.length).map(([k, v]) => `${k} ${median(v).toFixed(1)} ms`).join(', ');
    if (line) log(`${name} medians: ${line}`);
  }
  const paired = (a, b) => pairedRatio(a, b).toFixed(2);
  for (const [name, per] of [['cold start', results.coldStart], ['callback', results.callback]]) {
    if (!per['oidc-wasm']?.length) continue;
    log(`${name} paired ratios, oidc-wasm ÷ anchor: ${LIBS.filter((l) => l !== 'oidc-wasm').map((l) => `${l} ${paired(per['oidc-wasm'], per[l])}`).join(', ')}`);
  }
  if (results.verify) {
    const s = results.verify.samples;
    log(`verification medians (µs): ${Object.entries(s).map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')}; paired ratio shipped/bare import+verify ${paired(s.wasmCached, s.bareUncached)}`);
  }
  if (results.fetch) {
    const s = results.fetch.samples;
    log(`fetch medians (µs): ${Object.entries(s).map(([k, v]) => `${k} ${median(v).toFixed(0)}`).join(', ')}; paired ratio ${paired(s.fetchWithToken, s.raw)}`);
  }
  for (const s of results.storms) log(`storm ${s.tabs} tab(s): ${s.refreshRequests ?? s.error} refresh request(s)`);
  process.exit(pageErrors.length ? 1 : 0);
}
const report = writeReport({
  quick: QUICK,
  command: envUsed ? `${envUsed} ${command}` : command,
  seconds: (Date.now() - started) / 1000,
  date: new Date().toISOString(),
  counts: { rounds: ROUNDS, iterations: ITERATIONS, storm: STORM, tabs: TABS, stormTtl: STORM_TTL },
  machine,
  built,
  results,
  pageErrors,
});
writeFileSync(OUT, report.markdown);
log(`wrote ${relative(ROOT, OUT)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
for (const line of report.targets) console.log(`  ${line}`);
if (report.failures.length) {
  console.error(`bench: ${report.failures.length} correctness check(s) failed:\n  ${report.failures.join('\n  ')}`);
  process.exitCode = 1;
}
