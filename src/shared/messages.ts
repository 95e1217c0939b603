// Signal, query and update definitions. The onboarding's names are a contract: ops send them with
// the official `temporal` CLI too (`temporal workflow signal --name consentGranted --input '{"by":"..."}'`).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AppCredentialsDelivery, AppCredentialsRequest, SecretHolder } from './app-credentials';
import type { AppRegistrationStatus, OnboardingStatus } from './status';
import type {
  ConsentGranted,
  ResourceCorrected,
  SignInCompleted,
  SignInErrorReported,
  SignInReturned,
} from './validation';

export const consentGrantedSignal = defineSignal<[ConsentGranted]>('consentGranted');
export const resourceCorrectedSignal = defineSignal<[ResourceCorrected]>('resourceCorrected');
/** An explicit sign-in outcome (ops, scripts): `ok` with the error Microsoft showed when false. */
export const signInCompletedSignal = defineSignal<[SignInCompleted]>('signInCompleted');
/** The user came back to our sign-in landing page: the workflow checks Cyclr for the outcome. */
export const signInReturnedSignal = defineSignal<[SignInReturned]>('signInReturned');
/** The error text the user saw during the sign-in (pasted on the landing page, or by ops). */
export const signInErrorReportedSignal = defineSignal<[SignInErrorReported]>('signInErrorReported');
/** The consent callback came back with an error (declined, not an admin...): recorded, still waiting. */
export const consentFailedSignal =
  defineSignal<[{ error: string; errorDescription?: string; errorSubcode?: string }]>('consentFailed');
export const statusQuery = defineQuery<OnboardingStatus>('status');

/** The app's owner hands out its credentials, once they exist (and replaces a rejected secret first). */
export const requestAppCredentialsUpdate = defineUpdate<AppCredentialsDelivery, [AppCredentialsRequest]>(
  'requestAppCredentials',
);
/** Ops renew the client secret now (a new secret into every account connector, the old one removed). */
export const renewAppSecretUpdate = defineUpdate<AppRegistrationStatus, [{ by: string }]>('renewAppSecret');
/** Account connectors that now hold the app's secret, or that no longer exist (offboarded). */
export const appSecretHoldersSignal =
  defineSignal<[{ holders?: SecretHolder[]; removed?: string[] }]>('appSecretHolders');
/**
 * The owner's credentials when they are ready to hand out (registered, not due for renewal,
 * nothing rejected, no error), else null. A query adds nothing to either history, so a wave of
 * onboardings reads them without touching the owner's history.
 */
export const appCredentialsQuery = defineQuery<AppCredentialsDelivery | null>('appCredentials');
export const appRegistrationStatusQuery = defineQuery<AppRegistrationStatus>('appRegistrationStatus');
