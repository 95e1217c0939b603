// A trace followed from the client's start to verified: spans from the client, the workflow and
// the activities (through @temporalio/interceptors-opentelemetry) land in one trace, collected here
// by an in-memory exporter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { startTracing, tracingClientInterceptors, type Tracing } from '../src/observability/tracing';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { createWorker } from '../src/worker-setup';
import { adminConsents, userSignsIn } from './helpers/flow';
import { startHarness, workflowBundle, type Harness } from './helpers/harness';

let h: Harness;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();
let stopWorker: () => Promise<void>;

before(async () => {
  h = await startHarness('dev-server');
  await h.stopWorker(); // replaced by a worker with tracing on
  tracing = startTracing({ tracesExporter: 'none', OTEL_SERVICE_NAME: 'onboarding-test' }, exporter)!;
  const worker = await createWorker({
    connection: h.env.nativeConnection,
    namespace: h.env.namespace ?? 'default',
    client: new Client({
      connection: h.env.connection,
      namespace: h.env.namespace,
      dataConverter: h.env.client.options.dataConverter,
      interceptors: tracingClientInterceptors(),
    }),
    config: h.config,
    keys: h.keys,
    tracing,
    workflowBundle: { code: (await workflowBundle(true)).code },
  });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
});
after(async () => {
  await stopWorker?.();
  await tracing?.shutdown();
  await h?.close();
});

test('one trace from the client start through the workflow and its activities to verified', async () => {
  const customer = await h.sim.seedCustomer();
  const client = new Client({
    connection: h.env.connection,
    namespace: h.env.namespace,
    dataConverter: h.env.client.options.dataConverter,
    interceptors: tracingClientInterceptors(),
  });
  const handle = await client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId: onboardingWorkflowId(customer.accountId),
    taskQueue: TASK_QUEUE,
    args: [
      { cyclrAccountId: customer.accountId, customerTenant: customer.tenantId, resourceUrl: customer.org },
    ],
  });
  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  await tracing.spanProcessor.forceFlush();

  const spans = exporter.getFinishedSpans();
  const start = spans.find((s) => s.name === `StartWorkflow:${ONBOARDING_WORKFLOW_TYPE}`);
  assert.ok(start, `a client span for the start; got ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
  const trace = spans.filter((s) => s.spanContext().traceId === start.spanContext().traceId);
  const names = new Set(trace.map((s) => s.name));
  for (const expected of [
    `RunWorkflow:${ONBOARDING_WORKFLOW_TYPE}`, // the workflow
    'StartActivity:setUpAccountConnector', // the workflow scheduling step 3
    'RunActivity:setUpAccountConnector', // the activity itself
    'RunActivity:readAccountConnector', // step 5 verifies
    'StartWorkflowUpdate:requestAppCredentials', // the activity's own client call to the app's owner
    'RunActivity:checkTenant', // Microsoft asked about the tenant
  ]) {
    assert.ok(names.has(expected), `${expected} in the trace; it has ${[...names].join(', ')}`);
  }
  // Linked, not just sharing an id: each has its parent in the trace. (Spans inside the long-lived
  // app registration owner hang off its run, still open, so they are not checked.)
  const ids = new Set(trace.map((s) => s.spanContext().spanId));
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId ?? '';
  const linked = trace.filter(
    (s) =>
      /^(RunWorkflow:dynamicsOnboarding|StartActivity:|RunActivity:|StartWorkflowUpdate:)/.test(s.name) &&
      s.attributes.workflowType !== 'dynamicsAppRegistration',
  );
  for (const span of linked) assert.ok(ids.has(parentOf(span)), `${span.name} has its parent in the trace`);
  const run = trace.find((s) => s.name === `RunWorkflow:${ONBOARDING_WORKFLOW_TYPE}`)!;
  assert.equal(parentOf(run), start.spanContext().spanId, 'the workflow run is a child of the client start');
});
