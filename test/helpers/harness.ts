// A real Temporal server (dev server or time-skipping test server), the simulators on an
// ephemeral port, the HTTP ingress and a worker: the whole product, per test file.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type Worker } from '@temporalio/worker';
import { createCyclrClient } from '../../src/clients/cyclr';
import { dataConverter } from '../../src/codec/data-converter';
import { codecServerOptions, startCodecServer } from '../../src/codec/server';
import { loadConfig, type Config } from '../../src/config';
import { temporalCliPath, temporalTestServerPath } from '../../src/embedded/binaries';
import { startIngress } from '../../src/ingress/server';
import { loadKeyRing, type KeyRing } from '../../src/secrets/keys';
import { createWorker } from '../../src/worker-setup';
import { onboardingStepKey } from '../../src/workflows/onboarding-state';
import { startSimulators } from '../../simulators/server';
import { SimControl } from './sim-control';
import { workflowBundle } from './workflow-bundle';

export { workflowBundle };

export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Harness {
  env: TestWorkflowEnvironment;
  config: Config;
  keys: KeyRing;
  sim: SimControl;
  simUrl: string;
  ingressUrl: string;
  worker: Worker;
  /** The codec server, for the official CLI: `--codec-endpoint <url> --codec-auth <auth>`. */
  codec: { endpoint: string; auth: string };
  /** The prebuilt workflow bundle file, for worker child processes (WORKFLOW_BUNDLE_PATH). */
  bundlePath: string;
  /** The dev server's Web UI, when asked for: it decodes payloads through the codec server. */
  webUi?: { url: string };
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

Runtime.install({ logger: new DefaultLogger('WARN') });

// One codec key per test process, kept in the environment: the ops CLI and worker processes a
// test spawns inherit it and can read what the harness's client and worker wrote.
process.env.PAYLOAD_CODEC_KEYS ??= `c1:${randomBytes(32).toString('base64')}`;

export interface HarnessOptions {
  /**
   * Start the dev server's Web UI with its codec endpoint set to the harness's codec server, which
   * takes the UI's own origin without a token (as `npm start` does).
   */
  webUi?: boolean;
}

export async function startHarness(
  kind: 'dev-server' | 'time-skipping' = 'dev-server',
  configOverrides: Partial<Record<keyof Config, string>> = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const webUi = options.webUi && kind === 'dev-server';
  const uiPort = webUi ? await freePort() : 0;
  const codecPort = webUi ? await freePort() : 0;
  const uiOrigins = [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
  // The client, the ingress and every worker encrypt payloads, as in production.
  const codecKeys = configOverrides.PAYLOAD_CODEC_KEYS ?? process.env.PAYLOAD_CODEC_KEYS!;
  const client = { dataConverter: dataConverter({ PAYLOAD_CODEC_KEYS: codecKeys, DATA_DIR: '' }) };
  const env =
    kind === 'dev-server'
      ? await TestWorkflowEnvironment.createLocal({
          server: {
            executable: { type: 'existing-path', path: temporalCliPath() },
            searchAttributes: [onboardingStepKey],
            ...(webUi
              ? {
                  ui: true,
                  uiPort,
                  extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${codecPort}/codecs`],
                }
              : {}),
          },
          client,
        })
      : await TestWorkflowEnvironment.createTimeSkipping({
          server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
          client,
        });
  if (kind === 'time-skipping') {
    // The Java test server takes custom search attributes through the operator API.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: {
        [onboardingStepKey.name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      },
    });
  }
  const simulators = await startSimulators({ port: 0 });
  const ingressPort = await freePort();
  const config = loadConfig(
    {},
    {
      IDENTITY_BASE_URL: `${simulators.url}/login`,
      GRAPH_BASE_URL: `${simulators.url}/graph`,
      CYCLR_API_BASE_URL: `${simulators.url}/cyclr-api`,
      CYCLR_SERVICE_BASE_URL: `${simulators.url}/cyclr-app`,
      INGRESS_PORT: String(ingressPort),
      PUBLIC_BASE_URL: `http://127.0.0.1:${ingressPort}`,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'onboarding-test-')),
      SECRET_SEALING_KEYS: `t1:${randomBytes(32).toString('base64')}`,
      STATE_SIGNING_KEY: randomBytes(32).toString('hex'),
      PAYLOAD_CODEC_KEYS: codecKeys,
      CODEC_AUTH_TOKEN: randomBytes(32).toString('hex'),
      HTTP_TIMEOUT_MS: '5000',
      ...configOverrides,
    },
  );
  const keys = loadKeyRing(config);
  const ingress = await startIngress({ config, keys, client: env.client, cyclr: createCyclrClient(config) });
  const code = await workflowBundle();
  const codecServer = await startCodecServer(
    codecServerOptions(config, env.namespace ?? 'default', webUi ? { origins: uiOrigins } : undefined),
    codecPort,
    '127.0.0.1',
  );

  let worker!: Worker;
  let running: Promise<void> | undefined;
  const harness: Harness = {
    env,
    config,
    keys,
    sim: new SimControl(simulators.url),
    simUrl: simulators.url,
    ingressUrl: config.PUBLIC_BASE_URL,
    codec: {
      endpoint: `http://127.0.0.1:${(codecServer.address() as { port: number }).port}/codecs`,
      auth: `Bearer ${config.CODEC_AUTH_TOKEN}`,
    },
    bundlePath: code.codePath,
    ...(webUi ? { webUi: { url: uiOrigins[0] } } : {}),
    get worker() {
      return worker;
    },
    async startWorker() {
      worker = await createWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        client: env.client,
        config,
        keys,
        workflowBundle: { code: code.code },
      });
      running = worker.run();
    },
    async stopWorker() {
      if (!running) return;
      worker.shutdown();
      await running;
      running = undefined;
    },
    async close() {
      await harness.stopWorker();
      await new Promise((resolve) => ingress.close(resolve));
      codecServer.close();
      ingress.closeAllConnections();
      await simulators.close();
      await env.teardown();
    },
  };
  await harness.startWorker();
  return harness;
}
