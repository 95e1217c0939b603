// `node dist/ingress/main.js` (built), `npm run ingress` (from source): the HTTP ingress on its own
// (events, callbacks, ops page, health), for deployments that run it apart from the workers. Stops
// cleanly on SIGINT/SIGTERM.
import { createCyclrClient } from '../clients/cyclr';
import { loadConfig } from '../config';
import { loadObservabilityConfig } from '../observability/config';
import { startTracing } from '../observability/tracing';
import { loadKeyRing } from '../secrets/keys';
import { EVENTS_PATH } from '../shared/events';
import { connectClient, temporalTarget } from '../temporal';
import { resolveEventsSecret } from './events-secret';
import { describeOpsSignIn } from './ops-token';
import { startIngress } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const keys = loadKeyRing(config);
  const target = temporalTarget();
  // Traces on by config: an event's workflow start is the root of the onboarding's trace.
  const tracing = startTracing(loadObservabilityConfig());
  const client = await connectClient(target);
  const server = await startIngress({ config, keys, client, cyclr: createCyclrClient(config) });
  console.log(
    `ingress on http://${config.INGRESS_HOST}:${config.INGRESS_PORT} (public ${config.PUBLIC_BASE_URL}), Temporal ${target.connectionOptions.address} namespace ${target.namespace}`,
  );
  console.log(`  ops page ${config.PUBLIC_BASE_URL}/ops (${describeOpsSignIn(config)})`);
  const events = resolveEventsSecret(config);
  console.log(
    `  onboarding events ${config.PUBLIC_BASE_URL}${EVENTS_PATH} ${events ? `(signing secret: ${events.file ? `in ${events.file}` : 'EVENTS_HMAC_SECRET'})` : '(off: set EVENTS_HMAC_SECRET)'}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the ingress`);
    // Finish requests in flight, drop idle keep-alive connections, then let go of Temporal.
    server.close(() => {
      void Promise.allSettled([client.connection.close(), tracing?.shutdown()]).finally(() =>
        process.exit(0),
      );
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, 10_000).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
