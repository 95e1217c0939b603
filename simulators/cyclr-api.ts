// Simulated Cyclr partner API (https://{CyclrAPIDomain}), mounted at /cyclr-api.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { randomBytes } from 'node:crypto';
import {
  connectorSummary,
  findConnector,
  findListedConnector,
  listedCatalog,
  type CatalogConnector,
} from './catalog.js';
import type { SimContext } from './context.js';
import { sendCyclrError } from './errors.js';
import type { AccountConnector, AccountConnectorProperty, CyclrAccount } from './state.js';
import { flatParams, iso7, isObject, sha256, str } from './util.js';

export const MASK = '********';
const API_TOKEN_SECONDS = 1209599;
const SIGN_IN_TOKEN_MS = 5 * 60_000;
const DENIED = 'Authorization has been denied for this request.';

interface Locals {
  clientId: string;
  scopedAccountId?: string;
  account?: CyclrAccount;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

function isSensitive(connector: CatalogConnector | undefined, name: string): boolean {
  return name === 'ClientSecret' || !!connector?.Parameters.find((p) => p.Name === name)?.IsSensitive;
}

export function propertyView(ac: AccountConnector, p: AccountConnectorProperty): Record<string, unknown> {
  const connector = findConnector(String(ac.connectorId));
  return {
    Name: p.name,
    Value: p.value !== null && isSensitive(connector, p.name) ? MASK : p.value,
    Id: p.id,
    AccountConnectorId: ac.id,
  };
}

export function accountConnectorView(ac: AccountConnector): Record<string, unknown> {
  const connector = findConnector(String(ac.connectorId));
  return {
    Id: ac.id,
    Name: ac.name,
    Description: ac.description,
    AuthValue: null,
    Authenticated: ac.authenticated,
    Connector: connector ? connectorSummary(connector) : null,
    IsPartnerIntegrationConnector: false,
    Properties: ac.properties.map((p) => propertyView(ac, p)),
    CustomFields: [],
  };
}

function accountView(a: CyclrAccount): Record<string, unknown> {
  return { Id: a.id, Name: a.name, Description: null, Timezone: 'UTC', CreatedDate: a.createdAt };
}

export function cyclrApiRouter(sim: SimContext): Router {
  const r = express.Router();
  const now = () => sim.now();

  // ---------------------------------------------------------------- OAuth token
  r.post('/oauth/token', express.urlencoded({ extended: false }), (req, res) => {
    const p = req.is('application/x-www-form-urlencoded') ? flatParams(req.body) : {};
    if (p.grant_type !== 'client_credentials')
      return res.status(400).json({ error: 'unsupported_grant_type' });
    const c = sim.state.cyclrClient;
    if (p.client_id !== c.clientId || !p.client_secret || sha256(p.client_secret) !== c.secretHash) {
      return res.status(400).json({ error: 'invalid_client' });
    }
    let accountId: string | undefined;
    if (p.scope) {
      const m = /^account:(.+)$/.exec(p.scope.trim());
      if (!m || !sim.state.cyclr.accounts.some((a) => a.id === m[1]))
        return res.status(400).json({ error: 'invalid_scope' });
      accountId = m[1];
    }
    const token = randomBytes(96).toString('base64url');
    sim.state.cyclr.apiTokens[sha256(token)] = {
      clientId: c.clientId,
      accountId,
      expiresAtMs: now() + API_TOKEN_SECONDS * 1000,
    };
    sim.issued(token);
    sim.changed();
    res.status(200).set('Cache-Control', 'no-cache').json({
      token_type: 'bearer',
      access_token: token,
      expires_in: API_TOKEN_SECONDS,
      clientId: c.clientId,
    });
  });

  // ---------------------------------------------------------------- /v1.0 auth
  const v1 = express.Router();
  r.use('/v1.0', v1);

  v1.use((req: Request, res: Response, next: NextFunction) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const tok = m ? sim.state.cyclr.apiTokens[sha256(m[1])] : undefined;
    if (!tok || tok.expiresAtMs <= now()) return sendCyclrError(res, 401, DENIED);
    const header = req.get('x-cyclr-account')?.trim();
    if (tok.accountId && header && header !== tok.accountId) return sendCyclrError(res, 401, DENIED);
    Object.assign(res.locals, { clientId: tok.clientId, scopedAccountId: tok.accountId } satisfies Locals);
    next();
  });
  v1.use(express.json({ limit: '1mb', type: () => true }));

