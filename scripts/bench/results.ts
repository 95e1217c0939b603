// The results of a phase's workflows, fetched with bounded concurrency: undefined for one that
// failed, was cancelled or was terminated.
import type { Client } from '@temporalio/client';
import { Pool } from './pool';

export function workflowResults<R>(
  client: Client,
  ids: string[],
  concurrency: number,
): Promise<(R | undefined)[]> {
  return new Pool(concurrency).map(ids, (id) =>
    client.workflow
      .getHandle(id)
      .result()
      .then((r: R) => r)
      .catch(() => undefined),
  );
}
