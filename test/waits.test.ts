// Human waits are managed, not just awaited (Java time-skipping server: days pass in seconds):
// a webhook tells a person when a wait begins, reminds them on the onboarding's schedule with the
// links and the remediation, and says so when the deadline ends the onboarding as expired.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import type { OnboardingResult } from '../src/shared/status';
import { startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook';

let h: Harness;
let hooks: WebhookReceiver;
before(async () => {
  hooks = await startWebhookReceiver();
  h = await startHarness('time-skipping', { NOTIFY_WEBHOOK_URL: hooks.url });
});
after(async () => {
  await h?.close();
  await hooks?.close();
});

const DAY = 86_400_000;

test('consent wait: told at the start, reminded daily with the link, expired after the deadline', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer, {
    deadlines: { consent: '3 days' },
    reminderInterval: '1 day',
  });
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'consent');
  const result: OnboardingResult = await handle.result(); // three days skipped
  assert.equal(result.outcome, 'expired');
  assert.equal(result.expiredWhile, 'consent');

  const sent = hooks.of(handle.workflowId);
  assert.deepEqual(
    sent.map((n) => `${n.kind}${n.reminder ?? ''}`),
    ['action-needed', 'reminder1', 'reminder2', 'expired'],
  );
  const start = Date.parse(sent[0].at);
  assert.deepEqual(
    sent.map((n) => Math.round((Date.parse(n.at) - start) / DAY)),
    [0, 1, 2, 3],
    'reminders a day apart, expiry at the deadline',
  );
  for (const n of sent) {
    assert.equal(n.waitingFor, 'consent');
    assert.equal(n.links.consentUrl, waiting.consentUrl, 'every notification carries the consent link');
    assert.match(n.reason!, /administrator of the customer's tenant/);
    assert.equal(n.deadline, waiting.waitDeadline);
    assert.equal(n.cyclrAccountId, customer.accountId);
  }
});

test('sign-in wait: reminded every 12 hours with the sign-in link, then signed in and verified', async () => {
  const customer = await h.sim.seedCustomer();
  const appId = (await h.sim.state()).applications[0]?.appId;
  if (appId) await h.sim.grantConsent(customer.tenantId, appId);
  const handle = await startOnboarding(h, customer, {
    consentAlreadyGranted: true,
    reminderInterval: '12 hours',
  });
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  await h.env.sleep('30 hours');
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');

  const sent = hooks.of(handle.workflowId);
  assert.deepEqual(
    sent.map((n) => `${n.kind}${n.reminder ?? ''}`),
    ['action-needed', 'reminder1', 'reminder2'],
  );
  for (const n of sent) {
    assert.equal(n.waitingFor, 'sign-in');
    assert.equal(n.links.signInUrl, waiting.signInUrl);
    assert.match(n.reason!, /must open the sign-in link/);
  }
});
