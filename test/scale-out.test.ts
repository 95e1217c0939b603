// Scale-out: worker processes on the same task queue share a wave of onboardings. Two workers
// take a first wave; two more join for a second wave, during which one is SIGKILLed with work in
// flight. Every onboarding ends verified and the simulators count nothing done twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, connectorInstalledByHand, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';
import { until } from './helpers/until';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';
import { runsAlone } from './helpers/runs-alone';

let h: Harness;
const workers: WorkerProcess[] = [];
runsAlone();
before(async () => {
  h = await startHarness('dev-server');
  await h.stopWorker(); // only the worker processes work here
});
after(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await h?.close();
});

async function addWorkers(count: number): Promise<WorkerProcess[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      spawnWorker(h.env.address, h.config, { WORKFLOW_BUNDLE_PATH: h.bundlePath, LOG_LEVEL: 'debug' }),
    ),
  );
  workers.push(...started);
  return started;
}

/** Activities each worker completed (from its JSON log). */

async function onboard(customer: Customer): Promise<OnboardingResult> {
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  // An onboarding whose activity ran on the worker killed mid-wave goes on once that activity's
  // timeout has passed: on a loaded machine that can take more than a minute.
  await userSignsIn(h, customer, customer.user, 180_000);
  return handle.result();
}

async function assertEachOnce(customers: Customer[], results: OnboardingResult[]) {
  const state = await h.sim.state();
  results.forEach((result, i) => {
    assert.equal(result.outcome, 'verified', `${customers[i].accountId} verified`);
    const connectors = state.accountConnectors.filter((c) => c.accountId === customers[i].accountId);
    assert.equal(connectors.length, 1, `one connector for ${customers[i].accountId}`);
    const writes = state.propertyWrites.filter((w) => w.accountConnectorId === result.accountConnectorId);
    assert.deepEqual(writes.map((w) => w.name).sort(), ['ClientId', 'ClientSecret', 'Resource']);
  });
  assert.equal(state.applications.length, 1, 'one shared app');
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(state.counts.passwordsAdded, 1, 'one client secret');
}

test('two workers, then four with one SIGKILLed mid-wave: all verified, nothing duplicated', async () => {
  await addWorkers(2);
  const wave1 = await Promise.all(Array.from({ length: 6 }, () => h.sim.seedCustomer()));
  const results1 = await Promise.all(wave1.map(onboard));
  await assertEachOnce(wave1, results1);

  const [, victim] = await addWorkers(2);
  const wave2 = await Promise.all(Array.from({ length: 8 }, () => h.sim.seedCustomer()));
  // Half of them have the connector installed by hand already: their properties are written one by one.
  for (const customer of wave2.filter((_, i) => i % 2)) await connectorInstalledByHand(h, customer);
  // Cyclr holds the answers to some installs and property writes (applied first), so writes are
  // in flight on every worker when one of them dies.
  for (const path of ['/install$', '/properties$']) {
    await h.sim.call('POST', '/faults', {
      match: { service: 'cyclr-api', method: 'POST', path },
      times: 4,
      action: { type: 'delay', ms: 2000, when: 'after' },
    });
  }
  const writesBefore = (await h.sim.state()).counts.propertyWrites;
  const running = wave2.map(onboard);
  await until(
    'the second wave to be writing',
    async () => (await h.sim.state()).counts.propertyWrites >= writesBefore + 4,
  );
  await victim.kill('SIGKILL');
  const results2 = await Promise.all(running);
  await assertEachOnce([...wave1, ...wave2], [...results1, ...results2]);
});
