// The one catalog of Microsoft identity platform (AADSTS) errors this flow meets: what each means
// here, who must act, and what they must do. Status, notifications and failures all read it.
// Sources: Microsoft's error-code reference
// (learn.microsoft.com/entra/identity-platform/reference-error-codes, and
// https://login.microsoftonline.com/error?code=N for codes it does not list yet) and the wire texts
// quoted in public issue threads, named where a code is not in the reference.

export type ErrorClass = 'transient' | 'needs-person' | 'configuration';

export interface RemediationContext {
  customerTenant?: string;
  resourceUrl?: string;
  appId?: string;
  consentUrl?: string | null;
  signInUrl?: string | null;
}

interface CatalogEntry {
  name: string;
  class: ErrorClass;
  meaning: string;
  remediation: (ctx: RemediationContext) => string;
}

const consentLink = (ctx: RemediationContext) =>
  ctx.consentUrl ? ` Admin consent link: ${ctx.consentUrl}` : '';
const signInLink = (ctx: RemediationContext) => (ctx.signInUrl ? ` Sign-in link: ${ctx.signInUrl}` : '');

function transient(name: string, meaning: string): CatalogEntry {
  return {
    name,
    class: 'transient',
    meaning,
    remediation: () => 'Nothing to do: the onboarding retries with backoff.',
  };
}

