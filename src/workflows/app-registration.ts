// The one owner of the partner's shared multi-tenant app registration. Onboardings ask it for
// credentials (signal-with-start); it registers the app, its service principal and a client
// secret once, then hands the same credentials to every requester. Serialising here is what keeps
// fifty simultaneous onboardings from creating fifty secrets. Once ready, the credentials are also
// answered by the appCredentials query, which is how most onboardings get them.
//
// It also owns the secret's lifecycle: before the secret's end (renewBeforeDays), or when an
// onboarding reports that Microsoft rejected it (AADSTS7000222 expired, 7000215 invalid), it adds
// a new secret, puts it into the ClientSecret of every account connector holding the old one, and
// only then removes the old one.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AppSpec } from '../activities/graph';
import {
  HOLDERS_PER_REPORT_MAX,
  packHolders,
  unpackHolders,
  type AppCredentials,
  type AppCredentialsDelivery,
  type PackedHolders,
  type SecretHolder,
} from '../shared/app-credentials';
import {
  appCredentialsQuery,
  appCredentialsRequestedSignal,
  appRegistrationStatusQuery,
  appSecretHoldersSignal,
  appSecretInstalledSignal,
} from '../shared/messages';
import { activities } from './activity-options';

export interface AppRegistrationInput {
  spec: AppSpec;
  credentials?: AppCredentials;
  pending?: string[];
  /** From runs before packedHolders existed. */
  holders?: SecretHolder[];
  packedHolders?: PackedHolders;
  rotations?: Rotation[];
  /** Carried over continue-as-new: a secret Microsoft rejected, still to be replaced. */
  rejected?: { keyId: string; reason: string } | null;
  /** History events after which the run continues as new (default 2,000; tests set fewer). */
  historyLimit?: number;
}

interface Rotation {
  at: string;
  reason: string;
  oldKeyId: string | null;
  newKeyId: string;
}

const DAY_MS = 86_400_000;
/** Never renew more often than this, whatever the secret's end says (no renewal loop). */
const MIN_RENEWAL_SPACING_MS = 3_600_000;
const ROTATIONS_KEPT = 20;
const HISTORY_LIMIT = 2000;

const isHolder = (h: Partial<SecretHolder> | undefined): h is SecretHolder =>
  typeof h?.accountId === 'string' &&
  typeof h.accountConnectorId === 'number' &&
  typeof h.workflowId === 'string' &&
  typeof h.credentialKeyId === 'string';

