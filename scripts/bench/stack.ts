// Everything the worker talks to, on free ports (never 7233): a Temporal dev server, the simulators
// in a process of their own (or at --simulators), the ingress, and the product's configuration
// pointing at them; and the workflow bundle, prebuilt as `npm run build:bundle` does for production.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createCyclrClient } from '../../src/clients/cyclr';
import { dataConverter } from '../../src/codec/data-converter';
import { loadConfig } from '../../src/config';
import { temporalCliPath } from '../../src/embedded/binaries';
import { startIngress } from '../../src/ingress/server';
import { loadKeyRing } from '../../src/secrets/keys';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from '../../src/shared/names';
import { freePort } from './free-port';

const root = resolve(__dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Nothing is stopped one by one: however the bench ends (done, an error, Ctrl-C), its children die
// with it, and an in-memory dev server keeps nothing worth a graceful stop.
const children = new Set<ChildProcess>();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/**
 * Runs a .ts entry point with node + tsx; resolves with its pid once it prints `readyLine`. One that
 * exits while the bench runs ends it with its last output: a dead worker is a finding, not a figure.
 */
export async function startNode(script: string, env: NodeJS.ProcessEnv, readyLine: string): Promise<number> {
  const args = ['--import', 'tsx', resolve(root, script)];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } });
  children.add(child);
  let output = '';
  child.once('exit', (code, signal) => {
    console.error(`\n${script} exited (${signal ?? code}); its last output:\n${output.slice(-3000)}`);
    process.exit(1);
  });
  child.stderr.on('data', (data: Buffer) => void (output = (output + data).slice(-20_000)));
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start in 120 s:\n${output}`)), 120_000);
    let started = false;
    child.stdout.on('data', (data: Buffer) => {
      output = (output + data).slice(-20_000);
      if (started || !output.includes(readyLine)) return;
      started = true;
      clearTimeout(timer);
      ready(child.pid!);
    });
  });
}

/** CPU (utime + stime of /proc/<pid>/stat) and memory (VmRSS, VmHWM of /proc/<pid>/status). */
export function usage(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // utime, stime: the 12th and 13th
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
  const ticksPerSecond = 100; // USER_HZ
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  return { cpuSeconds, rssMiB: mib('VmRSS'), peakRssMiB: mib('VmHWM') };
}

/** Resets VmHWM, so a measured window reports its own peak. */
export const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

async function startDevServer(db?: string) {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--metrics-port', String(metricsPort), '--log-level', 'error');
  args.push('--search-attribute', `${ONBOARDING_STEP_SEARCH_ATTRIBUTE}=Keyword`);
  if (db) args.push('--db-filename', db);
  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  for (const until = Date.now() + 60_000; ; await sleep(300)) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
      await connection.workflowService.getSystemInfo({});
      return { address, connection, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
    } catch (err) {
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`the Temporal dev server did not start: ${err}`, { cause: err });
    }
  }
}

async function startSimulators(): Promise<string> {
  const port = await freePort();
  const env = { SIM_PORT: String(port), SIM_HOST: '127.0.0.1', SIM_STATE_FILE: '' };
  await startNode('simulators/main.ts', env, 'simulators listening on');
  return `http://127.0.0.1:${port}`;
}

export interface Stack {
  /** The driver's client, with the product's payload codec: it reads status and results as ops do. */
  client: Client;
  /** The dev server's Prometheus endpoint. */
  metricsUrl: string;
  simulatorsUrl: string;
  /** A worker's environment: the product's configuration, the server's address, the bundle. */
  workerEnv: NodeJS.ProcessEnv;
}

export async function startStack(options: { db?: string; simulatorsUrl?: string }): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'onboarding-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'workflow-bundle.js');
  const [server, simulatorsUrl, ingressPort] = await Promise.all([
    startDevServer(options.db),
    options.simulatorsUrl?.replace(/\/+$/, '') ?? startSimulators(),
    freePort(),
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build-workflow-bundle.ts', bundle], {
      cwd: root,
    }),
  ]);
  const key = () => randomBytes(32).toString('base64');
  const config = loadConfig(
    {},
    {
      IDENTITY_BASE_URL: `${simulatorsUrl}/login`,
      GRAPH_BASE_URL: `${simulatorsUrl}/graph`,
      CYCLR_API_BASE_URL: `${simulatorsUrl}/cyclr-api`,
      CYCLR_SERVICE_BASE_URL: `${simulatorsUrl}/cyclr-app`,
      INGRESS_PORT: String(ingressPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      DATA_DIR: dir,
      SECRET_SEALING_KEYS: `b1:${key()}`,
      PAYLOAD_CODEC_KEYS: `c1:${key()}`,
      STATE_SIGNING_KEY: key(),
    },
  );
  const client = new Client({ connection: server.connection, dataConverter: dataConverter(config) });
  await startIngress({ config, keys: loadKeyRing(config), client, cyclr: createCyclrClient(config) });
  const workerEnv: NodeJS.ProcessEnv = { TEMPORAL_ADDRESS: server.address, WORKFLOW_BUNDLE_PATH: bundle };
  for (const [name, value] of Object.entries(config))
    if (value !== undefined) workerEnv[name] = String(value);
  console.log(`dev server ${server.address}, simulators ${simulatorsUrl}, ingress ${config.PUBLIC_BASE_URL}`);
  return { client, metricsUrl: server.metricsUrl, simulatorsUrl, workerEnv };
}
