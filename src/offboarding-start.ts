// Offboarding an account, as the CLI and the ops page ask for it: done once per onboarding (a
// second call finds the record), refused while the onboarding runs unless asked to cancel it,
// joined when one is already under way; an account never onboarded has nothing to offboard.
import {
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { accountRuns, existingOnboarding, type ExistingOnboarding } from './onboarding-start';
import { OFFBOARDING_WORKFLOW_TYPE, offboardingWorkflowId, TASK_QUEUE } from './shared/names';
import type { OffboardingInput, OffboardingRecord } from './shared/offboarding';

export type OffboardOutcome =
  /** Started now, or joined when one was already under way: await `handle.result()`. */
  | { kind: 'started' | 'joined'; handle: WorkflowHandle }
  /** Offboarded already after the account's last onboarding started: its record. */
  | { kind: 'already'; record: OffboardingRecord; runId: string }
  /** The account's onboarding is running and cancelRunning was not given: nothing was done. */
  | { kind: 'refused'; onboarding: ExistingOnboarding }
  /** The account was never onboarded (a mistyped account, most likely): nothing was done. */
  | { kind: 'none' };

export async function offboardAccount(client: Client, input: OffboardingInput): Promise<OffboardOutcome> {
  const workflowId = offboardingWorkflowId(input.cyclrAccountId);
  const runs = await accountRuns(client, input.cyclrAccountId);
  if (!runs.onboarding) return { kind: 'none' };
  const offboarding = runs.offboarding;
  if (offboarding?.status.name === 'RUNNING')
    return { kind: 'joined', handle: client.workflow.getHandle(workflowId, offboarding.runId) };
  // Completed after the onboarding started: done already.
  if (offboarding?.status.name === 'COMPLETED' && !runs.hasOnboarding) {
    const record = (await client.workflow
      .getHandle(workflowId, offboarding.runId)
      .result()) as OffboardingRecord;
    return { kind: 'already', record, runId: offboarding.runId };
  }
  if (runs.onboarding.status.name === 'RUNNING' && !input.cancelRunning)
    return { kind: 'refused', onboarding: existingOnboarding(runs.onboarding) };
  const handle = await client.workflow.start(OFFBOARDING_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: TASK_QUEUE,
    args: [input],
    // One at a time per account (a second caller joins it); a new one after a fresh onboarding.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  return { kind: 'started', handle };
}
