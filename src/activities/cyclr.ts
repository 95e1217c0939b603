// Activities on the Cyclr API: the account connector and its properties. Each write is checked
// against what Cyclr already holds, so a retry after a crash writes nothing twice.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isTransportFailure } from '../clients/http';
import type { CyclrClient } from '../clients/cyclr';
import type { KeyRing } from '../secrets/keys';
import { openSecret } from '../secrets/sealing';
import type { SealedSecret, SecretHolder } from '../shared/app-credentials';

const isMasked = (value: string | null) => value !== null && /^\*+$/.test(value);

/** A few quick reads (the service is flaky right now); undefined when none answered. */
async function lookAgain<T>(read: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await read();
    } catch {
      // Short pauses, with a heartbeat: never long enough for the attempt to be given up on.
      Context.current().heartbeat();
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 1000)));
    }
  }
  return undefined;
}

/** Tells the app's owner workflow that an account connector now holds its secret. */
export type SecretHolderReporter = (owner: string, holder: SecretHolder) => Promise<void>;

export function cyclrActivities(
  cyclr: CyclrClient,
  keys: KeyRing,
  connectorName: string,
  reportHolder: SecretHolderReporter,
) {
  return {
    /** Finds the account's Dynamics connector, installing it only when there is none. */
    async ensureAccountConnector(
      accountId: string,
    ): Promise<{ accountConnectorId: number; installed: boolean }> {
      const existing = (await cyclr.listAccountConnectors(accountId))
        .filter((ac) => ac.Connector?.Name === connectorName)
        .sort((a, b) => a.Id - b.Id);
      if (existing.length > 1) {
        log.warn('Several Dynamics connectors installed in the account; using the oldest', {
          accountId,
          ids: existing.map((e) => e.Id),
        });
      }
      if (existing[0]) return { accountConnectorId: existing[0].Id, installed: false };
      const connectorId = await cyclr.connectorId(connectorName, accountId);
      const installed = await cyclr.installConnector(accountId, connectorId, connectorName);
      return { accountConnectorId: installed.Id, installed: true };
    },

    /**
     * Sets Resource, ClientId and ClientSecret; returns the names it actually wrote. Readable values
     * are compared. Cyclr may mask ClientSecret on read, so it counts as current when this workflow
     * (`secretWrittenKeyId`) or an earlier attempt of this activity (heartbeat details) wrote it.
     * With `reportTo`, the secret's owner workflow is then told this connector holds its secret
     * (here rather than by a workflow signal: no extra workflow task per onboarding).
     */
    async setConnectorProperties(input: {
      accountId: string;
      accountConnectorId: number;
      resourceUrl: string;
      clientId: string;
      clientSecret: SealedSecret & { credentialKeyId: string };
      secretWrittenKeyId: string | null;
      reportTo?: { owner: string; workflowId: string };
    }): Promise<{ written: string[] }> {
      const desired: Record<string, string> = {
        Resource: input.resourceUrl,
        ClientId: input.clientId,
        ClientSecret: openSecret(keys, input.clientSecret),
      };
      const ctx = Context.current();
      const earlier = (ctx.info.heartbeatDetails as { written?: string[] } | undefined)?.written ?? [];
      const secretIsOurs =
        input.secretWrittenKeyId === input.clientSecret.credentialKeyId || earlier.includes('ClientSecret');
      const current = await cyclr.listProperties(input.accountId, input.accountConnectorId);
      const written: string[] = [];
      for (const [name, value] of Object.entries(desired)) {
        const property = current.find((p) => p.Name === name);
        if (property?.Value === value) continue;
        if (property && name === 'ClientSecret' && isMasked(property.Value) && secretIsOurs) continue;
        try {
          if (property)
            await cyclr.updateProperty(input.accountId, input.accountConnectorId, property, value);
          else await cyclr.createProperty(input.accountId, input.accountConnectorId, name, value);
        } catch (err) {
          // No answer (dropped, timed out): the write may have been applied. A readable value is
          // compared on retry; a masked ClientSecret cannot be, so look now: if it is there, it is
          // ours (should it not be, the sign-in's 7000215 replaces it).
          if (!(name === 'ClientSecret' && isTransportFailure(err)) || property) throw err;
          const after = await lookAgain(() =>
            cyclr.listProperties(input.accountId, input.accountConnectorId),
          );
          if (!after?.some((p) => p.Name === name)) throw err;
          log.warn('ClientSecret write had no answer but is applied', {
            accountConnectorId: input.accountConnectorId,
          });
        }
        written.push(name);
        ctx.heartbeat({ written: [...earlier, ...written] });
      }
      if (input.reportTo) {
        await reportHolder(input.reportTo.owner, {
          workflowId: input.reportTo.workflowId,
          accountId: input.accountId,
          accountConnectorId: input.accountConnectorId,
          credentialKeyId: input.clientSecret.credentialKeyId,
        });
      }
      return { written };
    },

    /**
     * The app-registration owner replaced the secret: put the new one into each holder's
     * ClientSecret. Holders whose account connector is gone are reported, not retried.
     */
    async installClientSecret(input: {
      holders: { accountId: string; accountConnectorId: number }[];
      clientSecret: SealedSecret;
    }): Promise<{ updated: string[]; gone: string[] }> {
      const secret = openSecret(keys, input.clientSecret);
      const ctx = Context.current();
      const earlier =
        (ctx.info.heartbeatDetails as { updated?: string[]; gone?: string[] } | undefined) ?? {};
      const updated = [...(earlier.updated ?? [])];
      const gone = [...(earlier.gone ?? [])];
      for (const holder of input.holders) {
        if (updated.includes(holder.accountId) || gone.includes(holder.accountId)) continue;
        try {
          const current = await cyclr.listProperties(holder.accountId, holder.accountConnectorId);
          const property = current.find((p) => p.Name === 'ClientSecret');
          if (property)
            await cyclr.updateProperty(holder.accountId, holder.accountConnectorId, property, secret);
          else
            await cyclr.createProperty(holder.accountId, holder.accountConnectorId, 'ClientSecret', secret);
          updated.push(holder.accountId);
        } catch (err) {
          if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
          log.warn('Secret holder skipped: its account connector is gone or refused the write', {
            accountId: holder.accountId,
            accountConnectorId: holder.accountConnectorId,
            error: err.message,
          });
          gone.push(holder.accountId);
        }
        ctx.heartbeat({ updated, gone });
      }
      return { updated, gone };
    },

    /** What step 5 verifies, and what the sign-in wait polls: never returns the secret. */
    async readAccountConnector(input: { accountId: string; accountConnectorId: number }): Promise<{
      authenticated: boolean;
      resource: string | null;
      clientId: string | null;
    }> {
      const [connector, properties] = await Promise.all([
        cyclr.getAccountConnector(input.accountId, input.accountConnectorId),
        cyclr.listProperties(input.accountId, input.accountConnectorId),
      ]);
      const value = (name: string) => properties.find((p) => p.Name === name)?.Value ?? null;
      return {
        authenticated: connector.Authenticated === true,
        resource: value('Resource'),
        clientId: value('ClientId'),
      };
    },
  };
}
