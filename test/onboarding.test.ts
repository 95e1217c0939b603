// The five steps end to end on a real Temporal dev server, with the simulators on real HTTP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { isCancellation } from '@temporalio/workflow';
import { waitUntil } from '../src/demo/sample-onboarding';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../src/shared/names';
import { consentGrantedSignal, resourceCorrectedSignal, statusQuery } from '../src/shared/messages';
import type { OnboardingResult } from '../src/shared/status';
import { startHarness, type Harness } from './helpers/harness';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
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

  // No needless workflow tasks: each human wait starts in the task that announces it (the
  // notification is a local activity), so nothing is pending while a person is awaited. The
  // first onboarding on a server also asks the app's owner for credentials (two tasks more).
  const { events } = await handle.fetchHistory();
  const scheduled = events!.flatMap((e) =>
    e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name] : [],
  );
  const asked = scheduled.includes('requestAppCredentials');
  assert.deepEqual(
    scheduled.filter((name) => name !== 'requestAppCredentials'),
    ['currentAppCredentials', 'setUpAccountConnector', 'readAccountConnector'],
  );
  const tasks = tasksForNewEvents(events!);
  assert.ok(tasks <= (asked ? 8 : 6), `${asked ? 8 : 6} workflow tasks for the happy path, not ${tasks}`);
});

test('AADSTS65001 pauses for consent, resumes on consentGranted and retries with a fresh sign-in', async () => {
  const customer = await h.sim.seedCustomer();
  // The event claims consent exists; the tenant never granted it.
  const handle = await startOnboarding(h, customer, { consentAlreadyGranted: true });

  const first = await userSignsIn(h, customer);
  assert.match(first.body, /AADSTS65001/, 'the user is told why the sign-in failed');

  const paused = await waitUntil(h.env.client, handle.workflowId, 'consent');
  assert.equal(paused.step, 'waiting-for-consent');
  assert.equal(paused.lastError?.code, 65001);
  assert.equal(paused.lastError?.class, 'needs-person');
  assert.match(paused.lastError!.remediation, /admin consent/i);
  assert.ok(
    paused.lastError!.remediation.includes(paused.consentUrl!),
    'the remediation carries the consent link',
  );

  // The admin grants consent in the portal; ops report it with the signal.
  const state = await h.sim.state();
  const appId = state.applications[0].appId;
  await h.sim.grantConsent(customer.tenantId, appId);
  await handle.signal(consentGrantedSignal, { by: 'ops@partner.example', note: 'admin granted in portal' });

  const second = await userSignsIn(h, customer);
  assert.match(second.body, /Connected/);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  const status = await handle.query(statusQuery);
  assert.equal(status.signInAttempt, 2, 'the exchange was retried once, with a new sign-in');
  assert.ok(
    status.timeline.some((t) => t.event === 'consent granted' && t.detail?.includes('ops@partner.example')),
  );
});

test('AADSTS500011 pauses for resourceCorrected, then redoes the Resource and the exchange', async () => {
  const customer = await h.sim.seedCustomer();
  const wrongOrg = 'https://wrongorg.crm.dynamics.com';
  const handle = await startOnboarding(h, customer, { resourceUrl: wrongOrg });
  await adminConsents(h, customer);
  const failed = await userSignsIn(h, customer);
  assert.match(failed.body, /AADSTS500011/);

  const paused = await waitUntil(h.env.client, handle.workflowId, 'resource-fix');
  assert.equal(paused.step, 'waiting-for-resource-fix');
  assert.equal(paused.lastError?.code, 500011);
  assert.match(paused.lastError!.remediation, /address bar/);

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
  const writes = state.propertyWrites.filter(
    (w) => w.accountConnectorId === result.accountConnectorId && w.name === 'Resource',
  );
  assert.equal(writes.length, 2, 'Resource written once wrong, once corrected');
  const others = state.propertyWrites.filter(
    (w) => w.accountConnectorId === result.accountConnectorId && w.name !== 'Resource',
  );
  assert.deepEqual(
    others.map((w) => w.name).sort(),
    ['ClientId', 'ClientSecret'],
    'ClientId and ClientSecret written once',
  );
  assert.equal(
    state.accountConnectors.find((c) => c.Id === result.accountConnectorId)?.properties.Resource,
    customer.org,
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
  assert.match(trace, /at waitForConsent \(.*src\/workflows\/onboarding\.ts:\d+/);
  assert.match(trace, /at humanWait \(.*src\/workflows\/onboarding\.ts:\d+/);
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

const EventType = temporal.api.enums.v1.EventType;
/** Events a workflow task's own commands write: a task scheduled right after one was not caused by anything new. */
const COMMAND_EVENTS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
]);

/**
 * Completed workflow tasks that were scheduled because something new happened (start, activity
 * result, timer, signal). Left out: a task the SDK forces right after the previous one, with
 * nothing new between them, to record a local activity still running (its "workflow task
 * heartbeat"); on a loaded machine the notification's local activity outlasted the task that
 * started it (seen in CI, and with both cores kept busy).
 */
function tasksForNewEvents(events: temporal.api.history.v1.IHistoryEvent[]): number {
  const forced = new Set(
    events
      .filter(
        (e, i) =>
          e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED &&
          COMMAND_EVENTS.has(events[i - 1]?.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED),
      )
      .map((e) => String(e.eventId)),
  );
  return events.filter(
    (e) =>
      e.workflowTaskCompletedEventAttributes &&
      !forced.has(String(e.workflowTaskCompletedEventAttributes.scheduledEventId)),
  ).length;
}
