// Simulated Microsoft Graph (graph.microsoft.com) application and servicePrincipal APIs, at /graph.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SimContext } from './context.js';
import { isGraphResource, replicated } from './directory.js';
import { sendGraphError } from './errors.js';
import type { Application, PasswordCredential, ServicePrincipal } from './state.js';
import { guid, iso7, isObject, randomString, sha256 } from './util.js';

const CTX = 'https://graph.microsoft.com/v1.0/$metadata';
const SIGN_IN_AUDIENCES = [
  'AzureADMyOrg',
  'AzureADMultipleOrgs',
  'AzureADandPersonalMicrosoftAccount',
  'PersonalMicrosoftAccount',
];

/** Writable application properties accepted on create/update (everything else is rejected). */
const WRITABLE = new Set([
  'api',
  'appRoles',
  'defaultRedirectUri',
  'description',
  'disabledByMicrosoftStatus',
  'displayName',
  'groupMembershipClaims',
  'identifierUris',
  'info',
  'isDeviceOnlyAuthSupported',
  'isFallbackPublicClient',
  'notes',
  'optionalClaims',
  'parentalControlSettings',
  'publicClient',
  'requiredResourceAccess',
  'samlMetadataUrl',
  'serviceManagementReference',
  'servicePrincipalLockConfiguration',
  'signInAudience',
  'spa',
  'tags',
  'tokenEncryptionKeyId',
  'uniqueName',
  'web',
]);

const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789~._-';

function passwordView(p: PasswordCredential): Record<string, unknown> {
  return {
    customKeyIdentifier: null,
    displayName: p.displayName,
    endDateTime: p.endDateTime,
    hint: p.hint,
    keyId: p.keyId,
    secretText: null,
    startDateTime: p.startDateTime,
  };
}

function applicationView(sim: SimContext, app: Application): Record<string, unknown> {
  const p = app.props;
  const web = isObject(p.web) ? p.web : {};
  return {
    id: app.id,
    deletedDateTime: null,
    appId: app.appId,
    applicationTemplateId: null,
    disabledByMicrosoftStatus: p.disabledByMicrosoftStatus ?? null,
    createdDateTime: app.createdDateTime,
    displayName: app.displayName,
    description: p.description ?? null,
    groupMembershipClaims: p.groupMembershipClaims ?? null,
    identifierUris: p.identifierUris ?? [],
    isDeviceOnlyAuthSupported: p.isDeviceOnlyAuthSupported ?? null,
    isFallbackPublicClient: p.isFallbackPublicClient ?? null,
    nativeAuthenticationApisEnabled: null,
    notes: p.notes ?? null,
    publisherDomain: sim.tenantById(app.homeTenantId)?.domain ?? null,
    serviceManagementReference: p.serviceManagementReference ?? null,
    signInAudience: p.signInAudience ?? 'AzureADMyOrg',
    tags: p.tags ?? [],
    tokenEncryptionKeyId: p.tokenEncryptionKeyId ?? null,
    uniqueName: app.uniqueName,
    samlMetadataUrl: p.samlMetadataUrl ?? null,
    defaultRedirectUri: p.defaultRedirectUri ?? null,
    certification: null,
    optionalClaims: p.optionalClaims ?? null,
    servicePrincipalLockConfiguration: p.servicePrincipalLockConfiguration ?? null,
    requestSignatureVerification: null,
    addIns: [],
    api: p.api ?? {
      acceptMappedClaims: null,
      knownClientApplications: [],
      requestedAccessTokenVersion: null,
      oauth2PermissionScopes: [],
      preAuthorizedApplications: [],
    },
    appRoles: p.appRoles ?? [],
    info: p.info ?? {
      logoUrl: null,
      marketingUrl: null,
      privacyStatementUrl: null,
      supportUrl: null,
      termsOfServiceUrl: null,
    },
    keyCredentials: [],
    parentalControlSettings: p.parentalControlSettings ?? {
      countriesBlockedForMinors: [],
      legalAgeGroupRule: 'Allow',
    },
    passwordCredentials: app.passwordCredentials.map(passwordView),
    publicClient: p.publicClient ?? { redirectUris: [] },
    requiredResourceAccess: p.requiredResourceAccess ?? [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    web: {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: [],
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      redirectUriSettings: [],
      ...web,
    },
    spa: p.spa ?? { redirectUris: [] },
  };
}

function spView(sim: SimContext, sp: ServicePrincipal): Record<string, unknown> {
  const app = sim.state.applications.find((a) => a.appId === sp.appId);
  const web = app && isObject(app.props.web) ? app.props.web : {};
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: true,
    appDisplayName: app?.displayName ?? null,
    appId: sp.appId,
    appOwnerOrganizationId: app?.homeTenantId ?? sim.state.partnerTenantId,
    appRoleAssignmentRequired: false,
    createdDateTime: sp.createdDateTime,
    displayName: app?.displayName ?? null,
    servicePrincipalNames: [sp.appId],
    servicePrincipalType: 'Application',
    signInAudience: app?.props.signInAudience ?? 'AzureADMyOrg',
    tags: [],
    replyUrls: Array.isArray(web.redirectUris) ? web.redirectUris : [],
    passwordCredentials: [],
    keyCredentials: [],
  };
}

