// The worker process as ops see it: JSON logs with workflow id, step and account on every line of
// an onboarding; the Prometheus endpoint scraped for the product's series and the SDK's; health
// and readiness. One onboarding to verified, with an AADSTS error on the way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { signInCompletedSignal, statusQuery } from '../src/shared/messages';
import { onboardingWorkflowId } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { freePort, startHarness, type Harness } from './helpers/harness';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';

let h: Harness;
let worker: WorkerProcess;
let metricsPort: number;
let healthPort: number;

before(async () => {
  h = await startHarness('dev-server');
  await h.stopWorker(); // the worker process below does the work
  [metricsPort, healthPort] = [await freePort(), await freePort()];
  worker = await spawnWorker(h.env.address, h.config, {
    WORKFLOW_BUNDLE_PATH: h.bundlePath,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: String(healthPort),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'debug',
  });
});
after(async () => {
  await worker?.kill();
  await h?.close();
});

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
};

/** The value of a Prometheus series whose name ends with `name` and whose labels include `labels`. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || !match[1].endsWith(name)) continue;
    const all = Object.entries(labels).every(([k, v]) => (match[2] ?? '').includes(`${k}="${v}"`));
    if (all) return Number(match[3]);
  }
  return undefined;
}

test('health and readiness while polling', async () => {
  assert.equal((await get(healthPort, '/healthz')).status, 200);
  const ready = await get(healthPort, '/readyz');
  assert.equal(ready.status, 200, ready.body);
  assert.match(ready.body, /"worker":"RUNNING"/);
});

test('an onboarding leaves JSON logs with workflow id, step and account, and the product metrics', async () => {
  const customer = await h.sim.seedCustomer();
  const workflowId = onboardingWorkflowId(customer.accountId);
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await waitUntil(h.env.client, workflowId, 'sign-in');
  // The user's first sign-in fails with MFA required: an AADSTS code the metrics must show.
  await handle.signal(signInCompletedSignal, {
    ok: false,
    error: 'invalid_grant',
    errorDescription:
      'AADSTS50076: Due to a configuration change made by your administrator, you must use MFA.',
  });
  for (let i = 0; (await handle.query(statusQuery)).signInAttempt < 2; i++) {
    assert.ok(i < 100, 'a second sign-in attempt is offered');
    await new Promise((r) => setTimeout(r, 100));
  }
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');

  // Logs: every line about this onboarding carries its step and account; both the workflow's and
  // the activities' lines are there; no client secret anywhere.
  const lines = worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const ours = lines.filter((l) => l.workflowId === workflowId);
  assert.ok(
    ours.some((l) => l.activityType),
    'activity lines',
  );
  assert.ok(
    ours.some((l) => l.runId && !l.activityType),
    'workflow lines (through the default workflow logger sink)',
  );
  for (const line of ours) {
    assert.equal(line.account, customer.accountId, `account on ${JSON.stringify(line)}`);
    assert.equal(typeof line.step, 'string', `step on ${JSON.stringify(line)}`);
  }
  assert.ok(ours.some((l) => l.step === 'setting-resource' && l.activityType === 'setUpAccountConnector'));
  for (const secret of (await h.sim.state()).secretsIssued) {
    assert.ok(!worker.output().includes(secret), 'no client secret in the logs');
  }

  // Metrics, scraped from the runtime's Prometheus endpoint.
  const { status, body } = await get(metricsPort, '/metrics');
  assert.equal(status, 200);
  const expect = (name: string, labels: Record<string, string> = {}) => {
    const value = series(body, name, labels);
    assert.ok(value !== undefined && value >= 1, `${name} ${JSON.stringify(labels)} in:\n${body}`);
  };
  expect('onboarding_started_total');
  expect('onboarding_verified_total');
  for (const step of [
    'registering-app',
    'waiting-for-consent',
    'setting-resource',
    'exchanging-token',
    'verifying',
  ])
    expect('onboarding_step_entered_total', { step });
  expect('onboarding_human_wait_seconds_count', { waiting_for: 'consent' });
  expect('onboarding_human_wait_seconds_count', { waiting_for: 'sign-in' });
  expect('onboarding_step_duration_seconds_count', { step: 'setting-resource' });
  expect('onboarding_aadsts_errors_total', { code: 'AADSTS50076', class: 'needs-person' });
  expect('onboarding_external_calls_total', { service: 'cyclr', status: '200' });
  expect('onboarding_external_calls_total', { service: 'graph' });
  // The SDK's own series land on the same endpoint.
  expect('workflow_completed_total');
  expect('activity_execution_latency_count');
});

test('a failed onboarding is counted with the step it failed in and its AADSTS code', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await waitUntil(h.env.client, onboardingWorkflowId(customer.accountId), 'sign-in');
  // A configuration error at sign-in: the onboarding fails, naming what to fix.
  await handle.signal(signInCompletedSignal, {
    ok: false,
    error: 'invalid_request',
    errorDescription: "AADSTS90002: Tenant 'nope' not found.",
  });
  await assert.rejects(handle.result());
  const { body } = await get(metricsPort, '/metrics');
  assert.ok((series(body, 'onboarding_failed_total', { step: 'exchanging-token' }) ?? 0) >= 1, body);
  assert.ok(
    (series(body, 'onboarding_aadsts_errors_total', { code: 'AADSTS90002', class: 'configuration' }) ?? 0) >=
      1,
  );
  assert.ok((series(body, 'onboarding_step_entered_total', { step: 'failed' }) ?? 0) >= 1);
});
