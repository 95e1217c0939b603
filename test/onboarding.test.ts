// The five steps end to end on a real Temporal dev server, with the simulators on real HTTP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { onboardingWorkflowId } from '../src/shared/names';
import { statusQuery } from '../src/shared/messages';
import type { OnboardingResult } from '../src/shared/status';
import { startHarness, type Harness } from './helpers/harness';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';

let h: Harness;
before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

test('happy path: registered, consented, Resource set, signed in, verified', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);

  const consent = await adminConsents(h, customer);
  assert.equal(consent.status, 200, consent.body);
  assert.match(consent.body, /consent granted/i);

  const signIn = await userSignsIn(h, customer);
  assert.equal(signIn.status, 200, signIn.body);
  assert.match(signIn.body, /Connected/);

  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.equal(result.verified?.authenticated, true);
  assert.equal(result.verified?.resource, customer.org);

  const state = await h.sim.state();
  const app = state.applications.find((a) => a.appId === result.appId);
  assert.ok(app, 'the app exists in the simulated directory');
  const connector = state.accountConnectors.find((c) => c.Id === result.accountConnectorId);
  assert.equal(connector?.Authenticated, true);
  assert.equal(connector?.properties.Resource, customer.org);
  assert.equal(connector?.properties.ClientId, result.appId);

  const steps = result.timeline.filter((t) => t.event === 'entered').map((t) => t.step);
  assert.deepEqual(steps, ['registering-app', 'waiting-for-consent', 'setting-resource', 'exchanging-token', 'verifying', 'verified']);

  const described = await h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).describe();
  assert.deepEqual(described.searchAttributes.OnboardingStep, ['verified']);
  const status = await handle.query(statusQuery);
  assert.equal(status.step, 'verified');
  assert.equal(status.lastError, null);
});