/** Validates a create/update body. Returns an error message or undefined. */
function validateBody(body: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.')) continue;
    if (key === 'passwordCredentials') {
      return "Property 'passwordCredentials' is read-only and cannot be set. Use the addPassword action to add a password credential.";
    }
    if (!WRITABLE.has(key)) return `Property '${key}' does not exist on type 'microsoft.graph.application'.`;
  }
  if ('displayName' in body && (typeof body.displayName !== 'string' || !body.displayName.trim())) {
    return "Invalid value specified for property 'displayName' of resource 'Application'.";
  }
  if ('signInAudience' in body && !SIGN_IN_AUDIENCES.includes(String(body.signInAudience))) {
    return "Invalid value specified for property 'signInAudience' of resource 'Application'.";
  }
  if ('web' in body) {
    if (!isObject(body.web)) return "Invalid value specified for property 'web' of resource 'Application'.";
    const uris = body.web.redirectUris;
    if (uris !== undefined) {
      if (!Array.isArray(uris))
        return "Invalid value specified for property 'web.redirectUris' of resource 'Application'.";
      for (const u of uris) {
        try {
          if (typeof u !== 'string') throw new Error();
          new URL(u);
        } catch {
          return `Invalid value specified for property 'web.redirectUris' of resource 'Application'.`;
        }
      }
    }
  }
  if ('requiredResourceAccess' in body) {
    const rra = body.requiredResourceAccess;
    const ok =
      Array.isArray(rra) &&
      rra.every(
        (r) =>
          isObject(r) &&
          typeof r.resourceAppId === 'string' &&
          Array.isArray(r.resourceAccess) &&
          r.resourceAccess.every(
            (a) => isObject(a) && typeof a.id === 'string' && (a.type === 'Scope' || a.type === 'Role'),
          ),
      );
    if (!ok)
      return "Invalid value specified for property 'requiredResourceAccess' of resource 'Application'.";
  }
  return undefined;
}

function applyPatch(app: Application, body: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@odata.')) continue;
    if (key === 'displayName') app.displayName = String(value);
    else if (key === 'uniqueName')
      continue; // immutable once set
    else if (key === 'web' && isObject(value) && isObject(app.props.web))
      app.props.web = { ...app.props.web, ...value };
    else app.props[key] = value;
  }
}

function plusTwoYears(ms: number): number {
  const d = new Date(ms);
  d.setUTCFullYear(d.getUTCFullYear() + 2);
  return d.getTime();
}

function noContent(res: Response): void {
  res.removeHeader('Content-Type');
  res.status(204).end();
}

type Lookup = { by: 'id' | 'appId' | 'uniqueName'; value: string };

/** Parses `applications/{id}`, `applications(appId='x')`, `applications(uniqueName='x')` segments. */
function parseKey(segment: string): Lookup | undefined {
  const m = /^\((appId|uniqueName)=(?:'((?:[^']|'')*)'|"([^"]*)")\)$/.exec(segment);
  if (m) return { by: m[1] as 'appId' | 'uniqueName', value: (m[2] ?? m[3] ?? '').replace(/''/g, "'") };
  return undefined;
}

