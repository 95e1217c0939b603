// One customer's onboarding to the Dynamics CRM Online connector, as one durable workflow:
// register the app, wait for consent, set the Resource, exchange the token, verify. Pauses for a
// person exactly where one is needed, with the remediation in the status.
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setHandler,
  sleep,
  workflowInfo,
  ActivityFailure,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { classifyAadsts, type RemediationContext } from '../shared/aadsts';
import type { AppCredentials, AppCredentialsDelivery } from '../shared/app-credentials';
import { FailureTypes } from '../shared/failures';
import type { NotificationKind } from '../notifications/notification';
import {
  appCredentialsDeliveredSignal,
  appSecretInstalledSignal,
  consentFailedSignal,
  consentGrantedSignal,
  resourceCorrectedSignal,
  signInCompletedSignal,
  statusQuery,
} from '../shared/messages';
import type { OnboardingResult } from '../shared/status';
import type { WaitingFor } from '../shared/steps';
import { describeIssues, type OnboardingInput, type SignInCompleted } from '../shared/schemas';
import { activities, localActivities, localNotifications, notifications } from './activity-options';
import { OnboardingState } from './onboarding-state';
import { durationMs } from './durations';
import { workflowSchemas } from './schemas';

const DEFAULT_DEADLINES = { consent: '30 days', signIn: '7 days', resourceFix: '30 days' };
/** Entra may answer 65001 for a while after consent was granted (propagation). */
const CONSENT_PROPAGATION_WINDOW_MS = 15 * 60_000;
const CONSENT_PROPAGATION_RETRIES = 4;
const SIGN_IN_POLL_FIRST_MS = 30_000;
const SIGN_IN_POLL_MAX_MS = 60 * 60_000;
const DEFAULT_REMINDER_INTERVAL = '1 day';
/** Microsoft rejected the client secret Cyclr sent: the app's owner replaces it, no person needed. */
const SECRET_REJECTED_CODES = new Set([7000215, 7000222]);
const SECRET_REPLACEMENTS_MAX = 3;

class Expired extends Error {
  constructor(readonly waitingFor: WaitingFor) {
    super(`expired while waiting for ${waitingFor}`);
  }
}

