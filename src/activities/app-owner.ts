// Activities between onboardings and the owner workflow of the shared app registration.
import { Context } from '@temporalio/activity';
import { Client, QueryNotRegisteredError, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import type { AppCredentialsDelivery } from '../shared/app-credentials';
import {
  appCredentialsDeliveredSignal,
  appCredentialsQuery,
  appCredentialsRequestedSignal,
} from '../shared/messages';
import { APP_REGISTRATION_WORKFLOW_TYPE, appRegistrationWorkflowId, TASK_QUEUE } from '../shared/names';
import type { AppSpec } from './graph';

export function appSpecFrom(config: Config): AppSpec {
  return {
    uniqueName: config.APP_UNIQUE_NAME,
    displayName: config.APP_DISPLAY_NAME,
    redirectUris: [
      `${config.CYCLR_SERVICE_BASE_URL}/connector/callback`,
      `${config.PUBLIC_BASE_URL}/callbacks/consent`,
    ],
    secretLifetimeDays: config.APP_SECRET_LIFETIME_DAYS,
    renewBeforeDays: config.APP_SECRET_RENEW_BEFORE_DAYS,
  };
}

/** How many requesters deliverAppCredentials signals at once (a wave can bring thousands). */
const DELIVERY_CONCURRENCY = 50;

export function appOwnerActivities(client: Client, config: Config) {
  const ownerId = appRegistrationWorkflowId(appSpecFrom(config).uniqueName);
  /**
   * One query in flight per worker process: a wave of onboardings shares its answer. An answer is
   * never reused after it arrived: right after a rotation that would hand out the removed secret
   * (test/faults.test.ts caught a 2 s reuse doing exactly that).
   */
  let asking: Promise<AppCredentialsDelivery | null> | undefined;
  const askOwner = async (): Promise<AppCredentialsDelivery | null> => {
    try {
      return await client.workflow.getHandle(ownerId).query(appCredentialsQuery);
    } catch (err) {
      // No owner yet, or one from before this query existed: the caller asks by signal instead.
      if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) return null;
      throw err;
    }
  };

  return {
    /**
     * The owner's credentials when they are ready (the usual case once the app exists), read with
     * a query; null when the onboarding must ask by signal (requestAppCredentials) and wait.
     */
    async currentAppCredentials(): Promise<AppCredentialsDelivery | null> {
      asking ??= askOwner().finally(() => (asking = undefined));
      return asking;
    },

    /** Asks the owner (started if needed) for the app's credentials; `rejected`: replace that secret. */
    async requestAppCredentials(
      replyTo: string,
      rejected?: { rejectedKeyId: string; reason: string },
    ): Promise<void> {
      const spec = appSpecFrom(config);
      await client.workflow.signalWithStart(APP_REGISTRATION_WORKFLOW_TYPE, {
        workflowId: appRegistrationWorkflowId(spec.uniqueName),
        taskQueue: TASK_QUEUE,
        args: [{ spec }],
        signal: appCredentialsRequestedSignal,
        signalArgs: [{ replyTo, ...rejected }],
      });
    },

    /** Signals each requester; one that has ended since it asked is skipped. */
    async deliverAppCredentials(input: {
      replyTo: string[];
      delivery: AppCredentialsDelivery;
    }): Promise<void> {
      // Bounded concurrency with a heartbeat per batch: thousands of requesters neither flood the
      // server nor outlast the heartbeat timeout; a retried attempt skips the batches already done.
      const ctx = Context.current();
      const done = (ctx.info.heartbeatDetails as number | undefined) ?? 0;
      for (let from = done; from < input.replyTo.length; from += DELIVERY_CONCURRENCY) {
        await Promise.all(
          input.replyTo.slice(from, from + DELIVERY_CONCURRENCY).map(async (workflowId) => {
            try {
              await client.workflow
                .getHandle(workflowId)
                .signal(appCredentialsDeliveredSignal, input.delivery);
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
            }
          }),
        );
        ctx.heartbeat(from + DELIVERY_CONCURRENCY);
      }
    },
  };
}
