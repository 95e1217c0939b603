// The offboarding of one Cyclr account (workflow id dynamics-offboarding-<account>): its Dynamics
// connectors deauthenticated and deleted in Cyclr, and the app's owner told to forget the account,
// so a secret rotation no longer writes there. Its input and result are the record of who did it
// and when. Refused while the account's onboarding runs, unless asked to cancel it first.
import { ApplicationFailure, log } from '@temporalio/workflow';
import { FailureTypes } from '../shared/failures';
import {
  buildOffboardingInputSchema,
  ONBOARDING_RUNNING,
  type OffboardingInput,
  type OffboardingRecord,
} from '../shared/offboarding';
import { describeIssues } from '../shared/schemas';
import { activities, ownerActivities } from './activity-options';
import { workflowSchemas } from './schemas';

export async function dynamicsOffboarding(raw: OffboardingInput): Promise<OffboardingRecord> {
  const parsed = buildOffboardingInputSchema(workflowSchemas()).safeParse(raw);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `Invalid offboarding input: ${describeIssues(parsed.error)}`,
      FailureTypes.invalidInput,
    );
  const { cyclrAccountId, by, cancelRunning } = parsed.data;
  const startedAt = new Date().toISOString();

  // The onboarding first: a running one would write the connector again after it is deleted.
  let onboarding = await activities.describeOnboarding({ cyclrAccountId });
  let cancelledOnboarding = false;
  if (onboarding?.status === 'RUNNING') {
    if (!cancelRunning)
      throw ApplicationFailure.nonRetryable(
        `The onboarding of ${cyclrAccountId} is running (step ${onboarding.step ?? 'starting'}); nothing was changed. To cancel it and offboard, offboard again with cancelRunning (CLI: --cancel-running).`,
        ONBOARDING_RUNNING,
      );
    const ended = await ownerActivities.cancelOnboarding({
      workflowId: onboarding.workflowId,
      runId: onboarding.runId,
    });
    onboarding = { ...onboarding, status: ended.status };
    cancelledOnboarding = true;
  }

  const found = await activities.findDynamicsConnectors({ accountId: cyclrAccountId });
  const alreadyGone: number[] = [];
  for (const accountConnectorId of found.accountConnectorIds) {
    const removed = await activities.removeAccountConnector({
      accountId: cyclrAccountId,
      accountConnectorId,
    });
    if (removed.alreadyGone) alreadyGone.push(accountConnectorId);
  }
  const { ownerNotified } = await activities.forgetSecretHolder({ cyclrAccountId });

  const record: OffboardingRecord = {
    cyclrAccountId,
    by,
    at: new Date().toISOString(),
    startedAt,
    removedAccountConnectorIds: found.accountConnectorIds,
    alreadyGoneAccountConnectorIds: alreadyGone,
    cyclrAccountFound: found.accountFound,
    onboarding,
    cancelledOnboarding,
    ownerNotified,
  };
  log.info('Account offboarded', {
    cyclrAccountId,
    by,
    removed: record.removedAccountConnectorIds.length,
    cancelledOnboarding,
  });
  return record;
}
