// Workflow interceptor modules. They run in the workflow sandbox, so they are bundled with the
// workflows: every bundle must list them. The product's metrics and log attributes always go in;
// the OpenTelemetry workflow spans only when traces are on, because they cost about 40 % of the
// worker's CPU per onboarding when nothing collects them (measured with `npm run bench`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

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
 * The prebuilt bundle to load: `npm run build` writes `<name>.js` without workflow spans and
 * `<name>.traced.js` with them next to the compiled worker (`npm run build:bundle -- <path>`
 * elsewhere), and a worker whose traces are on takes the traced one.
 */
export function bundleVariantPath(bundlePath: string, tracing: boolean): string {
  return tracing ? bundlePath.replace(/(\.js)?$/, '.traced.js') : bundlePath;
}

/**
 * The bundle `npm run build` wrote next to the compiled worker (`dist/workflow-bundle.js`), if
 * this code runs from dist/; from src/ (tsx: `npm start`, tests) there is none.
 */
export function builtBundlePath(dir: string): string | undefined {
  const path = join(dir, 'workflow-bundle.js');
  return existsSync(path) ? path : undefined;
}

/**
 * The prebuilt bundle variant a worker loads; a missing traced variant is a clear start-up error.
 * `origin` names where the path came from, for that error.
 */
export function prebuiltBundle(
  bundlePath: string,
  tracing: boolean,
  origin: 'WORKFLOW_BUNDLE_PATH' | 'build' = 'WORKFLOW_BUNDLE_PATH',
): string {
  const path = bundleVariantPath(bundlePath, tracing);
  if (!existsSync(path)) {
    const fix = origin === 'build' ? '`npm run build`' : `\`npm run build:bundle -- ${bundlePath}\``;
    const what = origin === 'build' ? 'the built workflow bundle' : 'WORKFLOW_BUNDLE_PATH';
    throw new Error(
      tracing
        ? `${what}: traces are on but ${path} (the bundle with workflow spans) does not exist; build both variants with ${fix}`
        : `${what}: ${path} does not exist; build it with ${fix}`,
    );
  }
  return path;
}
