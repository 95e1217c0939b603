// The five steps end to end on a real Temporal dev server, with the simulators on real HTTP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { isCancellation } from '@temporalio/workflow';
import { waitUntil } from '../src/demo/sample-onboarding';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../src/shared/names';
import { consentGrantedSignal, resourceCorrectedSignal, statusQuery } from '../src/shared/messages';
import type { OnboardingResult } from '../src/shared/status';
import { startHarness, type Harness } from './helpers/harness';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { until } from './helpers/until';
import { WORKFLOW_STACK_TRACE_LIMIT } from '../src/workflows/stack-trace-limit';

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
  assert.match(signIn.body, /Connected/, 'the user lands on our page, which asked Cyclr');

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
  assert.deepEqual(steps, [
    'registering-app',
    'waiting-for-consent',
    'setting-resource',
    'exchanging-token',
    'verifying',
    'verified',
  ]);

  const described = await h.env.client.workflow
    .getHandle(onboardingWorkflowId(customer.accountId))
    .describe();
  assert.deepEqual(described.searchAttributes.OnboardingStep, ['verified']);
  const status = await handle.query(statusQuery);
  assert.equal(status.step, 'verified');
  assert.equal(status.lastError, null);
});

test('consent claimed but missing: caught before the sign-in link, then consent reported and confirmed', async () => {
  const customer = await h.sim.seedCustomer();
  // The event claims consent exists; the tenant never granted it.
  const handle = await startOnboarding(h, customer, { consentAlreadyGranted: true });

  const paused = await waitUntil(h.env.client, handle.workflowId, 'consent');
  assert.equal(paused.step, 'waiting-for-consent');
  assert.equal(paused.signInAttempt, 0, 'no sign-in link was handed out');
  assert.ok(
    paused.tenantCheck && paused.tenantCheck.verdict === 'no-consent',
    JSON.stringify(paused.tenantCheck),
  );
  assert.equal(paused.lastError?.class, 'needs-person');
  assert.match(paused.waitingReason!, /Microsoft reports no consent/);

  // The admin grants consent in the portal; ops report it; Microsoft confirms it.
  const appId = (await h.sim.state()).applications[0].appId;
  await h.sim.grantConsent(customer.tenantId, appId);
  await handle.signal(consentGrantedSignal, { by: 'ops@partner.example', note: 'admin granted in portal' });

  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  const status = await handle.query(statusQuery);
  assert.equal(status.signInAttempt, 1, 'one sign-in was enough');
  assert.ok(
    status.timeline.some((t) => t.event === 'consent reported' && t.detail?.includes('ops@partner.example')),
  );
  assert.equal(status.tenantCheck?.verdict, 'consented');
});

test('a consent report Microsoft does not confirm does not move the onboarding', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  await handle.signal(consentGrantedSignal, { by: 'someone@partner.example' });
  await until('the report checked with Microsoft', async () =>
    (await handle.query(statusQuery)).timeline.some((t) => t.event === 'consent reported, not confirmed'),
  );
  const status = await handle.query(statusQuery);
  assert.equal(status.waitingFor, 'consent');
  assert.equal(status.accountConnectorId, null, 'nothing was written to Cyclr');
  assert.match(status.waitingReason!, /does not confirm it/);
  await handle.cancel();
});

test('a wrong Resource URL is caught before the sign-in: resourceCorrected, then verified', async () => {
  const customer = await h.sim.seedCustomer();
  const wrongOrg = 'https://wrongorg.crm.dynamics.com';
  const handle = await startOnboarding(h, customer, { resourceUrl: wrongOrg });
  await adminConsents(h, customer);

  const paused = await waitUntil(h.env.client, handle.workflowId, 'resource-fix');
  assert.equal(paused.step, 'waiting-for-resource-fix');
  assert.equal(paused.lastError?.code, 500011);
  assert.match(paused.lastError!.remediation, /address bar/);
  assert.equal(paused.signInAttempt, 0, 'no sign-in was wasted');

  // A malformed signal is refused and recorded; the workflow keeps waiting.
  await handle.signal(resourceCorrectedSignal, { resourceUrl: 'contoso', by: 'ops' });
  await handle.signal(resourceCorrectedSignal, { resourceUrl: customer.org, by: 'ops@partner.example' });

  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.equal(result.resourceUrl, customer.org);

  const status = await handle.query(statusQuery);
  assert.ok(
    status.timeline.some(
      (t) => t.event === 'rejected resourceCorrected signal' && /resourceUrl/.test(t.detail ?? ''),
    ),
  );
  const state = await h.sim.state();
  const writes = state.propertyWrites.filter((w) => w.accountConnectorId === result.accountConnectorId);
  assert.deepEqual(
    writes.map((w) => w.name).sort(),
    ['ClientId', 'ClientSecret', 'Resource'],
    'each property written once, the Resource only with the right URL',
  );
});

test('cancelling stops cleanly and records what was done', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  await handle.cancel();
  await assert.rejects(
    handle.result(),
    (err: Error) => err instanceof WorkflowFailedError && isCancellation(err.cause),
  );
  const status = await handle.query(statusQuery);
  assert.equal(status.step, 'cancelled');
  assert.ok(status.timeline.some((t) => t.step === 'registering-app' && t.event === 'app ready'));
  const described = await handle.describe();
  assert.deepEqual(described.searchAttributes.OnboardingStep, ['cancelled']);
});

test('a waiting onboarding: the stack-trace query keeps few frames per stack and still names the wait', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const trace = await handle.query<string>('__stack_trace');
  const stacks = trace.split(/\n\n+/).filter((s) => s.trim());
  assert.ok(stacks.length > 0, trace);
  for (const stack of stacks) {
    const frames = stack.split('\n').filter((line) => /^\s+at /.test(line));
    assert.ok(frames.length <= WORKFLOW_STACK_TRACE_LIMIT, stack);
  }
  // Our own async steps' promises still show where the onboarding waits, at source lines.
  assert.match(trace, /src\/workflows\/onboarding-steps\.ts:\d+/);
  assert.match(trace, /at humanWait \(.*src\/workflows\/human-wait\.ts:\d+/);
  await handle.cancel();
});

test('invalid input fails fast with the field named, before any external call', async () => {
  const before = (await h.sim.state()).counts;
  const handle = await h.env.client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId: onboardingWorkflowId('bad-input'),
    taskQueue: TASK_QUEUE,
    args: [{ cyclrAccountId: 'bad-input', customerTenant: 'common', resourceUrl: 'http://contoso' }],
  });
  await assert.rejects(handle.result(), (err: Error) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), /customerTenant: .*not common/);
    assert.match(String(err.cause?.message), /resourceUrl: must use https/);
    return true;
  });
  assert.deepEqual((await h.sim.state()).counts, before);
});
