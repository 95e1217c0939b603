// The offboarding of one Cyclr account: its input, the record it leaves as its result, and the
// input schema (built from the product's schemas, so the CLI, the ops page and the workflow agree).
import { z } from 'zod';
import type { Schemas } from './schemas';

export interface OffboardingInput {
  cyclrAccountId: string;
  /** Who offboards (a name or e-mail), recorded in the offboarding's history and result. */
  by: string;
  /** Cancel the account's running onboarding (and wait for it to end) instead of refusing. */
  cancelRunning?: boolean;
}

/** What the offboarding did; the workflow's result. Never a secret. */
export interface OffboardingRecord {
  cyclrAccountId: string;
  by: string;
  /** When it finished (workflow time). */
  at: string;
  startedAt: string;
  /** The account's Dynamics connectors it found, all now deauthenticated and deleted in Cyclr. */
  removedAccountConnectorIds: number[];
  /** Of those, the ones already gone when it came to them (deleted meanwhile, or by an earlier try). */
  alreadyGoneAccountConnectorIds: number[];
  /** False when Cyclr no longer knows the account (deleted there): nothing of it is left to remove. */
  cyclrAccountFound: boolean;
  /** The onboarding this offboarding follows (its last run), if there was one. */
  onboarding: { workflowId: string; runId: string; status: string; step: string | null } | null;
  /** The onboarding was running and was cancelled first (cancelRunning). */
  cancelledOnboarding: boolean;
  /** The app's owner was told to forget the account's connector (false: no owner exists). */
  ownerNotified: boolean;
}

/** The failure type of an offboarding refused because the account's onboarding is running. */
export const ONBOARDING_RUNNING = 'OnboardingRunning';

export function buildOffboardingInputSchema(s: Pick<Schemas, 'accountIdSchema' | 'personSchema'>) {
  return z.object(
    {
      cyclrAccountId: s.accountIdSchema,
      by: s.personSchema,
      cancelRunning: z.boolean({ error: 'expected true or false' }).optional(),
    },
    { error: 'expected an object with cyclrAccountId and by' },
  );
}
