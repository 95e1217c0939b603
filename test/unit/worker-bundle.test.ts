// The prebuilt workflow bundle a worker loads: without workflow spans unless traces are on, the
// one `npm run build` put next to the compiled worker by default, and a clear start-up error naming
// where the path came from and the fix when the traced variant was not built.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  builtBundlePath,
  prebuiltBundle,
  workflowInterceptorModules,
} from '../../src/observability/workflow-modules';

test('workflow spans are bundled only when traces are on', () => {
  const spans = (modules: string[]) => modules.some((m) => m.includes('interceptors-opentelemetry'));
  assert.equal(spans(workflowInterceptorModules(false)), false);
  assert.equal(spans(workflowInterceptorModules(true)), true);
  // The product's metrics and log attributes are in both.
  for (const tracing of [false, true])
    assert.ok(workflowInterceptorModules(tracing).some((m) => m.includes('workflow-interceptors')));
});

test('a worker with traces on loads the traced variant, and says how to build a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-variants-'));
  const plain = join(dir, 'workflow-bundle.js');
  writeFileSync(plain, '// plain');
  assert.equal(prebuiltBundle(plain, false), plain);
  assert.throws(
    () => prebuiltBundle(plain, true),
    (err: Error) =>
      err.message.startsWith('WORKFLOW_BUNDLE_PATH: traces are on') &&
      err.message.includes(join(dir, 'workflow-bundle.traced.js')) &&
      err.message.includes('npm run build:bundle'),
  );
  writeFileSync(join(dir, 'workflow-bundle.traced.js'), '// traced');
  assert.equal(prebuiltBundle(plain, true), join(dir, 'workflow-bundle.traced.js'));
  assert.throws(() => prebuiltBundle(join(dir, 'missing.js'), false), /missing\.js does not exist/);
});

test('the compiled worker finds the bundles `npm run build` put next to it; from source there are none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-built-'));
  assert.equal(builtBundlePath(dir), undefined);
  assert.equal(builtBundlePath(join(__dirname, '..', '..', 'src')), undefined);
  writeFileSync(join(dir, 'workflow-bundle.js'), '// plain');
  assert.equal(builtBundlePath(dir), join(dir, 'workflow-bundle.js'));
  assert.throws(
    () => prebuiltBundle(join(dir, 'workflow-bundle.js'), true, 'build'),
    (err: Error) =>
      err.message.startsWith('the built workflow bundle: traces are on') &&
      err.message.includes('npm run build'),
  );
});
