// Worker options from the environment, so a deployment tunes the worker without a code change.
// Defaults come from measurement (docs/benchmarks.md); an unset variable keeps that default.
import type { WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { describeIssues } from './shared/validation';

const count = z.coerce.number().int().min(0);
const atLeast = (min: number) => z.coerce.number().int().min(min);

const schema = z.object({
  /**
   * Workflows kept in memory between tasks. A bounded cache is what makes a wave of parked
   * onboardings cost nothing in the worker: an evicted workflow is replayed from history when its
   * next task comes. The SDK default grows with the heap (about 2,000 on a 24 GiB machine); 250
   * covers a few hundred onboardings in flight at once (docs/benchmarks.md).
   */
  WORKER_MAX_CACHED_WORKFLOWS: count.default(250),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: atLeast(2).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: atLeast(1).optional(),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: atLeast(1).optional(),
  WORKER_WORKFLOW_TASK_POLLERS: atLeast(2).optional(),
  WORKER_ACTIVITY_TASK_POLLERS: atLeast(1).optional(),
});

export type WorkerTuning = Pick<
  WorkerOptions,
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'workflowTaskPollerBehavior'
  | 'activityTaskPollerBehavior'
>;

export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const raw = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, env[k] || undefined]));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid worker tuning: ${describeIssues(parsed.error)}`);
  const t = parsed.data;
  const fixed = (maximum: number | undefined) =>
    maximum === undefined ? undefined : { type: 'simple-maximum' as const, maximum };
  const options: WorkerTuning = {
    maxCachedWorkflows: t.WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: t.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: t.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: t.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    workflowTaskPollerBehavior: fixed(t.WORKER_WORKFLOW_TASK_POLLERS),
    activityTaskPollerBehavior: fixed(t.WORKER_ACTIVITY_TASK_POLLERS),
  };
  // Unset keys stay absent so the SDK's own defaults apply.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as WorkerTuning;
}
