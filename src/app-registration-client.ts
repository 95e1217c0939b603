// The shared app registration as ops see it, for the CLI and the ops page: its owner's status
// (query appRegistrationStatus) and a renewal of the secret now (update renewAppSecret).
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { appRegistrationStatusQuery, renewAppSecretUpdate } from './shared/messages';
import { appRegistrationWorkflowId } from './shared/names';
import type { AppRegistrationStatus } from './shared/status';

export const NO_APP_YET = 'no app registration yet: the first onboarding registers the shared app';

/** The owner's status, or null when there is no owner yet (nobody was onboarded). */
export async function appRegistrationStatus(
  client: Client,
  appUniqueName: string,
): Promise<AppRegistrationStatus | null> {
  try {
    return await client.workflow
      .getHandle(appRegistrationWorkflowId(appUniqueName))
      .query(appRegistrationStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export type RenewOutcome = { ok: true; status: AppRegistrationStatus } | { ok: false; message: string };

/**
 * Renews the client secret now: a new secret, put into every account connector holding the old
 * one, then the old one removed. Returns the owner's status after it, or why it could not.
 */
export async function renewAppSecret(
  client: Client,
  appUniqueName: string,
  by: string,
): Promise<RenewOutcome> {
  try {
    const status = await client.workflow
      .getHandle(appRegistrationWorkflowId(appUniqueName))
      .executeUpdate(renewAppSecretUpdate, { args: [{ by }] });
    return { ok: true, status };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { ok: false, message: NO_APP_YET };
    if (err instanceof WorkflowUpdateFailedError)
      return { ok: false, message: err.cause?.message ?? err.message };
    throw err;
  }
}
