// Control API for tests and demos (/_sim): seed tenants and accounts, grant consent, inject
// faults, move the clock, and read back what happened.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { CATALOG, DYNAMICS_CONNECTOR_ID, findConnector } from './catalog.js';
import type { SimContext } from './context.js';
import { MASK } from './cyclr-api.js';
import { grantConsent, redirectUris, requiredResourceAccess, signInAudience } from './directory.js';
import { faultSpecSchema, type Faults } from './faults.js';
import type { RequestLog } from './reqlog.js';
import { userOid } from './context.js';
import {
  DEMO_ACCOUNT_ID,
  DEMO_TENANT_ID,
  OPS_APP_ID,
  OPS_APP_ROLE,
  OPS_GROUP_ID,
  OPS_USER,
  PARTNER_DOMAIN,
  PLAIN_PARTNER_USER,
  type Application,
  type SimUser,
  type Tenant,
} from './state.js';
import { guid, GUID_RE, isObject, randomString, sha256 } from './util.js';

const appRoleAssignmentSchema = z.object({ appId: z.string().min(1), value: z.string().min(1) });
const userSchema = z.object({
  username: z.string().min(1),
  admin: z.boolean().default(false),
  displayName: z.string().min(1).optional(),
  groups: z.array(z.string().min(1)).optional(),
  appRoles: z.array(appRoleAssignmentSchema).optional(),
});
const tenantSchema = z.object({
  tenantId: z.string().regex(GUID_RE, 'tenantId must be a GUID'),
  domain: z.string().min(1),
  displayName: z.string().min(1).optional(),
  orgs: z.array(z.url()).default([]),
  users: z.array(userSchema).default([]),
  usersMayConsent: z.boolean().default(false),
  adminConsentWorkflow: z.boolean().default(false),
  groups: z.array(z.object({ id: z.string().min(1), displayName: z.string().min(1) })).optional(),
});
const userUpdateSchema = userSchema
  .omit({ username: true, admin: true })
  .extend({ admin: z.boolean().optional() });
const consentSchema = z.object({
  appId: z.string().min(1),
  by: z.string().optional(),
  user: z.string().min(1).optional(),
});
const signInAppSchema = z.object({
  appId: z.string().regex(GUID_RE, 'appId must be a GUID').optional(),
  displayName: z.string().min(1).optional(),
  secret: z.string().min(8).optional(),
  redirectUris: z.array(z.url()).optional(),
  appRoles: z
    .array(
      z.object({
        value: z.string().min(1),
        displayName: z.string().min(1).optional(),
        id: z.string().regex(GUID_RE).optional(),
      }),
    )
    .optional(),
});
const graphClientSchema = z.object({
  canManageApplications: z.boolean().optional(),
  secretExpired: z.boolean().optional(),
});
const catalogSchema = z.object({ removed: z.boolean().optional(), Status: z.string().min(1).optional() });
const accountSchema = z.object({ accountId: z.string().min(1), name: z.string().min(1).optional() });
const settingsSchema = z.object({
  replicationDelayMs: z.number().int().min(0).optional(),
  consentPropagationMs: z.number().int().min(0).optional(),
  cyclrRedirectOutcome: z.enum(['query', 'none']).optional(),
});
const clockSchema = z.object({
  advanceMs: z.number().int().optional(),
  offsetMs: z.number().int().optional(),
});
const connectorSettingsSchema = z.record(z.string(), z.string());

function bad(res: Response, error: z.ZodError | string): void {
  res.status(400).json({ error: typeof error === 'string' ? error : z.prettifyError(error) });
}

function userView(t: Tenant, u: SimUser) {
  return {
    username: u.username,
    admin: u.admin,
    displayName: u.displayName ?? null,
    oid: userOid(t.id, u.username),
    groups: u.groups ?? [],
    appRoles: u.appRoles ?? [],
  };
}

function tenantView(t: Tenant) {
  return {
    tenantId: t.id,
    domain: t.domain,
    displayName: t.displayName,
    orgs: t.orgs,
    users: t.users.map((u) => userView(t, u)),
    usersMayConsent: !!t.usersMayConsent,
    adminConsentWorkflow: !!t.adminConsentWorkflow,
    groups: t.groups ?? [],
  };
}

