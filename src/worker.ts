// The worker process: `node dist/worker.js` (built), `npm run worker` (from source). Stateless; run
// as many as needed on the same task queue. Observability by configuration (docs/operations.md):
// JSON logs, the Prometheus endpoint, traces, /healthz and /readyz. On SIGTERM or SIGINT it stops
// polling, lets in-flight activities finish for SHUTDOWN_GRACE_MS, hands back what is still
// running, and exits 0. Built, it loads the workflow bundles `npm run build` put next to it.
import { Runtime, makeTelemetryFilterString, type NativeConnection, type Worker } from '@temporalio/worker';
import { loadConfig } from './config';
import { loadObservabilityConfig } from './observability/config';
import { setProcessMeter } from './observability/external-calls';
import { startHealthServer, type HealthServer } from './observability/health';
import { createLogger, SdkLogger } from './observability/logger';
import { prometheusMetrics } from './observability/metrics';
import { startTracing } from './observability/tracing';
import { loadKeyRing } from './secrets/keys';
import { TASK_QUEUE } from './shared/names';
import { connectClient, connectWorker, describeTarget, temporalTarget } from './temporal';
import { createWorker, prebuiltBundleFile } from './worker-setup';

const observability = loadObservabilityConfig();
const logger = createLogger(observability);

async function main(): Promise<void> {
  const config = loadConfig();
  const keys = loadKeyRing(config);
  const target = temporalTarget();
  Runtime.install({
    logger: new SdkLogger(logger),
    // The runtime calls worker.shutdown() on these: drain, then worker.run() resolves.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      metrics: prometheusMetrics(observability),
    },
  });
  setProcessMeter(Runtime.instance().metricMeter);
  const tracing = startTracing(observability);

  let worker: Worker | undefined;
  let health: HealthServer | undefined;
  let connection: NativeConnection | undefined;
  try {
    connection = await connectWorker(target);
    const client = await connectClient(target, undefined, connection);
    if (observability.HEALTH_PORT !== undefined) {
      const conn = connection;
      health = await startHealthServer(
        { worker: () => worker, connection: conn, namespace: target.namespace },
        observability.HEALTH_HOST,
        observability.HEALTH_PORT,
      );
      logger.info({ port: health.port }, 'health endpoints on /healthz and /readyz');
    }
    worker = await createWorker({
      connection,
      namespace: target.namespace,
      client,
      config,
      keys,
      tracing,
      options: { shutdownGraceTime: observability.SHUTDOWN_GRACE_MS },
    }).catch((err: Error) => {
      // e.g. a namespace that does not exist on that cluster: say where we looked.
      throw new Error(`Cannot start the worker with ${describeTarget(target)}: ${err.message}`, {
        cause: err,
      });
    });
    logger.info(
      {
        taskQueue: TASK_QUEUE,
        temporal: describeTarget(target),
        metrics:
          observability.METRICS_PORT !== undefined
            ? `${observability.METRICS_HOST}:${observability.METRICS_PORT}`
            : 'off',
        traces: observability.tracesExporter,
        workflowBundle: prebuiltBundleFile(tracing !== undefined) ?? 'bundled from source at start',
      },
      `worker polling task queue ${TASK_QUEUE} on ${target.connectionOptions.address} namespace ${target.namespace}`,
    );
    await worker.run();
    logger.info('worker stopped: in-flight tasks finished or handed back');
  } finally {
    await health?.close();
    await tracing?.shutdown().catch((err) => logger.warn({ err }, 'flushing traces failed'));
    await connection?.close(); // the client's too: it shares this connection
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    logger.error({ err }, err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
