// How the driver learns that a workflow waits for a person: from visibility (the OnboardingStep
// search attribute), which costs the server a list call and the worker nothing. Polling each
// workflow's status query instead would put a workflow task (a replay, once evicted) on the worker
// for every poll and distort what is measured.
import type { Client } from '@temporalio/client';
import type { Pool } from './pool';

const RETRY_AFTER_MS = 30_000;

export type StepHandlers = Record<string, (workflowId: string) => Promise<void>>;

export interface StepWatcher {
  stop(): Promise<void>;
  /** Handler failures (retried on the next poll); should stay near zero. */
  retries(): number;
  lastError(): string | undefined;
}

export function watchSteps(
  client: Client,
  workflowType: string,
  handlers: StepHandlers,
  pool: Pool,
  intervalMs = 200,
): StepWatcher {
  const seen = new Map<string, Set<string>>(Object.keys(handlers).map((s) => [s, new Set()]));
  let stopped = false;
  let retries = 0;
  let lastError: string | undefined;
  const loop = (async () => {
    while (!stopped) {
      const pollStart = Date.now();
      for (const [step, handler] of Object.entries(handlers)) {
        const query = `WorkflowType = '${workflowType}' AND ExecutionStatus = 'Running' AND OnboardingStep = '${step}'`;
        for await (const wf of client.workflow.list({ query, pageSize: 1000 })) {
          const done = seen.get(step)!;
          if (done.has(wf.workflowId)) continue;
          done.add(wf.workflowId);
          void pool
            .run(() => handler(wf.workflowId))
            .catch((err: Error) => {
              retries++;
              lastError = `${step}: ${err.message}`;
              // Tried again later, not at the next poll: a person whose page failed does not
              // hammer it, and each retry costs the worker a replay when the workflow is evicted.
              setTimeout(() => done.delete(wf.workflowId), RETRY_AFTER_MS);
            });
        }
      }
      // A wave of thousands in one step makes each list long: poll at most a third of the time,
      // so the driver's visibility reads do not become the server's main load.
      await new Promise((r) => setTimeout(r, Math.max(intervalMs, 2 * (Date.now() - pollStart))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
    retries: () => retries,
    lastError: () => lastError,
  };
}

/** Waits until `count` workflows of the type have closed since `closedBefore`; returns when. */
export async function waitClosed(
  client: Client,
  workflowType: string,
  closedBefore: number,
  count: number,
  timeoutMs: number,
  watcher?: StepWatcher,
): Promise<void> {
  const query = `WorkflowType = '${workflowType}' AND ExecutionStatus != 'Running'`;
  const start = Date.now();
  let lastReport = start;
  for (;;) {
    const closed = (await client.workflow.count(query)).count - closedBefore;
    if (closed >= count) return;
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      const error = watcher?.lastError();
      console.log(
        `  ... ${closed}/${count} closed after ${((lastReport - start) / 1000).toFixed(0)} s` +
          (watcher
            ? `; driver retries ${watcher.retries()}${error ? ` (last: ${error.slice(0, 160)})` : ''}`
            : ''),
      );
    }
    if (Date.now() - start > timeoutMs)
      throw new Error(`only ${closed} of ${count} ${workflowType} closed in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function closedCount(client: Client, workflowType: string): Promise<number> {
  return (await client.workflow.count(`WorkflowType = '${workflowType}' AND ExecutionStatus != 'Running'`))
    .count;
}