const CATALOG: Record<number, CatalogEntry> = {
  65001: {
    name: 'DelegationDoesNotExist',
    class: 'needs-person',
    meaning: "The customer's tenant has not consented to the partner app.",
    remediation: (ctx) =>
      `A Global Administrator (or Privileged Role / Cloud Application Administrator) of the customer's tenant ${ctx.customerTenant ?? ''} must grant admin consent: open the admin consent link and accept, or in the Azure portal go to Entra ID > App registrations (or Enterprise applications) > the app${ctx.appId ? ` ${ctx.appId}` : ''} > API permissions > "Grant admin consent for ...". Then ops signal consentGranted.${consentLink(ctx)}`,
  },
  500011: {
    name: 'InvalidResourceServicePrincipalNotFound',
    class: 'configuration',
    meaning: "The Resource URL is not a Dynamics org of the customer's tenant.",
    remediation: (ctx) =>
      `The Resource URL${ctx.resourceUrl ? ` ${ctx.resourceUrl}` : ''} is not a Dynamics org in tenant ${ctx.customerTenant ?? ''}. Ask the customer to open their Dynamics 365 in a browser and copy the org URL from the address bar (like https://mycompany.crm4.dynamics.com), then send it with resourceCorrected (CLI: fix-resource). If the URL is right, the user who signed in belongs to another tenant: have a user of ${ctx.customerTenant ?? "the customer's tenant"} sign in.`,
  },
  700016: {
    name: 'UnauthorizedClient_DoesNotMatchRequest',
    class: 'configuration',
    meaning:
      'The app was not found in the directory: wrong client id or tenant, or a brand-new app not yet replicated.',
    remediation: (ctx) =>
      `Check that the Cyclr ClientId property is the app's Application (client) ID${ctx.appId ? ` ${ctx.appId}` : ''}. If the app was created minutes ago this is replication delay: retry the sign-in in a few minutes.${signInLink(ctx)}`,
  },
  // Not yet in Microsoft's reference; the wire text ("AADSTS7000229: The client application <appId>
  // is missing service principal in the tenant <tenant>", 401 invalid_client) is quoted in
  // Azure/azure-sdk-for-net#46762 and Azure/Commercial-Marketplace-SaaS-Accelerator#830. An app-only
  // token request of a multi-tenant app in a tenant where it has no service principal (enterprise
  // application) gets it: nobody there consented (learn.microsoft.com/entra/identity-platform/
  // retire-service-principal-less-authentication). The name is descriptive, not Microsoft's.
  7000229: {
    name: 'MissingServicePrincipalInTenant',
    class: 'needs-person',
    meaning:
      "The app has no service principal (enterprise application) in the customer's tenant: nobody there has consented to it.",
    remediation: (ctx) =>
      `A Global Administrator (or Privileged Role / Cloud Application Administrator) of the customer's tenant ${ctx.customerTenant ?? ''} must grant admin consent, which creates the app's enterprise application there: open the admin consent link and accept, or in the Azure portal go to Entra ID > Enterprise applications (or App registrations) > the app${ctx.appId ? ` ${ctx.appId}` : ''} > Permissions > "Grant admin consent for ...". Then ops signal consentGranted.${consentLink(ctx)}`,
  },
  // The onboarding replaces a rejected secret automatically (the app's owner workflow); these
  // remediations are for when that is not possible (e.g. the Graph client lacks permission).
  7000215: {
    name: 'InvalidClientSecret',
    class: 'configuration',
    meaning:
      'The client secret Cyclr sent is not a valid secret of the app (deleted, or the ID instead of the Value).',
    remediation: () =>
      "Replaced automatically: a new secret (addPassword) goes into the Cyclr ClientSecret property, then the old one is removed. If that fails, put a secret's Value (not its ID) into ClientSecret by hand.",
  },
  7000222: {
    name: 'InvalidClientSecretExpiredKeysProvided',
    class: 'configuration',
    meaning: "The app's client secret has expired.",
    remediation: () =>
      'Replaced automatically: a new secret (addPassword) goes into the Cyclr ClientSecret property, then the old one is removed. If that fails, check the Graph client may write the app (Application.ReadWrite.OwnedBy).',
  },
  50011: {
    name: 'InvalidReplyTo',
    class: 'configuration',
    meaning: 'The redirect URI is not registered on the app.',
    remediation: () =>
      "Add Cyclr's callback URL https://{CyclrServiceDomain}/connector/callback to the app's web redirect URIs (the app registration step does this; re-run it).",
  },
  90002: {
    name: 'InvalidTenantName',
    class: 'configuration',
    meaning: 'The tenant was not found.',
    remediation: (ctx) =>
      `Check the customer tenant${ctx.customerTenant ? ` "${ctx.customerTenant}"` : ''}: use its tenant id (GUID) or a verified domain; start a new onboarding with the right value.`,
  },
  50076: {
    name: 'UserStrongAuthClientAuthNRequired',
    class: 'needs-person',
    meaning: "The customer's policy requires multi-factor authentication.",
    remediation: (ctx) => `The customer's user must sign in again and complete MFA.${signInLink(ctx)}`,
  },
  50020: {
    name: 'UserUnauthorized',
    class: 'needs-person',
    meaning: "The person who signed in is not a user of the customer's tenant.",
    remediation: (ctx) =>
      `Sign in with an account of the customer's tenant ${ctx.customerTenant ?? ''} (not a personal or partner account), or have the customer's admin add the user as a guest.${signInLink(ctx)}`,
  },
  65004: {
    name: 'UserDeclinedConsent',
    class: 'needs-person',
    meaning: 'The admin declined to consent to the app.',
    remediation: (ctx) =>
      `The customer's admin declined consent. Confirm with the customer that they want the integration, then have an admin open the consent link again and accept.${consentLink(ctx)}`,
  },
  90094: {
    name: 'AdminConsentRequired',
    class: 'needs-person',
    meaning: 'Only an administrator can grant this consent.',
    remediation: (ctx) =>
      `The person who opened the consent link is not an administrator. A Global Administrator of tenant ${ctx.customerTenant ?? ''} must open it.${consentLink(ctx)}`,
  },
  70011: {
    name: 'InvalidScope',
    class: 'configuration',
    meaning: 'The requested scope is not valid.',
    remediation: () => 'Fix the scope string in the request (a bug in the product or its configuration).',
  },
  700082: {
    name: 'ExpiredOrRevokedGrantInactiveToken',
    class: 'needs-person',
    meaning: 'The refresh token expired from inactivity.',
    remediation: (ctx) => `The customer's user must sign in again.${signInLink(ctx)}`,
  },
  50173: {
    name: 'FreshTokenNeeded',
    class: 'needs-person',
    meaning: 'The grant was revoked (password change or admin revoke).',
    remediation: (ctx) => `The customer's user must sign in again.${signInLink(ctx)}`,
  },
  54005: {
    name: 'OAuth2 code already redeemed',
    class: 'needs-person',
    meaning: 'The authorization code was used twice.',
    remediation: (ctx) => `Start the sign-in again to get a new code.${signInLink(ctx)}`,
  },
  70008: {
    name: 'ExpiredOrRevokedGrant',
    class: 'needs-person',
    meaning: 'The authorization code expired before it was redeemed.',
    remediation: (ctx) => `Start the sign-in again.${signInLink(ctx)}`,
  },
  90014: {
    name: 'MissingRequiredField',
    class: 'configuration',
    meaning: 'A required field is missing from the request.',
    remediation: () => 'A bug in the request: report it with the error text.',
  },
  900144: {
    name: 'MissingRequiredParameter',
    class: 'configuration',
    meaning: 'The request body lacks a required parameter (often a wrong Content-Type).',
    remediation: () => 'A bug in the request: report it with the error text.',
  },
  650052: {
    name: 'ServiceNotSubscribed',
    class: 'configuration',
    meaning: "The customer's organisation has not subscribed to or enabled Dynamics 365.",
    remediation: (ctx) =>
      `The customer must have Dynamics 365 in tenant ${ctx.customerTenant ?? ''}; check the tenant and org URL.`,
  },
  650057: {
    name: 'InvalidResource',
    class: 'configuration',
    meaning: "The requested resource is not in the app's required permissions.",
    remediation: () =>
      'Re-run the app registration step so the app requests Dynamics CRM user_impersonation.',
  },
  7000218: {
    name: 'InvalidClientMissingSecret',
    class: 'configuration',
    meaning: 'The token request carried no client secret: Cyclr has no ClientSecret for the connector.',
    remediation: () =>
      'Set the Cyclr ClientSecret property of the account connector (the onboarding does this in "setting-resource"; redo that step).',
  },
  500112: {
    name: 'ReplyAddressMismatch',
    class: 'configuration',
    meaning: 'The redirect URI of the token request differs from the one of the sign-in.',
    remediation: () =>
      "Cyclr's callback URL must be the same in both requests; check CYCLR_SERVICE_BASE_URL against the Cyclr partner service domain.",
  },
  70002: {
    name: 'InvalidClient',
    class: 'configuration',
    meaning: 'The client credentials are not valid for this request.',
    remediation: () =>
      "Check the Cyclr ClientId (the app's Application ID) and ClientSecret (the secret's Value, not its ID).",
  },
  700011: {
    name: 'UnauthorizedClientAppNotFoundInOrgIdTenant',
    class: 'configuration',
    meaning: 'The application was not found in the tenant.',
    remediation: (ctx) =>
      `Check the app${ctx.appId ? ` ${ctx.appId}` : ''} exists and is multi-tenant, and that the tenant ${ctx.customerTenant ?? ''} is right.`,
  },
  70001: {
    name: 'UnauthorizedClient_AppDisabled',
    class: 'configuration',
    meaning: 'The application is disabled.',
    remediation: () =>
      "Re-enable the app (the partner's tenant) or the enterprise application (the customer's tenant).",
  },
  50194: {
    name: 'InvalidRequestNonConformingAppMultiTenant',
    class: 'configuration',
    meaning: 'The app is not multi-tenant but was used through /common.',
    remediation: () =>
      'The app must be multi-tenant (AzureADMultipleOrgs): re-run the app registration, which sets it.',
  },
  50058: {
    name: 'UserInformationNotProvided',
    class: 'needs-person',
    meaning: 'No signed-in session was found (silent sign-in).',
    remediation: (ctx) => `The customer's user must sign in interactively.${signInLink(ctx)}`,
  },
  50079: {
    name: 'UserStrongAuthEnrollmentRequired',
    class: 'needs-person',
    meaning: 'The user must enrol in multi-factor authentication.',
    remediation: (ctx) => `The customer's user must register for MFA, then sign in again.${signInLink(ctx)}`,
  },
  50072: {
    name: 'UserStrongAuthEnrollmentRequiredInterrupt',
    class: 'needs-person',
    meaning: 'The user must enrol in multi-factor authentication.',
    remediation: (ctx) => `The customer's user must register for MFA, then sign in again.${signInLink(ctx)}`,
  },
  90008: {
    name: 'TokenForItselfRequiresGraphPermission',
    class: 'needs-person',
    meaning: 'The user or administrator has not consented to the app at all.',
    remediation: (ctx) =>
      `An administrator of tenant ${ctx.customerTenant ?? ''} must grant admin consent.${consentLink(ctx)}`,
  },
  650056: {
    name: 'MisconfiguredApplication',
    class: 'needs-person',
    meaning: 'The app is misconfigured or the administrator has not consented to its permissions.',
    remediation: (ctx) =>
      `An administrator of tenant ${ctx.customerTenant ?? ''} must grant admin consent for the app's permissions (Dynamics CRM user_impersonation).${consentLink(ctx)}`,
  },
  50001: {
    name: 'InvalidResource',
    class: 'configuration',
    meaning: 'The resource is disabled or does not exist.',
    remediation: (ctx) =>
      `Check the Resource URL${ctx.resourceUrl ? ` ${ctx.resourceUrl}` : ''} is the customer's Dynamics org URL; send the right one with resourceCorrected (CLI: fix-resource).`,
  },
  700054: {
    name: 'ResponseTypeNotEnabled',
    class: 'configuration',
    meaning: 'The response type the sign-in asked for is not enabled for the app.',
    remediation: () => 'A configuration problem of the sign-in request: report it with the error text.',
  },
  50059: {
    name: 'MissingTenantRealmAndNoUserInformationProvided',
    class: 'configuration',
    meaning: 'The request named no tenant (common/organizations) where one is required.',
    remediation: () =>
      'Use the tenant id or domain in the request (PARTNER_TENANT_ID for the product itself).',
  },
  50033: transient('RetryableError', 'A transient error in the Microsoft identity platform.'),
  90006: transient('ExternalServerRetryableError', 'A transient error in a service Entra depends on.'),
  90024: transient('RequestBudgetExceededError', 'A transient error: Entra asked for a retry.'),
  90033: transient('MsodsServiceUnavailable', 'The directory service is temporarily unavailable.'),
  90090: transient('GraphRetryableError', 'A transient error in the directory service.'),
  50087: transient('SasRetryableError', 'A transient error in strong authentication.'),
  90055: transient('TenantThrottlingError', 'Too many requests for the tenant: Entra throttles.'),
  50196: transient('LoopDetected', 'Too many identical requests in a short time: backing off.'),
  53003: {
    name: 'BlockedByConditionalAccess',
    class: 'needs-person',
    meaning: "The customer's Conditional Access policy blocked the sign-in.",
    remediation: () =>
      "The customer's admin must allow the app or the user under their Conditional Access policies.",
  },
};

