// Activities of the offboarding: the account's onboarding (read, cancelled when asked), its Dynamics
// connectors in Cyclr (found by connector name, deauthenticated and deleted; gone counts as done),
// and the app's owner told to forget the account's connector.
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CyclrClient } from '../clients/cyclr';
import type { Config } from '../config';
import { describeLatest, existingOnboarding } from '../onboarding-start';
import { FailureTypes } from '../shared/failures';
import { appSecretHoldersSignal } from '../shared/messages';
import { appRegistrationWorkflowId, onboardingWorkflowId } from '../shared/names';
import type { OffboardingRecord } from '../shared/offboarding';

export function offboardingActivities(cyclr: CyclrClient, client: Client, config: Config) {
  return {
    /** The account's latest onboarding run, or null when it never had one. */
    async describeOnboarding(input: { cyclrAccountId: string }): Promise<OffboardingRecord['onboarding']> {
      const described = await describeLatest(client, onboardingWorkflowId(input.cyclrAccountId));
      if (!described) return null;
      const { workflowId, runId, status, step } = existingOnboarding(described);
      return { workflowId, runId, status, step };
    },

    /** Cancels that onboarding run and waits until it has ended (it records what it had done). */
    async cancelOnboarding(input: { workflowId: string; runId: string }): Promise<{ status: string }> {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 5_000);
      const handle = client.workflow.getHandle(input.workflowId, input.runId);
      try {
        await handle.cancel();
      } catch (err) {
        // Ended meanwhile: nothing to cancel.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      try {
        await Promise.race([handle.result(), ctx.cancelled]);
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
      } finally {
        clearInterval(beat);
      }
      return { status: (await handle.describe()).status.name };
    },

    /** The account's Dynamics connectors (by connector name); `accountFound` false when Cyclr has no such account. */
    async findDynamicsConnectors(input: {
      accountId: string;
    }): Promise<{ accountFound: boolean; accountConnectorIds: number[] }> {
      try {
        const all = await cyclr.listAccountConnectors(input.accountId);
        return {
          accountFound: true,
          accountConnectorIds: all
            .filter((ac) => ac.Connector?.Name === config.DYNAMICS_CONNECTOR_NAME)
            .map((ac) => ac.Id)
            .sort((a, b) => a - b),
        };
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === FailureTypes.cyclrAccountNotFound)
          return { accountFound: false, accountConnectorIds: [] };
        throw err;
      }
    },

    /**
     * Deauthenticates (Cyclr forgets the captured OAuth tokens) and deletes one account connector.
     * Idempotent: a retry after either call finds it deauthenticated or gone.
     */
    async removeAccountConnector(input: {
      accountId: string;
      accountConnectorId: number;
    }): Promise<{ alreadyGone: boolean }> {
      const deauthenticated = await cyclr.deauthenticateAccountConnector(
        input.accountId,
        input.accountConnectorId,
      );
      if (deauthenticated.alreadyGone) return { alreadyGone: true };
      await cyclr.deleteAccountConnector(input.accountId, input.accountConnectorId);
      return { alreadyGone: false };
    },

    /** The app's owner forgets the account's connector, so a secret rotation no longer writes there. */
    async forgetSecretHolder(input: { cyclrAccountId: string }): Promise<{ ownerNotified: boolean }> {
      try {
        await client.workflow
          .getHandle(appRegistrationWorkflowId(config.APP_UNIQUE_NAME))
          .signal(appSecretHoldersSignal, { removed: [input.cyclrAccountId] });
        return { ownerNotified: true };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return { ownerNotified: false };
        throw err;
      }
    },
  };
}
