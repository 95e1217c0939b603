// The state of the shared app registration's owner workflow, and its handlers: onboardings ask for
// credentials (an update that returns once they exist) or read them (a query, no history); secret
// holders are reported by signal; ops renew the secret now (an update). Everything here is what
// continue-as-new carries.
import { ApplicationFailure, condition, setHandler, workflowInfo } from '@temporalio/workflow';
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
  appRegistrationStatusQuery,
  appSecretHoldersSignal,
  renewAppSecretUpdate,
  requestAppCredentialsUpdate,
} from '../shared/messages';
import type { AppRegistrationStatus } from '../shared/status';

const DAY_MS = 86_400_000;
/** Never renew more often than this, whatever the secret's end says (no renewal loop). */
export const MIN_RENEWAL_SPACING_MS = 3_600_000;
const ROTATIONS_KEPT = 20;
const HISTORY_LIMIT = 2_000;

export type Rotation = AppRegistrationStatus['rotations'][number];

/** What the owner carries over continue-as-new. */
export interface OwnerMemory {
  credentials: AppCredentials | null;
  adopted: { changed: string[] } | null;
  packedHolders: PackedHolders;
  rotations: Rotation[];
  /** A secret an onboarding reported as rejected by Microsoft, still to be replaced. */
  rejected: { keyId: string; reason: string } | null;
  lastRenewal: number;
}

export interface AppRegistrationInput {
  spec: AppSpec;
  carried?: OwnerMemory;
  /** History events after which the run continues as new (default 2,000; tests set fewer). */
  historyLimit?: number;
}

const isHolder = (h: Partial<SecretHolder> | undefined): h is SecretHolder =>
  typeof h?.accountId === 'string' &&
  typeof h.accountConnectorId === 'number' &&
  typeof h.workflowId === 'string' &&
  typeof h.credentialKeyId === 'string';

export class AppOwner {
  credentials: AppCredentials | null;
  adopted: { changed: string[] } | null;
  readonly holders: Map<string, SecretHolder>;
  readonly rotations: Rotation[];
  rejected: { keyId: string; reason: string } | null;
  lastRenewal: number;
  lastError: string | null = null;
  /** Ops asked for a renewal now (renewAppSecret), by whom. */
  renewalAsked: string | null = null;
  /** Requests counted as they arrive; a failed attempt answers those that came before it. */
  private requests = 0;
  private servedUpTo = 0;
  private failed: { upTo: number; delivery: AppCredentialsDelivery } | null = null;
  /** Requesters whose account connector the last rotation updated. */
  installedFor = new Set<string>();
  readonly renewBeforeMs: number;

  constructor(readonly input: AppRegistrationInput) {
    const c = input.carried;
    this.credentials = c?.credentials ?? null;
    this.adopted = c?.adopted ?? null;
    this.holders = new Map(unpackHolders(c?.packedHolders ?? {}).map((h) => [h.accountId, h]));
    this.rotations = c?.rotations ?? [];
    this.rejected = c?.rejected ?? null;
    this.lastRenewal = c?.lastRenewal ?? 0;
    this.renewBeforeMs = (input.spec.renewBeforeDays ?? 14) * DAY_MS;
    this.setHandlers();
  }

  private setHandlers(): void {
    setHandler(appCredentialsQuery, () => (this.ready() ? this.delivery() : null));
    setHandler(appRegistrationStatusQuery, () => this.status());
    setHandler(appSecretHoldersSignal, (report) => {
      const holders = Array.isArray(report?.holders) ? report.holders : [];
      const removed = Array.isArray(report?.removed) ? report.removed : [];
      if (holders.length + removed.length > HOLDERS_PER_REPORT_MAX) return;
      for (const holder of holders) if (isHolder(holder)) this.holders.set(holder.accountId, holder);
      for (const accountId of removed) if (typeof accountId === 'string') this.holders.delete(accountId);
    });
    setHandler(
      requestAppCredentialsUpdate,
      async (request) => {
        const arrival = ++this.requests;
        if (request.rejectedKeyId && request.rejectedKeyId === this.credentials?.secret.credentialKeyId)
          this.rejected ??= {
            keyId: request.rejectedKeyId,
            reason: (request.reason ?? 'rejected').slice(0, 300),
          };
        await condition(() => this.ready() || (this.failed !== null && this.failed.upTo >= arrival));
        if (!this.ready()) return this.failed!.delivery;
        return { ...this.delivery(), installedForRequester: this.installedFor.has(request.requester) };
      },
      {
        validator: (request) => {
          if (typeof request?.requester !== 'string' || !request.requester || request.requester.length > 300)
            throw new Error('requester: expected the onboarding workflow id');
          if (request.rejectedKeyId !== undefined && typeof request.rejectedKeyId !== 'string')
            throw new Error('rejectedKeyId: expected the rejected secret keyId');
        },
      },
    );
    setHandler(
      renewAppSecretUpdate,
      async ({ by }) => {
        if (!this.credentials)
          throw ApplicationFailure.nonRetryable(
            'No app is registered yet: onboard a customer first.',
            'NothingToRenew',
          );
        const before = this.rotations.length;
        this.renewalAsked = by;
        await condition(() => this.rotations.length > before || this.renewalAsked === null);
        if (this.rotations.length === before)
          throw ApplicationFailure.nonRetryable(
            `The renewal failed: ${this.lastError ?? 'unknown error'}`,
            'RenewalFailed',
          );
        return this.status();
      },
      {
        validator: (request) => {
          if (typeof request?.by !== 'string' || !request.by.trim() || request.by.length > 200)
            throw new Error('by: who asks for the renewal (a name or e-mail), recorded');
        },
      },
    );
  }

