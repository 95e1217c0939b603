// Builds the worker: both workflows, all activities, on the dynamics-onboarding task queue.
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { dataConverter } from './codec/data-converter';
import type { Config } from './config';
import { productActivityInterceptors } from './observability/activity-interceptors';
import { tracingActivityInterceptors, workflowSpanSinks, type Tracing } from './observability/tracing';
import { builtBundlePath, prebuiltBundle, workflowBundleOptions } from './observability/workflow-modules';
import type { KeyRing } from './secrets/keys';
import { TASK_QUEUE } from './shared/names';
import { workerTuning } from './worker-tuning';

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  client: Client;
  config: Config;
  keys: KeyRing;
  /**
   * A prebuilt bundle (tests). Otherwise WORKFLOW_BUNDLE_PATH, else the bundle `npm run build` put
   * next to the compiled worker (dist/), else bundled from the workflow sources at start (tsx).
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Traces on: activities get spans, and workflow spans are exported (startTracing). */
  tracing?: Tracing;
  options?: Partial<WorkerOptions>;
}

/**
 * The prebuilt bundle file a worker without an explicit bundle loads: WORKFLOW_BUNDLE_PATH, else
 * the one `npm run build` put next to the compiled worker; undefined when running from src/.
 */
export function prebuiltBundleFile(tracing: boolean): string | undefined {
  const configured = process.env.WORKFLOW_BUNDLE_PATH || undefined;
  if (configured) return prebuiltBundle(configured, tracing);
  const built = builtBundlePath(__dirname);
  return built && prebuiltBundle(built, tracing, 'build');
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const tracing = deps.tracing !== undefined;
  const bundlePath = deps.workflowBundle ? undefined : prebuiltBundleFile(tracing);
  const bundle = workflowBundleOptions(tracing);
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: TASK_QUEUE,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : bundlePath
        ? { workflowBundle: { codePath: bundlePath } }
        : { workflowsPath: bundle.workflowsPath }),
    activities: createActivities({ config: deps.config, keys: deps.keys, client: deps.client }),
    // The same codec as every client: histories hold only ciphertext.
    dataConverter: dataConverter(deps.config),
    ...workerTuning(),
    // Product metrics and log attributes, and workflow spans when traces are on; a prebuilt bundle
    // is built with the same workflowBundleOptions.
    interceptors: {
      ...(deps.workflowBundle || bundlePath ? {} : { workflowModules: bundle.workflowInterceptorModules }),
      activity: [productActivityInterceptors, ...(deps.tracing ? [tracingActivityInterceptors] : [])],
    },
    sinks: workflowSpanSinks(deps.tracing),
    ...deps.options,
  });
}
