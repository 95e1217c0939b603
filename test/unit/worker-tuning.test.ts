// Worker options from the environment: defaults from measurement, overrides, and a clear error
// naming the variable for a bad value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { msToNumber } from '@temporalio/common/lib/time';
import { workerTuning } from '../../src/worker-tuning';

test('defaults: a bounded cache and a 30 s activation limit; SDK defaults for the rest', () => {
  const tuning = workerTuning({});
  assert.equal(tuning.maxCachedWorkflows, 250);
  assert.equal(msToNumber(tuning.isolateExecutionTimeout!), 30_000);
  assert.equal(tuning.maxConcurrentActivityTaskExecutions, undefined);
});

test('the environment overrides, and a bad value names the variable and the expected form', () => {
  const tuning = workerTuning({
    WORKER_ISOLATE_EXECUTION_TIMEOUT: '2 minutes',
    WORKER_MAX_CACHED_WORKFLOWS: '0',
  });
  assert.equal(msToNumber(tuning.isolateExecutionTimeout!), 120_000);
  assert.equal(tuning.maxCachedWorkflows, 0);
  assert.throws(
    () => workerTuning({ WORKER_ISOLATE_EXECUTION_TIMEOUT: 'soon' }),
    /WORKER_ISOLATE_EXECUTION_TIMEOUT: expected a duration of at least 1 s/,
  );
  assert.throws(() => workerTuning({ WORKER_ISOLATE_EXECUTION_TIMEOUT: '10ms' }), /at least 1 s/);
});