export interface ClassifiedError {
  code: number | null;
  name: string;
  class: ErrorClass;
  meaning: string;
  remediation: string;
  /** The error text as Microsoft sent it (first line only: the trailer carries trace ids). */
  verbatim: string;
}

/** Extracts the first AADSTS code from an error_description, e.g. "AADSTS65001: The user ...". */
export function aadstsCodeOf(text: string | undefined | null): number | null {
  const match = /AADSTS(\d{4,7})/.exec(text ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * The code of a token-endpoint error's `error_codes` (e.g. [70002, 54005]): the first one the
 * catalog knows, else the first.
 */
export function aadstsCodeFromList(errorCodes: unknown): number | null {
  if (!Array.isArray(errorCodes)) return null;
  const codes = errorCodes.map(Number).filter((c) => Number.isInteger(c) && c > 0);
  return codes.find((c) => c in CATALOG) ?? codes[0] ?? null;
}

/** Every code the catalog knows. */
export function catalogCodes(): number[] {
  return Object.keys(CATALOG).map(Number);
}

/**
 * Classifies an AADSTS error: the code from the error_description, else from `error_codes`.
 * `verbatim` keeps Microsoft's own first line (the CRLF trailer carries trace and correlation ids).
 */
export function classifyAadsts(
  errorDescription: string | undefined | null,
  ctx: RemediationContext = {},
  oauthError?: string | null,
  errorCodes?: unknown,
): ClassifiedError {
  const verbatim = (errorDescription ?? oauthError ?? 'unknown error').split(/\r?\n/)[0].slice(0, 500);
  // The legacy /adminconsent endpoint reports a decline as `permission_denied` with no AADSTS
  // code ("The admin canceled the request"): the same thing as AADSTS65004.
  const code =
    aadstsCodeOf(errorDescription) ??
    aadstsCodeFromList(errorCodes) ??
    (oauthError === 'permission_denied' ? 65004 : null);
  const entry = code === null ? undefined : CATALOG[code];
  if (entry) {
    return {
      code,
      name: entry.name,
      class: entry.class,
      meaning: entry.meaning,
      remediation: entry.remediation(ctx),
      verbatim,
    };
  }
  if (oauthError === 'temporarily_unavailable' || oauthError === 'server_error') {
    return {
      code,
      name: 'Transient',
      class: 'transient',
      meaning: 'A transient error in the Microsoft identity platform.',
      remediation: 'Nothing to do: the onboarding retries with backoff.',
      verbatim,
    };
  }
  // Unknown: never retried blindly; a person reads Microsoft's own text.
  return {
    code,
    name: 'Unknown',
    class: 'needs-person',
    meaning: 'An error this product does not know.',
    remediation: `Read Microsoft's message${code ? ` (https://login.microsoftonline.com/error?code=${code})` : ''} and act on it; then retry the sign-in.${signInLink(ctx)}`,
    verbatim,
  };
}

/** A token endpoint's error body (`error`, `error_description`, `error_codes`) classified. */
export function classifyTokenError(body: unknown, ctx: RemediationContext = {}): ClassifiedError {
  const b = (body ?? {}) as { error?: unknown; error_description?: unknown; error_codes?: unknown };
  return classifyAadsts(
    typeof b.error_description === 'string' ? b.error_description : undefined,
    ctx,
    typeof b.error === 'string' ? b.error : undefined,
    b.error_codes,
  );
}

/**
 * What to fix when the product's own Graph management client (GRAPH_CLIENT_ID in
 * PARTNER_TENANT_ID) is refused a token: the catalog's remediations speak of the shared app and
 * the customer's tenant, these of the product's configuration.
 */
const MANAGEMENT_CLIENT_REMEDIATION: Record<number, string> = {
  7000215:
    "GRAPH_CLIENT_SECRET is not a valid secret of GRAPH_CLIENT_ID: set it to the secret's Value (shown once, when the secret is created), not its Secret ID. If the Value is lost, create a new client secret (Entra ID > App registrations > the client > Certificates & secrets) and set GRAPH_CLIENT_SECRET to its Value.",
  7000222:
    'GRAPH_CLIENT_SECRET has expired: create a new client secret for GRAPH_CLIENT_ID (Entra ID > App registrations > the client > Certificates & secrets > New client secret) and set GRAPH_CLIENT_SECRET to its Value.',
  7000218:
    'No client secret was sent: set GRAPH_CLIENT_SECRET to the Value of a client secret of GRAPH_CLIENT_ID.',
  90002:
    "PARTNER_TENANT_ID names no tenant: set it to your own Entra tenant's ID (Entra ID > Overview > Tenant ID) or one of its verified domains.",
  700016:
    "GRAPH_CLIENT_ID is not an application of tenant PARTNER_TENANT_ID: set GRAPH_CLIENT_ID to the client's Application (client) ID (Entra ID > App registrations > the client > Overview), and PARTNER_TENANT_ID to the tenant it is registered in.",
  700011:
    "GRAPH_CLIENT_ID is not an application of tenant PARTNER_TENANT_ID: set GRAPH_CLIENT_ID to the client's Application (client) ID, and PARTNER_TENANT_ID to the tenant it is registered in.",
  7000229:
    'GRAPH_CLIENT_ID has no service principal (enterprise application) in PARTNER_TENANT_ID: create it (for example `az ad sp create --id <GRAPH_CLIENT_ID>`), then have an admin grant consent to its Microsoft Graph permission.',
  70001:
    'GRAPH_CLIENT_ID is disabled in PARTNER_TENANT_ID: enable it (Entra ID > Enterprise applications > the client > Properties > Enabled for users to sign in).',
  7000112:
    'GRAPH_CLIENT_ID is disabled in PARTNER_TENANT_ID: enable it (Entra ID > Enterprise applications > the client > Properties > Enabled for users to sign in).',
  50059:
    'No tenant in the token request: set PARTNER_TENANT_ID to your Entra tenant ID (not common or organizations).',
};

export function managementClientRemediation(code: number | null): string {
  return (
    (code === null ? undefined : MANAGEMENT_CLIENT_REMEDIATION[code]) ??
    `Check PARTNER_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET against the client's registration in your tenant${code ? `; Microsoft's page for the code: https://login.microsoftonline.com/error?code=${code}` : ''}.`
  );
}

/** The codes with a remediation of their own for the Graph management client. */
export const MANAGEMENT_CLIENT_CODES: readonly number[] = Object.keys(MANAGEMENT_CLIENT_REMEDIATION).map(
  Number,
);

/** A verdict of the app-only tenant probe (src/clients/identity.ts probeTenant). */
export type TenantVerdict =
  'consented' | 'no-consent' | 'wrong-resource' | 'no-tenant' | 'secret-rejected' | 'unknown';

/** What a person does about a tenant probe's verdict ('' when consent exists and the org is there). */
export function tenantCheckRemediation(
  verdict: TenantVerdict,
  code: number | null,
  ctx: RemediationContext = {},
): string {
  switch (verdict) {
    case 'consented':
      return '';
    case 'no-consent':
      return CATALOG[7000229].remediation(ctx);
    case 'wrong-resource':
      return CATALOG[500011].remediation(ctx);
    case 'no-tenant':
      return CATALOG[90002].remediation(ctx);
    case 'secret-rejected':
      return "The shared app's client secret was refused (expired, or deleted in the portal): the app-registration owner replaces a refused secret in every account connector when an onboarding meets it; keep a worker running.";
    default:
      return classifyAadsts(code === null ? null : `AADSTS${code}`, ctx).remediation;
  }
}
