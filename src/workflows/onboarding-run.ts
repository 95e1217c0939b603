// One onboarding's run: its state (what `status` shows, and what continue-as-new carries), the
// handlers of its signals and query, and the helpers its steps share. The steps themselves are in
// onboarding-steps.ts; the order they run in is in onboarding.ts.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { classifyAadsts, type ClassifiedError, type RemediationContext } from '../shared/aadsts';
import type { AppCredentials } from '../shared/app-credentials';
import { FailureTypes } from '../shared/failures';
import {
  consentFailedSignal,
  consentGrantedSignal,
  resourceCorrectedSignal,
  signInCompletedSignal,
  signInErrorReportedSignal,
  signInReturnedSignal,
  statusQuery,
} from '../shared/messages';
import type { NotificationKind } from '../notifications/notification';
import { describeIssues, type OnboardingInput, type ValidOnboardingInput } from '../shared/schemas';
import type { OnboardingResult, OnboardingStatus, TenantCheck } from '../shared/status';
import type { WaitingFor } from '../shared/steps';
import { activities, notifications, ownerActivities, probeActivities } from './activity-options';
import type { WaitHost, WaitMemory } from './human-wait';
import { tenantCheckError, type History, type Next } from './next-step';
import { OnboardingState } from './onboarding-state';
import { workflowSchemas } from './schemas';

const DEFAULT_DEADLINES = { consent: '30 days', signIn: '7 days', resourceFix: '30 days' } as const;
const DEFAULT_REMINDER_INTERVAL = '1 day';
/** A run continues as new past this many history events (whatever arrives, a run stays small). */
const HISTORY_LIMIT = 5_000;
/** Distinct problems remembered per onboarding: enough to tell repeats from news. */
const PROBLEM_KEYS_KEPT = 50;

/** How the user's sign-in ended, as reported; the workflow checks Cyclr and Microsoft before acting. */
export type SignInEvent =
  | { kind: 'returned'; success?: boolean; error?: string; errorDescription?: string; errorSubcode?: string }
  | { kind: 'completed'; ok: boolean; error?: string; errorDescription?: string; by?: string }
  | { kind: 'reported'; text: string; by: string };

/** Everything a step needs to remember; carried over continue-as-new as it is. */
export interface Memory {
  next: Next;
  credentials: AppCredentials | null;
  owner: string | null;
  /** The client secret (Graph keyId) this onboarding has put into Cyclr's ClientSecret. */
  secretWrittenKeyId: string | null;
  propertiesWritten: string[];
  /** The onboarding has waited for admin consent: from now on consent must exist before a sign-in. */
  consentRequired: boolean;
  consentDeadline: string | null;
  signInDeadline: string | null;
  resourceFixDeadline: string | null;
  /** A consent report (ops or the consent callback) not yet checked with Microsoft. */
  consentReport: { by: string; note?: string; force: boolean } | null;
  /** When consent was last reported or found (ms): a 65001 soon after is propagation. */
  consentAt: number | null;
  resourceChanged: boolean;
  signIn: SignInEvent | null;
  /** An error the user reported while the onboarding was checking their sign-in. */
  reportedError: string | null;
  propagationRetries: number;
  secretReplacements: number;
  notificationSeq: number;
  problemKeys: string[];
  problems: number;
  wait: WaitMemory | null;
}

export interface Continued {
  status: OnboardingStatus;
  memory: Memory;
}

/** The second workflow argument: what a continued run carries, and a test's smaller history limit. */
export interface RunOptions {
  continued?: Continued;
  historyLimit?: number;
}

export class OnboardingRun implements WaitHost {
  readonly input: ValidOnboardingInput;
  readonly state: OnboardingState;
  readonly status: OnboardingStatus;
  readonly m: Memory;
  readonly workflowId = workflowInfo().workflowId;
  readonly reminderMs: number;
  readonly deadlines: Record<keyof typeof DEFAULT_DEADLINES, Duration>;

