// A worker killed (SIGKILL) mid-flight, right after a write was applied but before it saw the
// answer; a new worker process finishes the onboarding, and the simulators count no duplicate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';

let h: Harness;
const workers: WorkerProcess[] = [];
before(async () => {
  h = await startHarness('dev-server');
  await h.stopWorker(); // only the child processes work here
});
after(async () => {
  for (const w of workers) await w.kill();
  await h?.close();
});

test('a worker killed after writes were applied: a new worker finishes with no duplicate writes', async () => {
  const customer = await h.sim.seedCustomer();
  const first = await spawnWorker(h.env.address, h.config, { WORKFLOW_BUNDLE_PATH: h.bundlePath });
  workers.push(first);

  // Cyclr applies the install and the first property write, then holds the answers: the worker
  // is killed while it waits for them.
  await h.sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    times: 1,
    action: { type: 'delay', ms: 20_000, when: 'after' },
  });
  await h.sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/properties$' },
    times: 1,
    action: { type: 'delay', ms: 20_000, when: 'after' },
  });

  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await until(
    'the connector install to be applied',
    async () => (await h.sim.state()).counts.connectorsInstalled >= 1,
  );
  await first.kill('SIGKILL');

  const second = await spawnWorker(h.env.address, h.config, { WORKFLOW_BUNDLE_PATH: h.bundlePath });
  workers.push(second);
  await until(
    'the first property write to be applied',
    async () => (await h.sim.state()).counts.propertyWrites >= 1,
    60_000,
  );
  await second.kill('SIGKILL');

  const third = await spawnWorker(h.env.address, h.config, { WORKFLOW_BUNDLE_PATH: h.bundlePath });
  workers.push(third);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');

  const state = await h.sim.state();
  const connectors = state.accountConnectors.filter((c) => c.accountId === customer.accountId);
  assert.equal(connectors.length, 1, 'one account connector despite the install being retried');
  const writes = state.propertyWrites.filter((w) => w.accountConnectorId === result.accountConnectorId);
  assert.deepEqual(
    writes.map((w) => w.name).sort(),
    ['ClientId', 'ClientSecret', 'Resource'],
    'each property written exactly once',
  );
  assert.equal(state.applications.length, 1, 'one app');
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(state.counts.passwordsAdded, 1, 'one client secret');
});