  /** Credentials may be handed out: registered, not due for renewal, nothing rejected, no error. */
  ready(): boolean {
    return this.usable() && this.rejected === null && this.lastError === null;
  }

  usable(): boolean {
    return (
      !!this.credentials && Date.parse(this.credentials.secret.expiresAt) - Date.now() > this.renewBeforeMs
    );
  }

  private delivery(): AppCredentialsDelivery {
    return { ok: true, credentials: this.credentials!, owner: workflowInfo().workflowId };
  }

  /** When the secret is due for renewal (ms), or undefined when there is none yet. */
  renewAt(): number | undefined {
    if (!this.credentials) return undefined;
    const due = Date.parse(this.credentials.secret.expiresAt) - this.renewBeforeMs;
    return Math.max(due, this.lastRenewal + MIN_RENEWAL_SPACING_MS, 0);
  }

  /** Something to do: a request with no answer, a rejected secret, a renewal due or asked for. */
  workToDo(): boolean {
    const renewalDue = this.renewAt() !== undefined && Date.now() >= this.renewAt()!;
    return (
      (this.requests > this.servedUpTo && !this.ready()) ||
      this.rejected !== null ||
      this.renewalAsked !== null ||
      (renewalDue && !this.usable())
    );
  }

  /** Runs `serve`; a failure answers every request that came before it, and is kept for status. */
  async attempt(serve: () => Promise<void>): Promise<void> {
    const upTo = this.requests;
    this.servedUpTo = upTo;
    try {
      await serve();
      this.lastError = null;
      this.failed = null;
    } catch (err) {
      const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
      const message = failure instanceof Error ? failure.message : String(err);
      const errorType = failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'Error';
      this.lastError = message;
      this.failed = { upTo, delivery: { ok: false, errorType, message } };
      this.renewalAsked = null;
    }
  }

  recordRotation(rotation: Rotation): void {
    this.rotations.push(rotation);
    if (this.rotations.length > ROTATIONS_KEPT)
      this.rotations.splice(0, this.rotations.length - ROTATIONS_KEPT);
  }

  historyFull(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (this.input.historyLimit ?? HISTORY_LIMIT);
  }

  carryOver(): AppRegistrationInput {
    return {
      spec: this.input.spec,
      ...(this.input.historyLimit ? { historyLimit: this.input.historyLimit } : {}),
      carried: {
        credentials: this.credentials,
        adopted: this.adopted,
        packedHolders: packHolders(this.holders.values()),
        rotations: this.rotations,
        rejected: this.rejected,
        lastRenewal: this.lastRenewal,
      },
    };
  }

  status(): AppRegistrationStatus {
    const renewAt = this.credentials
      ? Date.parse(this.credentials.secret.expiresAt) - this.renewBeforeMs
      : undefined;
    return {
      appId: this.credentials?.appId ?? null,
      adopted: this.adopted,
      secretKeyId: this.credentials?.secret.credentialKeyId ?? null,
      secretExpiresAt: this.credentials?.secret.expiresAt ?? null,
      renewAt: renewAt === undefined ? null : new Date(renewAt).toISOString(),
      holders: this.holders.size,
      lastError: this.lastError,
      rotations: [...this.rotations],
    };
  }
}
