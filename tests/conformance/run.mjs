// The conformance runner: drives the built SDK (dist/) in headless Chromium through every hostile-provider
// case of cases.mjs and checks the outcome — accepted with the right user, or rejected with the expected
// OidcError code at the expected stage, and with NO further request to the provider after the bad
// artefact (how the OpenID Foundation suite scores a rejection; fetching the JWKS to verify is allowed).
//
//   node tests/conformance/run.mjs [--only name,name] [--concurrency 2] [--verbose]
//
// One line per case, then `conformance: N/M correct`; exits 1 unless all are correct.
// Needs dist/ (node scripts/build.mjs) and Chromium (CHROMIUM, default /usr/bin/chromium).
// Every case runs in a fresh browser context (its own sessionStorage, IndexedDB, Web Locks), bounded to
// CASE_TIMEOUT_MS (plus the case's own waits). CONFORMANCE_CONCURRENCY (default 2) contexts run at once in one
// browser; CONFORMANCE_DIST tests another build than dist/ (copied to a temporary directory first, as dist/ is). Nothing secret is printed: results carry error codes, claim names and endpoint names.

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../support/chromium.mjs';
import { CASES, CLIENT_ID, DEFAULT_FLOW, SUB, caseByName } from './cases.mjs';
import { startHostileOp } from './hostile-op.mjs';
import { startApp } from './app/server.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CASE_TIMEOUT_MS = 15_000;
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];

/** Codes that refuse the authorization response itself: the token endpoint must not be called. */
const PRE_TOKEN_CODES = ['state_missing', 'state_unknown', 'transaction_expired', 'iss_missing', 'iss_mismatch', 'authorization_error', 'callback_invalid'];

/** The request that delivered the bad artefact of an expected rejection, and what may follow it. Judged
 * from the expectation, not from what the SDK did, so a token request after a refused callback is caught. */
function artefactIndex(expect, log) {
  const last = (name) => log.lastIndexOf(name);
  switch (expect.stage) {
    case 'createClient': return { index: log.indexOf('discovery'), allowed: [] };
    case 'callback': return PRE_TOKEN_CODES.includes(expect.code)
      ? { index: last('authorize'), allowed: ['discovery'] } // the callback page's own createClient
      : { index: log.indexOf('token'), allowed: ['jwks'] };
    case 'refresh': return { index: log.indexOf('refresh', log.indexOf('token')), allowed: ['jwks'] };
    case 'userinfo': return { index: log.indexOf('userinfo'), allowed: [] };
    case 'api': return { index: last('api'), allowed: ['jwks'] };
    default: return { index: log.length - 1, allowed: [] };
  }
}

const describeExpect = (e) => (e.outcome === 'accepted' ? 'accepted' : `rejected ${e.codes ? e.codes.join('|') : e.code} @${e.stage}`);
const describeActual = (r) => {
  if (!r) return 'no result';
  if (r.outcome === 'accepted') return `accepted sub=${r.sub}`;
  if (r.outcome === 'rejected') return `rejected ${r.code} @${r.stage}`;
  return `${r.outcome} ${r.code ?? ''} ${r.message ?? ''}`.trim();
};