/** The per-app settings of an app registered through the control API (an ops sign-in app). */
function signInAppView(a: Application) {
  return {
    appId: a.appId,
    tenantId: a.homeTenantId,
    displayName: a.displayName,
    redirectUris: redirectUris(a),
    appRoles: Array.isArray(a.props.appRoles)
      ? a.props.appRoles
          .filter(isObject)
          .map((r) => ({ id: r.id, value: r.value, displayName: r.displayName }))
      : [],
    passwordCredentials: a.passwordCredentials.map((p) => ({
      keyId: p.keyId,
      hint: p.hint,
      endDateTime: p.endDateTime,
    })),
  };
}

export function controlRouter(sim: SimContext, faults: Faults, log: RequestLog): Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));
  const consentView = (c: {
    tenantId: string;
    appId: string;
    grantedAt: string;
    by: string;
    user?: string;
  }) => ({
    tenantId: c.tenantId,
    appId: c.appId,
    grantedAt: c.grantedAt,
    by: c.by,
    user: c.user ?? null,
  });
  /** The seeded ops sign-in app of the partner tenant and its two people. */
  const opsSignIn = () => {
    const app = sim.state.applications.find((a) => a.appId === OPS_APP_ID);
    return app
      ? {
          tenantId: app.homeTenantId,
          appId: app.appId,
          clientSecret: sim.creds.opsClientSecret,
          redirectUris: redirectUris(app),
          appRole: OPS_APP_ROLE,
          groupId: OPS_GROUP_ID,
          operator: OPS_USER,
          nonOperator: PLAIN_PARTNER_USER,
        }
      : null;
  };
  const catalogView = (c: (typeof CATALOG)[number]) => {
    const o = sim.state.cyclr.catalogOverrides[String(c.Id)] ?? {};
    return { Id: c.Id, Name: c.Name, Status: o.Status ?? c.Status, removed: !!o.removed };
  };
  const graphClientView = () => ({
    appId: sim.state.graphClient.appId,
    tenantId: sim.state.graphClient.tenantId,
    canManageApplications: sim.state.graphClient.canManageApplications !== false,
    secretExpired: !!sim.state.graphClient.secretExpired,
  });

  r.post('/reset', (_req, res) => {
    sim.reset();
    faults.clear();
    log.clear();
    res.json({ ok: true });
  });

  r.get('/config', (_req, res) => {
    const demo = sim.tenantById(DEMO_TENANT_ID);
    res.json({
      baseUrl: sim.baseUrl,
      urls: {
        login: sim.url('/login'),
        graph: sim.url('/graph'),
        cyclrApi: sim.url('/cyclr-api'),
        cyclrApp: sim.url('/cyclr-app'),
        control: sim.url('/_sim'),
      },
      partnerTenantId: sim.state.partnerTenantId,
      partnerDomain: PARTNER_DOMAIN,
      graphClientId: sim.creds.graphClientId,
      graphClientSecret: sim.creds.graphClientSecret,
      graphScope: 'https://graph.microsoft.com/.default',
      cyclrClientId: sim.creds.cyclrClientId,
      cyclrClientSecret: sim.creds.cyclrClientSecret,
      dynamicsConnectorId: DYNAMICS_CONNECTOR_ID,
      cyclrCallbackUrl: sim.url('/cyclr-app/connector/callback'),
      openidConfiguration: sim.url(
        `/login/${sim.state.partnerTenantId}/v2.0/.well-known/openid-configuration`,
      ),
      opsSignIn: opsSignIn(),
      demo: demo
        ? {
            tenantId: demo.id,
            domain: demo.domain,
            org: demo.orgs[0],
            adminUser: demo.users.find((u) => u.admin)?.username,
            user: demo.users.find((u) => !u.admin)?.username,
            cyclrAccountId: DEMO_ACCOUNT_ID,
          }
        : null,
    });
  });

  // ------------------------------------------------------------------ tenants and consent
  r.get('/tenants', (_req, res) => {
    res.json(sim.state.tenants.map(tenantView));
  });
  r.post('/tenants', (req, res) => {
    const p = tenantSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    const t = p.data;
    for (const u of t.users) {
      const other = sim.findUser(u.username);
      if (other && other.tenant.id.toLowerCase() !== t.tenantId.toLowerCase()) {
        return res
          .status(409)
          .json({ error: `user ${u.username} already belongs to tenant ${other.tenant.id}` });
      }
    }
    const sameDomain = sim.findTenant(t.domain);
    const clash =
      sameDomain?.domain.toLowerCase() === t.domain.toLowerCase() &&
      sameDomain.id.toLowerCase() !== t.tenantId.toLowerCase()
        ? sameDomain
        : undefined;
    if (clash)
      return res.status(409).json({ error: `domain ${t.domain} already belongs to tenant ${clash.id}` });
    const tenant: Tenant = {
      id: t.tenantId.toLowerCase(),
      domain: t.domain,
      displayName: t.displayName ?? t.domain,
      orgs: t.orgs,
      users: t.users,
      usersMayConsent: t.usersMayConsent,
      adminConsentWorkflow: t.adminConsentWorkflow,
      ...(t.groups ? { groups: t.groups } : {}),
    };
    const existing = sim.tenantById(tenant.id);
    const idx = existing ? sim.state.tenants.indexOf(existing) : -1;
    if (idx >= 0) {
      sim.state.tenants[idx] = tenant;
      sim.tenantsChanged();
    } else sim.state.tenants.push(tenant);
    sim.changed();
    res.status(201).json(tenantView(tenant));
  });

  r.post('/tenants/:tenantId/consents', (req, res) => {
    const tenant = sim.findTenant(String(req.params.tenantId));
    if (!tenant) return res.status(404).json({ error: 'unknown tenant' });
    const p = consentSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    if (p.data.user && sim.findUser(p.data.user)?.tenant.id !== tenant.id)
      return bad(res, `user ${p.data.user} is not a user of tenant ${tenant.id}`);
    const record = grantConsent(sim, {
      tenantId: tenant.id,
      appId: p.data.appId,
      by: p.data.by ?? p.data.user ?? 'portal',
      ...(p.data.user ? { user: p.data.user } : {}),
    });
    res.status(201).json(consentView(record));
  });
  /** Revokes every consent (tenant-wide and users' own) for the app; its service principal stays. */
  r.delete('/tenants/:tenantId/consents/:appId', (req, res) => {
    const tenant = sim.findTenant(String(req.params.tenantId));
    if (!tenant) return res.status(404).json({ error: 'unknown tenant' });
    const before = sim.state.consents.length;
    const appId = String(req.params.appId).toLowerCase();
    sim.state.consents = sim.state.consents.filter(
      (c) => !(c.tenantId === tenant.id && c.appId.toLowerCase() === appId),
    );
    sim.changed();
    res.status(before === sim.state.consents.length ? 404 : 204).end();
  });
  /** The enterprise app is deleted in the tenant: its service principal and every consent go. */
  r.delete('/tenants/:tenantId/servicePrincipals/:appId', (req, res) => {
    const tenant = sim.findTenant(String(req.params.tenantId));
    if (!tenant) return res.status(404).json({ error: 'unknown tenant' });
    const appId = String(req.params.appId).toLowerCase();
    const mine = (x: { tenantId?: string; appId: string }) =>
      (x.tenantId ?? sim.state.partnerTenantId) === tenant.id && x.appId.toLowerCase() === appId;
    const before = sim.state.servicePrincipals.length;
    sim.state.servicePrincipals = sim.state.servicePrincipals.filter((sp) => !mine(sp));
    sim.state.consents = sim.state.consents.filter((c) => !mine(c));
    sim.changed();
    res.status(before === sim.state.servicePrincipals.length ? 404 : 204).end();
  });

  /** Creates or updates a user of the tenant: admin flag, display name, groups, app roles. */
  r.put('/tenants/:tenantId/users/:username', (req, res) => {
    const tenant = sim.findTenant(String(req.params.tenantId));
    if (!tenant) return res.status(404).json({ error: 'unknown tenant' });
    const p = userUpdateSchema.safeParse(req.body ?? {});
    if (!p.success) return bad(res, p.error);
    const username = String(req.params.username);
    const other = sim.findUser(username);
    if (other && other.tenant.id !== tenant.id)
      return res.status(409).json({ error: `user ${username} already belongs to tenant ${other.tenant.id}` });
    let user = tenant.users.find((u) => u.username.toLowerCase() === username.toLowerCase());
    const created = !user;
    if (!user) {
      user = { username, admin: false };
      tenant.users.push(user);
      sim.tenantsChanged();
    }
    if (p.data.admin !== undefined) user.admin = p.data.admin;
    if (p.data.displayName !== undefined) user.displayName = p.data.displayName;
    if (p.data.groups !== undefined) user.groups = p.data.groups;
    if (p.data.appRoles !== undefined) user.appRoles = p.data.appRoles;
    sim.changed();
    res.status(created ? 201 : 200).json(userView(tenant, user));
  });

  /**
   * Registers (or updates, by appId) a confidential web app in the tenant, as an admin does in the
   * portal for a sign-in app: single-tenant, a client secret, redirect URIs, app roles, and the
   * admin's consent. Meant for the partner's ops sign-in app.
   */
  r.post('/tenants/:tenantId/applications', (req, res) => {
    const tenant = sim.findTenant(String(req.params.tenantId));
    if (!tenant) return res.status(404).json({ error: 'unknown tenant' });
    const p = signInAppSchema.safeParse(req.body ?? {});
    if (!p.success) return bad(res, p.error);
    const d = p.data;
    let app = d.appId
      ? sim.state.applications.find((a) => a.appId.toLowerCase() === d.appId!.toLowerCase())
      : undefined;
    if (app && app.homeTenantId !== tenant.id)
      return res
        .status(409)
        .json({ error: `application ${app.appId} belongs to tenant ${app.homeTenantId}` });
    const nowMs = sim.now();
    const created = !app;
    if (!app) {
      app = {
        id: guid(),
        appId: d.appId?.toLowerCase() ?? guid(),
        uniqueName: null,
        displayName: d.displayName ?? 'Sign-in app',
        homeTenantId: tenant.id,
        createdDateTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        createdAtMs: 0,
        props: {
          signInAudience: 'AzureADMyOrg',
          web: { redirectUris: [] },
          groupMembershipClaims: 'SecurityGroup',
          appRoles: [],
          requiredResourceAccess: [
            {
              resourceAppId: '00000003-0000-0000-c000-000000000000',
              resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
            },
          ],
        },
        passwordCredentials: [],
        source: 'control',
      };
      sim.state.applications.push(app);
    }
    if (d.displayName) app.displayName = d.displayName;
    if (d.redirectUris)
      app.props.web = { ...(isObject(app.props.web) ? app.props.web : {}), redirectUris: d.redirectUris };
    if (d.appRoles) {
      app.props.appRoles = d.appRoles.map((r) => ({
        id: r.id ?? guid(),
        value: r.value,
        displayName: r.displayName ?? r.value,
        description: r.displayName ?? r.value,
        allowedMemberTypes: ['User'],
        isEnabled: true,
      }));
    }
    let clientSecret: string | undefined;
    if (d.secret || created) {
      clientSecret =
        d.secret ?? randomString(40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-');
      app.passwordCredentials = [
        {
          keyId: guid(),
          displayName: 'control',
          hint: clientSecret.slice(0, 3),
          startDateTime: new Date(nowMs).toISOString(),
          endDateTime: '2299-12-31T00:00:00Z',
          customKeyIdentifier: null,
          secretHash: sha256(clientSecret),
        },
      ];
    }
    // The registering admin consented for the tenant; that consent counts at once.
    const appId = app.appId;
    if (
      !sim.state.consents.some((c) => c.tenantId === tenant.id && c.appId === appId && c.user === undefined)
    ) {
      grantConsent(sim, { tenantId: tenant.id, appId, by: 'portal', atMs: 0 });
    }
    if (clientSecret) sim.issued(clientSecret);
    sim.changed();
    res
      .status(created ? 201 : 200)
      .json({ ...signInAppView(app), ...(clientSecret ? { clientSecret } : {}) });
  });

  /** The Graph management client's permission and secret (configuration-checker breakages). */
  r.get('/graph-client', (_req, res) => {
    res.json(graphClientView());
  });
  r.put('/graph-client', (req, res) => {
    const p = graphClientSchema.safeParse(req.body ?? {});
    if (!p.success) return bad(res, p.error);
    Object.assign(sim.state.graphClient, p.data);
    sim.changed();
    res.json(graphClientView());
  });

  // ------------------------------------------------------------------ Cyclr
  r.post('/cyclr/accounts', (req, res) => {
    const p = accountSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    let account = sim.state.cyclr.accounts.find((a) => a.id === p.data.accountId);
    if (!account) {
      account = {
        id: p.data.accountId,
        name: p.data.name ?? p.data.accountId,
        createdAt: new Date(sim.now()).toISOString(),
      };
      sim.state.cyclr.accounts.push(account);
    } else if (p.data.name) {
      account.name = p.data.name;
    }
    sim.changed();
    res.status(201).json(account);
  });

  /** Partner-level connector settings (the values typed into the Cyclr console). */
  r.put('/cyclr/connectors/:connectorId/settings', (req, res) => {
    const connector = findConnector(String(req.params.connectorId));
    if (!connector) return res.status(404).json({ error: 'unknown connector' });
    const p = connectorSettingsSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    sim.state.cyclr.connectorSettings[String(connector.Id)] = p.data;
    sim.changed();
    res.json({ connectorId: connector.Id, settings: Object.keys(p.data) });
  });
  /** The partner's catalog changes: the connector is removed, or gets another Status. */
  r.put('/cyclr/connectors/:connectorId/catalog', (req, res) => {
    const connector = findConnector(String(req.params.connectorId));
    if (!connector) return res.status(404).json({ error: 'unknown connector' });
    const p = catalogSchema.safeParse(req.body ?? {});
    if (!p.success) return bad(res, p.error);
    const key = String(connector.Id);
    const o = { ...sim.state.cyclr.catalogOverrides[key], ...p.data };
    if (!o.removed && (o.Status === undefined || o.Status === connector.Status))
      delete sim.state.cyclr.catalogOverrides[key];
    else sim.state.cyclr.catalogOverrides[key] = o;
    sim.changed();
    res.json(catalogView(connector));
  });
  r.get('/cyclr/connectors', (_req, res) => {
    res.json(
      CATALOG.map((c) => ({
        ...catalogView(c),
        settings: Object.fromEntries(
          Object.entries(sim.state.cyclr.connectorSettings[String(c.Id)] ?? {}).map(([k, v]) => [
            k,
            k === 'ClientSecret' ? MASK : v,
          ]),
        ),
      })),
    );
  });

  // ------------------------------------------------------------------ behaviour knobs
  r.get('/settings', (_req, res) => {
    res.json(sim.state.settings);
  });
  r.put('/settings', (req, res) => {
    const p = settingsSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    Object.assign(sim.state.settings, p.data);
    sim.changed();
    res.json(sim.state.settings);
  });
  r.get('/clock', (_req, res) => {
    res.json({ now: new Date(sim.now()).toISOString(), offsetMs: sim.state.clockOffsetMs });
  });
  r.post('/clock', (req, res) => {
    const p = clockSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    if (p.data.offsetMs !== undefined) sim.state.clockOffsetMs = p.data.offsetMs;
    if (p.data.advanceMs !== undefined) sim.state.clockOffsetMs += p.data.advanceMs;
    sim.changed();
    res.json({ now: new Date(sim.now()).toISOString(), offsetMs: sim.state.clockOffsetMs });
  });

  // ------------------------------------------------------------------ client secrets
  // What happens to a secret outside the product: it lapses (AADSTS7000222 from then on), or a
  // person deletes it in the portal (the value Cyclr holds gives AADSTS7000215).
  const appByKey = (key: string) =>
    sim.state.applications.find(
      (a) => a.appId.toLowerCase() === key.toLowerCase() || a.uniqueName?.toLowerCase() === key.toLowerCase(),
    );
  r.post('/applications/:app/secrets/:keyId/:action', (req, res) => {
    const app = appByKey(req.params.app);
    if (!app) return bad(res, `no application ${req.params.app}`);
    const idx = app.passwordCredentials.findIndex(
      (p) => p.keyId.toLowerCase() === req.params.keyId.toLowerCase(),
    );
    if (idx < 0) return bad(res, `no password credential ${req.params.keyId}`);
    if (req.params.action === 'expire') {
      app.passwordCredentials[idx].endDateTime = new Date(sim.now() - 1000).toISOString();
    } else if (req.params.action === 'delete') {
      app.passwordCredentials.splice(idx, 1);
    } else {
      return bad(res, 'action must be expire or delete');
    }
    sim.changed();
    res.json({ ok: true });
  });

  // ------------------------------------------------------------------ observation
  r.get('/state', (_req, res) => {
    const s = sim.state;
    res.json({
      now: new Date(sim.now()).toISOString(),
      settings: s.settings,
      tenants: s.tenants.map(tenantView),
      applications: s.applications
        .filter((a) => a.source !== 'control')
        .map((a) => ({
          id: a.id,
          appId: a.appId,
          uniqueName: a.uniqueName,
          displayName: a.displayName,
          signInAudience: signInAudience(a),
          redirectUris: redirectUris(a),
          requiredResourceAccess: requiredResourceAccess(a),
          createdDateTime: a.createdDateTime,
          passwordCredentials: a.passwordCredentials.map((p) => ({
            keyId: p.keyId,
            displayName: p.displayName,
            hint: p.hint,
            startDateTime: p.startDateTime,
            endDateTime: p.endDateTime,
          })),
        })),
      signInApplications: s.applications.filter((a) => a.source === 'control').map(signInAppView),
      servicePrincipals: s.servicePrincipals.map((sp) => ({
        id: sp.id,
        appId: sp.appId,
        tenantId: sp.tenantId ?? s.partnerTenantId,
        createdDateTime: sp.createdDateTime,
      })),
      consents: s.consents.map(consentView),
      approvalRequests: s.approvalRequests,
      graphClient: graphClientView(),
      catalogOverrides: s.cyclr.catalogOverrides,
      accounts: s.cyclr.accounts,
      accountConnectors: s.cyclr.accountConnectors.map((ac) => ({
        Id: ac.id,
        accountId: ac.accountId,
        connectorId: ac.connectorId,
        Name: ac.name,
        Authenticated: ac.authenticated,
        properties: Object.fromEntries(
          ac.properties.map((p) => [p.name, p.name === 'ClientSecret' && p.value !== null ? MASK : p.value]),
        ),
        lastAuthError: ac.lastAuthError ?? null,
        lastAuthenticatedAt: ac.lastAuthenticatedAt ?? null,
      })),
      counts: s.counts,
      propertyWrites: s.propertyWrites,
      secretsIssued: s.secretsIssued,
    });
  });

  r.get('/requests', (req, res) => {
    const since = Number(req.query.since ?? 0);
    res.json(log.since(Number.isFinite(since) ? since : 0));
  });
  r.get('/requests/summary', (_req, res) => {
    res.json(log.summary());
  });

  // ------------------------------------------------------------------ faults
  r.post('/faults', (req, res) => {
    const p = faultSpecSchema.safeParse(req.body);
    if (!p.success) return bad(res, p.error);
    const f = faults.add(p.data);
    res.status(201).json({ id: f.id });
  });
  r.get('/faults', (_req, res) => {
    res.json(faults.all());
  });
  r.delete('/faults', (_req, res) => {
    faults.clear();
    res.status(204).end();
  });
  r.delete('/faults/:id', (req, res) => {
    res.status(faults.remove(String(req.params.id)) ? 204 : 404).end();
  });

  r.use((_req, res) => {
    res.status(404).json({ error: 'unknown control endpoint' });
  });
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = isObject(err) && typeof err.status === 'number' ? err.status : 500;
    res.status(status).json({ error: err instanceof Error ? err.message : 'error' });
  });
  return r;
}
