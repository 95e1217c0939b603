// Prebuilds the workflow bundles for production start (`WORKFLOW_BUNDLE_PATH=lib/workflow-bundle.js`),
// so workers start in a second instead of bundling at every start. Two variants: `<name>.js`
// without workflow spans, `<name>.traced.js` with them (a worker whose traces are on loads it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleVariantPath, workflowBundleOptions } from '../src/observability/workflow-modules';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'lib/workflow-bundle.js');
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
