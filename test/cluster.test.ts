// Pointed at a separately started Temporal server, as an operator would: a dev server process on
// namespace "other", used by a worker process, the ops CLI and the ingress process through
// TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE; then mutual TLS (client certificate) and a profile in a
// config file; and the error when nothing answers, naming what was tried.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { dataConverter } from '../src/codec/data-converter';
import { loadConfig, type Config } from '../src/config';
import { followLink } from '../src/demo/person';
import { waitUntil } from '../src/demo/sample-onboarding';
import { temporalCliPath } from '../src/embedded/binaries';
import { onboardingWorkflowId } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { connectClient } from '../src/temporal';
import { startSimulators } from '../simulators/server';
import {
  makeCertificates,
  startDevServer,
  startTlsFront,
  type Certificates,
  type DevServer,
} from './helpers/dev-server';
import { freePort, workflowBundle } from './helpers/harness';
import { SimControl } from './helpers/sim-control';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';

const root = resolve(__dirname, '..');
const NAMESPACE = 'other';
let server: DevServer;
let tlsFront: DevServer;
let certs: Certificates;
let simulators: Awaited<ReturnType<typeof startSimulators>>;
let sim: SimControl;
let config: Config;
let configEnv: Record<string, string>;
let client: Client;
let bundlePath: string;
const workers: WorkerProcess[] = [];
let ingress: ChildProcess | undefined;

before(async () => {
  [server, simulators, bundlePath] = await Promise.all([
    startDevServer(NAMESPACE),
    startSimulators({ port: 0 }),
    workflowBundle().then((b) => b.codePath),
  ]);
  certs = makeCertificates();
  tlsFront = await startTlsFront(server.address, certs);
  sim = new SimControl(simulators.url);
  const ingressPort = await freePort();
  config = loadConfig(
    {},
    {
      IDENTITY_BASE_URL: `${simulators.url}/login`,
      GRAPH_BASE_URL: `${simulators.url}/graph`,
      CYCLR_API_BASE_URL: `${simulators.url}/cyclr-api`,
      CYCLR_SERVICE_BASE_URL: `${simulators.url}/cyclr-app`,
      INGRESS_PORT: String(ingressPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'onboarding-cluster-')),
      SECRET_SEALING_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      STATE_SIGNING_KEY: randomBytes(32).toString('hex'),
      PAYLOAD_CODEC_KEYS: `c1:${randomBytes(32).toString('base64')}`,
      HTTP_TIMEOUT_MS: '5000',
    },
  );
  configEnv = Object.fromEntries(
    Object.entries(config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  client = await connectClient(
    { connectionOptions: { address: server.address }, namespace: NAMESPACE },
    dataConverter(config),
  );
});

after(async () => {
  for (const w of workers) await w.kill();
  ingress?.kill('SIGKILL');
  await client?.connection.close();
  await tlsFront?.stop();
  await server?.stop();
  await simulators?.close();
});

const plain = () => ({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: NAMESPACE });
const mtls = () => ({
  TEMPORAL_ADDRESS: tlsFront.address,
  TEMPORAL_NAMESPACE: NAMESPACE,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
  TEMPORAL_TLS_SERVER_NAME: 'localhost',
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
});

/** The ops CLI as its own process, with only the environment to tell it where Temporal is. */
async function cli(args: string[], temporalEnv: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args],
      { cwd: root, env: { ...process.env, ...configEnv, ...temporalEnv } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function startIngressProcess(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'ingress', 'main.ts')], {
    cwd: root,
    env: { ...process.env, ...configEnv, ...plain() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ingress = child;
  let output = '';
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`ingress did not start:\n${output}`)), 60_000);
    child.stdout!.on('data', (d) => {
      output += d;
      if (output.includes('ingress on')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => fail(new Error(`ingress exited with ${code}:\n${output}`)));
  });
}

