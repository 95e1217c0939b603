// What a person is told when an onboarding needs them: the JSON body POSTed to NOTIFY_WEBHOOK_URL.
// Built in the workflow from its status (never a secret), so every field is also in the history.
import type { LastError } from '../shared/status';
import type { Step, WaitingFor } from '../shared/steps';

export type NotificationKind =
  /** A human wait began: who must act, the links, the deadline. */
  | 'action-needed'
  /** Still waiting (sent every reminderInterval). */
  | 'reminder'
  /** Something went wrong while waiting (declined consent, wrong tenant...): the reason and the fix. */
  | 'problem'
  /** The wait passed its deadline: the onboarding ended as expired. */
  | 'expired';

export interface Notification {
  /** Unique per notification of one onboarding: receivers deduplicate retries with it. */
  id: string;
  kind: NotificationKind;
  workflowId: string;
  cyclrAccountId: string;
  customerTenant: string;
  step: Step;
  waitingFor: WaitingFor | null;
  /** Who must act and what to do, in one sentence. */
  reason: string | null;
  deadline: string | null;
  /** Links to hand to the person named in `reason`. */
  links: { consentUrl: string | null; signInUrl: string | null };
  /** The last error from the AADSTS catalog, with its remediation. */
  lastError: LastError | null;
  /** 1, 2, ... for reminders. */
  reminder?: number;
  at: string;
}
