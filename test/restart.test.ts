// Crashes and restarts while onboardings are in flight: the worker process is SIGKILLed at
// random points (some while Cyclr holds the answer to a write it already applied) and restarted,
// and the Temporal dev server is stopped and restarted on its SQLite file, same port. Every
// onboarding must reach `verified`, with one app, one live secret, one connector and one write
// per property per onboarding.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { createCyclrClient } from '../src/clients/cyclr';
import { dataConverter } from '../src/codec/data-converter';
import { loadConfig, type Config } from '../src/config';
import { temporalCliPath } from '../src/embedded/binaries';
import { followLink } from '../src/demo/person';
import { startIngress } from '../src/ingress/server';
import { loadKeyRing } from '../src/secrets/keys';
import { statusQuery } from '../src/shared/messages';
import {
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  onboardingWorkflowId,
  TASK_QUEUE,
} from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { startSimulators, type RunningSimulators } from '../simulators/server';
import { freePort, workflowBundle } from './helpers/harness';
import { SimControl, type Customer } from './helpers/sim-control';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';
import { runsAlone } from './helpers/runs-alone';

const ONBOARDINGS = 3;
/** The chaos plan: each entry after a random pause of 1-3 s. */
const PLAN = ['kill-worker', 'restart-server', 'kill-worker', 'kill-worker', 'restart-server', 'kill-worker'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'onboarding-restart-'));
let port: number;
let server: ChildProcess | undefined;
let sims: RunningSimulators;
let config: Config;
let client: Client;
let ingress: Awaited<ReturnType<typeof startIngress>>;
let worker: WorkerProcess | undefined;
let bundlePath: string;
/** What the test did to the system: it must have crashed something to prove anything. */
const done = { workerKills: 0, workerSpawns: 0, workerExitedOnItsOwn: 0, serverRestarts: 0 };