test('worker, CLI and ingress on namespace "other" of a separately started server: onboarded to verified', async () => {
  const [worker] = await Promise.all([
    spawnWorker(server.address, config, { ...plain(), WORKFLOW_BUNDLE_PATH: bundlePath }),
    startIngressProcess(),
  ]);
  workers.push(worker);
  assert.match(worker.output(), /namespace other/);

  const customer = await sim.seedCustomer();
  const started = await cli(
    [
      'onboard',
      '--account',
      customer.accountId,
      '--tenant',
      customer.tenantId,
      '--resource-url',
      customer.org,
    ],
    plain(),
  );
  assert.equal(started.code, 0, started.stderr);

  const workflowId = onboardingWorkflowId(customer.accountId);
  const consent = await waitUntil(client, workflowId, 'consent');
  await followLink(consent.consentUrl!, { username: customer.admin, decision: 'accept' }); // via the ingress
  const signIn = await waitUntil(client, workflowId, 'sign-in');
  await followLink(signIn.signInUrl!, { username: customer.user });
  const result: OnboardingResult = await client.workflow.getHandle(workflowId).result();
  assert.equal(result.outcome, 'verified');

  const status = await cli(['status', customer.accountId], plain());
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /verified/);

  // The search attribute works in that namespace, from the official CLI too.
  let listed = '';
  for (let i = 0; i < 50 && !listed.includes(workflowId); i++) {
    const { stdout } = await promisify(execFile)(temporalCliPath(), [
      'workflow',
      'list',
      '--address',
      server.address,
      '--namespace',
      NAMESPACE,
      '--query',
      "OnboardingStep = 'verified'",
    ]);
    listed = stdout;
    if (!listed.includes(workflowId)) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(listed, new RegExp(workflowId));
});

test('mutual TLS: the CLI and a worker connect with a client certificate; without one, a clear error', async () => {
  const customer = await sim.seedCustomer();
  const started = await cli(
    [
      'onboard',
      '--account',
      customer.accountId,
      '--tenant',
      customer.tenantId,
      '--resource-url',
      customer.org,
    ],
    mtls(),
  );
  assert.equal(started.code, 0, started.stderr);
  const status = await cli(['status', customer.accountId], mtls());
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(customer.accountId));

  // A worker over TLS gets to "connected and polling".
  const healthPort = await freePort();
  const worker = await spawnWorker(tlsFront.address, config, {
    ...mtls(),
    WORKFLOW_BUNDLE_PATH: bundlePath,
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: String(healthPort),
  });
  workers.push(worker);
  assert.match(worker.output(), /TLS on with a client certificate/);
  const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
  assert.equal(ready.status, 200, await ready.text());

  const noClientCert: Record<string, string> = { ...mtls() };
  delete noClientCert.TEMPORAL_TLS_CLIENT_CERT_PATH;
  delete noClientCert.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const refused = await cli(['status', customer.accountId], noClientCert);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /Cannot reach Temporal with address 127\.0\.0\.1:\d+ \(from TEMPORAL_ADDRESS\), namespace other, TLS on,/,
  );
});

test('a profile in a config file (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE) selects the cluster and namespace', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'onboarding-profile-')), 'temporal.toml');
  writeFileSync(file, `[profile.staging]\naddress = "${server.address}"\nnamespace = "${NAMESPACE}"\n`);
  const listed = await cli(['list'], { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /dynamics-onboarding-|acct-/);
});

test('nothing answering: the CLI and the worker say what they tried', async () => {
  const closed = `127.0.0.1:${await freePort()}`;
  const env = { TEMPORAL_ADDRESS: closed, TEMPORAL_NAMESPACE: NAMESPACE };
  const result = await cli(['status', 'acme-1'], env);
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    new RegExp(
      `Cannot reach Temporal with address ${closed} \\(from TEMPORAL_ADDRESS\\), namespace other, TLS off, no API key, profile default`,
    ),
  );
  await assert.rejects(
    spawnWorker(closed, config, { ...env, WORKFLOW_BUNDLE_PATH: bundlePath }),
    (err: Error) => {
      assert.match(err.message, new RegExp(`Cannot reach Temporal with address ${closed}`));
      return true;
    },
  );
});

test('a namespace that does not exist: the worker says where it looked', async () => {
  const env = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'no-such-namespace' };
  await assert.rejects(
    spawnWorker(server.address, config, { ...env, WORKFLOW_BUNDLE_PATH: bundlePath }),
    (err: Error) => {
      assert.match(
        err.message,
        /Cannot start the worker with address 127\.0\.0\.1:\d+ \(from TEMPORAL_ADDRESS\), namespace no-such-namespace/,
      );
      assert.match(err.message, /no-such-namespace/);
      return true;
    },
  );
});

test('an API key (Temporal Cloud style) turns TLS on and is never printed', async () => {
  const closed = `127.0.0.1:${await freePort()}`;
  const apiKey = `key-${randomBytes(16).toString('hex')}`;
  const result = await cli(['status', 'acme-1'], {
    TEMPORAL_ADDRESS: closed,
    TEMPORAL_NAMESPACE: 'ns.acct',
    TEMPORAL_API_KEY: apiKey,
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /namespace ns\.acct, TLS on, API key set/);
  assert.ok(!`${result.stdout}${result.stderr}`.includes(apiKey), 'the API key is not printed');
});
