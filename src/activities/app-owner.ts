// Activities between onboardings and the owner workflow of the shared app registration.
import { Context } from '@temporalio/activity';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Config } from '../config';
import type { AppCredentialsDelivery } from '../shared/app-credentials';
import { appCredentialsQuery, requestAppCredentialsUpdate } from '../shared/messages';
import { APP_REGISTRATION_WORKFLOW_TYPE, appRegistrationWorkflowId, TASK_QUEUE } from '../shared/names';
import type { AppSpec } from './graph';

export function appSpecFrom(config: Config): AppSpec {
  return {
    uniqueName: config.APP_UNIQUE_NAME,
    ...(config.APP_ID ? { appId: config.APP_ID } : {}),
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
  const spec = appSpecFrom(config);
  const ownerId = appRegistrationWorkflowId(spec.uniqueName);
  /**
   * One query in flight per worker process: a wave of onboardings shares its answer. An answer is
   * never reused after it arrived: right after a rotation that would hand out the removed secret.
   */
  let asking: Promise<AppCredentialsDelivery | null> | undefined;
  const askOwner = async (): Promise<AppCredentialsDelivery | null> => {
    try {
      return await client.workflow.getHandle(ownerId).query(appCredentialsQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null; // no owner yet: started below
      throw err;
    }
  };

  /** The owner's handle, started if it does not run yet. */
  async function owner(): Promise<WorkflowHandle> {
    try {
      return await client.workflow.start(APP_REGISTRATION_WORKFLOW_TYPE, {
        workflowId: ownerId,
        taskQueue: TASK_QUEUE,
        args: [{ spec }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return client.workflow.getHandle(ownerId);
    }
  }

  return {
    /**
     * The app's credentials: read with a query when they are ready (the usual case once the app
     * exists), else asked of the owner with an update that returns once it has them. `rejected`:
     * Microsoft refused that secret; the owner replaces it first.
     */
    async appCredentials(input: {
      requester: string;
      rejected?: { keyId: string; reason: string };
    }): Promise<AppCredentialsDelivery> {
      if (!input.rejected) {
        asking ??= askOwner().finally(() => (asking = undefined));
        const ready = await asking;
        if (ready) return ready;
      }
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat(), 5_000);
      try {
        const handle = await owner();
        return await handle.executeUpdate(requestAppCredentialsUpdate, {
          args: [
            {
              requester: input.requester,
              ...(input.rejected
                ? { rejectedKeyId: input.rejected.keyId, reason: input.rejected.reason }
                : {}),
            },
          ],
          // A retried attempt joins the update it already made instead of making another.
          updateId: `${input.requester}/${input.rejected?.keyId ?? 'credentials'}/${ctx.info.workflowExecution?.runId ?? ''}`,
        });
      } finally {
        clearInterval(beat);
      }
    },
  };
}
