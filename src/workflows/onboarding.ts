// One customer's onboarding to the Dynamics CRM Online connector, as one durable workflow: the five
// steps in order, and the branches between them. What each step does is in onboarding-steps.ts;
// where a failed sign-in leads, in next-step.ts.
import { ActivityFailure, ApplicationFailure, ContinueAsNew, isCancellation } from '@temporalio/workflow';
import type { OnboardingInput } from '../shared/schemas';
import type { OnboardingResult } from '../shared/status';
import { Expired } from './human-wait';
import { OnboardingRun, type RunOptions } from './onboarding-run';
import * as step from './onboarding-steps';
import type { Next } from './next-step';

/** The failure type of an onboarding that needs its configuration (or input) fixed. */
const CONFIGURATION_ERROR = 'OnboardingConfigurationError';

export async function dynamicsOnboarding(
  input: OnboardingInput,
  options?: RunOptions,
): Promise<OnboardingResult> {
  const run = new OnboardingRun(input, options);
  try {
    // A continued run resumes where the last one was (a human wait, as it was).
    for (let next: Next = run.m.next; ; run.m.next = next) {
      switch (next.to) {
        case 'register-app': // 1
          next = await step.registerApp(run);
          break;
        case 'wait-for-consent': // 2
          next = await step.waitForConsent(run, next.why);
          break;
        case 'check-tenant': // before anyone signs in: consent and the org, as Microsoft sees them
          next = await step.checkTenant(run);
          break;
        case 'set-resource': // 3
          await step.setResource(run);
          next = { to: 'sign-in' };
          break;
        case 'sign-in': // 4
          next = await step.signIn(run, next.problem);
          break;
        case 'retry-sign-in':
          next = await step.retrySignIn(run, next);
          break;
        case 'wait-for-resource-fix':
          next = await step.waitForResourceFix(run, next.why);
          break;
        case 'replace-secret':
          next = await step.replaceSecret(run, next);
          break;
        case 'verify': {
          // 5
          const verified = await step.verify(run);
          if (!verified) {
            next = { to: 'set-resource' };
            break;
          }
          run.state.enter(
            'verified',
            `account connector ${run.status.accountConnectorId} authenticated for ${run.status.resourceUrl}`,
          );
          run.status.lastError = null;
          return run.result('verified', verified, null);
        }
        case 'fail': // the step that decided it recorded the error
          throw ApplicationFailure.nonRetryable(
            `${next.error.verbatim} (${next.error.name}). Fix: ${next.error.remediation}`,
            CONFIGURATION_ERROR,
            { aadsts: next.error.code },
          );
      }
    }
  } catch (err) {
    return ended(run, err);
  }
}

/** Expired is a result; cancellation and failures end the workflow, recorded in the status first. */
async function ended(run: OnboardingRun, err: unknown): Promise<OnboardingResult> {
  if (err instanceof Expired) {
    run.state.enter('expired', `no ${err.waitingFor} before the deadline`);
    return run.result('expired', null, err.waitingFor);
  }
  if (isCancellation(err)) {
    run.state.enter('cancelled', `cancelled while ${run.status.step}; ${run.whatWasDone()}`);
    throw err;
  }
  if (err instanceof ContinueAsNew) throw err;
  const failure = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const message = failure instanceof Error ? failure.message : String(failure);
  const type = failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'UnexpectedError';
  if (type !== CONFIGURATION_ERROR)
    run.state.recordError({
      code: null,
      name: type,
      class: 'configuration',
      meaning: message,
      remediation: message,
      verbatim: message,
    });
  run.state.enter('failed', message);
  // Anything else thrown here would fail the workflow task forever: the run fails, visibly, instead.
  if (failure instanceof ApplicationFailure && failure.nonRetryable) throw failure;
  throw ApplicationFailure.nonRetryable(message, type);
}
