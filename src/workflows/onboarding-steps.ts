// The onboarding's steps, each a function of the run. Each returns (or leaves to onboarding.ts)
// what comes next; the branches after a failed sign-in are decided in next-step.ts.
import { sleep } from '@temporalio/workflow';
import type { OnboardingResult, TenantCheck } from '../shared/status';
import { activities, localActivities } from './activity-options';
import { humanWait } from './human-wait';
import {
  afterIncompleteSignIn,
  afterSignInError,
  afterTenantCheck,
  CONSENT_PROPAGATION_RETRIES,
  SECRET_REPLACEMENTS_MAX,
  tenantCheckError,
  type Next,
} from './next-step';
import type { OnboardingRun, SignInEvent } from './onboarding-run';

const HOUR_MS = 3_600_000;
/**
 * A consent just reported may take a moment to show in Microsoft's answers: asked again after 5 and
 * 10 s; later, the consent wait goes on asking on its own backoff.
 */
const CONSENT_CHECKS_AFTER_REPORT = 3;

/** Step 1: the Cyclr account is there (fail now, before anyone is asked anything), then the app. */
export async function registerApp(run: OnboardingRun): Promise<Next> {
  run.state.enter('registering-app');
  await activities.checkCyclrAccount({ accountId: run.input.cyclrAccountId });
  await run.requestCredentials();
  run.state.note('app ready', `appId ${run.status.appId}`);
  if (run.input.consentAlreadyGranted)
    run.state.note('consent assumed', 'the input says the tenant already consented');
  if (run.input.consentAlreadyGranted || run.input.consentAtSignIn) return { to: 'check-tenant' };
  return {
    to: 'wait-for-consent',
    why: `An administrator of the customer's tenant ${run.input.customerTenant} must grant admin consent to the app (open the consent link and accept). The onboarding sees it by itself; ops may also signal consentGranted.`,
  };
}

/**
 * Step 2: the customer's admin consents. The consent callback or ops report it, and Microsoft is
 * asked on a backoff meanwhile (an admin may consent in the Azure portal and tell nobody).
 */
export async function waitForConsent(run: OnboardingRun, why: string): Promise<Next> {
  const { m, status } = run;
  if (m.wait?.what !== 'consent') {
    run.state.enter('waiting-for-consent');
    m.consentRequired = true;
    m.consentReport = null;
    if (!m.consentDeadline || Date.parse(m.consentDeadline) <= Date.now()) {
      m.consentDeadline = run.deadlineFrom(run.deadlines.consent).toISOString();
      status.consentUrl = await localActivities.consentLink({
        workflowId: run.workflowId,
        customerTenant: run.input.customerTenant,
        appId: m.credentials!.appId,
        expiresAt: m.consentDeadline,
      });
    }
  }
  let found: TenantCheck['verdict'] | null = null;
  const how = await humanWait(run, {
    what: 'consent',
    reason: why,
    deadline: new Date(m.consentDeadline!),
    done: () => m.consentReport !== null,
    check: {
      firstAfterMs: 0,
      maxEveryMs: HOUR_MS,
      // Any answer but "no consent" ends the wait: the tenant check decides what comes next.
      run: async () => {
        found = (await run.checkTenant()).verdict;
        return found !== 'no-consent' && found !== 'unknown';
      },
    },
  });
  // Past the app's own service principal (a token, or no such org): consent is there.
  const consentSeen = how === 'done' || found === 'consented' || found === 'wrong-resource';
  if (how === 'checked' && consentSeen)
    run.state.note(
      'consent granted',
      "found by asking Microsoft: the app has a service principal in the customer's tenant",
    );
  if (consentSeen) m.consentAt = Date.now();
  return { to: 'check-tenant' };
}

/**
 * Before the sign-in link is handed out: Microsoft says whether consent exists and the org is in
 * the tenant. A consent just reported is given a few minutes to show; one that never does is
 * recorded as reported, not confirmed, and the onboarding keeps waiting for consent.
 */
export async function checkTenant(run: OnboardingRun): Promise<Next> {
  const { m } = run;
  const report = m.consentReport;
  m.consentReport = null;
  for (let tries = 1; ; tries++) {
    const check = await run.checkTenant();
    if (check.verdict === 'no-consent' && report && !report.force && tries < CONSENT_CHECKS_AFTER_REPORT) {
      await sleep(5_000 * 2 ** (tries - 1));
      continue;
    }
    // Past the app's own service principal, Microsoft looked for the org: consent is there either way.
    const consented = check.verdict === 'consented' || check.verdict === 'wrong-resource';
    if (consented || (check.verdict === 'no-consent' && report?.force)) {
      m.consentAt ??= Date.now();
      m.consentDeadline = null;
      if (report)
        run.state.note(
          'consent granted',
          `reported by ${report.by}${report.note ? `: ${report.note}` : ''}; ${consented ? 'confirmed by Microsoft' : 'counted without checking (force)'}`,
        );
    }
    if (check.verdict === 'no-consent' && report?.force) return { to: 'set-resource' };
    const next = afterTenantCheck(
      check,
      (c) => run.classifyCheck(c),
      run.input.consentAtSignIn === true && !m.consentRequired,
      run.history(),
    );
    if (next.to === 'wait-for-consent' || next.to === 'wait-for-resource-fix' || next.to === 'fail')
      run.state.recordError(run.classifyCheck(check));
    if (next.to === 'wait-for-consent' && report) {
      run.state.note('consent reported, not confirmed', `by ${report.by}: ${check.message}`);
      return {
        to: 'wait-for-consent',
        why: `Consent was reported by ${report.by}, but Microsoft does not confirm it (${tenantCheckError(check)}). An administrator of ${run.input.customerTenant} must grant admin consent with the consent link; if Microsoft's answer is known to be wrong, ops may count the consent anyway (consent --force).`,
      };
    }
    return next;
  }
}

