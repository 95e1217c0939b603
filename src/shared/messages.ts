// Signal and query definitions. The names are a contract: ops send them with the official
// `temporal` CLI too (`temporal workflow signal --name consentGranted --input '{"by":"..."}'`).
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AppCredentialsDelivery, AppCredentialsRequest, SecretHolder } from './app-credentials';
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
/** Internal: an onboarding put the app's secret into its account connector's ClientSecret. */
export const appSecretInstalledSignal = defineSignal<[SecretHolder]>('appSecretInstalled');
/** Internal: the same for many account connectors at once (activities report in batches). */
export const appSecretHoldersSignal = defineSignal<[{ holders: SecretHolder[] }]>('appSecretHolders');
export const appCredentialsDeliveredSignal =
  defineSignal<[AppCredentialsDelivery]>('appCredentialsDelivered');
/**
 * Internal: the owner's current credentials when they are ready to hand out (registered, not due
 * for renewal, nothing rejected, no error), else null. A query adds nothing to either history, so a
 * wave of onboardings reads them without a signal round trip through the owner.
 */
export const appCredentialsQuery = defineQuery<AppCredentialsDelivery | null>('appCredentials');
export const appRegistrationStatusQuery = defineQuery<{
  appId: string | null;
  secretKeyId: string | null;
  secretExpiresAt: string | null;
  pendingRequests: number;
  lastError: string | null;
  /** Account connectors holding the secret; when the owner renews it (the secret's end minus the margin). */
  holders?: number;
  renewAt?: string | null;
  rotations?: { at: string; reason: string; oldKeyId: string | null; newKeyId: string }[];
}>('appRegistrationStatus');