  /** Resolves X-Cyclr-Account (or the token's account scope); sends the error and returns false if unusable. */
  const needAccount = (req: Request, res: Response, next: NextFunction): void => {
    const id = req.get('x-cyclr-account')?.trim() || locals(res).scopedAccountId;
    if (!id) return sendCyclrError(res, 400, 'The X-Cyclr-Account header is required for this request.');
    const account = sim.state.cyclr.accounts.find((a) => a.id === id);
    if (!account) return sendCyclrError(res, 404, `Account '${id}' not found.`);
    locals(res).account = account;
    next();
  };
  const optionalAccount = (req: Request, res: Response, next: NextFunction): void => {
    if (req.get('x-cyclr-account') || locals(res).scopedAccountId) return needAccount(req, res, next);
    next();
  };

  // ---------------------------------------------------------------- connectors catalog
  v1.get('/connectors', optionalAccount, (req, res) => {
    const q = flatParams(req.query);
    let list = listedCatalog(sim.state.cyclr.catalogOverrides).filter(
      (c) => !q.query || c.Name.toLowerCase().includes(q.query.toLowerCase()),
    );
    const pageSize = Math.max(1, Math.min(1000, Number(q.pageSize) || 50));
    const page = Math.max(1, Number(q.page) || 1);
    const total = list.length;
    list = list.slice((page - 1) * pageSize, page * pageSize);
    res
      .set('Total-Pages', String(Math.max(1, Math.ceil(total / pageSize))))
      .set('Total-Records', String(total));
    res.status(200).json(list);
  });
  v1.get('/connectors/:name', optionalAccount, (req, res) => {
    const c = findListedConnector(sim.state.cyclr.catalogOverrides, String(req.params.name));
    res.status(200).json(c ? [c] : []);
  });
  v1.get('/connectors/:name/:version', optionalAccount, (req, res) => {
    const c = findListedConnector(sim.state.cyclr.catalogOverrides, String(req.params.name));
    res.status(200).json(c && c.Version === req.params.version ? [c] : []);
  });

  /** Validates {Name, Value} property input against the connector; returns an error message. */
  const propertyError = (connector: CatalogConnector, name: unknown): string | undefined => {
    const n = typeof name === 'string' ? name : '';
    const param = connector.Parameters.find((p) => p.Name.toLowerCase() === n.toLowerCase());
    if (!param) return `There is not a connector property that matches name '${n}'.`;
    if (!param.IsAccountConnectorProperty)
      return `Connector property name '${param.Name}' is not an account connector property.`;
    return undefined;
  };
  const canonicalName = (connector: CatalogConnector, name: string): string =>
    connector.Parameters.find((p) => p.Name.toLowerCase() === name.toLowerCase())?.Name ?? name;
  const valueOf = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

  const recordWrite = (ac: AccountConnector, name: string, method: string) => {
    sim.state.counts.propertyWrites++;
    sim.state.propertyWrites.push({
      accountConnectorId: ac.id,
      name,
      method,
      at: new Date(now()).toISOString(),
    });
  };

