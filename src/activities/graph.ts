// Activities on Microsoft Graph: the shared app registration (run by its owner workflow only).
import { Context } from '@temporalio/activity';
import type { GraphClient } from '../clients/graph';
import type { KeyRing } from '../secrets/keys';
import { sealSecret } from '../secrets/sealing';
import type { AppCredentials } from '../shared/app-credentials';

export interface AppSpec {
  uniqueName: string;
  /** An app registered by hand (APP_ID) that the owner adopts instead of creating one. */
  appId?: string;
  displayName: string;
  redirectUris: string[];
  secretLifetimeDays: number;
  /** The owner renews a secret this many days before its end (default 14). */
  renewBeforeDays?: number;
}

export function graphActivities(graph: GraphClient, keys: KeyRing) {
  return {
    async ensureApplication(spec: AppSpec): Promise<{ objectId: string; appId: string; created: boolean }> {
      return graph.upsertApplication(spec);
    },

    async ensureServicePrincipal(appId: string): Promise<{ servicePrincipalId: string; created: boolean }> {
      return graph.ensureServicePrincipal(appId);
    },

    /**
     * Adds one client secret. The secret's displayName names this activity, so a retry after a
     * crash (whose secretText is lost for good) retires the orphan before adding the replacement.
     */
    async createClientSecret(input: {
      objectId: string;
      appId: string;
      lifetimeDays: number;
      /** The owner's (workflow) time: the secret's end follows the clock the owner renews by. */
      from?: string;
    }): Promise<AppCredentials['secret']> {
      const info = Context.current().info;
      const marker = `dynamics-onboarding ${info.workflowExecution?.runId ?? 'standalone'}/${info.activityId}`;
      const app = await graph.getApplication({ objectId: input.objectId });
      for (const orphan of app.passwordCredentials.filter((c) => c.displayName === marker)) {
        await graph.removePassword(input.objectId, orphan.keyId);
      }
      const from = input.from ? Date.parse(input.from) : Date.now();
      const endDateTime = new Date(from + input.lifetimeDays * 86_400_000).toISOString();
      const created = await graph.addPassword(input.objectId, marker, endDateTime);
      return {
        ...sealSecret(keys, created.secretText),
        credentialKeyId: created.keyId,
        expiresAt: created.endDateTime,
      };
    },

    async removeClientSecret(input: { objectId: string; credentialKeyId: string }): Promise<void> {
      await graph.removePassword(input.objectId, input.credentialKeyId);
    },
  };
}
