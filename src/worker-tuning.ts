// Worker options from the environment, so a deployment tunes the worker without a code change.
// Defaults come from measurement (`npm run bench`, docs/benchmarks.md "Tuning"); an unset variable
// keeps that default.
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { WorkerOptions } from '@temporalio/worker';
import { z } from 'zod';
import { describeIssues } from './shared/validation';

const count = z.coerce.number().int().min(0);
const duration = z.string().refine(
  (v) => {
    try {
      return msToNumber(v as Duration) >= 1000;
    } catch {
      return false;
    }
  },
  { error: 'expected a duration of at least 1 s, such as "30s" or "2 minutes"' },
);
const atLeast = (min: number) => z.coerce.number().int().min(min);

const schema = z.object({
  /**
   * Workflows kept in memory between tasks. A bounded cache is what makes a wave of parked
   * onboardings cost nothing in the worker: an evicted workflow is replayed from history when its
   * next task comes. The SDK default grows with the heap (about 2,000 on a 24 GiB machine); 250
   * covers a few hundred onboardings in flight at once (`npm run bench -- --parked N` shows RSS flat).
   */
  WORKER_MAX_CACHED_WORKFLOWS: count.default(250),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: atLeast(2).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: atLeast(1).optional(),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: atLeast(1).optional(),
  WORKER_WORKFLOW_TASK_POLLERS: atLeast(2).optional(),
  WORKER_ACTIVITY_TASK_POLLERS: atLeast(1).optional(),
  /** Threads running workflow code (each its own V8 context); the SDK's default is 1. */
  WORKER_WORKFLOW_THREADS: atLeast(1).optional(),
  /**
   * How long one workflow activation may run before the SDK calls it a deadlock. On Node 20 the
   * check fires from V8's watchdog, and when it fires while workflow code runs in a microtask
   * (most of it: async functions) Node does not fail the task but kills the process ("async hook
   * stack has become corrupted", nodejs/node#38503). Our workflows never loop unbounded, so the
   * SDK's 5 s only ever tripped on an overloaded machine (a 10,000 parked wave): 30 s keeps the
   * guard for a real runaway without that crash.
   */
  WORKER_ISOLATE_EXECUTION_TIMEOUT: duration.default('30s'),
});

export type WorkerTuning = Pick<
  WorkerOptions,
  | 'maxCachedWorkflows'
  | 'maxConcurrentWorkflowTaskExecutions'
  | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions'
  | 'workflowTaskPollerBehavior'
  | 'activityTaskPollerBehavior'
  | 'workflowThreadPoolSize'
> & {
  /**
   * Not in the SDK's public WorkerOptions type ("not exposed at the moment"), but Worker.create
   * spreads the options over its defaults, so it is honoured (SDK 1.24, pinned).
   */
  isolateExecutionTimeout?: Duration;
};

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
    workflowThreadPoolSize: t.WORKER_WORKFLOW_THREADS,
    isolateExecutionTimeout: t.WORKER_ISOLATE_EXECUTION_TIMEOUT as Duration,
  };
  // Unset keys stay absent so the SDK's own defaults apply.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as WorkerTuning;
}
