// Activities on Microsoft Graph: the shared app registration (run by its owner workflow only).
import { Context } from '@temporalio/activity';
import { adoptionChanges, type GraphClient } from '../clients/graph';
import { FailureTypes } from '../shared/failures';
import { nonRetryable } from '../clients/http';
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

    /**
     * Adopts an app registered by hand (APP_ID): adds what the flow needs and it lacks (the spec's
     * redirect URIs, the Dynamics CRM user_impersonation delegated permission, multi-tenant
     * sign-in), removing nothing. `changed` lists what it changed, in words; empty when nothing.
     * Retries are safe: each attempt reads the app again and adds only what is still missing.
     */
    async adoptApplication(input: {
      appId: string;
      spec: AppSpec;
    }): Promise<{ appId: string; objectId: string; changed: string[] }> {
      const app = await graph.getApplicationByAppId(input.appId);
      if (!app) {
        throw nonRetryable(
          FailureTypes.configuration,
          `graph: no application with the Application (client) ID ${input.appId} in PARTNER_TENANT_ID. Fix: check APP_ID is the app's Application (client) ID (Entra ID > App registrations > the app > Overview) in the partner's tenant; a Graph client with only Application.ReadWrite.OwnedBy may not see an app it does not own: grant GRAPH_CLIENT_ID Application.ReadWrite.All (an administrator consents to it), or have an administrator add the client as an owner of the app`,
        );
      }
      const { patch, changed } = adoptionChanges(app, input.spec.redirectUris);
      if (patch) await graph.updateApplication(app.objectId, patch, true);
      return { appId: app.appId, objectId: app.objectId, changed };
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
