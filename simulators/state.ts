// The simulators' whole mutable world, as one JSON-serialisable object, plus the seed.
// Secrets are kept as sha256 hashes where the simulator only needs to check them.

export interface AppRoleAssignment {
  /** The application (client id) whose role this is. */
  appId: string;
  /** The role's `value` (what the `roles` claim carries), e.g. `Onboarding.Operator`. */
  value: string;
}

export interface SimUser {
  username: string;
  admin: boolean;
  displayName?: string;
  /** Object ids of the security groups the user is a member of (the `groups` claim). */
  groups?: string[];
  appRoles?: AppRoleAssignment[];
}

export interface Group {
  id: string;
  displayName: string;
}

export interface Tenant {
  id: string;
  domain: string;
  displayName: string;
  /** Dynamics org URLs (the valid `resource` values for tokens in this tenant). */
  orgs: string[];
  users: SimUser[];
  /** Users may consent for themselves to apps (the tenant's user consent setting). Default false. */
  usersMayConsent?: boolean;
  /** The admin consent workflow: users who may not consent can request approval. Default false. */
  adminConsentWorkflow?: boolean;
  groups?: Group[];
}

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string;
  startDateTime: string;
  endDateTime: string;
  customKeyIdentifier: null;
  secretHash: string;
}

export interface Application {
  id: string;
  appId: string;
  uniqueName: string | null;
  displayName: string;
  /** Tenant that owns the registration (the partner tenant for Graph-created apps). */
  homeTenantId: string;
  createdDateTime: string;
  createdAtMs: number;
  /** Every other writable Graph property (signInAudience, web, requiredResourceAccess, ...). */
  props: Record<string, unknown>;
  passwordCredentials: PasswordCredential[];
  /** `control`: registered through the control API (an ops sign-in app), not through Graph. */
  source?: 'graph' | 'control';
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  /** Tenant the service principal lives in; absent (older state files) = the partner tenant. */
  tenantId?: string;
  createdDateTime: string;
  createdAtMs: number;
}

export interface Consent {
  tenantId: string;
  appId: string;
  grantedAt: string;
  grantedAtMs: number;
  by: string;
  /** Set for a user's consent for themselves only; absent = tenant-wide (admin) consent. */
  user?: string;
}

export interface ApprovalRequest {
  id: string;
  tenantId: string;
  appId: string;
  username: string;
  justification: string;
  requestedAt: string;
  status: 'pending';
}

/** A signed-in user between two pages of one authorize request (Entra's `ctx`). */
export interface Interaction {
  username: string;
  tenantId: string;
  expiresAtMs: number;
}

export interface SigningKey {
  kid: string;
  /** PKCS#8 PEM. Kept in the state file so tokens stay verifiable across restarts. */
  privateKeyPem: string;
  /** Public RSA parameters (base64url), as published in the JWKS. */
  n: string;
  e: string;
  createdAt: string;
}

export interface BuiltinClient {
  appId: string;
  displayName: string;
  tenantId: string;
  secretHash: string;
  /** Graph management client only: it holds the permission to manage applications (default true). */
  canManageApplications?: boolean;
  /** Graph management client only: its secret has lapsed (AADSTS7000222). */
  secretExpired?: boolean;
}

export interface AuthCode {
  tenantId: string;
  appId: string;
  redirectUri: string;
  resource?: string;
  scope?: string;
  username: string;
  issuedAtMs: number;
  expiresAtMs: number;
  redeemedAtMs?: number;
  /** PKCE, as sent to authorize. */
  codeChallenge?: string;
  codeChallengeMethod?: string;
  /** OpenID Connect nonce from authorize, echoed in the id token. */
  nonce?: string;
}

export interface IssuedToken {
  kind: 'access' | 'refresh';
  appId: string;
  tenantId: string;
  resource: string;
  username?: string;
  scope?: string;
  expiresAtMs: number;
}

export interface CyclrAccount {
  id: string;
  name: string;
  createdAt: string;
}

export interface AccountConnectorProperty {
  id: number;
  name: string;
  value: string | null;
}

export interface AuthError {
  error: string;
  error_description: string;
  error_codes?: number[];
  at: string;
}

export interface AccountConnector {
  id: number;
  accountId: string;
  connectorId: number;
  name: string;
  description: string | null;
  authenticated: boolean;
  properties: AccountConnectorProperty[];
  /** Tokens Cyclr captured from the identity provider (never returned by any API). */
  tokens?: { accessToken: string; refreshToken?: string; expiresOn?: string; resource?: string };
  lastAuthError?: AuthError;
  lastAuthenticatedAt?: string;
  createdAt: string;
}

export interface SignInToken {
  accountId: string;
  username: string;
  expiresAtMs: number;
  usedAtMs?: number;
}

export interface CyclrApiToken {
  clientId: string;
  accountId?: string;
  expiresAtMs: number;
}

export interface AuthSession {
  accountConnectorId: number;
  targetOrigin: string;
  callbackMessage?: string;
  clientId: string;
  resource: string;
  createdAtMs: number;
}

