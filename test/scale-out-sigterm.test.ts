// Graceful shutdown: a worker process SIGTERMed while an activity is in flight stops polling,
// reports not ready, lets the activity finish (or, past its grace time, hands it back to be
// retried elsewhere) and exits 0. Another worker completes the onboarding; nothing is written twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { freePort, startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';
import { until } from './helpers/until';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';
import { runsAlone } from './helpers/runs-alone';

let h: Harness;
const workers: WorkerProcess[] = [];
runsAlone();
before(async () => {
  h = await startHarness('dev-server');
  await h.stopWorker(); // only the child processes work here
});
after(async () => {
  for (const w of workers) await w.kill();
  await h?.close();
});

async function worker(env: Record<string, string> = {}): Promise<WorkerProcess & { healthPort: number }> {
  const healthPort = await freePort();
  const w = await spawnWorker(h.env.address, h.config, {
    WORKFLOW_BUNDLE_PATH: h.bundlePath,
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: String(healthPort),
    LOG_LEVEL: 'debug',
    ...env,
  });
  workers.push(w);
  return { ...w, healthPort };
}

/** SIGTERM; returns the exit code and whether /readyz answered 503 while it drained. */
async function terminate(w: WorkerProcess & { healthPort: number }) {
  const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
  w.child.kill('SIGTERM');
  let sawNotReady = false;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const res = await fetch(`http://127.0.0.1:${w.healthPort}/readyz`).catch(() => undefined);
    if (res?.status === 503) sawNotReady = true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { code: await exited, sawNotReady };
}

const logLines = (w: WorkerProcess) =>
  w
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function assertNoDuplicates(customer: Customer, result: OnboardingResult) {
  const state = await h.sim.state();
  assert.equal(state.accountConnectors.filter((c) => c.accountId === customer.accountId).length, 1);
  const writes = state.propertyWrites.filter((w) => w.accountConnectorId === result.accountConnectorId);
  assert.deepEqual(
    writes.map((w) => w.name).sort(),
    ['ClientId', 'ClientSecret', 'Resource'],
    'each property written exactly once',
  );
}

test('SIGTERM mid-activity: the activity finishes, the worker exits 0, another completes the onboarding', async () => {
  const customer = await h.sim.seedCustomer();
  const first = await worker({ SHUTDOWN_GRACE_MS: '30000' });
  // Cyclr applies the install and holds the answer for 3 s (within the 5 s HTTP timeout): the
  // worker is terminated meanwhile.
  await h.sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    times: 1,
    action: { type: 'delay', ms: 3000, when: 'after' },
  });
  const handle = await startOnboarding(h, customer);
  const installsBefore = (await h.sim.state()).counts.connectorsInstalled ?? 0;
  await adminConsents(h, customer);
  await until(
    'the install to be applied',
    async () => (await h.sim.state()).counts.connectorsInstalled > installsBefore,
  );

  const { code, sawNotReady } = await terminate(first);
  assert.equal(code, 0, first.output());
  assert.ok(sawNotReady, 'not ready while draining');
  assert.ok(
    logLines(first).some((l) => l.msg === 'Activity completed' && l.activityType === 'setUpAccountConnector'),
    'the in-flight activity finished on the terminated worker',
  );

  await worker();
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  await assertNoDuplicates(customer, result);
});

test('SIGTERM past the grace time: the activity is handed back and retried elsewhere, written once', async () => {
  const customer = await h.sim.seedCustomer();
  const first = await worker({ SHUTDOWN_GRACE_MS: '1000' });
  // The install (carrying the properties) is applied and its answer held for 20 s, far past the
  // grace time.
  await h.sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    times: 1,
    action: { type: 'delay', ms: 20_000, when: 'after' },
  });
  const handle = await startOnboarding(h, customer);
  const installsBefore = (await h.sim.state()).counts.connectorsInstalled ?? 0;
  await adminConsents(h, customer);
  await until(
    'the install to be applied',
    async () => (await h.sim.state()).counts.connectorsInstalled > installsBefore,
  );

  const { code } = await terminate(first);
  assert.equal(code, 0, first.output());
  assert.ok(
    !logLines(first).some(
      (l) => l.msg === 'Activity completed' && l.activityType === 'setUpAccountConnector',
    ),
    'the activity did not complete on the terminated worker',
  );

  await worker();
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  await assertNoDuplicates(customer, result);
});
