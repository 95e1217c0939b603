// Signal and query definitions. The names are a contract: ops send them with the official
// `temporal` CLI too (`temporal workflow signal --name consentGranted --input '{"by":"..."}'`).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AppCredentialsDelivery, AppCredentialsRequest } from './app-credentials';
import type { OnboardingStatus } from './status';
import type { ConsentGranted, ResourceCorrected, SignInCompleted } from './validation';

export const consentGrantedSignal = defineSignal<[ConsentGranted]>('consentGranted');
export const resourceCorrectedSignal = defineSignal<[ResourceCorrected]>('resourceCorrected');
export const signInCompletedSignal = defineSignal<[SignInCompleted]>('signInCompleted');
/** The consent callback came back with an error (declined, wrong tenant...): recorded, still waiting. */
export const consentFailedSignal =
  defineSignal<[{ error: string; errorDescription?: string }]>('consentFailed');
export const statusQuery = defineQuery<OnboardingStatus>('status');

/** Internal: between onboardings and the app-registration owner. */
export const appCredentialsRequestedSignal = defineSignal<[AppCredentialsRequest]>('appCredentialsRequested');
export const appCredentialsDeliveredSignal =
  defineSignal<[AppCredentialsDelivery]>('appCredentialsDelivered');
export const appRegistrationStatusQuery = defineQuery<{
  appId: string | null;
  secretKeyId: string | null;
  secretExpiresAt: string | null;
  pendingRequests: number;
  lastError: string | null;
}>('appRegistrationStatus');
