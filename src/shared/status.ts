// What the `status` query and the workflow result carry. Never a secret.
import type { ErrorClass } from './aadsts';
import type { Step, WaitingFor } from './steps';

export interface TimelineEntry {
  at: string;
  step: Step;
  event: string;
  detail?: string;
  /** The same event came again right after: how many times in all, and the last time. */
  repeats?: number;
  lastAt?: string;
}

export interface LastError {
  at: string;
  step: Step;
  code: number | null;
  name: string;
  class: ErrorClass;
  message: string;
  remediation: string;
}

export interface OnboardingStatus {
  workflowId: string;
  cyclrAccountId: string;
  customerTenant: string;
  resourceUrl: string;
  step: Step;
  waitingFor: WaitingFor | null;
  /** Why it waits and who must act, in one sentence. */
  waitingReason: string | null;
  /** When the current human wait ends the onboarding as expired. */
  waitDeadline: string | null;
  consentUrl: string | null;
  signInUrl: string | null;
  signInAttempt: number;
  appId: string | null;
  accountConnectorId: number | null;
  lastError: LastError | null;
  /** What Microsoft said when the product last asked it about the customer's tenant. */
  tenantCheck: TenantCheck | null;
  timeline: TimelineEntry[];
}

/** The app-only probe in the customer's tenant: consent exists, the org is there, or why not. */
export interface TenantCheck {
  at: string;
  verdict: 'consented' | 'no-consent' | 'wrong-resource' | 'no-tenant' | 'secret-rejected' | 'unknown';
  /** The AADSTS code Microsoft answered with; null for a token. */
  code: number | null;
  /** Microsoft's own words (first line of the AADSTS error), or what was found. */
  message: string;
}

export interface OnboardingResult {
  outcome: 'verified' | 'expired';
  cyclrAccountId: string;
  customerTenant: string;
  resourceUrl: string;
  appId: string | null;
  servicePrincipalId: string | null;
  accountConnectorId: number | null;
  /** What step 5 checked on the Cyclr account connector. */
  verified: { authenticated: boolean; resource: string; clientId: string | null } | null;
  expiredWhile: WaitingFor | null;
  timeline: TimelineEntry[];
}

/** The shared app registration, as its owner workflow reports it (never the secret). */
export interface AppRegistrationStatus {
  appId: string | null;
  /** Set when the app was registered by hand and adopted (APP_ID), with what the owner changed on it. */
  adopted: { changed: string[] } | null;
  secretKeyId: string | null;
  secretExpiresAt: string | null;
  /** When the owner renews the secret (its end minus APP_SECRET_RENEW_BEFORE_DAYS). */
  renewAt: string | null;
  /** Account connectors whose ClientSecret holds the app's secret. */
  holders: number;
  lastError: string | null;
  rotations: { at: string; reason: string; oldKeyId: string | null; newKeyId: string }[];
}