export async function dynamicsOnboarding(rawInput: OnboardingInput): Promise<OnboardingResult> {
  const { onboardingInputSchema, consentGrantedSchema, resourceCorrectedSchema, signInCompletedSchema } =
    workflowSchemas();
  const parsed = onboardingInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid onboarding input: ${describeIssues(parsed.error)}`,
      FailureTypes.invalidInput,
    );
  }
  const input = parsed.data;
  const workflowId = workflowInfo().workflowId;
  const deadlines = { ...DEFAULT_DEADLINES, ...input.deadlines };
  const state = new OnboardingState(input);
  const status = state.status;

  let delivery: AppCredentialsDelivery | undefined;
  let credentials: AppCredentials | undefined;
  let servicePrincipalId: string | null = null;
  /** The client secret (Graph keyId) this onboarding has put into Cyclr's ClientSecret. */
  let secretWrittenKeyId: string | null = null;
  let consentSignalled = false;
  /** When a consent signal last arrived: a 65001 soon after it is Entra's propagation delay. */
  let consentGrantedAt: number | null = null;
  let resourceChanged = false;
  let signInOutcome: SignInCompleted | undefined;
  /** Problems reported while a person is waited for (declined consent...): each is notified. */
  let problems = 0;
  let notificationSeq = 0;
  let secretReplacements = 0;
  const propertiesWritten: string[] = [];

  // Changes that running onboardings must not see (their histories lack them): see test/replay.
  // 'owner-by-query': credentials read from the owner by query, and the secret's holder reported by
  // the activity that wrote it (no signal round trip through the owner, no extra workflow task).
  // It implies the earlier patches, so a new run records one marker (each is a history event and a
  // visibility update) while runs started before it replay through the earlier ones.
  // 'notify-local' (implies 'owner-by-query'): notifications are local activities, so a human
  // wait starts in the task that announces it: no task for the notification's completion, and a
  // status query during the wait is answered at once instead of waiting behind that task (under
  // a wave, behind thousands).
  // 'connector-in-one-activity' (implies 'notify-local'): step 3 is one activity that installs
  // the connector with its properties in the install body (or writes only what differs): one
  // activity and workflow task fewer, and 2 Cyclr calls instead of 6 for a new install.
  const connectorInOne = patched('connector-in-one-activity');
  const notifyLocal = connectorInOne || patched('notify-local');
  const ownerByQuery = notifyLocal || patched('owner-by-query');
  const remindersOn = ownerByQuery || patched('human-wait-reminders');
  const reportHolderOn = ownerByQuery || patched('report-secret-holder');
  const reminderMs = durationMs(input.reminderInterval ?? DEFAULT_REMINDER_INTERVAL);

  setHandler(statusQuery, () => state.snapshot());
  setHandler(appCredentialsDeliveredSignal, (d) => {
    delivery = d;
  });
  setHandler(consentGrantedSignal, (raw) => {
    const signal = consentGrantedSchema.safeParse(raw);
    if (!signal.success) return state.note('rejected consentGranted signal', describeIssues(signal.error));
    consentSignalled = true;
    consentGrantedAt = Date.now();
    state.note('consent granted', `by ${signal.data.by}${signal.data.note ? `: ${signal.data.note}` : ''}`);
  });
  setHandler(consentFailedSignal, (raw) => {
    if (typeof raw?.error !== 'string') return state.note('rejected consentFailed signal', 'error: required');
    state.recordError(
      classifyAadsts(
        typeof raw.errorDescription === 'string' ? raw.errorDescription : undefined,
        remediationContext(),
        raw.error,
      ),
    );
    problems++;
  });
  setHandler(resourceCorrectedSignal, (raw) => {
    const signal = resourceCorrectedSchema.safeParse(raw);
    if (!signal.success) return state.note('rejected resourceCorrected signal', describeIssues(signal.error));
    state.note(
      'resource corrected',
      `${status.resourceUrl} -> ${signal.data.resourceUrl} by ${signal.data.by}`,
    );
    status.resourceUrl = signal.data.resourceUrl;
    resourceChanged = true;
  });
  setHandler(signInCompletedSignal, (raw) => {
    const signal = signInCompletedSchema.safeParse(raw);
    if (!signal.success) return state.note('rejected signInCompleted signal', describeIssues(signal.error));
    const { attempt } = signal.data;
    if (status.waitingFor !== 'sign-in' || (attempt !== undefined && attempt !== status.signInAttempt)) {
      return state.note(
        'ignored signInCompleted',
        `for attempt ${attempt ?? '?'}; current attempt ${status.signInAttempt}`,
      );
    }
    signInOutcome = signal.data;
    state.note(
      signal.data.ok ? 'sign-in completed' : 'sign-in failed',
      signal.data.by ? `reported by ${signal.data.by}` : undefined,
    );
  });

  const remediationContext = (): RemediationContext => ({
    customerTenant: input.customerTenant,
    resourceUrl: status.resourceUrl,
    appId: status.appId ?? undefined,
    consentUrl: status.consentUrl,
    signInUrl: status.signInUrl,
  });

  const deadlineFrom = (duration: Duration) => new Date(Date.now() + durationMs(duration));

  /**
   * Tells a person (webhook) what the onboarding waits for; a failed notification never fails it.
   * Not async: every promise made in a workflow costs a stack capture, and an async wrapper makes two.
   */
  function notify(kind: NotificationKind, reminder?: number): Promise<unknown> {
    if (!remindersOn) return Promise.resolve();
    return (notifyLocal ? localNotifications : notifications)
      .notify({
        id: `${workflowId}/${++notificationSeq}`,
        kind,
        workflowId,
        cyclrAccountId: input.cyclrAccountId,
        customerTenant: input.customerTenant,
        step: status.step,
        waitingFor: status.waitingFor,
        reason: status.waitingReason,
        deadline: status.waitDeadline,
        links: { consentUrl: status.consentUrl, signInUrl: status.signInUrl },
        lastError: status.lastError,
        ...(reminder ? { reminder } : {}),
        at: new Date().toISOString(),
      })
      .catch((err: unknown) => {
        if (isCancellation(err)) throw err;
        const message = err instanceof ActivityFailure && err.cause ? err.cause.message : String(err);
        log.warn('Notification not delivered', { kind, message });
        state.note('notification not delivered', `${kind}: ${message}`);
      });
  }

  /**
   * Waits for `done`: tells a person when the wait begins, reminds them every reminderInterval,
   * notifies each problem reported meanwhile, and ends the onboarding as expired at the deadline.
   */
  async function humanWait(
    what: WaitingFor,
    reason: string,
    deadline: Date,
    done: () => boolean,
  ): Promise<void> {
    state.waitFor(what, reason, deadline);
    if (!remindersOn) {
      if (!(await condition(done, Math.max(deadline.getTime() - Date.now(), 1)))) throw new Expired(what);
      state.stopWaiting();
      return;
    }
    await notify('action-needed');
    let reminders = 0;
    let nextReminder = Date.now() + reminderMs;
    let problemsSeen = problems;
    while (!done()) {
      const until = Math.min(nextReminder, deadline.getTime());
      if (await condition(() => done() || problems !== problemsSeen, Math.max(until - Date.now(), 1))) {
        if (done()) break;
        problemsSeen = problems;
        await notify('problem');
        continue;
      }
      if (Date.now() >= deadline.getTime()) {
        await notify('expired');
        throw new Expired(what);
      }
      if (Date.now() >= nextReminder) {
        nextReminder += reminderMs;
        await notify('reminder', ++reminders);
      }
    }
    state.stopWaiting();
  }

  /** Asks the app's owner for credentials (`rejected`: Microsoft refused this secret, replace it). */
  async function requestCredentials(rejected?: { rejectedKeyId: string; reason: string }): Promise<void> {
    if (ownerByQuery && !rejected) {
      try {
        delivery = (await activities.currentAppCredentials()) ?? undefined;
      } catch (err) {
        if (isCancellation(err)) throw err;
        log.warn('Reading the app credentials failed; asking the owner by signal', { error: String(err) });
      }
    }
    for (let request = 1; !delivery; request++) {
      await activities.requestAppCredentials(workflowId, rejected);
      state.waitFor(
        'app-registration',
        rejected
          ? 'The app registration owner is replacing the client secret Microsoft rejected.'
          : 'The app registration owner is preparing the shared app and its secret.',
        null,
      );
      if (!(await condition(() => delivery !== undefined, '15 minutes')) && request >= 4) {
        throw ApplicationFailure.nonRetryable(
          'The app registration owner did not answer in an hour: check that a worker runs and the dynamicsAppRegistration workflow is healthy',
          FailureTypes.appRegistrationFailed,
        );
      }
    }
    state.stopWaiting();
    if (!delivery.ok) {
      throw ApplicationFailure.nonRetryable(
        `App registration failed: ${delivery.message}`,
        FailureTypes.appRegistrationFailed,
      );
    }
    credentials = delivery.credentials;
    servicePrincipalId = credentials.servicePrincipalId;
    status.appId = credentials.appId;
  }

  // Step 2: the customer's admin consents; ops or our consent callback signal it. `why` runs once
  // the consent link exists, so a recorded error's remediation can carry the link.
  async function waitForConsent(why: () => string): Promise<void> {
    state.enter('waiting-for-consent');
    const deadline = deadlineFrom(deadlines.consent);
    status.consentUrl = await localActivities.consentLink({
      workflowId,
      customerTenant: input.customerTenant,
      appId: credentials!.appId,
      expiresAt: deadline.toISOString(),
    });
    consentSignalled = false;
    await humanWait('consent', why(), deadline, () => consentSignalled);
  }

  // Step 3: the account connector and its properties.
  async function setResource(): Promise<void> {
    state.enter('setting-resource', status.resourceUrl);
    resourceChanged = false;
    const settings = {
      accountId: input.cyclrAccountId,
      resourceUrl: status.resourceUrl,
      clientId: credentials!.appId,
      clientSecret: credentials!.secret,
      secretWrittenKeyId,
      // The owner replaces the secret in every account connector holding it when it rotates.
      ...(ownerByQuery && delivery?.ok && delivery.owner
        ? { reportTo: { owner: delivery.owner, workflowId } }
        : {}),
    };
    const { accountConnectorId, installed, written } = connectorInOne
      ? await activities.setUpAccountConnector(settings)
      : await setResourceInTwoActivities(settings);
    status.accountConnectorId = accountConnectorId;
    if (installed) state.note('connector installed', `account connector ${accountConnectorId}`);
    secretWrittenKeyId = credentials!.secret.credentialKeyId;
    propertiesWritten.push(...written.filter((name) => !propertiesWritten.includes(name)));
    state.note('properties set', written.length ? `wrote ${written.join(', ')}` : 'already up to date');
    if (!ownerByQuery && reportHolderOn && delivery?.ok && delivery.owner) {
      await getExternalWorkflowHandle(delivery.owner).signal(appSecretInstalledSignal, {
        workflowId,
        accountId: input.cyclrAccountId,
        accountConnectorId,
        credentialKeyId: secretWrittenKeyId,
      });
    }
  }

  /** Step 3 as onboardings started before 'connector-in-one-activity' run it (replay). */
  async function setResourceInTwoActivities(
    settings: Parameters<typeof activities.setUpAccountConnector>[0],
  ): Promise<{ accountConnectorId: number; installed: boolean; written: string[] }> {
    const connector = await activities.ensureAccountConnector(input.cyclrAccountId);
    status.accountConnectorId = connector.accountConnectorId; // as then: known before the writes
    const { written } = await activities.setConnectorProperties({
      ...settings,
      accountConnectorId: connector.accountConnectorId,
    });
    return { ...connector, written };
  }

  // Step 4: the customer's user signs in through Cyclr; the outcome comes back to our callback
  // (signInCompleted), and Cyclr's Authenticated flag is polled in case it never does.
  async function exchangeToken(): Promise<SignInCompleted | 'resource-changed'> {
    state.enter('exchanging-token');
    status.signInAttempt += 1;
    signInOutcome = undefined;
    const deadline = deadlineFrom(deadlines.signIn);
    status.signInUrl = await localActivities.signInLink({
      workflowId,
      attempt: status.signInAttempt,
      expiresAt: deadline.toISOString(),
    });
    state.waitFor(
      'sign-in',
      `A user of the customer's tenant ${input.customerTenant} with access to ${status.resourceUrl} must open the sign-in link and sign in (attempt ${status.signInAttempt}).`,
      deadline,
    );
    await notify('action-needed');
    let reminders = 0;
    let nextReminder = Date.now() + reminderMs;
    let poll = SIGN_IN_POLL_FIRST_MS;
    let nextPoll = Date.now() + poll;
    for (;;) {
      if (Date.now() >= deadline.getTime()) {
        await notify('expired');
        throw new Expired('sign-in');
      }
      const wake = Math.min(nextPoll, deadline.getTime(), remindersOn ? nextReminder : Infinity);
      if (
        await condition(() => signInOutcome !== undefined || resourceChanged, Math.max(wake - Date.now(), 1))
      )
        break;
      if (remindersOn && Date.now() >= nextReminder) {
        nextReminder += reminderMs;
        await notify('reminder', ++reminders);
      }
      if (Date.now() < nextPoll) continue;
      const connector = await activities.readAccountConnector({
        accountId: input.cyclrAccountId,
        accountConnectorId: status.accountConnectorId!,
      });
      if (connector.authenticated) {
        state.note('sign-in completed', 'Cyclr reports the connector authenticated');
        signInOutcome = { ok: true, by: 'poll' };
        break;
      }
      poll = Math.min(poll * 2, SIGN_IN_POLL_MAX_MS);
      nextPoll = Date.now() + poll;
    }
    state.stopWaiting();
    return resourceChanged ? 'resource-changed' : signInOutcome!;
  }

  // The AADSTS500011 branch: ops send the right org URL.
  async function waitForResourceFix(reason: string): Promise<void> {
    state.enter('waiting-for-resource-fix');
    await humanWait('resource-fix', reason, deadlineFrom(deadlines.resourceFix), () => resourceChanged);
  }

  // Step 5.
  async function verify(): Promise<OnboardingResult['verified']> {
    state.enter('verifying');
    for (let read = 1; ; read++) {
      const connector = await activities.readAccountConnector({
        accountId: input.cyclrAccountId,
        accountConnectorId: status.accountConnectorId!,
      });
      const resourceOk = connector.resource === status.resourceUrl;
      const clientOk = connector.clientId === credentials!.appId;
      if (connector.authenticated && resourceOk && clientOk) {
        return { authenticated: true, resource: connector.resource!, clientId: connector.clientId };
      }
      if (read >= 3) {
        const problems = [
          connector.authenticated ? null : 'Cyclr reports the account connector as not authenticated',
          resourceOk
            ? null
            : `Resource is ${connector.resource ?? 'missing'}, expected ${status.resourceUrl}`,
          clientOk ? null : `ClientId is ${connector.clientId ?? 'missing'}, expected ${credentials!.appId}`,
        ].filter(Boolean);
        return Promise.reject(new VerificationMismatch(problems.join('; ')));
      }
      await sleep('5 seconds');
    }
  }

  /** The record a cancelled onboarding leaves: what exists now because of it. */
  const whatWasDone = (): string =>
    [
      status.appId ? `app ${status.appId} ready (shared, kept)` : 'no app credentials received',
      consentGrantedAt !== null ? 'consent granted' : null,
      status.accountConnectorId !== null
        ? `Cyclr account connector ${status.accountConnectorId}${propertiesWritten.length ? ` with ${propertiesWritten.join(', ')} written` : ''} (kept)`
        : 'nothing written to Cyclr',
      status.signInAttempt ? `${status.signInAttempt} sign-in link(s) issued` : null,
    ]
      .filter(Boolean)
      .join('; ');

  const result = (
    outcome: OnboardingResult['outcome'],
    verified: OnboardingResult['verified'],
    expiredWhile: WaitingFor | null,
  ): OnboardingResult => ({
    outcome,
    cyclrAccountId: input.cyclrAccountId,
    customerTenant: input.customerTenant,
    resourceUrl: status.resourceUrl,
    appId: status.appId,
    servicePrincipalId,
    accountConnectorId: status.accountConnectorId,
    verified,
    expiredWhile,
    timeline: state.snapshot().timeline,
  });

  try {
    // Step 1: the shared app registration, from its owner workflow.
    state.enter('registering-app');
    await requestCredentials();
    state.note('app ready', `appId ${credentials!.appId}`);
    if (input.consentAlreadyGranted)
      state.note('consent assumed', 'the input says the tenant already consented');
    else
      await waitForConsent(
        () =>
          `An administrator of the customer's tenant ${input.customerTenant} must grant admin consent to the app (open the consent link); ops then signal consentGranted, or the consent callback does.`,
      );

    let propagationRetries = 0;
    let needResource = true;
    for (;;) {
      if (needResource) await setResource();
      needResource = false;
      const outcome = await exchangeToken();
      if (outcome === 'resource-changed') {
        needResource = true;
        continue;
      }
      if (outcome.ok) {
        try {
          const verified = await verify();
          state.enter(
            'verified',
            `account connector ${status.accountConnectorId} authenticated for ${status.resourceUrl}`,
          );
          status.lastError = null;
          return result('verified', verified, null);
        } catch (err) {
          if (!(err instanceof VerificationMismatch)) throw err;
          state.recordError({
            code: null,
            name: 'VerificationFailed',
            class: 'needs-person',
            meaning: err.message,
            remediation: `Cyclr does not show a working connection: ${err.message}. The properties are set again and the user signs in again.`,
            verbatim: err.message,
          });
          needResource = true;
          continue;
        }
      }
      const error = classifyAadsts(outcome.errorDescription, remediationContext(), outcome.error);
      if (error.code === 65001) {
        const sinceConsent = consentGrantedAt === null ? Infinity : Date.now() - consentGrantedAt;
        if (
          sinceConsent < CONSENT_PROPAGATION_WINDOW_MS &&
          propagationRetries < CONSENT_PROPAGATION_RETRIES
        ) {
          propagationRetries++;
          state.recordError({
            ...error,
            class: 'transient',
            remediation: `Consent was granted ${Math.round(sinceConsent / 1000)} s ago and may still be propagating in Entra; the sign-in is offered again shortly (retry ${propagationRetries} of ${CONSENT_PROPAGATION_RETRIES}).`,
          });
          await sleep(15_000 * 2 ** (propagationRetries - 1));
          continue;
        }
        propagationRetries = 0;
        await waitForConsent(() => {
          const withLink = state.recordError(
            classifyAadsts(outcome.errorDescription, remediationContext(), outcome.error),
          );
          return `AADSTS65001: the customer's tenant has not consented. ${withLink.remediation}`;
        });
        continue;
      }
      if (
        error.code !== null &&
        SECRET_REJECTED_CODES.has(error.code) &&
        secretReplacements < SECRET_REPLACEMENTS_MAX &&
        secretWrittenKeyId !== null
      ) {
        // Expired or invalid secret: the owner adds a new one, puts it into Cyclr, removes the
        // old one; then the user signs in again. No person has to fix anything.
        secretReplacements++;
        state.recordError({
          ...error,
          class: 'transient',
          remediation: `Nothing to do: the client secret is replaced automatically (new secret, set as Cyclr ClientSecret, old one removed), then the user signs in again (replacement ${secretReplacements} of ${SECRET_REPLACEMENTS_MAX}).`,
        });
        delivery = undefined;
        await requestCredentials({
          rejectedKeyId: secretWrittenKeyId,
          reason: `AADSTS${error.code} for account ${input.cyclrAccountId}`,
        });
        const replaced = delivery as AppCredentialsDelivery | undefined;
        if (replaced?.ok && replaced.secretInstalledFor?.includes(workflowId)) {
          secretWrittenKeyId = credentials!.secret.credentialKeyId;
        }
        state.note('client secret replaced', `secret ${credentials!.secret.credentialKeyId}`);
        needResource = true;
        continue;
      }
      if (error.code === 500011) {
        state.recordError(error);
        await waitForResourceFix(`AADSTS500011: ${error.remediation}`);
        needResource = true;
        continue;
      }
      state.recordError(error);
      if (error.class === 'configuration') {
        throw ApplicationFailure.nonRetryable(
          `${error.verbatim} (${error.name}). Fix: ${error.remediation}`,
          'OnboardingConfigurationError',
          { aadsts: error.code },
        );
      }
      if (error.class === 'transient') await sleep('30 seconds');
      // needs-person and transient: a new sign-in attempt with a new link.
    }
  } catch (err) {
    if (err instanceof Expired) {
      state.enter('expired', `no ${err.waitingFor} before the deadline`);
      return result('expired', null, err.waitingFor);
    }
    if (isCancellation(err)) {
      const during = status.step;
      state.enter('cancelled', `cancelled while ${during}; ${whatWasDone()}`);
      throw err;
    }
    const failure = err instanceof ActivityFailure && err.cause ? err.cause : err;
    const message = failure instanceof Error ? failure.message : String(failure);
    state.recordError({
      code: null,
      name: failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'Error',
      class: 'configuration',
      meaning: message,
      remediation: message,
      verbatim: message,
    });
    state.enter('failed', message);
    throw err;
  }
}

class VerificationMismatch extends Error {}
