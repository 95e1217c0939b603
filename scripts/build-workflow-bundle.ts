// Prebuilds the workflow bundles, so workers start in a second instead of bundling at every start.
// `npm run build` writes them next to the compiled worker (dist/workflow-bundle.js), which loads
// them by default; `npm run build:bundle -- <path>` writes them elsewhere, for WORKFLOW_BUNDLE_PATH.
// Two variants: `<name>.js` without workflow spans, `<name>.traced.js` with them (a worker whose
// traces are on loads it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleVariantPath, workflowBundleOptions } from '../src/observability/workflow-modules';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  mkdirSync(dirname(out), { recursive: true });
  for (const tracing of [false, true]) {
    const { code } = await bundleWorkflowCode(workflowBundleOptions(tracing));
    const path = bundleVariantPath(out, tracing);
    writeFileSync(path, code);
    console.log(`workflow bundle written to ${path} (${(code.length / 1024).toFixed(0)} KiB)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