export async function dynamicsAppRegistration(input: AppRegistrationInput): Promise<never> {
  let credentials = input.credentials;
  const pending = new Set(input.pending ?? []);
  const holders = new Map(
    [...(input.holders ?? []), ...unpackHolders(input.packedHolders ?? {})].map((h) => [h.accountId, h]),
  );
  const rotations = input.rotations ?? [];
  let lastError: string | null = null;
  /** A secret an onboarding reported as rejected by Microsoft, with why. */
  let rejected: { keyId: string; reason: string } | null = input.rejected ?? null;
  const renewBeforeMs = (input.spec.renewBeforeDays ?? 14) * DAY_MS;

  setHandler(appCredentialsRequestedSignal, (request) => {
    if (typeof request?.replyTo === 'string' && request.replyTo) pending.add(request.replyTo);
    if (typeof request?.rejectedKeyId === 'string' && request.rejectedKeyId) {
      rejected = { keyId: request.rejectedKeyId, reason: String(request.reason ?? 'rejected').slice(0, 300) };
    }
  });
  setHandler(appSecretInstalledSignal, (holder) => {
    if (isHolder(holder)) holders.set(holder.accountId, holder);
  });
  setHandler(appSecretHoldersSignal, (report) => {
    if (!Array.isArray(report?.holders) || report.holders.length > HOLDERS_PER_REPORT_MAX) return;
    for (const holder of report.holders) if (isHolder(holder)) holders.set(holder.accountId, holder);
  });
  const renewAt = () =>
    credentials ? Math.max(Date.parse(credentials.secret.expiresAt) - renewBeforeMs, 0) : null;
  setHandler(appRegistrationStatusQuery, () => ({
    appId: credentials?.appId ?? null,
    secretKeyId: credentials?.secret.credentialKeyId ?? null,
    secretExpiresAt: credentials?.secret.expiresAt ?? null,
    pendingRequests: pending.size,
    lastError,
    holders: holders.size,
    renewAt: renewAt() === null ? null : new Date(renewAt()!).toISOString(),
    rotations: [...rotations],
  }));

  const usable = (c: AppCredentials | undefined): c is AppCredentials =>
    !!c && Date.parse(c.secret.expiresAt) - Date.now() > renewBeforeMs;
  setHandler(appCredentialsQuery, () =>
    usable(credentials) && rejected === null && lastError === null
      ? { ok: true, credentials, owner: workflowInfo().workflowId, secretInstalledFor: [] }
      : null,
  );

  // Runs started before the lifecycle existed keep their old command sequence (replay).
  const lifecycle = patched('app-secret-lifecycle');
  // 'owner-history-bound': holder reports alone (a wave of verified onboardings) also make the run
  // continue as new once its history is long; before, only a credentials request did, so ten
  // thousand reports grew one history towards Temporal's limit and made every replay of it slow.
  const historyBound = lifecycle && patched('owner-history-bound');
  const historyLimit = input.historyLimit ?? HISTORY_LIMIT;
  const historyFull = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit;
  const carryOver = (): AppRegistrationInput => ({
    spec: input.spec,
    credentials,
    pending: [...pending],
    ...(lifecycle ? { packedHolders: packHolders(holders.values()), rotations } : {}),
    ...(input.historyLimit ? { historyLimit: input.historyLimit } : {}),
  });
  let lastRenewal = 0;

  for (;;) {
    if (lifecycle) {
      const due = renewAt();
      const wait =
        due === null
          ? undefined
          : Math.max(due - Date.now(), lastRenewal + MIN_RENEWAL_SPACING_MS - Date.now(), 1);
      await condition(() => pending.size > 0 || rejected !== null || (historyBound && historyFull()), wait);
      if (historyBound && pending.size === 0 && rejected === null && historyFull()) {
        await continueAsNew<typeof dynamicsAppRegistration>(carryOver());
      }
    } else {
      await condition(() => pending.size > 0);
    }
    if (!lifecycle && rejected) {
      // A run from before the lifecycle cannot replace a secret: it becomes a run that can.
      await continueAsNew<typeof dynamicsAppRegistration>({
        spec: input.spec,
        credentials,
        pending: [...pending],
        rejected,
      });
    }
    let delivery: AppCredentialsDelivery;
    try {
      let installedFor: string[] = [];
      const rejectedNow = rejected as { keyId: string; reason: string } | null;
      rejected = null;
      if (!lifecycle) {
        if (!usable(credentials)) credentials = await register(input.spec, credentials);
      } else if (!credentials) {
        credentials = await register(input.spec, undefined);
      } else if (rejectedNow && rejectedNow.keyId === credentials.secret.credentialKeyId) {
        installedFor = await rotate(`Microsoft rejected the secret: ${rejectedNow.reason}`);
      } else if (!usable(credentials) && Date.now() - lastRenewal >= MIN_RENEWAL_SPACING_MS) {
        installedFor = await rotate(
          `renewal ${Math.round(renewBeforeMs / DAY_MS)} days before the secret's end`,
        );
      }
      // A rejected secret that is not the current one: the requester just gets the current one.
      delivery = lifecycle
        ? { ok: true, credentials, owner: workflowInfo().workflowId, secretInstalledFor: installedFor }
        : { ok: true, credentials };
      lastError = null;
    } catch (err) {
      const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
      const message = failure instanceof Error ? failure.message : String(err);
      const errorType = failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'Error';
      log.error('App registration failed', { message });
      lastError = message;
      delivery = { ok: false, errorType, message };
    }
    if (pending.size > 0) {
      const batch = [...pending];
      pending.clear();
      await activities.deliverAppCredentials({ replyTo: batch, delivery });
    }

    if (historyFull()) await continueAsNew<typeof dynamicsAppRegistration>(carryOver());
  }

  /**
   * New secret, then every holder's ClientSecret, then the old secret removed: a holder is never
   * left with a secret that no longer exists. Returns the workflow ids of the holders updated.
   */
  async function rotate(reason: string): Promise<string[]> {
    const old = credentials!;
    lastRenewal = Date.now();
    const fresh = await register(input.spec, old);
    const stale = [...holders.values()].filter((h) => h.credentialKeyId !== fresh.secret.credentialKeyId);
    const { updated, gone } = stale.length
      ? await activities.installClientSecret({ holders: stale, clientSecret: fresh.secret })
      : { updated: [], gone: [] };
    for (const accountId of gone) holders.delete(accountId);
    for (const accountId of updated) {
      const holder = holders.get(accountId);
      if (holder) holders.set(accountId, { ...holder, credentialKeyId: fresh.secret.credentialKeyId });
    }
    credentials = fresh;
    if (old.appId === fresh.appId && old.secret.credentialKeyId !== fresh.secret.credentialKeyId) {
      await activities.removeClientSecret({
        objectId: fresh.objectId,
        credentialKeyId: old.secret.credentialKeyId,
      });
    }
    rotations.push({
      at: new Date().toISOString(),
      reason,
      oldKeyId: old.secret.credentialKeyId,
      newKeyId: fresh.secret.credentialKeyId,
    });
    if (rotations.length > ROTATIONS_KEPT) rotations.splice(0, rotations.length - ROTATIONS_KEPT);
    log.info('Client secret replaced', {
      reason,
      old: old.secret.credentialKeyId,
      new: fresh.secret.credentialKeyId,
      holders: updated.length,
    });
    return updated.map((accountId) => holders.get(accountId)?.workflowId).filter((id): id is string => !!id);
  }
}

async function register(spec: AppSpec, previous: AppCredentials | undefined): Promise<AppCredentials> {
  const app = await activities.ensureApplication(spec);
  const sp = await activities.ensureServicePrincipal(app.appId);
  const secret = await activities.createClientSecret({
    objectId: app.objectId,
    uniqueName: spec.uniqueName,
    lifetimeDays: spec.secretLifetimeDays,
    from: new Date().toISOString(),
  });
  if (previous && previous.appId === app.appId) {
    log.info('Client secret renewed', { old: previous.secret.credentialKeyId, new: secret.credentialKeyId });
  }
  return { appId: app.appId, objectId: app.objectId, servicePrincipalId: sp.servicePrincipalId, secret };
}
