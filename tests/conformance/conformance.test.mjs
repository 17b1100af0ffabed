// node:test wrapper for the hostile-provider conformance suite (run.mjs):
//   node --test tests/conformance/
// First checks that the runner's own judgement has teeth (a request after a rejected artefact, a wrong
// code, an attacker fetch are all caught), then runs every case in headless Chromium against dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, runConformance } from './run.mjs';
import { caseByName } from './cases.mjs';

const state = (log, violations = []) => ({ log, violations });
const rejected = (code, stage, steps = []) => ({ outcome: 'rejected', code, stage, steps, urlParamsAfterCallback: [] });
const probes = [
  { step: 'callback', ok: false, code: 'claim_iss' },
  { step: 'probe:userinfo', ok: false, code: 'not_signed_in' },
  { step: 'probe:refresh', ok: false, code: 'not_signed_in' },
  { step: 'probe:getUser', ok: true },
];

test('the runner accepts a clean rejection and catches every way to get it wrong', () => {
  const cs = caseByName('invalid-iss');
  const clean = ['discovery', 'authorize', 'discovery', 'token', 'jwks'];
  assert.deepEqual(evaluate(cs, rejected('claim_iss', 'callback', probes), state(clean), []), []);
  assert.match(evaluate(cs, rejected('claim_iss', 'callback', probes), state([...clean, 'preflight:userinfo', 'userinfo']), []).join(), /further request/);
  assert.match(evaluate(cs, rejected('claim_aud', 'callback', probes), state(clean), []).join(), /expected code claim_iss/);
  assert.match(evaluate(cs, rejected('claim_iss', 'refresh', probes), state([...clean, 'refresh']), []).join(), /expected stage callback/);
  assert.match(evaluate(cs, { outcome: 'accepted', sub: 'alice', steps: [] }, state(clean), []).join(), /expected rejected/);
  const leaky = probes.map((p) => (p.step === 'probe:userinfo' ? { ...p, ok: true } : p));
  assert.match(evaluate(cs, rejected('claim_iss', 'callback', leaky), state(clean), []).join(), /probe:userinfo/);
  assert.match(evaluate(caseByName('jku-injection'), rejected('no_matching_key', 'callback', probes), state([...clean, 'attacker']), []).join(), /attacker/);
  assert.match(evaluate(caseByName('state-invalid'), rejected('state_unknown', 'callback', probes), state(['discovery', 'authorize', 'discovery', 'token']), []).join(), /further request.*token/);
  assert.match(evaluate(cs, null, state([]), []).join(), /no result/);
});

test('every hostile-provider case is handled right by the built SDK', { timeout: 15 * 60_000 }, async (t) => {
  const { results, correct, total } = await runConformance({ print: (line) => console.log(line) });
  for (const r of results) {
    await t.test(r.name, () => assert.ok(r.ok, `${r.name}: expected ${r.expected}, got ${r.actual}: ${r.reasons.join('; ')}`));
  }
  assert.equal(correct, total, `conformance: ${correct}/${total} correct`);
});
