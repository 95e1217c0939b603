// Workflow interceptor modules. They run in the workflow sandbox, so they are bundled with the
// workflows: every bundle must list them. The product's metrics and log attributes always go in;
// the OpenTelemetry workflow spans only when traces are on, because they cost about 40 % of the
// worker's CPU per onboarding when nothing collects them (measured with `npm run bench`).
import { existsSync } from 'node:fs';

const productModule = require.resolve('./workflow-interceptors');
const tracingModule = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? [tracingModule, productModule] : [productModule];
}

/** Everything a workflow bundle is built from: every bundle (prebuilt, test, at start) uses this. */
export function workflowBundleOptions(tracing: boolean) {
  return {
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: workflowInterceptorModules(tracing),
    preloadModules: [require.resolve('../workflows/preload')],
  };
}

/**
 * The prebuilt bundle to load: `npm run build:bundle` writes `<name>.js` without workflow spans and
 * `<name>.traced.js` with them, and a worker whose traces are on takes the traced one.
 */
export function bundleVariantPath(bundlePath: string, tracing: boolean): string {
  return tracing ? bundlePath.replace(/(\.js)?$/, '.traced.js') : bundlePath;
}

/** The prebuilt bundle variant a worker loads; a missing traced variant is a clear start-up error. */
export function prebuiltBundle(bundlePath: string, tracing: boolean): string {
  const path = bundleVariantPath(bundlePath, tracing);
  if (!existsSync(path)) {
    throw new Error(
      tracing
        ? `WORKFLOW_BUNDLE_PATH: traces are on but ${path} (the bundle with workflow spans) does not exist; build both variants with \`npm run build:bundle -- ${bundlePath}\``
        : `WORKFLOW_BUNDLE_PATH: ${path} does not exist; build it with \`npm run build:bundle -- ${bundlePath}\``,
    );
  }
  return path;
}
