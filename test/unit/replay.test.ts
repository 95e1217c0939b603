// Replays recorded histories (test/histories, made by `npm run record-histories`) against the
// current workflow code: a change that would break onboardings already running fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowSpanSinks } from '../../src/observability/tracing';
import { workflowBundle } from '../helpers/harness';

const dir = join(__dirname, '..', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

// Both bundle variants: workers run with workflow spans or without, on the same histories.
for (const tracing of [false, true]) {
  test(`recorded histories replay without nondeterminism (${tracing ? 'with' : 'without'} workflow spans)`, async () => {
    await assertReplays((await workflowBundle(tracing)).code);
  });
}

async function assertReplays(code: string): Promise<void> {
  assert.ok(files.length >= 4, 'histories are recorded');
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8'))),
  }));
  const failures: string[] = [];
  // The traced bundle's interceptors export through a sink; it must exist (it goes nowhere here).
  const replay = Worker.runReplayHistories(
    { workflowBundle: { code }, sinks: workflowSpanSinks(undefined) },
    histories,
  );
  for await (const result of replay) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
}
