// Waits of days, on the Java time-skipping test server: a consent that comes after three days
// still leads to verified; a consent that never comes ends the onboarding as expired.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { consentGrantedSignal, statusQuery } from '../src/shared/messages';
import type { OnboardingResult } from '../src/shared/status';
import { startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';

let h: Harness;
before(async () => {
  h = await startHarness('time-skipping');
});
after(async () => {
  await h?.close();
});

test('a consent wait of three days, then consent, then verified', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'consent');
  const deadline = Date.parse(waiting.waitDeadline!);

  await h.env.sleep('3 days');
  const still = await handle.query(statusQuery);
  assert.equal(still.step, 'waiting-for-consent', 'still waiting after three days');
  assert.ok(
    deadline - Date.parse(still.timeline.at(-1)!.at) > 20 * 86_400_000,
    'the default consent deadline is weeks away',
  );

  const appId = (await h.sim.state()).applications[0].appId;
  await h.sim.grantConsent(customer.tenantId, appId);
  await handle.signal(consentGrantedSignal, { by: 'ops@partner.example' });
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  const consentedAt = Date.parse(result.timeline.find((t) => t.event === 'consent reported')!.at);
  const startedAt = Date.parse(result.timeline[0].at);
  assert.ok(consentedAt - startedAt >= 3 * 86_400_000, 'workflow time passed three days');
});

test('no consent before the deadline: the onboarding ends as expired, with a clear record', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer, { deadlines: { consent: '2 days' } });
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const result: OnboardingResult = await handle.result(); // the test server skips the two days
  assert.equal(result.outcome, 'expired');
  assert.equal(result.expiredWhile, 'consent');
  assert.equal(result.timeline.at(-1)?.step, 'expired');
  assert.equal(result.verified, null);
});
