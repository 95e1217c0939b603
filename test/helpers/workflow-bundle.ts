// The workflow bundle the tests' workers load, built once per version of the code and shared by
// every test process (a bundle costs seconds of CPU; the suite runs dozens of processes). The key
// is a hash of everything a bundle can import (src/ and the lockfile), so any change rebuilds it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleVariantPath, workflowBundleOptions } from '../../src/observability/workflow-modules';

const root = resolve(__dirname, '..', '..');
const cacheDir = join(root, 'node_modules', '.cache', 'dynamics-onboarding-test-bundles');

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(path.slice(root.length)).update('\0').update(readFileSync(path));
    }
  };
  walk(join(root, 'src'));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

const quietLogger = {
  trace() {},
  debug() {},
  info() {},
  warn: console.warn,
  error: console.error,
  log() {},
} as never;

const bundles = new Map<boolean, Promise<{ code: string; codePath: string }>>();

/**
 * The bundle with workflow spans or without (as a worker with or without traces loads), and the
 * file holding it, for worker child processes (WORKFLOW_BUNDLE_PATH).
 */
export function workflowBundle(tracing = false): Promise<{ code: string; codePath: string }> {
  let bundle = bundles.get(tracing);
  if (!bundle) {
    bundle = (async () => {
      const codePath = bundleVariantPath(join(cacheDir, `workflow-bundle-${sourceHash()}.js`), tracing);
      if (existsSync(codePath)) return { code: readFileSync(codePath, 'utf8'), codePath };
      const { code } = await bundleWorkflowCode({ ...workflowBundleOptions(tracing), logger: quietLogger });
      mkdirSync(cacheDir, { recursive: true });
      // Written aside then renamed: a process reading the file never sees half of it.
      const partial = `${codePath}.${process.pid}.partial`;
      writeFileSync(partial, code);
      renameSync(partial, codePath);
      return { code, codePath };
    })();
    bundles.set(tracing, bundle);
  }
  return bundle;
}
