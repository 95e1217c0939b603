// The simulators' whole mutable world, as one JSON-serialisable object, plus the seed.
// Secrets are kept as sha256 hashes where the simulator only needs to check them.

export interface SimUser {
  username: string;
  admin: boolean;
}

export interface Tenant {
  id: string;
  domain: string;
  displayName: string;
  /** Dynamics org URLs (the valid `resource` values for tokens in this tenant). */
  orgs: string[];
  users: SimUser[];
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
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  createdDateTime: string;
  createdAtMs: number;
}

export interface Consent {
  tenantId: string;
  appId: string;
  grantedAt: string;
  grantedAtMs: number;
  by: string;
}

export interface BuiltinClient {
  appId: string;
  displayName: string;
  tenantId: string;
  secretHash: string;
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
  authCodes: Record<string, AuthCode>;
  tokens: Record<string, IssuedToken>;
  cyclr: {
    accounts: CyclrAccount[];
    /** Partner-level connector settings (the Cyclr console values), by connector id. */
    connectorSettings: Record<string, Record<string, string>>;
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

export interface SeedCredentials {
  graphClientId: string;
  graphClientSecret: string;
  cyclrClientId: string;
  cyclrClientSecret: string;
}

export function seedCredentials(env: NodeJS.ProcessEnv = process.env): SeedCredentials {
  return {
    graphClientId: env.SIM_GRAPH_CLIENT_ID || 'sim-graph-admin-client',
    graphClientSecret: env.SIM_GRAPH_CLIENT_SECRET || 'sim-graph-admin-secret',
    cyclrClientId: env.SIM_CYCLR_CLIENT_ID || 'sim-cyclr-client',
    cyclrClientSecret: env.SIM_CYCLR_CLIENT_SECRET || 'sim-cyclr-secret',
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
      users: [{ username: `admin@${PARTNER_DOMAIN}`, admin: true }],
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
    settings: { replicationDelayMs: 0, consentPropagationMs: 0 },
    partnerTenantId: PARTNER_TENANT_ID,
    graphClient: {
      appId: creds.graphClientId,
      displayName: 'Partner Graph management client',
      tenantId: PARTNER_TENANT_ID,
      secretHash: hash(creds.graphClientSecret),
    },
    cyclrClient: { clientId: creds.cyclrClientId, secretHash: hash(creds.cyclrClientSecret) },
    tenants,
    applications: [],
    servicePrincipals: [],
    consents: [],
    authCodes: {},
    tokens: {},
    cyclr: {
      accounts,
      connectorSettings: {},
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
