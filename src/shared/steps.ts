// The values of the OnboardingStep search attribute and of `status().step`.
export const STEPS = [
  'registering-app',
  'waiting-for-consent',
  'setting-resource',
  'exchanging-token',
  'waiting-for-resource-fix',
  'verifying',
  'verified',
  'expired',
  'failed',
  'cancelled',
] as const;

export type Step = (typeof STEPS)[number];

export type WaitingFor = 'app-registration' | 'consent' | 'sign-in' | 'resource-fix';

export const FINAL_STEPS: readonly Step[] = ['verified', 'expired', 'failed', 'cancelled'];
