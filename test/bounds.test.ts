// Durations with bounds at every entry point: the ops CLI, signed events and a start with the
// official `temporal` CLI (the workflow's own re-validation) each refuse a deadline outside 1 hour
// to 365 days, or a reminder interval under 1 hour, naming the bounds; the onboarding refused by
// the workflow fails cleanly and visibly, and `cancel` says it has ended. And a script with
// Temporal access repeating signals cannot make one run's history long.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { waitUntil } from '../src/demo/sample-onboarding';
import { temporalCliPath } from '../src/embedded/binaries';
import { consentFailedSignal, consentGrantedSignal, statusQuery } from '../src/shared/messages';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../src/shared/names';
import { postEvent, signedEvent } from './helpers/events';
import { startHarness, type Harness } from './helpers/harness';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
const EVENTS_SECRET = 'b'.repeat(40);

let h: Harness;
before(async () => {
  h = await startHarness('dev-server', { EVENTS_HMAC_SECRET: EVENTS_SECRET });
});
after(async () => {
  await h?.close();
});

async function opsCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(root, 'src', 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_NAMESPACE: 'default' } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const DEADLINE_BOUNDS = /from 1 hour to 365 days/;
const REMINDER_BOUNDS = /at least 1 hour/;

/** Durations out of range, with the flag and field they go in and the bounds to be named. */
const OUT_OF_RANGE = [
  ['--consent-deadline', 'deadlines.consent', { deadlines: { consent: '30 minutes' } }, DEADLINE_BOUNDS],
  ['--sign-in-deadline', 'deadlines.signIn', { deadlines: { signIn: '400 days' } }, DEADLINE_BOUNDS],
  [
    '--resource-fix-deadline',
    'deadlines.resourceFix',
    { deadlines: { resourceFix: '0 s' } },
    DEADLINE_BOUNDS,
  ],
  ['--reminder-interval', 'reminderInterval', { reminderInterval: '10 minutes' }, REMINDER_BOUNDS],
  ['--reminder-interval', 'reminderInterval', { reminderInterval: '999999 w' }, REMINDER_BOUNDS],
  ['--consent-deadline', 'deadlines.consent', { deadlines: { consent: 'soon' } }, DEADLINE_BOUNDS],
] as const;

const valueOf = (extra: (typeof OUT_OF_RANGE)[number][2]) =>
  'deadlines' in extra ? Object.values(extra.deadlines)[0] : extra.reminderInterval;

test('the ops CLI refuses a duration out of range with the bounds named, exit 2, nothing started', async () => {
  for (const [flag, , extra, bounds] of OUT_OF_RANGE) {
    const account = `bounds-cli-${flag.slice(2)}`;
    const out = await opsCli(
      'onboard',
      ...['--account', account, '--tenant', 'contoso.onmicrosoft.com'],
      ...['--resource-url', 'https://contoso.crm.dynamics.com', flag, valueOf(extra)],
    );
    assert.equal(out.code, 2, `${flag} ${valueOf(extra)}: ${out.stderr}`);
    assert.match(out.stderr, new RegExp(`^error: ${flag}: .*${bounds.source}`), out.stderr);
    assert.equal(out.stderr.trim().split('\n').length, 1, 'one line');
  }
  const listed = await opsCli('list', '--json');
  assert.ok(!listed.stdout.includes('bounds-cli-'), 'nothing started');
});

test('a signed event with a duration out of range is refused 400, naming the field and the bounds', async () => {
  for (const [, field, extra, bounds] of OUT_OF_RANGE) {
    const sent = await postEvent(
      h.ingressUrl,
      signedEvent(EVENTS_SECRET, {
        cyclrAccountId: 'bounds-event',
        customerTenant: 'contoso.onmicrosoft.com',
        resourceUrl: 'https://contoso.crm.dynamics.com',
        ...extra,
      }),
    );
    assert.equal(sent.status, 400, JSON.stringify(sent.body));
    assert.match(sent.body.error!, new RegExp(`^${field.replace('.', '\\.')}: .*${bounds.source}`));
    assert.deepEqual(
      (sent.body.issues as { field: string }[]).map((i) => i.field),
      [field],
    );
  }
  // A malformed timestamp is refused without telling the sender our clock.
  const now = Math.floor(Date.now() / 1000);
  const bad = signedEvent(EVENTS_SECRET, { cyclrAccountId: 'x' });
  bad.headers['X-Onboarding-Timestamp'] = 'yesterday';
  const refused = await postEvent(h.ingressUrl, bad);
  assert.equal(refused.status, 401);
  for (const t of [now - 1, now, now + 1])
    assert.ok(!refused.body.error!.includes(String(t)), refused.body.error);
});

test('started past the ops tools (official CLI, plain JSON): the workflow refuses it cleanly and visibly; cancel says it has ended', async () => {
  for (const [i, [, field, extra, bounds]] of OUT_OF_RANGE.entries()) {
    const account = `bounds-wf-${i}`;
    const workflowId = onboardingWorkflowId(account);
    const input = {
      cyclrAccountId: account,
      customerTenant: 'contoso.onmicrosoft.com',
      resourceUrl: 'https://contoso.crm.dynamics.com',
      ...extra,
    };
    await run(temporalCliPath(), [
      ...['workflow', 'start', '--address', h.env.address, '--task-queue', TASK_QUEUE],
      ...['--type', ONBOARDING_WORKFLOW_TYPE, '--workflow-id', workflowId, '--input', JSON.stringify(input)],
    ]);
    const handle = h.env.client.workflow.getHandle(workflowId);
    const failure = await handle.result().then(
      () => assert.fail('an onboarding with a bad duration must not run'),
      (err: unknown) => err,
    );
    assert.ok(failure instanceof WorkflowFailedError, String(failure));
    const cause = failure.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidOnboardingInput');
    assert.match(cause.message, new RegExp(`${field.replace('.', '\\.')}: .*${bounds.source}`));
    const history = await handle.fetchHistory();
    const taskFailures = history.events!.filter((e) => e.workflowTaskFailedEventAttributes);
    assert.equal(taskFailures.length, 0, 'failed as a run, never a workflow task failing over and over');
    const cancel = await opsCli('cancel', account);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /has already ended \(failed\); nothing to cancel/);
  }
});

// A script with Temporal access (the official CLI) sending the same signal again and again, and
// malformed ones: the ingress never sends these, so this is the workflow's own bound: the wait
// wakes when the history is long and the run continues as new.
test('repeated identical and malformed signals sent with Temporal access: the run continues as new, its history stays short', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await h.env.client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId: onboardingWorkflowId(customer.accountId),
    taskQueue: TASK_QUEUE,
    args: [
      { cyclrAccountId: customer.accountId, customerTenant: customer.tenantId, resourceUrl: customer.org },
      { historyLimit: 200 },
    ],
  });
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < 300) {
        await handle.signal(consentFailedSignal, {
          error: 'access_denied',
          errorDescription: 'AADSTS65004: declined',
        });
        await handle.signal(consentGrantedSignal, { by: '' } as never);
      }
    }),
  );
  const described = await handle.describe();
  const events = (await h.env.client.workflow.getHandle(handle.workflowId, described.runId).fetchHistory())
    .events!;
  const status = await handle.query(statusQuery);
  await handle.terminate('test over');
  assert.notEqual(described.runId, handle.firstExecutionRunId, 'continued as new');
  assert.ok(events.length < 400, `the current run has ${events.length} events with a history limit of 200`);
  assert.equal(status.waitingFor, 'consent', 'still waiting for consent, as it was');
});