export interface Counts {
  applicationsCreated: number;
  servicePrincipalsCreated: number;
  passwordsAdded: number;
  passwordsRemoved: number;
  connectorsInstalled: number;
  propertyWrites: number;
  signInTokensIssued: number;
  tokenRedemptions: number;
  tokenRedemptionFailures: number;
  consentsGranted: number;
}

export interface Settings {
  /** New applications are invisible to reads/addPassword/SP creation/sign-in for this long. */
  replicationDelayMs: number;
  /** A new consent is ignored by the token endpoint for this long. */
  consentPropagationMs: number;
  /** What Cyclr appends to targetOrigin after the OAuth callback (default `query`). */
  cyclrRedirectOutcome?: 'query' | 'none';
}

export interface SimState {
  version: 1;
  clockOffsetMs: number;
  settings: Settings;
  partnerTenantId: string;
  graphClient: BuiltinClient;
  cyclrClient: { clientId: string; secretHash: string };
  tenants: Tenant[];
  applications: Application[];
  servicePrincipals: ServicePrincipal[];
  consents: Consent[];
  approvalRequests: ApprovalRequest[];
  interactions: Record<string, Interaction>;
  signingKeys: SigningKey[];
  authCodes: Record<string, AuthCode>;
  tokens: Record<string, IssuedToken>;
  cyclr: {
    accounts: CyclrAccount[];
    /** Partner-level connector settings (the Cyclr console values), by connector id. */
    connectorSettings: Record<string, Record<string, string>>;
    /** Changes to the static catalog, by connector id: removed, or another Status. */
    catalogOverrides: Record<string, { removed?: boolean; Status?: string }>;
    accountConnectors: AccountConnector[];
    nextAccountConnectorId: number;
    nextPropertyId: number;
    apiTokens: Record<string, CyclrApiToken>;
    signInTokens: Record<string, SignInToken>;
    authSessions: Record<string, AuthSession>;
  };
  counts: Counts;
  propertyWrites: { accountConnectorId: number; name: string; method: string; at: string }[];
  secretsIssued: string[];
}

export const PARTNER_TENANT_ID = '11111111-1111-4111-8111-111111111111';
export const PARTNER_DOMAIN = 'partner.example';
export const DEMO_TENANT_ID = '22222222-2222-4222-8222-222222222222';
export const DEMO_ACCOUNT_ID = 'demo-account';
/** The partner's own sign-in app for the product's ops page (OpenID Connect, partner tenant). */
export const OPS_APP_ID = '33333333-3333-4333-8333-333333333333';
export const OPS_GROUP_ID = '44444444-4444-4444-8444-444444444444';
export const OPS_APP_ROLE = 'Onboarding.Operator';
export const OPS_APP_ROLE_ID = '55555555-5555-4555-8555-555555555555';
export const OPS_USER = `ops@${PARTNER_DOMAIN}`;
export const PLAIN_PARTNER_USER = `staff@${PARTNER_DOMAIN}`;

export interface SeedCredentials {
  graphClientId: string;
  graphClientSecret: string;
  cyclrClientId: string;
  cyclrClientSecret: string;
  opsClientSecret: string;
}

export function seedCredentials(env: NodeJS.ProcessEnv = process.env): SeedCredentials {
  return {
    graphClientId: env.SIM_GRAPH_CLIENT_ID || 'sim-graph-admin-client',
    graphClientSecret: env.SIM_GRAPH_CLIENT_SECRET || 'sim-graph-admin-secret',
    cyclrClientId: env.SIM_CYCLR_CLIENT_ID || 'sim-cyclr-client',
    cyclrClientSecret: env.SIM_CYCLR_CLIENT_SECRET || 'sim-cyclr-secret',
    opsClientSecret: env.SIM_OPS_CLIENT_SECRET || 'sim-ops-secret',
  };
}

export function zeroCounts(): Counts {
  return {
    applicationsCreated: 0,
    servicePrincipalsCreated: 0,
    passwordsAdded: 0,
    passwordsRemoved: 0,
    connectorsInstalled: 0,
    propertyWrites: 0,
    signInTokensIssued: 0,
    tokenRedemptions: 0,
    tokenRedemptionFailures: 0,
    consentsGranted: 0,
  };
}

/**
 * A fresh world. With `seed`, it holds the partner tenant, a demo customer tenant with a Dynamics
 * org and a demo Cyclr account; without, only the partner tenant and the built-in clients (which
 * every mode needs).
 */
