// What the `status` query and the workflow result carry. Never a secret.
import type { ErrorClass } from './aadsts';
import type { Step, WaitingFor } from './steps';

export interface TimelineEntry {
  at: string;
  step: Step;
  event: string;
  detail?: string;
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
  timeline: TimelineEntry[];
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
