// The baseline driven the same way: visibility shows where each bare workflow waits, and the
// driver sends the same signals and queries the product's people and ingress would.
import type { Client } from '@temporalio/client';
import { baselineSignal, baselineStatusQuery, type BaselineResult } from './baseline-workflows';
import { BASELINE_TASK_QUEUE, BASELINE_WORKFLOW_TYPE } from './names';
import type { PhaseOutcome } from './phase';
import { historyShape } from './history-shape';
import { Pool } from './pool';
import { workflowResults } from './results';
import { closedCount, waitClosed, watchSteps } from './step-watcher';

export async function runBaselinePhase(
  client: Client,
  run: string,
  n: number,
  concurrency: number,
  timeoutMs: number,
  /** Called once the last one has closed, before the results are fetched (outside the measured window). */
  onClosed?: () => Promise<void>,
): Promise<PhaseOutcome> {
  const ids = Array.from({ length: n }, (_, i) => `bench-baseline-${run}-${i}`);
  const pool = new Pool(concurrency);
  const closedBefore = await closedCount(client, BASELINE_WORKFLOW_TYPE);
  const query = (id: string) => client.workflow.getHandle(id).query(baselineStatusQuery);
  const signal = (id: string, name: string) => client.workflow.getHandle(id).signal(baselineSignal, name);
  const watcher = watchSteps(
    client,
    BASELINE_WORKFLOW_TYPE,
    {
      // Ops read the consent link (status); the consent callback checks it is current (status),
      // then signals.
      'waiting-for-consent': async (id) => {
        await query(id);
        await query(id);
        await signal(id, 'consent');
      },
      // Ops read the sign-in link; the ingress checks it is current when the user opens it and
      // again at the sign-in callback (src/ingress/callbacks.ts), which signals.
      'exchanging-token': async (id) => {
        await query(id);
        await query(id);
        await query(id);
        await signal(id, 'sign-in');
      },
    },
    pool,
  );

  const startedAt = Date.now();
  await new Pool(concurrency).map(ids, (workflowId) =>
    client.workflow.start(BASELINE_WORKFLOW_TYPE, { workflowId, taskQueue: BASELINE_TASK_QUEUE, args: [] }),
  );
  try {
    await waitClosed(client, BASELINE_WORKFLOW_TYPE, closedBefore, n, timeoutMs, watcher);
  } finally {
    await watcher.stop();
  }
  const closedAt = Date.now();
  await onClosed?.();
  const results = await workflowResults<BaselineResult>(client, ids, concurrency);
  const ok = results.filter((r): r is BaselineResult => r !== undefined);
  return {
    startedAt,
    closedAt,
    verified: ok.length,
    failed: n - ok.length,
    driverRetries: watcher.retries(),
    timelines: ok.map((r) => r.timeline),
    shape: await historyShape(client, ids[0]),
  };
}
