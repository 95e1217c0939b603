// The baseline's worker process: same runtime, connection, payload codec and tuning
// (src/worker-tuning.ts) as src/worker.ts, on its own task queue, with the bare workflow and
// no-op activities.
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { dataConverter } from '../../src/codec/data-converter';
import { loadConfig } from '../../src/config';
import { temporalTarget } from '../../src/temporal';
import { workerTuning } from '../../src/worker-tuning';
import { baselineActivities } from './baseline-activities';
import { BASELINE_TASK_QUEUE } from './names';

async function main(): Promise<void> {
  const target = temporalTarget();
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath) throw new Error('WORKFLOW_BUNDLE_PATH is required (the bench builds it)');
  Runtime.install({ shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await NativeConnection.connect({ address: target.connectionOptions.address });
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: BASELINE_TASK_QUEUE,
    workflowBundle: { codePath },
    activities: baselineActivities,
    dataConverter: dataConverter(loadConfig()),
    ...workerTuning(),
  });
  console.log(`worker polling task queue ${BASELINE_TASK_QUEUE}`);
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