/** Step 3: the account connector and its Resource, ClientId and ClientSecret properties. */
export async function setResource(run: OnboardingRun): Promise<void> {
  const { m, status, input } = run;
  run.state.enter('setting-resource', status.resourceUrl);
  m.resourceChanged = false;
  const credentials = m.credentials!;
  const { accountConnectorId, installed, written } = await activities.setUpAccountConnector({
    accountId: input.cyclrAccountId,
    resourceUrl: status.resourceUrl,
    clientId: credentials.appId,
    clientSecret: credentials.secret,
    secretWrittenKeyId: m.secretWrittenKeyId,
    // The owner replaces the secret in every account connector holding it when it rotates.
    ...(m.owner ? { reportTo: { owner: m.owner, workflowId: run.workflowId } } : {}),
  });
  status.accountConnectorId = accountConnectorId;
  if (installed) run.state.note('connector installed', `account connector ${accountConnectorId}`);
  m.secretWrittenKeyId = credentials.secret.credentialKeyId;
  m.propertiesWritten.push(...written.filter((name) => !m.propertiesWritten.includes(name)));
  run.state.note('properties set', written.length ? `wrote ${written.join(', ')}` : 'already up to date');
}

/**
 * Step 4: a user of the customer's tenant signs in through Cyclr. Their return to our landing page
 * is the trigger and Cyclr's Authenticated flag the truth (polled too, in case they never come
 * back); when it is false, Microsoft's answer about the tenant and what the user saw decide.
 */
export async function signIn(run: OnboardingRun, problem?: string): Promise<Next> {
  const { m, status, input } = run;
  if (m.wait?.what !== 'sign-in') {
    run.state.enter('exchanging-token');
    status.signInAttempt += 1;
    m.signIn = null;
    m.resourceChanged = false;
    const deadline = run.deadlineFrom(run.deadlines.signIn);
    status.signInUrl = await localActivities.signInLink({
      workflowId: run.workflowId,
      attempt: status.signInAttempt,
      expiresAt: deadline.toISOString(),
    });
    run.state.note('sign-in link issued', `attempt ${status.signInAttempt}`);
    m.signInDeadline = deadline.toISOString();
  }
  const how = await humanWait(run, {
    what: 'sign-in',
    reason: `${problem ? `${problem} ` : ''}A user of the customer's tenant ${input.customerTenant} with access to ${status.resourceUrl} must open the sign-in link and sign in (attempt ${status.signInAttempt}).`,
    deadline: new Date(m.signInDeadline!),
    done: () => m.signIn !== null || m.resourceChanged,
    check: { firstAfterMs: 30_000, maxEveryMs: HOUR_MS, run: () => run.cyclrAuthenticated() },
  });
  if (m.resourceChanged) return { to: 'check-tenant' };
  if (how === 'checked') {
    run.state.note('sign-in completed', 'Cyclr reports the connector authenticated');
    return { to: 'verify' };
  }
  const event = m.signIn!;
  m.signIn = null;
  return afterSignIn(run, event);
}

async function afterSignIn(run: OnboardingRun, event: SignInEvent): Promise<Next> {
  if (event.kind === 'completed' && event.ok) return { to: 'verify' };
  if (event.kind === 'completed' || event.kind === 'reported') {
    const error =
      event.kind === 'reported'
        ? run.classify(event.text)
        : run.classify(event.errorDescription, event.error);
    run.state.recordError(error);
    return afterSignInError(error, run.history());
  }
  if (await run.cyclrAuthenticated()) {
    run.state.note('sign-in completed', 'the user came back; Cyclr reports the connector authenticated');
    return { to: 'verify' };
  }
  // Not authenticated: what Cyclr appended (if anything) is a hint; Microsoft's answer comes first.
  let check = await run.checkTenant();
  // A consent given during this very sign-in (a user who may consent, an admin) takes a moment to
  // show in Microsoft's answers: asked again before concluding there is none.
  for (const pause of [5_000, 10_000]) {
    if (check.verdict !== 'no-consent') break;
    await sleep(pause);
    check = await run.checkTenant();
    if (check.verdict !== 'no-consent') run.m.consentAt = Date.now();
  }
  // What Cyclr appended, or what the user pasted meanwhile: hints, used when Microsoft's answer allows.
  const reported = run.m.reportedError;
  run.m.reportedError = null;
  const hinted =
    event.error || event.errorDescription
      ? run.classify(event.errorDescription, event.error)
      : reported
        ? run.classify(reported)
        : null;
  const next = afterIncompleteSignIn(check, (c) => run.classifyCheck(c), hinted, run.history());
  if (next.to === 'sign-in' && !hinted)
    run.state.recordError({
      code: null,
      name: 'SignInNotCompleted',
      class: 'needs-person',
      meaning: 'The user came back from the sign-in, but Cyclr does not report the connector authenticated.',
      remediation: next.problem!,
      verbatim: 'The sign-in did not complete.',
    });
  else if (hinted && (check.verdict === 'consented' || check.verdict === 'unknown' || hinted.code === 500011))
    run.state.recordError(hinted);
  else if (next.to !== 'set-resource') run.state.recordError(run.classifyCheck(check));
  return next;
}