  v1.post('/connectors/:connector/install', needAccount, (req, res) => {
    const connector = findListedConnector(sim.state.cyclr.catalogOverrides, String(req.params.connector));
    if (!connector) return sendCyclrError(res, 404, `Connector '${req.params.connector}' not found.`);
    if (connector.Status !== 'Approved') {
      const why = connector.Status === 'Draft' ? 'is a draft' : `has status '${connector.Status}'`;
      return sendCyclrError(res, 400, `Connector ${connector.Id} ${why} and cannot be installed.`);
    }
    const body = isObject(req.body) ? req.body : {};
    const props = Array.isArray(body.Properties) ? body.Properties.filter(isObject) : [];
    for (const p of props) {
      const err = propertyError(connector, p.Name);
      if (err) return sendCyclrError(res, 400, err);
    }
    const ac: AccountConnector = {
      id: sim.state.cyclr.nextAccountConnectorId++,
      accountId: locals(res).account!.id,
      connectorId: connector.Id,
      name: typeof body.Name === 'string' && body.Name ? body.Name : connector.Name,
      description: typeof body.Description === 'string' ? body.Description : null,
      authenticated: false,
      properties: [],
      createdAt: new Date(now()).toISOString(),
    };
    for (const p of props) {
      const name = canonicalName(connector, String(p.Name));
      const existing = ac.properties.find((x) => x.name === name);
      if (existing) existing.value = valueOf(p.Value);
      else ac.properties.push({ id: sim.state.cyclr.nextPropertyId++, name, value: valueOf(p.Value) });
      recordWrite(ac, name, 'INSTALL');
    }
    sim.state.cyclr.accountConnectors.push(ac);
    sim.state.counts.connectorsInstalled++;
    sim.changed();
    res.status(200).json(accountConnectorView(ac));
  });

  // ---------------------------------------------------------------- account connectors
  const findAc = (res: Response, id: unknown): AccountConnector | undefined => {
    const n = Number(id);
    return sim.state.cyclr.accountConnectors.find(
      (a) => a.id === n && a.accountId === locals(res).account!.id,
    );
  };
  const acNotFound = (res: Response, id: unknown) =>
    sendCyclrError(res, 404, `Account Connector '${String(id)}' not found.`);