  constructor(
    private readonly rawInput: OnboardingInput,
    private readonly options: RunOptions = {},
  ) {
    const parsed = workflowSchemas().onboardingInputSchema.safeParse(rawInput);
    if (!parsed.success) {
      const message = `Invalid onboarding input: ${describeIssues(parsed.error)}`;
      // Status still answers (ops and the ops page read why), though nothing else happened.
      setHandler(statusQuery, () => invalidInputStatus(rawInput, message));
      throw ApplicationFailure.nonRetryable(message, FailureTypes.invalidInput);
    }
    this.input = parsed.data;
    this.deadlines = { ...DEFAULT_DEADLINES, ...this.input.deadlines };
    this.reminderMs = msToNumber(this.input.reminderInterval ?? DEFAULT_REMINDER_INTERVAL);
    this.state = new OnboardingState(this.input, options.continued?.status);
    this.status = this.state.status;
    this.m = options.continued?.memory ?? {
      next: { to: 'register-app' },
      credentials: null,
      owner: null,
      secretWrittenKeyId: null,
      propertiesWritten: [],
      consentRequired: false,
      consentDeadline: null,
      signInDeadline: null,
      resourceFixDeadline: null,
      consentReport: null,
      consentAt: null,
      resourceChanged: false,
      signIn: null,
      reportedError: null,
      propagationRetries: 0,
      secretReplacements: 0,
      notificationSeq: 0,
      problemKeys: [],
      problems: 0,
      wait: null,
    };
    this.setHandlers();
  }

  // ------------------------------------------------------------------ signals and the query

  private setHandlers(): void {
    const s = workflowSchemas();
    setHandler(statusQuery, () => this.state.snapshot());
    setHandler(consentGrantedSignal, (raw) => {
      const signal = s.consentGrantedSchema.safeParse(raw);
      if (!signal.success)
        return this.state.note('rejected consentGranted signal', describeIssues(signal.error));
      const { by, note, force } = signal.data;
      this.m.consentReport = { by, ...(note ? { note } : {}), force: force === true };
      this.state.note(
        'consent reported',
        `by ${by}${note ? `: ${note}` : ''}${force ? ' (counted without checking)' : ''}`,
      );
    });
    setHandler(consentFailedSignal, (raw) => {
      const text = (v: unknown, n: number) => (typeof v === 'string' ? v.slice(0, n) : undefined);
      const error = text(raw?.error, 200);
      if (!error) return this.state.note('rejected consentFailed signal', 'error: required');
      this.problem(this.classify(text(raw.errorDescription, 4000), error));
    });
    setHandler(resourceCorrectedSignal, (raw) => {
      const signal = s.resourceCorrectedSchema.safeParse(raw);
      if (!signal.success)
        return this.state.note('rejected resourceCorrected signal', describeIssues(signal.error));
      const { resourceUrl, by } = signal.data;
      this.state.note('resource corrected', `${this.status.resourceUrl} -> ${resourceUrl} by ${by}`);
      this.status.resourceUrl = resourceUrl;
      this.m.resourceChanged = true;
    });
    setHandler(signInCompletedSignal, (raw) => {
      const signal = s.signInCompletedSchema.safeParse(raw);
      if (!signal.success)
        return this.state.note('rejected signInCompleted signal', describeIssues(signal.error));
      const { attempt, ...outcome } = signal.data;
      if (!this.acceptsSignIn(attempt, 'signInCompleted')) return;
      this.m.signIn = { kind: 'completed', ...outcome };
      this.state.note(
        outcome.ok ? 'sign-in completed' : 'sign-in failed',
        outcome.by ? `reported by ${outcome.by}` : undefined,
      );
    });
    setHandler(signInReturnedSignal, (raw) => {
      const signal = s.signInReturnedSchema.safeParse(raw);
      if (!signal.success)
        return this.state.note('rejected signInReturned signal', describeIssues(signal.error));
      const { attempt, ...hint } = signal.data;
      if (!this.acceptsSignIn(attempt, 'signInReturned') || this.m.signIn) return;
      this.m.signIn = { kind: 'returned', ...hint };
      this.state.note('user came back from the sign-in', `attempt ${attempt}`);
    });
    setHandler(signInErrorReportedSignal, (raw) => {
      const signal = s.signInErrorReportedSchema.safeParse(raw);
      if (!signal.success)
        return this.state.note('rejected signInErrorReported signal', describeIssues(signal.error));
      const { text, by } = signal.data;
      this.state.note('sign-in error reported', `by ${by}`);
      if (this.status.waitingFor === 'sign-in') this.m.signIn = { kind: 'reported', text, by };
      else if (this.status.waitingFor) this.problem(this.classify(text));
      // Between waits (the onboarding is checking a sign-in right now): kept for that decision.
      else this.m.reportedError = text;
    });
  }

