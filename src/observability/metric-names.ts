// The product's metrics, as they appear on the Prometheus endpoint (the runtime adds its prefix,
// `temporal_` by default). Shared by the workflow interceptors (in the sandbox) and the activity
// side, so it must stay free of I/O and Node built-ins.

export const Metrics = {
  /** Counter: onboardings that started (first run only, never on replay). */
  started: 'onboarding_started',
  /** Counter: onboardings that ended verified. */
  verified: 'onboarding_verified',
  /** Counter, tag `step`: onboardings that failed, by the step they failed in. */
  failed: 'onboarding_failed',
  /** Counter, tag `waiting_for`: onboardings whose human wait passed its deadline. */
  expired: 'onboarding_expired',
  /** Counter, tag `step`: onboardings cancelled, by the step they were in. */
  cancelled: 'onboarding_cancelled',
  /** Counter, tag `step`: each time an onboarding enters a step. */
  stepEntered: 'onboarding_step_entered',
  /** Histogram (seconds), tag `step`: time spent in each step. */
  stepDuration: 'onboarding_step_duration_seconds',
  /** Histogram (seconds), tag `waiting_for` (consent, sign-in, resource-fix): time a person took. */
  humanWait: 'onboarding_human_wait_seconds',
  /** Counter, tags `code` (AADSTS65001, ...) and `class`: AADSTS errors reported to onboardings. */
  aadsts: 'onboarding_aadsts_errors',
  /** Counter, tags `service` (identity, graph, cyclr) and `status` (HTTP status, or `error`). */
  externalCalls: 'onboarding_external_calls',
} as const;

/** Steps in which the onboarding waits for a person, and who. */
export const HUMAN_WAIT_STEPS: Record<string, string> = {
  'waiting-for-consent': 'consent',
  'exchanging-token': 'sign-in',
  'waiting-for-resource-fix': 'resource-fix',
};

/** Header carrying the onboarding's current step from the workflow to its activities. */
export const STEP_HEADER = 'onboarding-step';

/** Human waits last minutes to weeks: buckets in seconds, 1 min to 30 days. */
export const HUMAN_WAIT_BUCKETS = [60, 300, 900, 3600, 4 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400];
