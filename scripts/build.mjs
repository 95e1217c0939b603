#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (tsconfig.build.json) and prebuilds both workflow bundles
// next to the compiled worker (dist/workflow-bundle.js and .traced.js), which it then loads by
// default. Production runs `node dist/worker.js`, `node dist/ingress/main.js` and the CLI bin.
import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

// No stale files from an earlier build (a renamed module would linger and still be loadable).
rmSync(join(root, 'dist'), { recursive: true, force: true });
run([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
// From the workflow sources, with the same workflowBundleOptions as every other bundle.
run(['--import', 'tsx', join('scripts', 'build-workflow-bundle.ts'), join('dist', 'workflow-bundle.js')]);
// The package's bin; npm sets this on install, a copied dist/ needs it too.
chmodSync(join(root, 'dist', 'cli', 'main.js'), 0o755);
console.log('[build] dist/ ready: node dist/worker.js | node dist/ingress/main.js | dist/cli/main.js <verb>');