  v1.get('/account/connectors', needAccount, (_req, res) => {
    const list = sim.state.cyclr.accountConnectors.filter((a) => a.accountId === locals(res).account!.id);
    res.status(200).json(list.map(accountConnectorView));
  });
  v1.get('/account/connectors/:id', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    return ac ? res.status(200).json(accountConnectorView(ac)) : acNotFound(res, req.params.id);
  });
  v1.put('/account/connectors/:id', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const body = isObject(req.body) ? req.body : {};
    if (typeof body.Name === 'string' && body.Name) ac.name = body.Name;
    if ('Description' in body) ac.description = valueOf(body.Description);
    sim.changed();
    res.status(200).json(accountConnectorView(ac));
  });
  v1.delete('/account/connectors/:id', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    sim.state.cyclr.accountConnectors = sim.state.cyclr.accountConnectors.filter((a) => a !== ac);
    sim.changed();
    res.status(200).end();
  });
  v1.put('/account/connectors/:id/deauthenticate', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    ac.authenticated = false;
    delete ac.tokens;
    sim.changed();
    res.status(200).json({ Message: `Connector '${ac.name}' successfully de-authenticated.` });
  });

  // ---------------------------------------------------------------- properties
  v1.get('/account/connectors/:id/properties', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const q = flatParams(req.query);
    const list = [...ac.properties];
    if (q.orderBy && ['name', 'id', 'value'].includes(q.orderBy.toLowerCase())) {
      const k = q.orderBy.toLowerCase() as 'name' | 'id' | 'value';
      const dir = q.sortOrderAsc === 'false' ? -1 : 1;
      list.sort((a, b) =>
        String(a[k] ?? '') < String(b[k] ?? '') ? -dir : String(a[k] ?? '') > String(b[k] ?? '') ? dir : 0,
      );
    }
    res.status(200).json(list.map((p) => propertyView(ac, p)));
  });
  v1.post('/account/connectors/:id/properties', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const connector = findConnector(String(ac.connectorId))!;
    const body = isObject(req.body) ? req.body : {};
    const err = propertyError(connector, body.Name);
    if (err) return sendCyclrError(res, 400, err);
    const name = canonicalName(connector, String(body.Name));
    if (ac.properties.some((p) => p.name === name)) {
      return sendCyclrError(res, 400, `Account connector property '${name}' already exists.`);
    }
    const prop: AccountConnectorProperty = {
      id: sim.state.cyclr.nextPropertyId++,
      name,
      value: valueOf(body.Value),
    };
    ac.properties.push(prop);
    recordWrite(ac, name, 'POST');
    sim.changed();
    res.status(200).json(propertyView(ac, prop));
  });
  const findProp = (ac: AccountConnector, id: unknown) => ac.properties.find((p) => p.id === Number(id));
  const propNotFound = (res: Response, id: unknown) =>
    sendCyclrError(res, 404, `Account Connector Property '${String(id)}' not found.`);

  v1.get('/account/connectors/:id/properties/:propertyId', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const prop = findProp(ac, req.params.propertyId);
    return prop ? res.status(200).json(propertyView(ac, prop)) : propNotFound(res, req.params.propertyId);
  });
  v1.put('/account/connectors/:id/properties/:propertyId', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const prop = findProp(ac, req.params.propertyId);
    if (!prop) return propNotFound(res, req.params.propertyId);
    const body = isObject(req.body) ? req.body : {};
    if ('Value' in body) prop.value = valueOf(body.Value);
    recordWrite(ac, prop.name, 'PUT');
    sim.changed();
    res.status(200).json(propertyView(ac, prop));
  });
  v1.delete('/account/connectors/:id/properties/:propertyId', needAccount, (req, res) => {
    const ac = findAc(res, req.params.id);
    if (!ac) return acNotFound(res, req.params.id);
    const prop = findProp(ac, req.params.propertyId);
    if (!prop) return propNotFound(res, req.params.propertyId);
    ac.properties = ac.properties.filter((p) => p !== prop);
    recordWrite(ac, prop.name, 'DELETE');
    sim.changed();
    res.status(200).end();
  });

  // ---------------------------------------------------------------- accounts + sign-in tokens
  const accountAllowed = (res: Response, id: string) =>
    !locals(res).scopedAccountId || locals(res).scopedAccountId === id;

  v1.get('/accounts', (_req, res) => {
    res.status(200).json(sim.state.cyclr.accounts.filter((a) => accountAllowed(res, a.id)).map(accountView));
  });
  v1.post('/accounts', (req, res) => {
    const body = isObject(req.body) ? req.body : {};
    const name = str(body.Name);
    if (!name) return sendCyclrError(res, 400, 'Name is required.');
    const id = str(body.Id) || randomBytes(16).toString('hex');
    if (sim.state.cyclr.accounts.some((a) => a.id === id))
      return sendCyclrError(res, 400, 'ID already in use');
    const account: CyclrAccount = { id, name, createdAt: new Date(now()).toISOString() };
    sim.state.cyclr.accounts.push(account);
    sim.changed();
    res.status(200).json(accountView(account));
  });
  v1.get('/accounts/:accountId', (req, res) => {
    const a = sim.state.cyclr.accounts.find((x) => x.id === req.params.accountId);
    if (!a || !accountAllowed(res, a.id))
      return sendCyclrError(res, 404, `Account '${req.params.accountId}' not found.`);
    res.status(200).json(accountView(a));
  });
  v1.post('/accounts/:accountId/signintoken', (req, res) => {
    const a = sim.state.cyclr.accounts.find((x) => x.id === req.params.accountId);
    if (!a || !accountAllowed(res, a.id))
      return sendCyclrError(res, 404, `Account '${req.params.accountId}' not found.`);
    const body = isObject(req.body) ? req.body : {};
    const username = str(body.Username);
    if (!username) return sendCyclrError(res, 400, 'Username is required.');
    const token = randomBytes(20).toString('base64');
    const expiresAtMs = now() + SIGN_IN_TOKEN_MS;
    sim.state.cyclr.signInTokens[sha256(token)] = { accountId: a.id, username, expiresAtMs };
    sim.state.counts.signInTokensIssued++;
    sim.issued(token);
    sim.changed();
    res.status(200).json({ Token: token, ExpiresAtUtc: iso7(expiresAtMs) });
  });

  // ---------------------------------------------------------------- fallbacks
  r.use((req, res) => {
    sendCyclrError(
      res,
      404,
      `No HTTP resource was found that matches the request URI '${sim.url('/cyclr-api' + req.path)}'.`,
    );
  });
  r.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = isObject(err) && typeof err.status === 'number' ? err.status : 500;
    sendCyclrError(res, status, status === 400 ? 'The request is invalid.' : 'An error has occurred.');
  });
  return r;
}