/** Checks one case; returns the reasons it is not correct (empty = correct). */
export function evaluate(cs, result, opState, pageProblems) {
  const reasons = [];
  const exp = cs.expect;
  const log = opState.log;
  const checks = cs.checks ?? {};
  const count = (name) => log.filter((x) => x === name).length;
  if (!result) return ['no result within the time limit', ...pageProblems.map((p) => `page: ${p}`)];

  if (exp.outcome === 'accepted') {
    if (result.outcome !== 'accepted') reasons.push(`expected acceptance, got ${describeActual(result)}`);
    else if (result.sub !== SUB) reasons.push(`accepted with sub ${result.sub}, expected ${SUB}`);
    for (const st of result.steps) {
      if (!st.ok) reasons.push(`step ${st.step} failed: ${st.code}`);
      if ((st.step === 'userinfo' || st.step === 'refresh' || st.step === 'callback') && st.ok && st.sub !== SUB) {
        reasons.push(`step ${st.step} gave sub ${st.sub}`);
      }
    }
    if (checks.userinfoClaim) {
      const [claim, value] = checks.userinfoClaim;
      const ui = result.steps.find((s) => s.step === 'userinfo');
      if (!ui?.claims?.includes(claim) || ui[claim] !== value) reasons.push(`userinfo lacks ${claim}`);
    }
  } else {
    if (result.outcome !== 'rejected') reasons.push(`expected ${describeExpect(exp)}, got ${describeActual(result)}`);
    else {
      const codes = exp.codes ?? [exp.code];
      if (!codes.includes(result.code)) reasons.push(`expected code ${codes.join('|')}, got ${result.code}`);
      if (result.stage !== exp.stage) reasons.push(`expected stage ${exp.stage}, got ${result.stage}`);
      // No further request after the artefact.
      const { index, allowed } = artefactIndex(exp, log);
      if (index < 0) reasons.push(`the OP log has no request that delivered the artefact of stage ${exp.stage}`);
      const after = log.slice(index + 1).filter((x) => !allowed.includes(x));
      if (after.length) reasons.push(`further request(s) after the rejected artefact: ${after.join(', ')}`);
      // The probes after a rejected callback/refresh: no session is left.
      for (const st of result.steps.filter((s) => s.step.startsWith('probe:'))) {
        if (st.step === 'probe:getUser' ? !st.ok : st.ok || st.code !== 'not_signed_in') {
          reasons.push(`${st.step}: ${st.ok ? 'succeeded' : st.code} (expected not_signed_in / no user)`);
        }
      }
    }
  }
  if (result.urlParamsAfterCallback) {
    const left = result.urlParamsAfterCallback.filter((p) => RESPONSE_PARAMS.includes(p));
    if (left.length) reasons.push(`the URL still holds ${left.join(', ')} after handleCallback`);
  }
  if (count('attacker')) reasons.push(`the attacker's URL was fetched ${count('attacker')} time(s)`);
  if (count('jwks:wrong-path')) reasons.push('the JWKS was fetched from a path other than the metadata\'s jwks_uri');
  if (checks.jwksFetches !== undefined && count('jwks') !== checks.jwksFetches) {
    reasons.push(`expected ${checks.jwksFetches} JWKS fetch(es), saw ${count('jwks')}`);
  }
  if (checks.maxJwksFetches !== undefined && count('jwks') > checks.maxJwksFetches) {
    reasons.push(`expected at most ${checks.maxJwksFetches} JWKS fetch(es), saw ${count('jwks')}`);
  }
  if (checks.refreshes !== undefined && count('refresh') !== checks.refreshes) {
    reasons.push(`expected ${checks.refreshes} refresh request(s), saw ${count('refresh')}`);
  }
  if (checks.maxRejectMs !== undefined) {
    const ms = result.msAfterTokenResponse;
    if (typeof ms !== 'number') reasons.push('no timing for the rejection');
    else if (ms >= checks.maxRejectMs) reasons.push(`rejection took ${ms} ms after the token response (limit ${checks.maxRejectMs})`);
  }
  if (checks.oauthError !== undefined) {
    const got = result.steps.find((s) => s.step === 'callback')?.error;
    if (got !== checks.oauthError) reasons.push(`expected the provider's error ${checks.oauthError}, got ${got}`);
  }
  for (const v of opState.violations) reasons.push(`protocol violation seen by the OP: ${v}`);
  for (const p of pageProblems) reasons.push(`page: ${p}`);
  return reasons;
}