async function portOpen(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** The dev server as our own process, on its SQLite file: a restart keeps every workflow. */
async function startServer(): Promise<void> {
  server = spawn(
    temporalCliPath(),
    [
      ...['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'],
      ...['--db-filename', join(dir, 'temporal.sqlite'), '--log-level', 'error'],
      ...['--search-attribute', `${ONBOARDING_STEP_SEARCH_ATTRIBUTE}=Keyword`],
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 300 && !(await portOpen()); i++) await sleep(100);
}

async function stopServer(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server!.once('exit', r));
  server.kill('SIGTERM');
  await exited;
}

async function startWorker(): Promise<void> {
  for (;;) {
    try {
      worker = await spawnWorker(`127.0.0.1:${port}`, config, { WORKFLOW_BUNDLE_PATH: bundlePath });
      done.workerSpawns++;
      return;
    } catch {
      await sleep(500); // the server is still coming up
    }
  }
}

runsAlone();
before(async () => {
  port = await freePort();
  await startServer();
  sims = await startSimulators({ port: 0 });
  const ingressPort = await freePort();
  config = loadConfig(
    {},
    {
      IDENTITY_BASE_URL: `${sims.url}/login`,
      GRAPH_BASE_URL: `${sims.url}/graph`,
      CYCLR_API_BASE_URL: `${sims.url}/cyclr-api`,
      CYCLR_SERVICE_BASE_URL: `${sims.url}/cyclr-app`,
      INGRESS_PORT: String(ingressPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      DATA_DIR: dir,
      SECRET_SEALING_KEYS: `t1:${randomBytes(32).toString('base64')}`,
      STATE_SIGNING_KEY: randomBytes(32).toString('hex'),
      PAYLOAD_CODEC_KEYS: `c1:${randomBytes(32).toString('base64')}`,
      HTTP_TIMEOUT_MS: '5000',
    },
  );
  client = new Client({
    connection: await Connection.connect({ address: `127.0.0.1:${port}` }),
    dataConverter: dataConverter(config),
  });
  ingress = await startIngress({
    config,
    keys: loadKeyRing(config),
    client,
    cyclr: createCyclrClient(config),
  });
  bundlePath = (await workflowBundle()).codePath;
  await startWorker();
});

after(async () => {
  await worker?.kill();
  ingress?.close();
  ingress?.closeAllConnections();
  await sims?.close();
  await client?.connection.close();
  await stopServer();
});

/** Plays the customer's admin and user until the onboarding ends, riding out every outage. */
async function drive(customer: Customer, deadline: number): Promise<OnboardingResult> {
  const workflowId = onboardingWorkflowId(customer.accountId);
  const handle = client.workflow.getHandle(workflowId);
  const lastTry: Record<string, number> = {};
  let last = 'no status yet';
  let started = false;
  while (Date.now() < deadline) {
    try {
      if (!started) {
        await client.workflow
          .start(ONBOARDING_WORKFLOW_TYPE, {
            workflowId,
            taskQueue: TASK_QUEUE,
            args: [
              {
                cyclrAccountId: customer.accountId,
                customerTenant: customer.tenantId,
                resourceUrl: customer.org,
              },
            ],
          })
          .catch((err) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          });
        started = true;
      }
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') return await handle.result();
      const status = await handle.query(statusQuery);
      last = JSON.stringify({ ...status, timeline: status.timeline.slice(-6) });
      // A person acts again only when the workflow still waits some seconds after the last try.
      const act = async (key: string, link: string | null, username: string) => {
        if (!link || Date.now() - (lastTry[key] ?? 0) < 5000) return;
        lastTry[key] = Date.now();
        await followLink(link, { username });
      };
      if (status.waitingFor === 'consent') await act('consent', status.consentUrl, customer.admin);
      if (status.waitingFor === 'sign-in')
        await act(`sign-in ${status.signInAttempt}`, status.signInUrl, customer.user);
    } catch {
      // Temporal or the worker is down: try again in a moment.
    }
    await sleep(300);
  }
  throw new Error(`${workflowId} did not end in time; last status ${last}`);
}

test('worker SIGKILLed and dev server restarted mid-flight: every onboarding verified, nothing done twice', async () => {
  const sim = new SimControl(sims.url);
  // Cyclr applies each install (it carries the properties) and holds the answer: kills land
  // between the write and its answer.
  await sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    times: ONBOARDINGS,
    action: { type: 'delay', ms: 1500, when: 'after' },
  });
  const customers = await Promise.all(Array.from({ length: ONBOARDINGS }, () => sim.seedCustomer()));
  const deadline = Date.now() + 150_000;
  const results = Promise.all(customers.map((c) => drive(c, deadline)));

  for (const action of PLAN) {
    await sleep(1000 + Math.random() * 2000);
    if (action === 'kill-worker') {
      await worker!.kill('SIGKILL');
      done.workerKills++;
    } else {
      await worker!.kill('SIGKILL');
      await stopServer();
      await startServer();
      done.serverRestarts++;
    }
    await startWorker();
  }
  // A worker may give up on its own while the server is away: keep one running until the end.
  const keeper = setInterval(() => {
    if (worker && worker.child.exitCode !== null && worker.child.signalCode === null) {
      done.workerExitedOnItsOwn++;
      worker = undefined;
      void startWorker();
    }
  }, 500);
  const outcomes = await results.finally(() => clearInterval(keeper));

  assert.deepEqual(
    outcomes.map((r) => r.outcome),
    customers.map(() => 'verified'),
  );
  const state = await sim.state();
  assert.equal(state.applications.length, 1, 'one app');
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(
    state.counts.passwordsAdded - state.counts.passwordsRemoved,
    1,
    'one live secret (an orphan of a killed attempt is retired)',
  );
  assert.equal(state.applications[0].passwordCredentials.length, 1, 'one secret on the app');
  for (const [i, customer] of customers.entries()) {
    const connectors = state.accountConnectors.filter((c) => c.accountId === customer.accountId);
    assert.equal(connectors.length, 1, `${customer.accountId}: one connector`);
    assert.equal(connectors[0].Id, outcomes[i].accountConnectorId);
    const writes = state.propertyWrites.filter((w) => w.accountConnectorId === connectors[0].Id);
    assert.deepEqual(
      writes.map((w) => w.name).sort(),
      ['ClientId', 'ClientSecret', 'Resource'],
      `${customer.accountId}: each property written once`,
    );
  }
  assert.ok(done.workerKills > 0 && done.serverRestarts > 0, `crashes happened: ${JSON.stringify(done)}`);
});