  /** An outcome counts for the attempt being waited on (an older attempt's is only recorded). */
  private acceptsSignIn(attempt: number | undefined, name: string): boolean {
    if (
      this.status.waitingFor === 'sign-in' &&
      (attempt === undefined || attempt === this.status.signInAttempt)
    )
      return true;
    this.state.note(
      `ignored ${name}`,
      `for attempt ${attempt ?? '?'}; current attempt ${this.status.signInAttempt}`,
    );
    return false;
  }

  /** A problem reported while a person is awaited: recorded and notified once, then only counted. */
  problem(error: ClassifiedError): void {
    const key = `${error.code ?? error.name}:${error.verbatim.slice(0, 200)}`;
    if (this.m.problemKeys.includes(key)) {
      this.state.note('the same problem again', `${error.code ? `AADSTS${error.code} ` : ''}${error.name}`);
      return;
    }
    this.m.problemKeys.push(key);
    if (this.m.problemKeys.length > PROBLEM_KEYS_KEPT) this.m.problemKeys.shift();
    this.m.problems++;
    this.state.recordError(error);
  }

  // ------------------------------------------------------------------ what the steps share

  remediationContext(): RemediationContext {
    return {
      customerTenant: this.input.customerTenant,
      resourceUrl: this.status.resourceUrl,
      appId: this.status.appId ?? undefined,
      consentUrl: this.status.consentUrl,
      signInUrl: this.status.signInUrl,
    };
  }

  classify(errorDescription: string | undefined, oauthError?: string): ClassifiedError {
    return classifyAadsts(errorDescription, this.remediationContext(), oauthError);
  }

  /** Microsoft's answer about the tenant as the catalog classifies it (no consent: 7000229's remediation). */
  classifyCheck(check: TenantCheck): ClassifiedError {
    const text = tenantCheckError(check);
    // No consent is one case whatever code said it (7000229, or 700016 from older answers).
    const classified = this.classify(check.verdict === 'no-consent' ? `AADSTS7000229: ${text}` : text);
    return { ...classified, verbatim: text };
  }

  history(): History {
    return {
      now: Date.now(),
      consentAt: this.m.consentAt,
      propagationRetries: this.m.propagationRetries,
      secretReplacements: this.m.secretReplacements,
      secretWritten: this.m.secretWrittenKeyId !== null,
    };
  }

  deadlineFrom(duration: Duration): Date {
    return new Date(Date.now() + msToNumber(duration));
  }

  /** Credentials from the app's owner (`rejected`: Microsoft refused this secret, replace it). */
  async requestCredentials(rejected?: { keyId: string; reason: string }): Promise<void> {
    const delivery = await ownerActivities.appCredentials({
      requester: this.workflowId,
      ...(rejected ? { rejected } : {}),
    });
    if (!delivery.ok)
      throw ApplicationFailure.nonRetryable(
        `App registration failed: ${delivery.message}`,
        FailureTypes.appRegistrationFailed,
      );
    this.m.credentials = delivery.credentials;
    this.m.owner = delivery.owner;
    this.status.appId = delivery.credentials.appId;
    if (delivery.installedForRequester)
      this.m.secretWrittenKeyId = delivery.credentials.secret.credentialKeyId;
  }

