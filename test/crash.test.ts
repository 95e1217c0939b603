// A worker killed (SIGKILL) mid-flight, right after a write was applied but before it saw the
// answer; a new worker process finishes the onboarding, and the simulators count no duplicate.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, connectorInstalledByHand, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
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

test('a worker killed after writes were applied: a new worker finishes with no duplicate writes', async () => {
  // Two accounts: one new (the install carries the properties), one whose connector someone
  // installed by hand (the properties are written one by one).
  const fresh = await h.sim.seedCustomer();
  const byHand = await h.sim.seedCustomer();
  await connectorInstalledByHand(h, byHand);
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
  const before = (await h.sim.state()).counts;

  const customers = [fresh, byHand];
  const handles = await Promise.all(customers.map((c) => startOnboarding(h, c)));
  await Promise.all(customers.map((c) => adminConsents(h, c)));
  await until('the install and a property write to be applied', async () => {
    const { counts } = await h.sim.state();
    return (
      counts.connectorsInstalled > before.connectorsInstalled &&
      counts.propertyWrites >= before.propertyWrites + 4 // three by the install, one by itself
    );
  });
  await first.kill('SIGKILL');

  const second = await spawnWorker(h.env.address, h.config, { WORKFLOW_BUNDLE_PATH: h.bundlePath });
  workers.push(second);
  await Promise.all(customers.map((c) => userSignsIn(h, c)));
  const results: OnboardingResult[] = await Promise.all(handles.map((handle) => handle.result()));
  for (const result of results) assert.equal(result.outcome, 'verified');

  const state = await h.sim.state();
  customers.forEach((customer, i) => {
    const result = results[i];
    const connectors = state.accountConnectors.filter((c) => c.accountId === customer.accountId);
    assert.equal(connectors.length, 1, 'one account connector despite the install being retried');
    const writes = state.propertyWrites.filter((w) => w.accountConnectorId === result.accountConnectorId);
    assert.deepEqual(
      writes.map((w) => w.name).sort(),
      ['ClientId', 'ClientSecret', 'Resource'],
      `each property of ${customer.accountId} written exactly once`,
    );
  });
  assert.equal(state.applications.length, 1, 'one app');
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(state.counts.passwordsAdded, 1, 'one client secret');
});
