// Activities on the Cyclr API: the account connector and its properties. Each write is checked
// against what Cyclr already holds, so a retry after a crash writes nothing twice.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isTransportFailure } from '../clients/http';
import type { AccountConnector, CyclrClient } from '../clients/cyclr';
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

/** What the account connector must hold, and who to tell that it holds the secret. */
interface ConnectorSettings {
  accountId: string;
  resourceUrl: string;
  clientId: string;
  clientSecret: SealedSecret & { credentialKeyId: string };
  /** The client secret (keyId) this onboarding already put into ClientSecret, if any. */
  secretWrittenKeyId: string | null;
  reportTo?: { owner: string; workflowId: string };
}

const INSTALLED_BY = 'Installed by dynamics-onboarding';
/**
 * An install that carries the properties names its secret in the Description: Cyclr masks
 * ClientSecret on read, so a retry whose install answer was lost knows the secret there is its own.
 * The keyId is Graph's identifier of the secret, not the secret.
 */
const installDescription = (credentialKeyId: string) =>
  `${INSTALLED_BY} with client secret ${credentialKeyId}`;

export function cyclrActivities(
  cyclr: CyclrClient,
  keys: KeyRing,
  connectorName: string,
  reportHolder: SecretHolderReporter,
) {
  /** The account's Dynamics connector (the oldest, should there be several), if installed. */
  async function installedConnector(accountId: string): Promise<AccountConnector | undefined> {
    const existing = (await cyclr.listAccountConnectors(accountId))
      .filter((ac) => ac.Connector?.Name === connectorName)
      .sort((a, b) => a.Id - b.Id);
    if (existing.length > 1) {
      log.warn('Several Dynamics connectors installed in the account; using the oldest', {
        accountId,
        ids: existing.map((e) => e.Id),
      });
    }
    return existing[0];
  }

  async function install(
    accountId: string,
    description: string,
    properties?: Record<string, string>,
  ): Promise<AccountConnector> {
    const connectorId = await cyclr.connectorId(connectorName, accountId);
    return cyclr.installConnector(accountId, connectorId, { name: connectorName, description, properties });
  }

  /**
   * Writes the properties that differ from what Cyclr holds; returns the names written. Readable
   * values are compared; a masked ClientSecret counts as current when `secretIsOurs`, or when an
   * earlier attempt of this activity wrote it (heartbeat details).
   */
  async function writeProperties(
    accountId: string,
    accountConnectorId: number,
    desired: Record<string, string>,
    secretIsOurs: boolean,
  ): Promise<string[]> {
    const ctx = Context.current();
    const earlier = (ctx.info.heartbeatDetails as { written?: string[] } | undefined)?.written ?? [];
    const secretCurrent = secretIsOurs || earlier.includes('ClientSecret');
    const current = await cyclr.listProperties(accountId, accountConnectorId);
    const written: string[] = [];
    for (const [name, value] of Object.entries(desired)) {
      const property = current.find((p) => p.Name === name);
      if (property?.Value === value) continue;
      if (property && name === 'ClientSecret' && isMasked(property.Value) && secretCurrent) continue;
      try {
        if (property) await cyclr.updateProperty(accountId, accountConnectorId, property, value);
        else await cyclr.createProperty(accountId, accountConnectorId, name, value);
      } catch (err) {
        // No answer (dropped, timed out): the write may have been applied. A readable value is
        // compared on retry; a masked ClientSecret cannot be, so look now: if it is there, it is
        // ours (should it not be, the sign-in's 7000215 replaces it).
        if (!(name === 'ClientSecret' && isTransportFailure(err)) || property) throw err;
        const after = await lookAgain(() => cyclr.listProperties(accountId, accountConnectorId));
        if (!after?.some((p) => p.Name === name)) throw err;
        log.warn('ClientSecret write had no answer but is applied', { accountConnectorId });
      }
      written.push(name);
      ctx.heartbeat({ written: [...earlier, ...written] });
    }
    return written;
  }

  const desiredProperties = (input: ConnectorSettings): Record<string, string> => ({
    Resource: input.resourceUrl,
    ClientId: input.clientId,
    ClientSecret: openSecret(keys, input.clientSecret),
  });

  /** Tells the secret's owner workflow that this connector holds it (it rotates every holder). */
  async function reportSecretHolder(input: ConnectorSettings, accountConnectorId: number): Promise<void> {
    if (!input.reportTo) return;
    await reportHolder(input.reportTo.owner, {
      workflowId: input.reportTo.workflowId,
      accountId: input.accountId,
      accountConnectorId,
      credentialKeyId: input.clientSecret.credentialKeyId,
    });
  }

  return {
    /**
     * Before anyone is asked for anything: the Cyclr account exists and the Dynamics connector can
     * be installed there. Fails at once, naming what to fix.
     */
    async checkCyclrAccount(input: { accountId: string }): Promise<void> {
      await cyclr.listAccountConnectors(input.accountId); // CyclrAccountNotFound when there is none
      await cyclr.connectorId(connectorName, input.accountId);
    },

    /**
     * Step 3 in one activity: installs the account's Dynamics connector with its Resource,
     * ClientId and ClientSecret in the install itself (two Cyclr calls), or, when one is installed
     * already, writes only the properties that differ. Then reports the secret's holder to its
     * owner (here rather than by a workflow signal: no extra workflow task per onboarding).
     */
    async setUpAccountConnector(
      input: ConnectorSettings,
    ): Promise<{ accountConnectorId: number; installed: boolean; written: string[] }> {
      const desired = desiredProperties(input);
      const keyId = input.clientSecret.credentialKeyId;
      const existing = await installedConnector(input.accountId);
      if (!existing) {
        const installed = await install(input.accountId, installDescription(keyId), desired);
        await reportSecretHolder(input, installed.Id);
        return { accountConnectorId: installed.Id, installed: true, written: Object.keys(desired) };
      }
      const secretIsOurs =
        input.secretWrittenKeyId === keyId || existing.Description === installDescription(keyId);
      const written = await writeProperties(input.accountId, existing.Id, desired, secretIsOurs);
      await reportSecretHolder(input, existing.Id);
      return { accountConnectorId: existing.Id, installed: false, written };
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
