// The conformance test page: one case per page load, the case named by the path.
//   /start/<case>     createClient with the case's issuer, then login() (navigates to the hostile OP)
//   /callback/<case>  createClient, handleCallback(), then the case's flow steps
// The result goes to window.__result and, as JSON, into #out and body[data-done]:
//   { outcome: 'accepted', sub, steps } | { outcome: 'rejected', code, stage, steps }
// Each step records its name, ok, error code / OAuth error (never a token), and duration. After a rejection
// at the callback or a refresh the page still probes getUserInfo() and refresh(): an SDK that kept the bad
// session would make a request there, which the runner sees in the OP's request log.
import { createClient } from '/dist/index.js';

const [, mode, name] = location.pathname.split('/');
const steps = [];

function finish(result) {
  const full = { case: name, ...result, steps, urlParamsAfterCallback: window.__urlParamsAfterCallback ?? null };
  window.__result = full;
  document.getElementById('out').textContent = JSON.stringify(full, null, 2);
  document.body.dataset.done = '1';
}

function describe(e) {
  return { code: e?.code ?? 'not_an_oidc_error', error: e?.error, message: String(e?.message ?? e).slice(0, 300) };
}

async function step(stepName, fn) {
  const t0 = performance.now();
  try {
    const value = await fn();
    steps.push({ step: stepName, ok: true, ms: Math.round(performance.now() - t0), ...(value ?? {}) });
    return null;
  } catch (e) {
    const rejectedAt = performance.now();
    steps.push({ step: stepName, ok: false, ms: Math.round(rejectedAt - t0), ...describe(e) });
    return { e, rejectedAt, startedAt: t0 };
  }
}

/** Milliseconds from the end of the last token response (Resource Timing) to `at`. A response the SDK
 * refused unread (its Content-Length over the 1 MiB cap) leaves no Resource Timing entry in Chromium: then
 * from `since` (the start of the step, so an upper bound of the time after the response). */
function sinceTokenResponse(tokenEndpoint, at, since) {
  const entries = performance.getEntriesByType('resource').filter((r) => r.name === tokenEndpoint && r.responseEnd > 0);
  const last = entries.at(-1);
  return Math.round(at - (last ? last.responseEnd : since));
}

async function main() {
  const cfg = await (await fetch(`/case/${encodeURIComponent(name)}.json`)).json();
  let client;
  const created = await step('createClient', async () => { client = await createClient(cfg.client); });
  if (created) return finish({ outcome: 'rejected', stage: 'createClient', ...describe(created.e) });

  if (mode === 'start') {
    const failed = await step('login', () => client.login());
    if (failed) return finish({ outcome: 'rejected', stage: 'login', ...describe(failed.e) });
    return; // navigating to the authorization endpoint
  }

  let rejection = null;
  const callback = await step('callback', async () => {
    const { user } = await client.handleCallback();
    return { sub: user.sub };
  });
  window.__urlParamsAfterCallback = [...new URLSearchParams(location.search).keys()];
  if (callback) {
    rejection = { stage: 'callback', ...describe(callback.e), msAfterTokenResponse: sinceTokenResponse(cfg.tokenEndpoint, callback.rejectedAt, callback.startedAt) };
  }

  for (const s of rejection ? [] : cfg.flow) {
    let failed = null;
    if (s.startsWith('wait:')) {
      await new Promise((r) => setTimeout(r, Number(s.slice(5))));
      steps.push({ step: s, ok: true });
      continue;
    }
    if (s === 'userinfo') {
      failed = await step('userinfo', async () => {
        const info = await client.getUserInfo();
        return { sub: info.sub, claims: Object.keys(info), email: info.email };
      });
    } else if (s === 'refresh') {
      failed = await step('refresh', async () => { await client.refresh(); return { sub: client.getUser()?.sub }; });
    } else if (s === 'api') {
      failed = await step('api', async () => {
        const res = await client.fetchWithToken(cfg.apiUrl);
        if (res.status !== 200) throw Object.assign(new Error(`API answered ${res.status}`), { code: `api_status_${res.status}` });
        return { status: res.status };
      });
    } else {
      failed = await step(s, () => { throw new Error(`unknown step ${s}`); });
    }
    if (failed) {
      rejection = { stage: s, ...describe(failed.e) };
      break;
    }
  }

  if (rejection) {
    if (rejection.stage === 'callback' || rejection.stage === 'refresh') {
      // Probes: the SDK must hold no session now, and so make no request.
      await step('probe:userinfo', () => client.getUserInfo().then(() => ({})));
      await step('probe:refresh', () => client.refresh().then(() => ({})));
      steps.push({ step: 'probe:getUser', ok: client.getUser() === null, user: client.getUser() === null ? null : 'present' });
    }
    return finish({ outcome: 'rejected', ...rejection });
  }
  finish({ outcome: 'accepted', sub: client.getUser()?.sub ?? null });
}

main().catch((e) => finish({ outcome: 'page_error', ...describe(e) }));
