// Prebuilds the workflow bundle for production start (`WORKFLOW_BUNDLE_PATH=lib/workflow-bundle.js`),
// so workers start in a second instead of bundling at every start.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowInterceptorModules } from '../src/observability/workflow-modules';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'lib/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    workflowInterceptorModules,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
