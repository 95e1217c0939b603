// Where an onboarding goes next after something did not work: a sign-in that did not end
// authenticated, or Microsoft's answer about the customer's tenant. One pure function, so every
// branch is readable in one place and unit-tested without a server.
import type { ClassifiedError } from '../shared/aadsts';
import type { TenantCheck } from '../shared/status';

/** Entra may deny a consent for a while after it was granted (propagation). */
export const CONSENT_PROPAGATION_WINDOW_MS = 15 * 60_000;
export const CONSENT_PROPAGATION_RETRIES = 4;
/** A rejected client secret is replaced at most this often per onboarding. */
export const SECRET_REPLACEMENTS_MAX = 3;
/** Microsoft rejected the client secret Cyclr sent: the app's owner replaces it, no person needed. */
const SECRET_REJECTED_CODES = new Set([7000215, 7000222]);
/** The app has no service principal (no consent) in the tenant, or the user has no grant. */
const NO_CONSENT_CODES = new Set([65001, 7000229, 700016]);

/** What the onboarding does next (the main loop in onboarding.ts runs it). */
export type Next =
  | { to: 'register-app' }
  | { to: 'wait-for-consent'; why: string }
  | { to: 'check-tenant' }
  | { to: 'set-resource' }
  | { to: 'sign-in'; problem?: string }
  | { to: 'retry-sign-in'; afterMs: number; error: ClassifiedError }
  | { to: 'wait-for-resource-fix'; why: string }
  | { to: 'replace-secret'; error: ClassifiedError }
  | { to: 'verify' }
  | { to: 'fail'; error: ClassifiedError };

export interface History {
  now: number;
  /** When consent was last reported or detected (ms), if ever. */
  consentAt: number | null;
  propagationRetries: number;
  secretReplacements: number;
  /** This onboarding put the app's secret into Cyclr (so it is the one Microsoft rejected). */
  secretWritten: boolean;
}

/** Microsoft's error, from the user, from ops, or from Cyclr's redirect: what to do about it. */
export function afterSignInError(error: ClassifiedError, h: History): Next {
  if (error.code !== null && NO_CONSENT_CODES.has(error.code)) {
    const sinceConsent = h.consentAt === null ? Infinity : h.now - h.consentAt;
    if (sinceConsent < CONSENT_PROPAGATION_WINDOW_MS && h.propagationRetries < CONSENT_PROPAGATION_RETRIES)
      return { to: 'retry-sign-in', afterMs: 15_000 * 2 ** h.propagationRetries, error };
    return { to: 'wait-for-consent', why: `AADSTS${error.code}: ${error.remediation}` };
  }
  if (error.code !== null && SECRET_REJECTED_CODES.has(error.code)) {
    if (h.secretWritten && h.secretReplacements < SECRET_REPLACEMENTS_MAX)
      return { to: 'replace-secret', error };
    return { to: 'fail', error };
  }
  // 500011: no such org in the tenant; 50001: the resource is disabled or does not exist.
  if (error.code === 500011 || error.code === 50001)
    return { to: 'wait-for-resource-fix', why: `AADSTS${error.code}: ${error.remediation}` };
  if (error.class === 'configuration') return { to: 'fail', error };
  if (error.class === 'transient') return { to: 'retry-sign-in', afterMs: 30_000, error };
  // A person must act (MFA, wrong account, declined, unknown code): a new sign-in with the remediation.
  return { to: 'sign-in', problem: error.remediation };
}

/** Microsoft's answer about the tenant, in the form the catalog classifies. */
export function tenantCheckError(check: TenantCheck): string {
  return check.code && !check.message.includes(`AADSTS${check.code}`)
    ? `AADSTS${check.code}: ${check.message}`
    : check.message;
}

/**
 * The user came back and Cyclr is not authenticated. Microsoft's answer about the tenant decides
 * when it names a problem; else the error the user or Cyclr reported; else a new attempt that asks
 * the user what they saw.
 */
export function afterIncompleteSignIn(
  check: TenantCheck,
  classify: (check: TenantCheck) => ClassifiedError,
  reported: ClassifiedError | null,
  h: History,
): Next {
  // Without consent Microsoft cannot say whether the org is in the tenant: a reported 500011 is
  // the more precise answer then (consent is asked for after the fix, if still missing).
  const resourceReported = reported?.code === 500011 && check.verdict === 'no-consent';
  if (check.verdict !== 'consented' && check.verdict !== 'unknown' && !resourceReported)
    return afterSignInError(classify(check), h);
  if (reported) return afterSignInError(reported, h);
  return {
    to: 'sign-in',
    problem:
      "The sign-in did not complete, and Microsoft shows nothing wrong with the tenant's consent or the org. Ask the user what they saw: they can paste the error on the page they came back to (or ops run report-signin-error); or they try again with the new sign-in link.",
  };
}

/**
 * Before the sign-in link is handed out: consent exists and the org is real, or why not.
 * `consentMayComeAtSignIn`: users of the tenant may consent for themselves (or an admin signs in),
 * so no consent yet is expected.
 */
export function afterTenantCheck(
  check: TenantCheck,
  classify: (check: TenantCheck) => ClassifiedError,
  consentMayComeAtSignIn: boolean,
  h: History,
): Next {
  switch (check.verdict) {
    case 'consented':
    case 'unknown': // Microsoft could not tell: the sign-in will.
      return { to: 'set-resource' };
    case 'no-consent':
      return consentMayComeAtSignIn
        ? { to: 'set-resource' }
        : {
            to: 'wait-for-consent',
            why: `Microsoft reports no consent in the customer's tenant (${tenantCheckError(check)}). An administrator must grant admin consent: open the consent link and accept.`,
          };
    case 'wrong-resource':
      return {
        to: 'wait-for-resource-fix',
        why: `AADSTS500011: ${classify(check).remediation}`,
      };
    case 'secret-rejected': // the probe used the app's current secret: the owner replaces it
      return afterSignInError(classify(check), { ...h, secretWritten: true });
    case 'no-tenant':
      return afterSignInError(classify(check), h);
  }
}
