// `npm start`: the whole system on one machine with nothing configured. A Temporal dev server
// (SQLite under .data/, Web UI on 8233), the simulators, the worker and the HTTP ingress; then one
// sample customer onboarded to verified, and everything keeps serving until Ctrl-C.
// Setting TEMPORAL_ADDRESS (or a profile) uses that cluster instead of the dev server; setting the
// service base URLs uses those services instead of the simulators (and skips the demo).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createCyclrClient } from './clients/cyclr';
import { codecServerOptions, embeddedLocalUi, startCodecServer } from './codec/server';
import { loadConfig } from './config';
import { temporalCliPath } from './embedded/binaries';
import { runSampleOnboarding } from './demo/sample-onboarding';
import { resolveEventsSecret } from './ingress/events-secret';
import { describeOpsSignIn } from './ingress/ops-token';
import { EVENTS_PATH } from './shared/events';
import { startIngress } from './ingress/server';
import { loadObservabilityConfig } from './observability/config';
import { prometheusMetrics } from './observability/metrics';
import { startTracing } from './observability/tracing';
import { loadKeyRing } from './secrets/keys';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from './shared/names';
import { visible } from './shared/terminal-text';
import { connectClient, connectWorker, temporalTarget } from './temporal';
import { createWorker } from './worker-setup';

const root = resolve(__dirname, '..');
/** The dev server's Web UI. */
const UI_PORT = 8233;
const children: ChildProcess[] = [];
const log = (line: string) => console.log(`[start] ${line}`);

function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!shuttingDown) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) {
        throw new Error(`${what} did not come up in ${timeoutMs / 1000} s: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

let shuttingDown = false;
let stopWorker: (() => Promise<void>) | undefined;
let stopIngress: (() => void) | undefined;
let stopCodec: (() => void) | undefined;

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log('stopping...');
  stopIngress?.();
  stopCodec?.();
  await stopWorker?.().catch(() => undefined);
  for (const child of children.reverse()) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  log('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const keys = loadKeyRing(config);
  const dataDir = resolve(root, config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  // Metrics and traces by the same variables as the worker process (docs/operations.md).
  const observability = loadObservabilityConfig();
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(process.env.LOG_LEVEL === 'debug' ? 'INFO' : 'WARN'),
    telemetryOptions: { metrics: prometheusMetrics(observability) },
  });
  const tracing = startTracing(observability);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
  // Whatever ends this process, the servers it started end with it.
  process.on('exit', () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM')));

  const target = temporalTarget();
  const devServerStarted = !process.env.TEMPORAL_ADDRESS && !process.env.TEMPORAL_PROFILE;
  // The dev server's Web UI reads payloads through the codec server with nothing to configure
  // (embeddedLocalUi says when that is allowed; docs/security.md says why it is safe).
  const localUi = embeddedLocalUi(config, { devServerStarted, uiPort: UI_PORT });
  if (devServerStarted) {
    const [ip, port] = target.connectionOptions.address!.split(':');
    log(
      `Temporal dev server on ${ip}:${port} (Web UI http://${ip}:${UI_PORT}), data in ${join(config.DATA_DIR, 'temporal.sqlite')}`,
    );
    startChild('temporal dev server', temporalCliPath(), [
      'server',
      'start-dev',
      '--ip',
      ip,
      '--port',
      port,
      '--ui-port',
      String(UI_PORT),
      ...(localUi ? ['--ui-codec-endpoint', `http://${config.CODEC_HOST}:${config.CODEC_PORT}/codecs`] : []),
      '--db-filename',
      join(dataDir, 'temporal.sqlite'),
      '--search-attribute',
      `${ONBOARDING_STEP_SEARCH_ATTRIBUTE}=Keyword`,
      '--log-level',
      'error',
    ]);
  }

  const simulated = config.IDENTITY_BASE_URL.startsWith('http://127.0.0.1:8089');
  const simBaseUrl = 'http://127.0.0.1:8089';
  if (simulated) {
    log(`simulators on ${simBaseUrl} (state in ${join(config.DATA_DIR, 'simulators.json')})`);
    startChild('simulators', process.execPath, ['--import', 'tsx', join(root, 'simulators', 'main.ts')], {
      SIM_PORT: '8089',
      SIM_HOST: '127.0.0.1',
      SIM_STATE_FILE: join(dataDir, 'simulators.json'),
    });
    await retry(
      'simulators',
      async () => {
        const res = await fetch(`${simBaseUrl}/_sim/config`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
      30_000,
    );
  }

  const client: Client = await retry('Temporal', () => connectClient(target), 60_000);
  const connection = await connectWorker(target);
  const worker = await createWorker({
    connection,
    namespace: target.namespace,
    client,
    config,
    keys,
    tracing,
  });
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
  log(`worker polling task queue dynamics-onboarding`);

  // Ops decode histories with the official CLI through it (token in DATA_DIR/codec-keys.json).
  const codec = await startCodecServer(
    codecServerOptions(config, target.namespace, localUi),
    config.CODEC_PORT,
    config.CODEC_HOST,
  );
  stopCodec = () => codec.close();
  log(
    `codec server on http://${config.CODEC_HOST}:${config.CODEC_PORT}/codecs (temporal ... --codec-endpoint <it> --codec-auth "Bearer <token>")${localUi ? `; the Web UI decodes through it` : ''}`,
  );

  const ingress = await startIngress({ config, keys, client, cyclr: createCyclrClient(config) });
  stopIngress = () => {
    ingress.close();
    ingress.closeAllConnections();
  };
  log(`ingress (consent and sign-in callbacks) on ${config.PUBLIC_BASE_URL}`);
  log(`ops page ${config.PUBLIC_BASE_URL}/ops (${describeOpsSignIn(config)}; see docs/ops-page.md)`);
  const events = resolveEventsSecret(config);
  log(
    events
      ? `onboarding events ${config.PUBLIC_BASE_URL}${EVENTS_PATH} (signing secret ${events.file ? `in ${events.file}` : 'EVENTS_HMAC_SECRET'}; try: npm run client -- send-event --file event.json; see docs/events.md)`
      : `onboarding events off (NODE_ENV=production without EVENTS_HMAC_SECRET)`,
  );

  if (simulated && process.env.DEMO !== 'off') {
    log('onboarding one sample customer, playing its admin and user...');
    const result = await runSampleOnboarding(client, simBaseUrl, log);
    log(
      `sample onboarding ${result.outcome}: account connector ${result.accountConnectorId}, app ${result.appId}`,
    );
    for (const t of result.timeline)
      console.log(
        `  ${t.at}  ${t.step.padEnd(24)} ${visible(t.event)}${t.detail ? `: ${visible(t.detail)}` : ''}`,
      );
  }
  log(
    'serving. Ops CLI: npm run client -- --help   Web UI: http://127.0.0.1:8233   Ctrl-C stops everything.',
  );
}

main().catch((err) => {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  void shutdown(1);
});
