// The one rule for starting an onboarding, shared by the CLI (one account or a file of them), the
// onboarding events and the ops page: an account "has an onboarding" when a run with id
// dynamics-onboarding-<account> exists, running or closed whatever its outcome, and no offboarding
// of the account completed after that run started. Such an account is never started again; any
// other account is started, afresh after an offboarding.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  offboardingWorkflowId,
  onboardingWorkflowId,
  TASK_QUEUE,
} from './shared/names';
import type { ValidOnboardingInput } from './shared/schemas';
import { FINAL_STEPS, type Step } from './shared/steps';

const stepKey = defineSearchAttributeKey(ONBOARDING_STEP_SEARCH_ATTRIBUTE, SearchAttributeType.KEYWORD);

/** An account's onboarding that already exists: its latest run, where it is or how it ended. */
export interface ExistingOnboarding {
  workflowId: string;
  runId: string;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT... */
  status: string;
  /** The OnboardingStep search attribute; null until the run's first task has set it. */
  step: Step | null;
  startTime: string;
  closeTime: string | null;
}

export type StartOutcome =
  | { started: true; workflowId: string; runId: string; afterOffboarding: boolean }
  | { started: false; workflowId: string; existing: ExistingOnboarding };

/** The latest run with this workflow id, or undefined when there has never been one. */
export async function describeLatest(
  client: Client,
  workflowId: string,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export function existingOnboarding(d: WorkflowExecutionDescription): ExistingOnboarding {
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    status: d.status.name,
    step: (d.typedSearchAttributes.get(stepKey) as Step | undefined) ?? null,
    startTime: d.startTime.toISOString(),
    closeTime: d.closeTime?.toISOString() ?? null,
  };
}

/** Whether an offboarding completed (at `offboardedAt`) after this onboarding run started. */
export function offboardedSince(onboardingStart: Date, offboardedAt: Date | undefined): boolean {
  return !!offboardedAt && offboardedAt.getTime() > onboardingStart.getTime();
}

/** When this offboarding run completed; undefined while it runs, or when it did not complete. */
export function completedAt(offboarding: WorkflowExecutionDescription | undefined): Date | undefined {
  return offboarding?.status.name === 'COMPLETED' ? offboarding.closeTime : undefined;
}

export interface AccountRuns {
  onboarding: WorkflowExecutionDescription | undefined;
  offboarding: WorkflowExecutionDescription | undefined;
  /** The account has an onboarding (see the rule above). */
  hasOnboarding: boolean;
}

/** The account's latest onboarding and offboarding runs, and whether it has an onboarding. */
export async function accountRuns(client: Client, cyclrAccountId: string): Promise<AccountRuns> {
  const onboarding = await describeLatest(client, onboardingWorkflowId(cyclrAccountId));
  // Only an account with an onboarding needs its offboarding read.
  const offboarding = onboarding
    ? await describeLatest(client, offboardingWorkflowId(cyclrAccountId))
    : undefined;
  return {
    onboarding,
    offboarding,
    hasOnboarding: !!onboarding && !offboardedSince(onboarding.startTime, completedAt(offboarding)),
  };
}

/**
 * Starts the account's onboarding unless it has one (then says what exists). Safe to call twice at
 * once: the second finds the first's run (conflict policy FAIL, then the run is read back).
 */
export async function startOnboardingOnce(
  client: Client,
  input: ValidOnboardingInput,
  options: { memo?: Record<string, unknown> } = {},
): Promise<StartOutcome> {
  const workflowId = onboardingWorkflowId(input.cyclrAccountId);
  const runs = await accountRuns(client, input.cyclrAccountId);
  if (runs.hasOnboarding)
    return { started: false, workflowId, existing: existingOnboarding(runs.onboarding!) };
  try {
    const handle = await client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      // Never a run before: none may slip in between. After an offboarding: a fresh run.
      workflowIdReusePolicy: runs.onboarding
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      ...(options.memo ? { memo: options.memo } : {}),
    });
    return {
      started: true,
      workflowId,
      runId: handle.firstExecutionRunId,
      afterOffboarding: !!runs.onboarding,
    };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Started by someone else between the read and the start.
    const now = await describeLatest(client, workflowId);
    if (!now) throw err;
    return { started: false, workflowId, existing: existingOnboarding(now) };
  }
}

/** One line about an existing onboarding, for people: "running, step X" or "ended: verified". */
export function describeExisting(e: { status: string; step: string | null }): string {
  if (e.status === 'RUNNING') return `running, step ${e.step ?? 'starting'}`;
  // A run that ended by itself names its end in its step; a terminated one stopped at some step.
  return e.step && (FINAL_STEPS as readonly string[]).includes(e.step)
    ? `ended: ${e.step}`
    : `ended: ${e.status.toLowerCase()} at step ${e.step ?? 'starting'}`;
}
