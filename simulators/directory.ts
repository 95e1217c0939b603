// Directory facts shared by the identity and Graph simulators: which applications are visible
// (replication delay), their redirect URIs and audience, secrets, consents, resources.
import type { SimContext } from './context.js';
import type { Application, Consent, ServicePrincipal, Tenant } from './state.js';
import { guid, isObject, normaliseResource, sha256 } from './util.js';

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const DYNAMICS_APP_ID = '00000007-0000-0000-c000-000000000000';

/** Has the object replicated yet (settings.replicationDelayMs after creation)? */
export function replicated(sim: SimContext, createdAtMs: number): boolean {
  return createdAtMs + sim.state.settings.replicationDelayMs <= sim.now();
}

/** Application by appId, as the directory sees it (hidden until replicated). */
export function visibleApp(sim: SimContext, appId: string | undefined): Application | undefined {
  if (!appId) return undefined;
  const app = sim.state.applications.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
  return app && replicated(sim, app.createdAtMs) ? app : undefined;
}

export function redirectUris(app: Application): string[] {
  const web = app.props.web;
  if (isObject(web) && Array.isArray(web.redirectUris)) {
    return web.redirectUris.filter((u): u is string => typeof u === 'string');
  }
  return [];
}

export function signInAudience(app: Application): string {
  return typeof app.props.signInAudience === 'string' ? app.props.signInAudience : 'AzureADMyOrg';
}

export function isMultiTenant(app: Application): boolean {
  return signInAudience(app) !== 'AzureADMyOrg';
}

export interface RequiredResource {
  resourceAppId: string;
  resourceAccess: { id: string; type: string }[];
}

export function requiredResourceAccess(app: Application): RequiredResource[] {
  const rra = app.props.requiredResourceAccess;
  if (!Array.isArray(rra)) return [];
  return rra.filter(isObject).map((r) => ({
    resourceAppId: String(r.resourceAppId ?? ''),
    resourceAccess: Array.isArray(r.resourceAccess)
      ? r.resourceAccess.filter(isObject).map((a) => ({ id: String(a.id ?? ''), type: String(a.type ?? '') }))
      : [],
  }));
}

const KNOWN_PERMISSIONS: Record<string, string> = {
  [`${GRAPH_APP_ID}/e1fe6dd8-ba31-4d61-89e7-88639da4683d`]:
    'Microsoft Graph: Sign in and read user profile (User.Read)',
  [`${DYNAMICS_APP_ID}/78ce3f0f-a1ce-49c2-8cde-64b5c0896db4`]:
    'Dynamics CRM: Access Dynamics 365 as organization users (user_impersonation)',
};

/** Human-readable permission lines for a consent page (`delegatedOnly`: the Scope entries alone). */
export function permissionLines(app: Application, delegatedOnly = false): string[] {
  const lines: string[] = [];
  for (const r of requiredResourceAccess(app)) {
    for (const a of r.resourceAccess) {
      if (delegatedOnly && a.type !== 'Scope') continue;
      lines.push(
        KNOWN_PERMISSIONS[`${r.resourceAppId}/${a.id}`] ?? `${r.resourceAppId}: ${a.id} (${a.type})`,
      );
    }
  }
  return lines.length ? lines : ['Sign you in and read your profile'];
}

export type SecretCheck = 'ok' | 'expired' | 'invalid';

export function checkAppSecret(sim: SimContext, app: Application, secret: string): SecretCheck {
  const hash = sha256(secret);
  const matching = app.passwordCredentials.filter((p) => p.secretHash === hash);
  if (!matching.length) return 'invalid';
  const now = sim.now();
  return matching.some((p) => Date.parse(p.endDateTime) > now) ? 'ok' : 'expired';
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Does a consent cover this user for this app in this tenant: the tenant-wide (admin) consent, or
 * the user's own? With `propagated`, only consents older than `consentPropagationMs` count (what
 * the token endpoint sees); without, every recorded consent counts (what the sign-in pages see).
 */
export function consentCovers(
  sim: SimContext,
  tenantId: string,
  appId: string,
  username: string | undefined,
  propagated: boolean,
): boolean {
  const now = sim.now();
  return sim.state.consents.some(
    (c) =>
      same(c.tenantId, tenantId) &&
      same(c.appId, appId) &&
      (c.user === undefined || (username !== undefined && same(c.user, username))) &&
      (!propagated || c.grantedAtMs + sim.state.settings.consentPropagationMs <= now),
  );
}

/** Token-endpoint view: a propagated tenant-wide consent, or the user's own. */
export function hasConsent(sim: SimContext, tenantId: string, appId: string, username?: string): boolean {
  return consentCovers(sim, tenantId, appId, username, true);
}

/** The service principal of `appId` in `tenantId`, if there is one. */
export function servicePrincipalIn(
  sim: SimContext,
  tenantId: string,
  appId: string,
): ServicePrincipal | undefined {
  return sim.state.servicePrincipals.find(
    (sp) => same(sp.tenantId ?? sim.state.partnerTenantId, tenantId) && same(sp.appId, appId),
  );
}

/**
 * Records a consent (tenant-wide, or `user`'s own) and makes sure the app has a service principal
 * in that tenant, as consenting does in Entra. Counts `consentsGranted`.
 */
export function grantConsent(
  sim: SimContext,
  g: { tenantId: string; appId: string; by: string; user?: string; atMs?: number },
): Consent {
  const nowMs = g.atMs ?? sim.now();
  const existing = sim.state.consents.find(
    (c) =>
      same(c.tenantId, g.tenantId) &&
      same(c.appId, g.appId) &&
      (g.user === undefined ? c.user === undefined : c.user !== undefined && same(c.user, g.user)),
  );
  const record: Consent = existing ?? {
    tenantId: g.tenantId,
    appId: g.appId,
    grantedAt: '',
    grantedAtMs: 0,
    by: '',
  };
  record.grantedAt = new Date(nowMs).toISOString();
  record.grantedAtMs = nowMs;
  record.by = g.by;
  if (g.user !== undefined) record.user = g.user;
  if (!existing) sim.state.consents.push(record);
  if (!servicePrincipalIn(sim, g.tenantId, g.appId)) {
    sim.state.servicePrincipals.push({
      id: guid(),
      appId: g.appId,
      tenantId: g.tenantId,
      createdDateTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      createdAtMs: nowMs,
    });
  }
  sim.state.counts.consentsGranted++;
  sim.changed();
  return record;
}

export function isGraphResource(resource: string): boolean {
  return normaliseResource(resource) === GRAPH_RESOURCE;
}

/** Is `resource` one of the tenant's Dynamics org URLs (trailing slash and host case ignored)? */
export function isTenantOrg(tenant: Tenant, resource: string): boolean {
  const n = normaliseResource(resource);
  return n !== undefined && tenant.orgs.some((o) => normaliseResource(o) === n);
}

/** Audience of a v2 scope: everything before the last slash; bare names mean Microsoft Graph. */
export function resourceFromScope(scope: string | undefined): string | undefined {
  if (!scope) return undefined;
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    if (['openid', 'profile', 'email', 'offline_access'].includes(s.toLowerCase())) continue;
    const i = s.lastIndexOf('/');
    if (i <= 0) return GRAPH_RESOURCE;
    return s.slice(0, i);
  }
  return undefined;
}
