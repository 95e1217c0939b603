// The owner carries every secret holder over continue-as-new: packed, the list round-trips exactly
// and tens of thousands stay far below Temporal's 2 MB payload limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packHolders, unpackHolders, type SecretHolder } from '../../src/shared/app-credentials';
import { onboardingWorkflowId } from '../../src/shared/names';

const holder = (i: number, keyId: string, workflowId?: string): SecretHolder => ({
  accountId: `acct-${String(i).padStart(8, '0')}`,
  accountConnectorId: 100_000 + i,
  credentialKeyId: keyId,
  workflowId: workflowId ?? onboardingWorkflowId(`acct-${String(i).padStart(8, '0')}`),
});

test('packed holders round-trip, keeping a workflow id that is not the usual one', () => {
  const holders = [
    holder(1, 'key-a'),
    holder(2, 'key-b'),
    holder(3, 'key-a', 'started-by-hand-3'),
    holder(4, 'key-b'),
  ];
  const unpacked = unpackHolders(packHolders(holders));
  const byAccount = (list: SecretHolder[]) =>
    [...list].sort((a, b) => a.accountId.localeCompare(b.accountId));
  assert.deepEqual(byAccount(unpacked), byAccount(holders));
});

test('50,000 holders pack well under the 2 MB payload limit', () => {
  const holders = Array.from({ length: 50_000 }, (_, i) => holder(i, i % 3 ? 'key-current' : 'key-older'));
  const packedBytes = Buffer.byteLength(JSON.stringify(packHolders(holders)));
  const plainBytes = Buffer.byteLength(JSON.stringify(holders));
  console.log(`figures: 50,000 holders: ${plainBytes} bytes as a list, ${packedBytes} packed`);
  assert.ok(packedBytes < 1.5 * 2 ** 20, `packed ${packedBytes} bytes`);
  assert.ok(plainBytes > 2 * 2 ** 20, 'the plain list would not have fit');
});
