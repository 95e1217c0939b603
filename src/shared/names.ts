// Names that the worker, the CLI, the HTTP ingress and ops tooling must agree on.

export const TASK_QUEUE = 'dynamics-onboarding';
export const ONBOARDING_WORKFLOW_TYPE = 'dynamicsOnboarding';
export const APP_REGISTRATION_WORKFLOW_TYPE = 'dynamicsAppRegistration';
export const OFFBOARDING_WORKFLOW_TYPE = 'dynamicsOffboarding';

const ONBOARDING_ID_PREFIX = 'dynamics-onboarding-';

/** One onboarding per Cyclr account: a repeated event maps to the same workflow id. */
export function onboardingWorkflowId(cyclrAccountId: string): string {
  return `${ONBOARDING_ID_PREFIX}${cyclrAccountId}`;
}

export function accountIdFromWorkflowId(workflowId: string): string | undefined {
  return workflowId.startsWith(ONBOARDING_ID_PREFIX)
    ? workflowId.slice(ONBOARDING_ID_PREFIX.length)
    : undefined;
}

/** One offboarding record per account; a later offboarding (after a fresh onboarding) is a new run. */
export function offboardingWorkflowId(cyclrAccountId: string): string {
  return `dynamics-offboarding-${cyclrAccountId}`;
}

/** The shared multi-tenant app registration has exactly one owner workflow. */
export function appRegistrationWorkflowId(appUniqueName: string): string {
  return `dynamics-app-registration-${appUniqueName}`;
}

export const ONBOARDING_STEP_SEARCH_ATTRIBUTE = 'OnboardingStep';