export function freshState(creds: SeedCredentials, hash: (s: string) => string, seed: boolean): SimState {
  const now = new Date().toISOString();
  const tenants: Tenant[] = [
    {
      id: PARTNER_TENANT_ID,
      domain: PARTNER_DOMAIN,
      displayName: 'Partner',
      orgs: [],
      users: [
        { username: `admin@${PARTNER_DOMAIN}`, admin: true },
        {
          username: OPS_USER,
          admin: false,
          displayName: 'Olive Operator',
          groups: [OPS_GROUP_ID],
          appRoles: [{ appId: OPS_APP_ID, value: OPS_APP_ROLE }],
        },
        { username: PLAIN_PARTNER_USER, admin: false, displayName: 'Sam Staff' },
      ],
      groups: [{ id: OPS_GROUP_ID, displayName: 'Onboarding operators' }],
    },
  ];
  const accounts: CyclrAccount[] = [];
  if (seed) {
    tenants.push({
      id: DEMO_TENANT_ID,
      domain: 'contoso.example',
      displayName: 'Contoso',
      orgs: ['https://contoso.crm.dynamics.com'],
      users: [
        { username: 'admin@contoso.example', admin: true },
        { username: 'user@contoso.example', admin: false },
      ],
    });
    accounts.push({ id: DEMO_ACCOUNT_ID, name: 'Contoso (demo)', createdAt: now });
  }
  return {
    version: 1,
    clockOffsetMs: 0,
    settings: { replicationDelayMs: 0, consentPropagationMs: 0, cyclrRedirectOutcome: 'query' },
    partnerTenantId: PARTNER_TENANT_ID,
    graphClient: {
      appId: creds.graphClientId,
      displayName: 'Partner Graph management client',
      tenantId: PARTNER_TENANT_ID,
      secretHash: hash(creds.graphClientSecret),
    },
    cyclrClient: { clientId: creds.cyclrClientId, secretHash: hash(creds.cyclrClientSecret) },
    tenants,
    applications: [opsApp(creds, hash, now)],
    // The ops app was registered and consented in the portal by the partner's admin.
    servicePrincipals: [
      {
        id: '66666666-6666-4666-8666-666666666666',
        appId: OPS_APP_ID,
        tenantId: PARTNER_TENANT_ID,
        createdDateTime: now,
        createdAtMs: 0,
      },
    ],
    consents: [
      {
        tenantId: PARTNER_TENANT_ID,
        appId: OPS_APP_ID,
        grantedAt: now,
        grantedAtMs: 0,
        by: `admin@${PARTNER_DOMAIN}`,
      },
    ],
    approvalRequests: [],
    interactions: {},
    signingKeys: [],
    authCodes: {},
    tokens: {},
    cyclr: {
      accounts,
      connectorSettings: {},
      catalogOverrides: {},
      accountConnectors: [],
      nextAccountConnectorId: 100001,
      nextPropertyId: 500001,
      apiTokens: {},
      signInTokens: {},
      authSessions: {},
    },
    counts: zeroCounts(),
    propertyWrites: [],
    secretsIssued: [],
  };
}

/** A confidential web app in the partner tenant for the ops page's OpenID Connect sign-in. */
function opsApp(creds: SeedCredentials, hash: (s: string) => string, now: string): Application {
  return {
    id: '77777777-7777-4777-8777-777777777777',
    appId: OPS_APP_ID,
    uniqueName: null,
    displayName: 'Onboarding operations',
    homeTenantId: PARTNER_TENANT_ID,
    createdDateTime: now,
    createdAtMs: 0,
    props: {
      signInAudience: 'AzureADMyOrg',
      web: { redirectUris: [] },
      groupMembershipClaims: 'SecurityGroup',
      appRoles: [
        {
          id: OPS_APP_ROLE_ID,
          value: OPS_APP_ROLE,
          displayName: 'Onboarding operator',
          description: 'Runs customer onboardings from the ops page.',
          allowedMemberTypes: ['User'],
          isEnabled: true,
        },
      ],
      requiredResourceAccess: [
        {
          resourceAppId: '00000003-0000-0000-c000-000000000000',
          resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
        },
      ],
    },
    passwordCredentials: [
      {
        keyId: '88888888-8888-4888-8888-888888888888',
        displayName: 'seeded',
        hint: creds.opsClientSecret.slice(0, 3),
        startDateTime: now,
        endDateTime: '2299-12-31T00:00:00Z',
        customKeyIdentifier: null,
        secretHash: hash(creds.opsClientSecret),
      },
    ],
    source: 'control',
  };
}

/**
 * Fills what older state files (written before these fields existed) lack, including the seeded
 * ops sign-in app and its partner-tenant users and group when they are missing.
 */
export function normaliseState(s: SimState, creds: SeedCredentials, hash: (s: string) => string): SimState {
  s.approvalRequests ??= [];
  s.interactions ??= {};
  s.signingKeys ??= [];
  s.cyclr.catalogOverrides ??= {};
  s.settings.cyclrRedirectOutcome ??= 'query';
  for (const sp of s.servicePrincipals) sp.tenantId ??= s.partnerTenantId;
  if (!s.applications.some((a) => a.appId === OPS_APP_ID)) {
    const seed = freshState(creds, hash, false);
    s.applications.push(opsApp(creds, hash, new Date().toISOString()));
    s.servicePrincipals.push(...seed.servicePrincipals.filter((sp) => sp.appId === OPS_APP_ID));
    s.consents.push(...seed.consents.filter((c) => c.appId === OPS_APP_ID));
    const partner = s.tenants.find((t) => t.id === s.partnerTenantId);
    const seeded = seed.tenants[0];
    if (partner) {
      for (const u of seeded.users)
        if (!partner.users.some((x) => x.username.toLowerCase() === u.username.toLowerCase()))
          partner.users.push(u);
      partner.groups ??= seeded.groups;
    }
  }
  return s;
}
