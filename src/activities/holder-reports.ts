// Secret holders reported to the app's owner workflow in batches (group commit): the first report
// is signalled at once, and reports that arrive while a signal is in flight ride together in the
// next one. Under a wave one signal (one history event, one owner workflow task) carries many
// holders instead of one each. No waiting on purpose: the report is the last step of
// setUpAccountConnector, and a worker killed in a wait there makes the retry write ClientSecret
// again (test/restart.test.ts caught a 500 ms linger doing that).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { HOLDERS_PER_REPORT_MAX, type SecretHolder } from '../shared/app-credentials';
import { appSecretHoldersSignal } from '../shared/messages';

type Send = (owner: string, holders: SecretHolder[]) => Promise<void>;

interface Waiting {
  holder: SecretHolder;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SecretHolderReports {
  private readonly queues = new Map<string, Waiting[]>();
  private readonly sending = new Set<string>();

  constructor(private readonly send: Send) {}

  /** Resolves once a signal carrying this holder has been accepted by the server. */
  report(owner: string, holder: SecretHolder): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(owner) ?? [];
      queue.push({ holder, resolve, reject });
      this.queues.set(owner, queue);
      if (!this.sending.has(owner)) {
        this.sending.add(owner);
        void this.drain(owner);
      }
    });
  }

  private async drain(owner: string): Promise<void> {
    try {
      for (;;) {
        const queue = this.queues.get(owner);
        if (!queue?.length) break;
        const batch = queue.splice(0, HOLDERS_PER_REPORT_MAX);
        try {
          await this.send(
            owner,
            batch.map((w) => w.holder),
          );
          for (const w of batch) w.resolve();
        } catch (err) {
          // Each activity in the batch fails and is retried by its own retry policy.
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.sending.delete(owner);
      this.queues.delete(owner);
    }
  }
}

/** Signals the owner; an owner gone (never started, or replaced) is fine: it has no holders to rotate. */
export function signalHolders(client: Client): Send {
  return async (owner, holders) => {
    try {
      await client.workflow.getHandle(owner).signal(appSecretHoldersSignal, { holders });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
}