export function graphRouter(sim: SimContext): Router {
  const r = express.Router();
  const now = () => sim.now();

  r.use((_req, res, next) => {
    res.setHeader(
      'Content-Type',
      'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
    );
    res.set('OData-Version', '4.0');
    next();
  });

  // Bearer token from the partner's Graph management client.
  r.use((req: Request, res: Response, next: NextFunction) => {
    const auth = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m)
      return sendGraphError(req, res, now(), 401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const tok = sim.state.tokens[sha256(m[1])];
    if (!tok || tok.kind !== 'access' || !isGraphResource(tok.resource)) {
      return sendGraphError(
        req,
        res,
        now(),
        401,
        'InvalidAuthenticationToken',
        'Access token validation failure. Invalid audience.',
      );
    }
    if (tok.expiresAtMs <= now()) {
      return sendGraphError(
        req,
        res,
        now(),
        401,
        'InvalidAuthenticationToken',
        'Lifetime validation failed, the token is expired.',
      );
    }
    if (tok.appId !== sim.state.graphClient.appId || sim.state.graphClient.canManageApplications === false) {
      return sendGraphError(
        req,
        res,
        now(),
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
    }
    next();
  });

  r.use(express.json({ limit: '1mb', type: () => true }));

  /** Graph here is the partner tenant's: service principals in customer tenants are not its own. */
  const partnerSps = () =>
    sim.state.servicePrincipals.filter(
      (sp) => (sp.tenantId ?? sim.state.partnerTenantId) === sim.state.partnerTenantId,
    );

  const findApp = (l: Lookup, respectReplication: boolean): Application | undefined => {
    const v = l.value.toLowerCase();
    const app = sim.state.applications.find((a) =>
      l.by === 'id'
        ? a.id.toLowerCase() === v
        : l.by === 'appId'
          ? a.appId.toLowerCase() === v
          : a.uniqueName?.toLowerCase() === v,
    );
    if (!app) return undefined;
    return !respectReplication || replicated(sim, app.createdAtMs) ? app : undefined;
  };

  const notFound = (req: Request, res: Response, l: Lookup) =>
    sendGraphError(
      req,
      res,
      now(),
      404,
      'Request_ResourceNotFound',
      `Resource '${l.value}' does not exist or one of its queried reference-property objects are not present.`,
    );

  const createApp = (body: Record<string, unknown>, uniqueName: string | null): Application => {
    const nowMs = now();
    const app: Application = {
      id: guid(),
      appId: guid(),
      uniqueName,
      displayName: String(body.displayName),
      homeTenantId: sim.state.partnerTenantId,
      createdDateTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      createdAtMs: nowMs,
      props: {},
      passwordCredentials: [],
    };
    applyPatch(app, body);
    sim.state.applications.push(app);
    sim.state.counts.applicationsCreated++;
    sim.changed();
    return app;
  };

  const sendApp = (res: Response, status: number, app: Application) =>
    res
      .status(status)
      .json({ '@odata.context': `${CTX}#applications/$entity`, ...applicationView(sim, app) });

  const bodyObject = (req: Request): Record<string, unknown> | undefined =>
    isObject(req.body) ? req.body : undefined;

  const simpleFilter = (
    filter: string | undefined,
  ): ((o: Record<string, unknown>) => boolean) | undefined => {
    if (!filter) return () => true;
    const m = /^\s*(appId|uniqueName|displayName|id)\s+eq\s+'((?:[^']|'')*)'\s*$/.exec(filter);
    if (!m) return undefined;
    const value = m[2].replace(/''/g, "'").toLowerCase();
    return (o) => String(o[m[1]] ?? '').toLowerCase() === value;
  };

  // All routes are parsed by hand: Graph paths contain parentheses and quotes.
  r.all(/.*/, (req: Request, res: Response) => {
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      return sendGraphError(req, res, now(), 400, 'BadRequest', 'Invalid request URI.');
    }
    const m =
      /^\/v1\.0\/(applications|servicePrincipals)(\/[^/()]+|\([^/]*\))?(?:\/(?:microsoft\.graph\.)?(addPassword|removePassword))?\/?$/.exec(
        path,
      );
    if (!m) {
      const seg = path.split('/').filter(Boolean).pop() ?? '';
      return sendGraphError(
        req,
        res,
        now(),
        400,
        'BadRequest',
        `Resource not found for the segment '${seg}'.`,
      );
    }
    const [, collection, keyPart, action] = m;
    const key: Lookup | undefined = keyPart
      ? keyPart.startsWith('/')
        ? { by: 'id', value: keyPart.slice(1) }
        : parseKey(keyPart)
      : undefined;
    if (keyPart && !key)
      return sendGraphError(req, res, now(), 400, 'BadRequest', `Invalid key segment '${keyPart}'.`);
    if (collection === 'servicePrincipals' && key && key.by === 'uniqueName') {
      return sendGraphError(
        req,
        res,
        now(),
        400,
        'BadRequest',
        "Property 'uniqueName' does not exist on type 'microsoft.graph.servicePrincipal'.",
      );
    }
    const method = req.method;
    const methodNotAllowed = () =>
      sendGraphError(
        req,
        res,
        now(),
        405,
        'Request_BadRequest',
        `Specified HTTP method is not allowed for the request target.`,
      );

    // ------------------------------------------------------------------ applications
    if (collection === 'applications') {
      if (!key) {
        if (method === 'GET') {
          const pred = simpleFilter(typeof req.query.$filter === 'string' ? req.query.$filter : undefined);
          if (!pred)
            return sendGraphError(req, res, now(), 400, 'Request_UnsupportedQuery', 'Unsupported query.');
          const value = sim.state.applications
            .filter((a) => replicated(sim, a.createdAtMs))
            .map((a) => applicationView(sim, a))
            .filter(pred);
          return res.status(200).json({ '@odata.context': `${CTX}#applications`, value });
        }
        if (method === 'POST') {
          const body = bodyObject(req);
          if (!body)
            return sendGraphError(
              req,
              res,
              now(),
              400,
              'BadRequest',
              'Empty Payload. JSON content expected.',
            );
          const err = validateBody(body);
          if (err) return sendGraphError(req, res, now(), 400, 'Request_BadRequest', err);
          if (typeof body.displayName !== 'string') {
            return sendGraphError(
              req,
              res,
              now(),
              400,
              'Request_BadRequest',
              "Property 'displayName' is required.",
            );
          }
          const uniqueName = typeof body.uniqueName === 'string' ? body.uniqueName : null;
          if (uniqueName && findApp({ by: 'uniqueName', value: uniqueName }, false)) {
            return sendGraphError(
              req,
              res,
              now(),
              409,
              'Request_MultipleObjectsWithSameKeyValue',
              `Another object with the same value for property uniqueName already exists.`,
            );
          }
          return sendApp(res, 201, createApp(body, uniqueName));
        }
        return methodNotAllowed();
      }

      if (action === 'addPassword' || action === 'removePassword') {
        if (method !== 'POST') return methodNotAllowed();
        const app = findApp(key, true);
        if (!app) return notFound(req, res, key);
        const body = bodyObject(req) ?? {};
        if (action === 'addPassword') {
          const pc = isObject(body.passwordCredential) ? body.passwordCredential : {};
          const nowMs = now();
          const startMs = typeof pc.startDateTime === 'string' ? Date.parse(pc.startDateTime) : nowMs;
          const endMs =
            typeof pc.endDateTime === 'string' ? Date.parse(pc.endDateTime) : plusTwoYears(startMs);
          if (Number.isNaN(startMs) || Number.isNaN(endMs) || endMs <= startMs) {
            return sendGraphError(
              req,
              res,
              now(),
              400,
              'Request_BadRequest',
              'Invalid value specified for property endDateTime of resource PasswordCredential.',
            );
          }
          const secretText = randomString(40, SECRET_ALPHABET);
          const cred: PasswordCredential = {
            keyId: guid(),
            displayName: typeof pc.displayName === 'string' ? pc.displayName : null,
            hint: secretText.slice(0, 3),
            startDateTime: iso7(startMs),
            endDateTime: iso7(endMs),
            customKeyIdentifier: null,
            secretHash: sha256(secretText),
          };
          app.passwordCredentials.push(cred);
          sim.issued(secretText);
          sim.state.counts.passwordsAdded++;
          sim.changed();
          return res.status(200).json({
            '@odata.context': `${CTX}#microsoft.graph.passwordCredential`,
            customKeyIdentifier: null,
            displayName: cred.displayName,
            endDateTime: cred.endDateTime,
            hint: cred.hint,
            keyId: cred.keyId,
            secretText,
            startDateTime: cred.startDateTime,
          });
        }
        const keyId = typeof body.keyId === 'string' ? body.keyId.toLowerCase() : '';
        const idx = app.passwordCredentials.findIndex((p) => p.keyId.toLowerCase() === keyId);
        if (idx < 0) {
          return sendGraphError(
            req,
            res,
            now(),
            400,
            'Request_BadRequest',
            `No password credential found with keyId '${keyId}'.`,
          );
        }
        app.passwordCredentials.splice(idx, 1);
        sim.state.counts.passwordsRemoved++;
        sim.changed();
        return noContent(res);
      }

      if (method === 'GET') {
        const app = findApp(key, true);
        return app ? sendApp(res, 200, app) : notFound(req, res, key);
      }
      if (method === 'PATCH') {
        const body = bodyObject(req) ?? {};
        const err = validateBody(body);
        if (err) return sendGraphError(req, res, now(), 400, 'Request_BadRequest', err);
        // Writes go to the primary: an existing (even not yet replicated) app is found.
        const app = findApp(key, false);
        if (app) {
          applyPatch(app, body);
          sim.changed();
          return noContent(res);
        }
        const prefer = (req.get('prefer') ?? '').toLowerCase();
        if (key.by !== 'uniqueName' || !prefer.split(/[,;]\s*/).includes('create-if-missing')) {
          return notFound(req, res, key);
        }
        if (typeof body.displayName !== 'string') {
          return sendGraphError(
            req,
            res,
            now(),
            400,
            'Request_BadRequest',
            "Property 'displayName' is required.",
          );
        }
        return sendApp(res, 201, createApp(body, key.value));
      }
      if (method === 'DELETE') {
        const app = findApp(key, true);
        if (!app) return notFound(req, res, key);
        sim.state.applications = sim.state.applications.filter((a) => a !== app);
        sim.state.servicePrincipals = sim.state.servicePrincipals.filter((s) => s.appId !== app.appId);
        sim.changed();
        return noContent(res);
      }
      return methodNotAllowed();
    }

    // ------------------------------------------------------------------ servicePrincipals
    if (action) return methodNotAllowed();
    if (!key) {
      if (method === 'GET') {
        const pred = simpleFilter(typeof req.query.$filter === 'string' ? req.query.$filter : undefined);
        if (!pred)
          return sendGraphError(req, res, now(), 400, 'Request_UnsupportedQuery', 'Unsupported query.');
        const value = partnerSps()
          .filter((s) => replicated(sim, s.createdAtMs))
          .map((s) => spView(sim, s))
          .filter(pred);
        return res.status(200).json({ '@odata.context': `${CTX}#servicePrincipals`, value });
      }
      if (method !== 'POST') return methodNotAllowed();
      const body = bodyObject(req) ?? {};
      const appId = typeof body.appId === 'string' ? body.appId : '';
      if (!appId)
        return sendGraphError(req, res, now(), 400, 'Request_BadRequest', "Property 'appId' is required.");
      const existing = partnerSps().find((s) => s.appId.toLowerCase() === appId.toLowerCase());
      if (existing) {
        return sendGraphError(
          req,
          res,
          now(),
          409,
          'Request_MultipleObjectsWithSameKeyValue',
          `The service principal cannot be created, updated, or restored because the service principal name ${existing.appId} is already in use.`,
        );
      }
      const app = findApp({ by: 'appId', value: appId }, true);
      if (!app) {
        const message = `The appId '${appId}' of the service principal does not reference a valid application object.`;
        return sendGraphError(req, res, now(), 400, 'Request_BadRequest', message, {
          details: [{ code: 'NoBackingApplicationObject', message, target: 'appId' }],
        });
      }
      const nowMs = now();
      const sp: ServicePrincipal = {
        id: guid(),
        appId: app.appId,
        tenantId: sim.state.partnerTenantId,
        createdDateTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        createdAtMs: nowMs,
      };
      sim.state.servicePrincipals.push(sp);
      sim.state.counts.servicePrincipalsCreated++;
      sim.changed();
      return res
        .status(201)
        .json({ '@odata.context': `${CTX}#servicePrincipals/$entity`, ...spView(sim, sp) });
    }
    const v = key.value.toLowerCase();
    const sp = partnerSps().find(
      (s) =>
        (key.by === 'id' ? s.id.toLowerCase() === v : s.appId.toLowerCase() === v) &&
        replicated(sim, s.createdAtMs),
    );
    if (method === 'GET') {
      return sp
        ? res.status(200).json({ '@odata.context': `${CTX}#servicePrincipals/$entity`, ...spView(sim, sp) })
        : notFound(req, res, key);
    }
    if (method === 'DELETE') {
      if (!sp) return notFound(req, res, key);
      sim.state.servicePrincipals = sim.state.servicePrincipals.filter((s) => s !== sp);
      sim.changed();
      return noContent(res);
    }
    return methodNotAllowed();
  });

  // JSON parse errors and anything unexpected, in the Graph envelope.
  r.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = isObject(err) && typeof err.status === 'number' ? err.status : 500;
    if (status === 400)
      return sendGraphError(
        req,
        res,
        now(),
        400,
        'BadRequest',
        'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
      );
    return sendGraphError(
      req,
      res,
      now(),
      status,
      'InternalServerError',
      'An internal server error occurred.',
    );
  });
  return r;
}