async function runCase(browser, app, op, cs) {
  // The bound per case: CASE_TIMEOUT_MS plus the waits the case itself asks for (JWKS cache ageing).
  const limit = CASE_TIMEOUT_MS + (cs.flow ?? []).filter((s) => s.startsWith('wait:')).reduce((t, s) => t + Number(s.slice(5)), 0);
  const opState = op.reset(cs.name);
  const t0 = Date.now();
  const phases = {};
  const context = await browser.newContext();
  const page = await context.newPage();
  phases.context = Date.now() - t0;
  const problems = [];
  const consoleLines = []; // for diagnosis of a failed case; the SDK and the page log no secret
  page.on('console', (msg) => {
    const text = msg.text();
    consoleLines.push(`${msg.type()}: ${text.slice(0, 200)}`);
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text.slice(0, 200)}`);
  });
  const navigations = [];
  page.on('framenavigated', (f) => {
    if (f !== page.mainFrame()) return;
    const path = new URL(f.url()).pathname;
    navigations.push(path);
    if (path.startsWith('/callback/')) phases.callbackPage = Date.now() - t0;
  });
  page.on('pageerror', (err) => problems.push(`uncaught: ${String(err.message).slice(0, 200)}`));
  let result = null;
  try {
    await page.goto(`${app.origin}/start/${cs.name}`, { timeout: limit });
    await page.waitForSelector('body[data-done]', { state: 'attached', timeout: Math.max(1, limit - (Date.now() - t0)) });
    phases.done = Date.now() - t0;
    result = await page.evaluate(() => window.__result);
  } catch (err) {
    problems.push(`runner: ${String(err.message).split('\n')[0].slice(0, 200)}`);
    problems.push(`navigations: ${navigations.join(' → ') || 'none'}`);
    for (const line of consoleLines.slice(-5)) problems.push(`console ${line}`);
  } finally {
    await context.close().catch(() => {});
  }
  const ms = Date.now() - t0;
  phases.closed = ms;
  const reasons = evaluate(cs, result, opState, problems);
  return {
    name: cs.name, ref: cs.ref, what: cs.what, ok: reasons.length === 0, reasons, ms,
    expected: describeExpect(cs.expect), actual: describeActual(result),
    phases, log: [...opState.log], steps: result?.steps ?? [], msAfterTokenResponse: result?.msAfterTokenResponse,
  };
}

/**
 * Runs the suite. Returns { results, correct, total, seconds }.
 * @param {{ only?: string[], concurrency?: number, print?: (line: string) => void, verbose?: boolean }} options
 */
export async function runConformance({ only, concurrency = Number(process.env.CONFORMANCE_CONCURRENCY ?? 2), print = console.log, verbose = false } = {}) {
  // A snapshot of the SDK under test, so a rebuild of dist/ during the run cannot change it halfway.
  const distSource = resolve(process.env.CONFORMANCE_DIST ?? join(REPO, 'dist'));
  const shipped = ['index.js', 'oidc_wasm_bg.wasm', 'oidc_wasm_full_bg.wasm'];
  for (const f of shipped) {
    if (!existsSync(join(distSource, f))) throw new Error(`${join(distSource, f)} is missing: build the SDK first (node scripts/build.mjs)`);
  }
  const distDir = mkdtempSync(join(tmpdir(), 'oidc-wasm-conformance-'));
  const fingerprint = shipped.map((f) => {
    copyFileSync(join(distSource, f), join(distDir, f));
    const sha = createHash('sha256').update(readFileSync(join(distDir, f))).digest('hex').slice(0, 12);
    return `${f} ${sha} (${statSync(join(distSource, f)).mtime.toISOString()})`;
  });
  print(`SDK under test: ${distSource}: ${fingerprint.join(', ')}`);
  const cases = only?.length ? only.map((n) => caseByName(n) ?? (() => { throw new Error(`unknown case ${n}`); })()) : CASES;
  const started = Date.now();
  let op;
  const app = await startApp({
    distDir,
    opOrigin: () => op.origin,
    caseConfig: (name) => {
      const cs = caseByName(name);
      if (!cs) return undefined;
      const issuer = op.issuerFor(name);
      return {
        client: { issuer, clientId: CLIENT_ID, redirectUri: op.redirectUriFor(name), scope: 'openid profile email', apiOrigins: [op.origin] },
        flow: cs.flow ?? DEFAULT_FLOW,
        tokenEndpoint: `${issuer}/token`,
        apiUrl: `${issuer}/api`,
      };
    },
  });
  op = await startHostileOp({ appOrigin: app.origin });
  const browser = await launchChromium({ extraArgs: (process.env.CONFORMANCE_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean), timeout: 30_000 });
  const results = new Array(cases.length);
  try {
    // The cases that wait for the JWKS cache to age go first, so their waits overlap the others.
    const order = cases.map((cs, i) => i).sort((a, b) => Number((cases[b].flow ?? []).some((s) => s.startsWith('wait:'))) - Number((cases[a].flow ?? []).some((s) => s.startsWith('wait:'))));
    let next = 0;
    const worker = async () => {
      while (next < order.length) {
        const i = order[next++];
        const r = await runCase(browser, app, op, cases[i]);
        results[i] = r;
        const timing = typeof r.msAfterTokenResponse === 'number' && cases[i].checks?.maxRejectMs ? `, rejected ${r.msAfterTokenResponse} ms after the token response` : '';
        print(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(42)} expected: ${r.expected.padEnd(40)} actual: ${r.actual}  (${(r.ms / 1000).toFixed(1)} s${timing})`);
        if (!r.ok || verbose) {
          for (const reason of r.reasons) print(`       - ${reason}`);
          print(`       requests: ${r.log.join(' → ')}`);
          if (verbose) print(`       ms: ${JSON.stringify(r.phases)} steps: ${r.steps.map((s) => `${s.step}=${s.ms ?? '-'}`).join(' ')}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, cases.length)) }, worker));
  } finally {
    await browser.close().catch(() => {});
    await Promise.allSettled([op.close(), app.close()]);
    rmSync(distDir, { recursive: true, force: true });
  }
  const correct = results.filter((r) => r.ok).length;
  const seconds = (Date.now() - started) / 1000;
  print(`conformance: ${correct}/${results.length} correct (${seconds.toFixed(1)} s)`);
  return { results, correct, total: results.length, seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const only = opt('--only')?.split(',').filter(Boolean);
  const concurrency = Number(opt('--concurrency') ?? process.env.CONFORMANCE_CONCURRENCY ?? 2);
  runConformance({ only, concurrency, verbose: args.includes('--verbose') })
    .then(({ correct, total }) => { process.exitCode = correct === total ? 0 : 1; })
    .catch((err) => { console.error(err); process.exitCode = 1; });
}
