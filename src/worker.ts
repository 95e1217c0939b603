// The worker process: `npm run worker`. Stateless; run as many as needed on the same task queue.
import { Runtime } from '@temporalio/worker';
import { loadConfig } from './config';
import { loadKeyRing } from './secrets/keys';
import { connectClient, connectWorker, temporalTarget } from './temporal';
import { createWorker } from './worker-setup';

async function main(): Promise<void> {
  const config = loadConfig();
  const keys = loadKeyRing(config);
  const target = temporalTarget();
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const [connection, client] = await Promise.all([connectWorker(target), connectClient(target)]);
  const worker = await createWorker({ connection, namespace: target.namespace, client, config, keys });
  console.log(
    `worker polling task queue on ${target.connectionOptions.address} namespace ${target.namespace}`,
  );
  await worker.run();
  await connection.close();
  await client.connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