/** After a transient error or consent propagation: wait, then a new sign-in. */
export async function retrySignIn(
  run: OnboardingRun,
  next: Extract<Next, { to: 'retry-sign-in' }>,
): Promise<Next> {
  const consentDelay = next.error.code === 65001 || next.error.code === 7000229 || next.error.code === 700016;
  if (consentDelay) run.m.propagationRetries++;
  run.state.recordError({
    ...next.error,
    class: 'transient',
    remediation: consentDelay
      ? `Consent was granted moments ago and may still be propagating in Entra; a new sign-in is offered shortly (retry ${run.m.propagationRetries} of ${CONSENT_PROPAGATION_RETRIES}).`
      : 'Nothing to do: a new sign-in is offered shortly.',
  });
  await sleep(next.afterMs);
  return { to: 'sign-in' };
}

/** The AADSTS500011 branch: ops send the right org URL. */
export async function waitForResourceFix(run: OnboardingRun, why: string): Promise<Next> {
  if (run.m.wait?.what !== 'resource-fix') {
    run.state.enter('waiting-for-resource-fix');
    run.m.resourceChanged = false;
    run.m.resourceFixDeadline = run.deadlineFrom(run.deadlines.resourceFix).toISOString();
  }
  await humanWait(run, {
    what: 'resource-fix',
    reason: why,
    deadline: new Date(run.m.resourceFixDeadline!),
    done: () => run.m.resourceChanged,
  });
  return { to: 'check-tenant' };
}

/** Microsoft rejected the client secret: the owner adds a new one, puts it into Cyclr, removes the old. */
export async function replaceSecret(
  run: OnboardingRun,
  next: Extract<Next, { to: 'replace-secret' }>,
): Promise<Next> {
  const { m } = run;
  if (m.secretReplacements >= SECRET_REPLACEMENTS_MAX) return { to: 'fail', error: next.error };
  m.secretReplacements++;
  run.state.recordError({
    ...next.error,
    class: 'transient',
    remediation: `Nothing to do: the client secret is replaced automatically (new secret, set as Cyclr ClientSecret, old one removed), then the user signs in again (replacement ${m.secretReplacements} of ${SECRET_REPLACEMENTS_MAX}).`,
  });
  const rejected = m.credentials!.secret.credentialKeyId;
  await run.requestCredentials({
    keyId: rejected,
    reason: `AADSTS${next.error.code} for account ${run.input.cyclrAccountId}`,
  });
  run.state.note('client secret replaced', `secret ${m.credentials!.secret.credentialKeyId}`);
  return { to: 'check-tenant' };
}

/** Step 5: Cyclr shows the connector authenticated with the properties set; null when it does not. */
export async function verify(run: OnboardingRun): Promise<OnboardingResult['verified']> {
  const { status, input, m } = run;
  run.state.enter('verifying');
  for (let read = 1; ; read++) {
    const connector = await activities.readAccountConnector({
      accountId: input.cyclrAccountId,
      accountConnectorId: status.accountConnectorId!,
    });
    const resourceOk = connector.resource === status.resourceUrl;
    const clientOk = connector.clientId === m.credentials!.appId;
    if (connector.authenticated && resourceOk && clientOk)
      return { authenticated: true, resource: connector.resource!, clientId: connector.clientId };
    if (read >= 3) {
      const problems = [
        connector.authenticated ? null : 'Cyclr reports the account connector as not authenticated',
        resourceOk ? null : `Resource is ${connector.resource ?? 'missing'}, expected ${status.resourceUrl}`,
        clientOk ? null : `ClientId is ${connector.clientId ?? 'missing'}, expected ${m.credentials!.appId}`,
      ]
        .filter(Boolean)
        .join('; ');
      run.state.recordError({
        code: null,
        name: 'VerificationFailed',
        class: 'needs-person',
        meaning: problems,
        remediation: `Cyclr does not show a working connection: ${problems}. The properties are set again and the user signs in again.`,
        verbatim: problems,
      });
      return null;
    }
    await sleep('5 seconds');
  }
}