  /** Asks Microsoft, with the app's own credentials, whether the tenant consented and has the org. */
  async checkTenant(): Promise<TenantCheck> {
    let check: TenantCheck;
    try {
      check = await probeActivities.checkTenant({
        tenant: this.input.customerTenant,
        resourceUrl: this.status.resourceUrl,
        credentials: this.m.credentials!,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      check = {
        at: new Date().toISOString(),
        verdict: 'unknown',
        code: null,
        message: `Microsoft could not be asked: ${cause}`,
      };
    }
    this.state.recordTenantCheck(check);
    return check;
  }

  async cyclrAuthenticated(): Promise<boolean> {
    const connector = await activities.readAccountConnector({
      accountId: this.input.cyclrAccountId,
      accountConnectorId: this.status.accountConnectorId!,
    });
    return connector.authenticated;
  }

  // ------------------------------------------------------------------ WaitHost

  get wait(): WaitMemory | null {
    return this.m.wait;
  }
  set wait(w: WaitMemory | null) {
    this.m.wait = w;
  }
  problems(): number {
    return this.m.problems;
  }
  waitFor(what: WaitingFor, reason: string, deadline: Date): void {
    this.state.waitFor(what, reason, deadline);
  }
  stopWaiting(): void {
    this.state.stopWaiting();
  }
  note(event: string, detail?: string): void {
    this.state.note(event, detail);
  }

  /**
   * Tells a person (webhook) what the onboarding waits for; a failed notification never fails it.
   * Built from the status, so it never carries a secret.
   */
  async notify(kind: NotificationKind, reminder?: number): Promise<void> {
    const s = this.status;
    try {
      await notifications.notify({
        id: `${this.workflowId}/${++this.m.notificationSeq}`,
        kind,
        workflowId: this.workflowId,
        cyclrAccountId: this.input.cyclrAccountId,
        customerTenant: this.input.customerTenant,
        step: s.step,
        waitingFor: s.waitingFor,
        reason: s.waitingReason,
        deadline: s.waitDeadline,
        links: { consentUrl: s.consentUrl, signInUrl: s.signInUrl },
        lastError: s.lastError,
        ...(reminder ? { reminder } : {}),
        at: new Date().toISOString(),
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
      log.warn('Notification not delivered', { kind, message });
      this.state.note('notification not delivered', `${kind}: ${message}`);
    }
  }

  historyLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (this.options.historyLimit ?? HISTORY_LIMIT);
  }

  async continueAsNewIfLong(): Promise<void> {
    if (!this.historyLong()) return;
    const info = workflowInfo();
    await condition(allHandlersFinished);
    this.state.note('continued as new', `history at ${info.historyLength} events`);
    await continueAsNew<(input: OnboardingInput, options?: RunOptions) => Promise<OnboardingResult>>(
      this.rawInput,
      {
        ...this.options,
        continued: { status: this.status, memory: this.m },
      },
    );
  }

  // ------------------------------------------------------------------ how it ends

  result(
    outcome: OnboardingResult['outcome'],
    verified: OnboardingResult['verified'],
    expiredWhile: WaitingFor | null,
  ): OnboardingResult {
    return {
      outcome,
      cyclrAccountId: this.input.cyclrAccountId,
      customerTenant: this.input.customerTenant,
      resourceUrl: this.status.resourceUrl,
      appId: this.status.appId,
      servicePrincipalId: this.m.credentials?.servicePrincipalId ?? null,
      accountConnectorId: this.status.accountConnectorId,
      verified,
      expiredWhile,
      timeline: this.state.snapshot().timeline,
    };
  }

  /** The record a cancelled onboarding leaves: what exists now because of it. */
  whatWasDone(): string {
    const s = this.status;
    return [
      s.appId ? `app ${s.appId} ready (shared, kept)` : 'no app credentials received',
      this.m.consentAt !== null ? 'consent granted' : null,
      s.accountConnectorId !== null
        ? `Cyclr account connector ${s.accountConnectorId}${this.m.propertiesWritten.length ? ` with ${this.m.propertiesWritten.join(', ')} written` : ''} (kept)`
        : 'nothing written to Cyclr',
      s.signInAttempt ? `${s.signInAttempt} sign-in link(s) issued` : null,
    ]
      .filter(Boolean)
      .join('; ');
  }
}

/** The status of an onboarding whose input was refused: failed at once, with why. */
function invalidInputStatus(raw: unknown, message: string): OnboardingStatus {
  const field = (name: string) => {
    const value = (raw as Record<string, unknown> | null)?.[name];
    return typeof value === 'string' ? value.slice(0, 200) : '';
  };
  const at = workflowInfo().startTime.toISOString();
  return {
    workflowId: workflowInfo().workflowId,
    cyclrAccountId: field('cyclrAccountId'),
    customerTenant: field('customerTenant'),
    resourceUrl: field('resourceUrl'),
    step: 'failed',
    waitingFor: null,
    waitingReason: null,
    waitDeadline: null,
    consentUrl: null,
    signInUrl: null,
    signInAttempt: 0,
    appId: null,
    accountConnectorId: null,
    lastError: {
      at,
      step: 'failed',
      code: null,
      name: FailureTypes.invalidInput,
      class: 'configuration',
      message,
      remediation: 'Start the onboarding again with the input fixed as the message says.',
    },
    tenantCheck: null,
    timeline: [{ at, step: 'failed', event: 'input refused', detail: message }],
  };
}
