// Activities between onboardings and the owner workflow of the shared app registration.
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../config';
import type { AppCredentialsDelivery } from '../shared/app-credentials';
import { appCredentialsDeliveredSignal, appCredentialsRequestedSignal } from '../shared/messages';
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

export function appOwnerActivities(client: Client, config: Config) {
  return {
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
      await Promise.all(
        input.replyTo.map(async (workflowId) => {
          try {
            await client.workflow.getHandle(workflowId).signal(appCredentialsDeliveredSignal, input.delivery);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }),
      );
    },
  };
}
