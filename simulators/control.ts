// Control API for tests and demos (/_sim): seed tenants and accounts, grant consent, inject
// faults, move the clock, and read back what happened.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { CATALOG, DYNAMICS_CONNECTOR_ID, findConnector } from './catalog.js';
import type { SimContext } from './context.js';
import { MASK } from './cyclr-api.js';
import { redirectUris, requiredResourceAccess, signInAudience } from './directory.js';
import { faultSpecSchema, type Faults } from './faults.js';
import type { RequestLog } from './reqlog.js';
import { DEMO_ACCOUNT_ID, DEMO_TENANT_ID, PARTNER_DOMAIN, type Tenant } from './state.js';
import { GUID_RE, isObject } from './util.js';

const tenantSchema = z.object({
  tenantId: z.string().regex(GUID_RE, 'tenantId must be a GUID'),
  domain: z.string().min(1),
  displayName: z.string().min(1).optional(),
  orgs: z.array(z.url()).default([]),
  users: z.array(z.object({ username: z.string().min(1), admin: z.boolean().default(false) })).default([]),
});
const consentSchema = z.object({ appId: z.string().min(1), by: z.string().optional() });
const accountSchema = z.object({ accountId: z.string().min(1), name: z.string().min(1).optional() });
const settingsSchema = z.object({
  replicationDelayMs: z.number().int().min(0).optional(),
  consentPropagationMs: z.number().int().min(0).optional(),
});
const clockSchema = z.object({
  advanceMs: z.number().int().optional(),
  offsetMs: z.number().int().optional(),
});
const connectorSettingsSchema = z.record(z.string(), z.string());

function bad(res: Response, error: z.ZodError | string): void {
  res.status(400).json({ error: typeof error === 'string' ? error : z.prettifyError(error) });
}

function tenantView(t: Tenant) {
  return { tenantId: t.id, domain: t.domain, displayName: t.displayName, orgs: t.orgs, users: t.users };
}

export function controlRouter(sim: SimContext, faults: Faults, log: RequestLog): Router {
  const r = express.Router();
  r.use(express.json({ limit: '1mb' }));

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
    const nowMs = sim.now();
    const existing = sim.state.consents.find(
      (c) => c.tenantId === tenant.id && c.appId.toLowerCase() === p.data.appId.toLowerCase(),
    );
    const record = existing ?? {
      tenantId: tenant.id,
      appId: p.data.appId,
      grantedAt: '',
      grantedAtMs: 0,
      by: '',
    };
    record.grantedAt = new Date(nowMs).toISOString();
    record.grantedAtMs = nowMs;
    record.by = p.data.by ?? 'portal';
    if (!existing) sim.state.consents.push(record);
    sim.state.counts.consentsGranted++;
    sim.changed();
    res.status(201).json(record);
  });
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
  r.get('/cyclr/connectors', (_req, res) => {
    res.json(
      CATALOG.map((c) => ({
        Id: c.Id,
        Name: c.Name,
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
      applications: s.applications.map((a) => ({
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
      servicePrincipals: s.servicePrincipals.map((sp) => ({
        id: sp.id,
        appId: sp.appId,
        createdDateTime: sp.createdDateTime,
      })),
      consents: s.consents.map((c) => ({
        tenantId: c.tenantId,
        appId: c.appId,
        grantedAt: c.grantedAt,
        by: c.by,
      })),
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
