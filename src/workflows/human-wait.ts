// Waiting for a person: the wait is announced, reminded every reminderInterval, each new problem
// reported meanwhile is notified once (repeats are only counted), optional checks run on a
// backoff, and the deadline ends the onboarding as expired. Notifications per wait are capped, and
// a long history continues as new mid-wait, so no outside input can grow a run without bound.
import { condition } from '@temporalio/workflow';
import type { NotificationKind } from '../notifications/notification';
import type { WaitingFor } from '../shared/steps';

/** Notifications one wait may send before it only records (expiry is always sent). */
export const NOTIFICATIONS_PER_WAIT_MAX = 20;

export class Expired extends Error {
  constructor(readonly waitingFor: WaitingFor) {
    super(`expired while waiting for ${waitingFor}`);
  }
}

/** The current wait, carried over continue-as-new so a continued run resumes it as it was. */
export interface WaitMemory {
  what: WaitingFor;
  deadline: string;
  announced: boolean;
  reminders: number;
  nextReminderAt: number;
  nextCheckAt: number | null;
  checkEveryMs: number;
  notifications: number;
  problemsSeen: number;
}

export interface WaitHost {
  wait: WaitMemory | null;
  readonly reminderMs: number;
  /** Distinct problems recorded so far (a repeated one does not count again). */
  problems(): number;
  waitFor(what: WaitingFor, reason: string, deadline: Date): void;
  stopWaiting(): void;
  notify(kind: NotificationKind, reminder?: number): Promise<void>;
  note(event: string, detail?: string): void;
  /** The history is long enough to continue as new (signals alone can make it so). */
  historyLong(): boolean;
  /** Continues as new when the history is long; returns only when it is not. */
  continueAsNewIfLong(): Promise<void>;
}

export interface WaitSpec {
  what: WaitingFor;
  reason: string;
  deadline: Date;
  /** A signal ended the wait. */
  done: () => boolean;
  /** Asked first, then on a doubling interval up to maxEveryMs: true ends the wait. */
  check?: { firstAfterMs: number; maxEveryMs: number; run: () => Promise<boolean> };
}

/** Resolves 'done' when a signal ended the wait, 'checked' when the check did; throws Expired. */
export async function humanWait(host: WaitHost, spec: WaitSpec): Promise<'done' | 'checked'> {
  const resumed = host.wait?.what === spec.what;
  const w: WaitMemory = resumed
    ? host.wait!
    : {
        what: spec.what,
        deadline: spec.deadline.toISOString(),
        announced: false,
        reminders: 0,
        nextReminderAt: Date.now() + host.reminderMs,
        nextCheckAt: spec.check ? Date.now() + spec.check.firstAfterMs : null,
        checkEveryMs: Math.max(spec.check?.firstAfterMs ?? 0, 60_000),
        notifications: 0,
        problemsSeen: host.problems(),
      };
  host.wait = w;
  const deadline = Date.parse(w.deadline);
  host.waitFor(spec.what, spec.reason, new Date(deadline));

  const notify = async (kind: NotificationKind, reminder?: number) => {
    if (kind !== 'expired' && w.notifications >= NOTIFICATIONS_PER_WAIT_MAX) {
      if (w.notifications++ === NOTIFICATIONS_PER_WAIT_MAX)
        host.note(
          'notifications capped',
          `${NOTIFICATIONS_PER_WAIT_MAX} sent in this wait; later ones are only recorded here`,
        );
      return;
    }
    w.notifications++;
    await host.notify(kind, reminder);
  };
  const checkDue = () => w.nextCheckAt !== null && Date.now() >= w.nextCheckAt;
  const runCheck = async (): Promise<boolean> => {
    if (await spec.check!.run()) return true;
    w.nextCheckAt = Date.now() + w.checkEveryMs;
    w.checkEveryMs = Math.min(w.checkEveryMs * 2, spec.check!.maxEveryMs);
    return false;
  };

  if (spec.check && checkDue() && !spec.done() && (await runCheck())) return end('checked');
  if (!w.announced) {
    w.announced = true;
    await notify('action-needed');
  }
  for (;;) {
    if (spec.done()) return end('done');
    await host.continueAsNewIfLong();
    const wake = Math.min(w.nextReminderAt, deadline, w.nextCheckAt ?? Infinity);
    await condition(
      () => spec.done() || host.problems() !== w.problemsSeen || host.historyLong(),
      Math.max(wake - Date.now(), 1),
    );
    if (spec.done()) return end('done');
    await host.continueAsNewIfLong();
    if (host.problems() !== w.problemsSeen) {
      w.problemsSeen = host.problems();
      await notify('problem');
      continue;
    }
    if (Date.now() >= deadline) {
      await notify('expired');
      throw new Expired(spec.what);
    }
    if (Date.now() >= w.nextReminderAt) {
      w.nextReminderAt += host.reminderMs;
      await notify('reminder', ++w.reminders);
    }
    if (checkDue() && (await runCheck())) return end('checked');
  }

  function end(how: 'done' | 'checked'): 'done' | 'checked' {
    host.wait = null;
    host.stopWaiting();
    return how;
  }
}
