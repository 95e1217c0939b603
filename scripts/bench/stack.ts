// Everything but the workers: the dev server, the simulators (a process of their own, or running at a
// given URL), the ingress on a free port, the product's configuration pointing at them, and both
// workflow bundles prebuilt to files.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { createCyclrClient } from '../../src/clients/cyclr';
import { dataConverter } from '../../src/codec/data-converter';
import { loadConfig, type Config } from '../../src/config';
import { startIngress } from '../../src/ingress/server';
import { workflowBundleOptions } from '../../src/observability/workflow-modules';
import { loadKeyRing } from '../../src/secrets/keys';
import { startDevServer, type DevServer } from './dev-server';
import { freePort } from './free-port';
import { startSimulatorProcess, useRunningSimulators, type BenchSimulators } from './simulators';

export interface Stack {
  server: DevServer;
  sims: BenchSimulators;
  config: Config;
  /** Environment for a worker process: the product's configuration and the server's address. */
  workerEnv: NodeJS.ProcessEnv;
  bundles: { product: string; baseline: string };
  close(): Promise<void>;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

async function bundleTo(dir: string, name: string, options: BundleOptions): Promise<string> {
  const { code } = await bundleWorkflowCode({ ...options, logger: quietLogger });
  const path = join(dir, `${name}.js`);
  writeFileSync(path, code);
  return path;
}

export async function startStack(options: { db?: string; simulatorsUrl?: string } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'onboarding-bench-'));
  const [sims, ingressPort, product, baseline] = await Promise.all([
    options.simulatorsUrl ? useRunningSimulators(options.simulatorsUrl) : startSimulatorProcess(),
    freePort(),
    // As npm run build:bundle does for a worker without traces (the bench exports none).
    bundleTo(dir, 'product', workflowBundleOptions(false)),
    // The bare workflow gets the product's SDK setting too (the sandbox's stack-trace limit).
    bundleTo(dir, 'baseline', {
      workflowsPath: require.resolve('./baseline-workflows'),
      preloadModules: [require.resolve('../../src/workflows/stack-trace-limit')],
    }),
  ]);
  const config = loadConfig(
    {},
    {
      IDENTITY_BASE_URL: `${sims.url}/login`,
      GRAPH_BASE_URL: `${sims.url}/graph`,
      CYCLR_API_BASE_URL: `${sims.url}/cyclr-api`,
      CYCLR_SERVICE_BASE_URL: `${sims.url}/cyclr-app`,
      INGRESS_PORT: String(ingressPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      DATA_DIR: dir,
      SECRET_SEALING_KEYS: `b1:${randomBytes(32).toString('base64')}`,
      STATE_SIGNING_KEY: randomBytes(32).toString('hex'),
    },
  );
  // The product's payload codec: the driver reads results and status like any client of it.
  const server = await startDevServer(dataConverter(config), options.db);
  const keys = loadKeyRing(config);
  const ingress: Server = await startIngress({
    config,
    keys,
    client: server.client,
    cyclr: createCyclrClient(config),
  });
  const workerEnv: NodeJS.ProcessEnv = { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: 'default' };
  for (const [key, value] of Object.entries(config)) if (value !== undefined) workerEnv[key] = String(value);
  return {
    server,
    sims,
    config,
    workerEnv,
    bundles: { product, baseline },
    async close() {
      ingress.closeAllConnections();
      await new Promise((r) => ingress.close(r));
      await sims.close();
      await server.stop();
    },
  };
}
