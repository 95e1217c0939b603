// Simulated Microsoft identity platform (login.microsoftonline.com), mounted at /login.
import express, { type Request, type Response, type Router } from 'express';
import type { SimContext } from './context.js';
import {
  checkAppSecret,
  DYNAMICS_APP_ID,
  hasConsent,
  isGraphResource,
  isMultiTenant,
  isTenantOrg,
  permissionLines,
  redirectUris,
  requiredResourceAccess,
  resourceFromScope,
  visibleApp,
} from './directory.js';
import { aad, aadDescription, aadErrorUri, aadTrailer, sendAadError, type AadError } from './errors.js';
import { consentPage, loginErrorPage, signInPage } from './html.js';
import type { Application, Tenant } from './state.js';
import { base64url, flatParams, guid, normaliseResource, randomString, sha256, withQuery } from './util.js';

const ACCESS_TOKEN_SECONDS = 3599;
const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;
const CODE_SECONDS = 600;

type TenantRef =
  | { kind: 'specific'; tenant: Tenant; name: string }
  | { kind: 'multi'; name: string }
  | { kind: 'unknown'; name: string };

function resolveTenant(sim: SimContext, name: string): TenantRef {
  const lower = name.toLowerCase();
  if (lower === 'common' || lower === 'organizations' || lower === 'consumers')
    return { kind: 'multi', name: lower };
  const tenant = sim.findTenant(name);
  return tenant ? { kind: 'specific', tenant, name } : { kind: 'unknown', name };
}

function directoryName(ref: TenantRef): string {
  return ref.kind === 'specific' ? ref.tenant.displayName : ref.name;
}

// ------------------------------------------------------------------------------------ tokens

function jwtLike(payload: Record<string, unknown>): string {
  const header = { typ: 'JWT', alg: 'RS256', kid: 'sim-signing-key' };
  return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${base64url(randomString(43, 'abcdefghijklmnopqrstuvwxyz0123456789'))}`;
}

interface Issued {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  nowSec: number;
  expSec: number;
}

function issueTokens(
  sim: SimContext,
  o: {
    appId: string;
    tenantId: string;
    resource: string;
    username?: string;
    scope?: string;
    refresh: boolean;
    idToken: boolean;
  },
): Issued {
  const nowMs = sim.now();
  const nowSec = Math.floor(nowMs / 1000);
  const expSec = nowSec + ACCESS_TOKEN_SECONDS;
  const accessToken = jwtLike({
    aud: o.resource,
    iss: `https://sts.windows.net/${o.tenantId}/`,
    iat: nowSec,
    nbf: nowSec,
    exp: expSec,
    appid: o.appId,
    tid: o.tenantId,
    ...(o.username ? { upn: o.username, scp: 'user_impersonation' } : { roles: [] }),
    uti: randomString(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
    ver: '1.0',
  });
  sim.state.tokens[sha256(accessToken)] = {
    kind: 'access',
    appId: o.appId,
    tenantId: o.tenantId,
    resource: o.resource,
    username: o.username,
    scope: o.scope,
    expiresAtMs: expSec * 1000,
  };
  sim.issued(accessToken);
  const out: Issued = { accessToken, nowSec, expSec };
  if (o.refresh) {
    const rt = `1.A${randomString(180, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`;
    sim.state.tokens[sha256(rt)] = {
      kind: 'refresh',
      appId: o.appId,
      tenantId: o.tenantId,
      resource: o.resource,
      username: o.username,
      scope: o.scope,
      expiresAtMs: nowMs + REFRESH_TOKEN_SECONDS * 1000,
    };
    sim.issued(rt);
    out.refreshToken = rt;
  }
  if (o.idToken && o.username) {
    out.idToken = jwtLike({
      aud: o.appId,
      iss: `https://sts.windows.net/${o.tenantId}/`,
      iat: nowSec,
      nbf: nowSec,
      exp: expSec,
      tid: o.tenantId,
      upn: o.username,
      unique_name: o.username,
      ver: '1.0',
    });
  }
  return out;
}

function v1Body(t: Issued, resource: string, scope?: string): Record<string, unknown> {
  const body: Record<string, unknown> = { token_type: 'Bearer' };
  if (scope !== undefined) body.scope = scope;
  Object.assign(body, {
    expires_in: String(ACCESS_TOKEN_SECONDS),
    ext_expires_in: String(ACCESS_TOKEN_SECONDS),
    expires_on: String(t.expSec),
    not_before: String(t.nowSec),
    resource,
    access_token: t.accessToken,
  });
  if (t.refreshToken) body.refresh_token = t.refreshToken;
  if (t.idToken) body.id_token = t.idToken;
  return body;
}

function v2Body(t: Issued, scope?: string): Record<string, unknown> {
  const body: Record<string, unknown> = { token_type: 'Bearer' };
  if (scope !== undefined) body.scope = scope;
  Object.assign(body, {
    expires_in: ACCESS_TOKEN_SECONDS,
    ext_expires_in: ACCESS_TOKEN_SECONDS,
    access_token: t.accessToken,
  });
  if (t.refreshToken) body.refresh_token = t.refreshToken;
  if (t.idToken) body.id_token = t.idToken;
  return body;
}

function sendTokens(res: Response, body: Record<string, unknown>): void {
  res.status(200).set('Cache-Control', 'no-store, no-cache').set('Pragma', 'no-cache').json(body);
}

/** client_id / client_secret from the form or from HTTP Basic auth. */
function clientCredentials(req: Request, p: Record<string, string>): { clientId?: string; secret?: string } {
  const auth = req.get('authorization');
  if (auth && /^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      return {
        clientId: decodeURIComponent(decoded.slice(0, i)),
        secret: decodeURIComponent(decoded.slice(i + 1)),
      };
    }
  }
  return { clientId: p.client_id || undefined, secret: p.client_secret || undefined };
}

/** Authenticates a Graph-registered application; returns the app or the error to send. */
function authenticateApp(
  sim: SimContext,
  ref: TenantRef,
  clientId: string,
  secret: string | undefined,
  missingSecret: () => AadError,
): Application | AadError {
  const app = visibleApp(sim, clientId);
  if (!app) return aad.appNotFound(clientId, directoryName(ref));
  if (ref.kind === 'specific' && ref.tenant.id !== app.homeTenantId && !isMultiTenant(app)) {
    return aad.appNotFound(clientId, directoryName(ref));
  }
  if (!secret) return missingSecret();
  const check = checkAppSecret(sim, app, secret);
  if (check === 'invalid') return aad.invalidSecret(app.appId);
  if (check === 'expired') return aad.expiredSecret(app.appId);
  return app;
}

const isError = (x: unknown): x is AadError =>
  typeof x === 'object' && x !== null && 'code' in x && 'error' in x;

/** Resource checks shared by authorization_code and refresh_token. */
function checkDelegatedResource(app: Application, tenant: Tenant, resource: string): AadError | undefined {
  if (isGraphResource(resource)) return undefined;
  if (!isTenantOrg(tenant, resource)) return aad.resourceNotFound(resource, tenant.displayName);
  if (!requiredResourceAccess(app).some((r) => r.resourceAppId.toLowerCase() === DYNAMICS_APP_ID)) {
    return aad.resourceNotRequested();
  }
  return undefined;
}

function tokenEndpoint(sim: SimContext, version: 'v1' | 'v2') {
  return (req: Request, res: Response): void => {
    const fail = (e: AadError) => sendAadError(req, res, sim.now(), e);
    if (!req.is('application/x-www-form-urlencoded') || !req.body)
      return fail(aad.missingParam('grant_type'));
    const p = flatParams(req.body);
    const grant = p.grant_type;
    if (!grant) return fail(aad.missingParam('grant_type'));
    if (!['authorization_code', 'client_credentials', 'refresh_token'].includes(grant)) {
      return fail(aad.unsupportedGrant(grant));
    }
    const ref = resolveTenant(sim, String(req.params.tenant));
    if (ref.kind === 'unknown') return fail(aad.tenantNotFound(ref.name));
    const { clientId, secret } = clientCredentials(req, p);
    if (!clientId) return fail(aad.missingParam('client_id'));

    if (grant === 'client_credentials')
      return clientCredentialsGrant(sim, version, req, res, ref, clientId, secret, p);

    const appOrError = authenticateApp(sim, ref, clientId, secret, aad.missingSecret);
    if (isError(appOrError)) return fail(appOrError);
    const app = appOrError;
    const requestedResource = version === 'v1' ? p.resource || undefined : resourceFromScope(p.scope);
    const wantsRefresh = version === 'v1' || /\boffline_access\b/.test(p.scope ?? '');
    const wantsIdToken = version === 'v1' || /\bopenid\b/.test(p.scope ?? '');

    if (grant === 'authorization_code') {
      if (!p.code) return fail(aad.missingParam('code'));
      const key = sha256(p.code);
      const rec = sim.state.authCodes[key];
      if (
        !rec ||
        rec.appId.toLowerCase() !== app.appId.toLowerCase() ||
        rec.expiresAtMs <= sim.now() ||
        (ref.kind === 'specific' && ref.tenant.id !== rec.tenantId)
      ) {
        return fail(aad.badCode());
      }
      if (rec.redeemedAtMs !== undefined) return fail(aad.codeRedeemed());
      if ((p.redirect_uri ?? '') !== rec.redirectUri)
        return fail(aad.redirectMismatch(p.redirect_uri ?? '', rec.redirectUri));
      if (
        requestedResource &&
        rec.resource &&
        normaliseResource(requestedResource) !== normaliseResource(rec.resource)
      ) {
        return fail(aad.resourceMismatch());
      }
      const resource =
        requestedResource ?? rec.resource ?? (version === 'v2' ? 'https://graph.microsoft.com' : undefined);
      if (!resource) return fail(aad.missingParam('resource'));
      const tenant = sim.tenantById(rec.tenantId);
      if (!tenant) return fail(aad.badCode());
      const resErr = checkDelegatedResource(app, tenant, resource);
      if (resErr) return fail(resErr);
      if (!hasConsent(sim, tenant.id, app.appId))
        return fail(aad.consentRequired(app.appId, app.displayName));
      rec.redeemedAtMs = sim.now();
      sim.changed();
      const scope =
        version === 'v1' ? 'user_impersonation' : (p.scope ?? rec.scope ?? `${resource}/.default`);
      const t = issueTokens(sim, {
        appId: app.appId,
        tenantId: tenant.id,
        resource,
        username: rec.username,
        scope,
        refresh: wantsRefresh,
        idToken: wantsIdToken,
      });
      return sendTokens(res, version === 'v1' ? v1Body(t, resource, scope) : v2Body(t, scope));
    }

    // refresh_token
    if (!p.refresh_token) return fail(aad.missingParam('refresh_token'));
    const rt = sim.state.tokens[sha256(p.refresh_token)];
    if (
      !rt ||
      rt.kind !== 'refresh' ||
      rt.appId.toLowerCase() !== app.appId.toLowerCase() ||
      rt.expiresAtMs <= sim.now()
    ) {
      return fail(aad.badCode());
    }
    const tenant = sim.tenantById(rt.tenantId);
    if (!tenant) return fail(aad.badCode());
    const resource = requestedResource ?? rt.resource;
    const resErr = checkDelegatedResource(app, tenant, resource);
    if (resErr) return fail(resErr);
    if (!hasConsent(sim, tenant.id, app.appId)) return fail(aad.consentRequired(app.appId, app.displayName));
    const scope = version === 'v1' ? 'user_impersonation' : (p.scope ?? rt.scope);
    const t = issueTokens(sim, {
      appId: app.appId,
      tenantId: tenant.id,
      resource,
      username: rt.username,
      scope,
      refresh: true,
      idToken: false,
    });
    sim.changed();
    return sendTokens(res, version === 'v1' ? v1Body(t, resource, scope) : v2Body(t, scope));
  };
}

function clientCredentialsGrant(
  sim: SimContext,
  version: 'v1' | 'v2',
  req: Request,
  res: Response,
  ref: TenantRef,
  clientId: string,
  secret: string | undefined,
  p: Record<string, string>,
): void {
  const fail = (e: AadError) => sendAadError(req, res, sim.now(), e);
  if (ref.kind !== 'specific') return fail(aad.noTenantInfo());
  const tenant = ref.tenant;
  let resource: string | undefined;
  if (version === 'v2') {
    const scope = (p.scope ?? '').trim();
    if (!scope) return fail(aad.missingParam('scope'));
    if (scope.includes(' ') || !scope.endsWith('/.default')) return fail(aad.invalidScope(scope));
    resource = scope.slice(0, -'/.default'.length);
  } else {
    if (!p.resource) return fail(aad.missingParam('resource'));
    resource = p.resource;
  }
  const gc = sim.state.graphClient;
  if (clientId === gc.appId) {
    if (tenant.id !== gc.tenantId) return fail(aad.appNotFound(clientId, tenant.displayName));
    if (!secret) return fail(aad.missingSecretClientCredentials());
    if (sha256(secret) !== gc.secretHash) return fail(aad.invalidSecret(clientId));
    if (
      !isGraphResource(resource) ||
      (version === 'v2' && p.scope.trim() !== 'https://graph.microsoft.com/.default')
    ) {
      return version === 'v2'
        ? fail(aad.invalidScope(p.scope))
        : fail(aad.resourceNotFound(resource, tenant.displayName));
    }
  } else {
    const appOrError = authenticateApp(sim, ref, clientId, secret, aad.missingSecretClientCredentials);
    if (isError(appOrError)) return fail(appOrError);
    const app = appOrError;
    if (tenant.id !== app.homeTenantId && !hasConsent(sim, tenant.id, app.appId)) {
      return fail(aad.appNotFound(clientId, tenant.displayName));
    }
    if (!isGraphResource(resource) && !isTenantOrg(tenant, resource)) {
      return fail(aad.resourceNotFound(resource, tenant.displayName));
    }
  }
  const canonical = isGraphResource(resource) ? 'https://graph.microsoft.com' : resource;
  const t = issueTokens(sim, {
    appId: clientId,
    tenantId: tenant.id,
    resource: canonical,
    refresh: false,
    idToken: false,
  });
  sim.changed();
  if (version === 'v1') return sendTokens(res, v1Body(t, p.resource));
  return sendTokens(res, v2Body(t));
}

// ------------------------------------------------------------------------- interactive pages

type PageKind = 'authorize-v1' | 'authorize-v2' | 'adminconsent-v2' | 'adminconsent-legacy';

interface ValidRequest {
  app: Application;
  redirectUri: string;
  ref: TenantRef;
  params: Record<string, string>;
}

function sendLoginError(req: Request, res: Response, sim: SimContext, e: AadError): void {
  res
    .status(400)
    .type('html')
    .send(loginErrorPage(e.code, e.message, aadTrailer(sim.now(), req)));
}

/** Checks that are shown on the login page itself (never redirected). */
function validateInteractive(
  sim: SimContext,
  kind: PageKind,
  tenantName: string,
  params: Record<string, string>,
): ValidRequest | AadError {
  const ref = resolveTenant(sim, tenantName);
  if (ref.kind === 'unknown') return aad.tenantNotFound(ref.name);
  const clientId = params.client_id;
  if (!clientId) return aad.missingParam('client_id');
  const app = visibleApp(sim, clientId);
  if (!app) return aad.appNotFound(clientId, directoryName(ref));
  if (!isMultiTenant(app)) {
    if (ref.kind === 'multi') {
      return {
        status: 400,
        error: 'invalid_request',
        code: 50194,
        message: `Application '${app.appId}'(${app.displayName}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
      };
    }
    if (ref.tenant.id !== app.homeTenantId) return aad.appNotFound(clientId, directoryName(ref));
  }
  const registered = redirectUris(app);
  const redirectUri = params.redirect_uri ?? registered[0];
  if (!redirectUri || !registered.includes(redirectUri)) {
    return {
      status: 400,
      error: 'invalid_request',
      code: 50011,
      message: `The redirect URI '${redirectUri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    };
  }
  if (kind === 'authorize-v1' || kind === 'authorize-v2') {
    if (!params.response_type) return aad.missingParam('response_type');
    if (params.response_type !== 'code') {
      return {
        status: 400,
        error: 'unsupported_response_type',
        code: 700054,
        message: `response_type '${params.response_type}' is not enabled for the application.`,
      };
    }
  }
  if (kind === 'adminconsent-v2' && !params.scope) return aad.missingParam('scope');
  return { app, redirectUri, ref, params };
}

function isConsentKind(kind: PageKind, params: Record<string, string>): boolean {
  return (
    kind === 'adminconsent-v2' ||
    kind === 'adminconsent-legacy' ||
    (kind === 'authorize-v1' && params.prompt === 'admin_consent')
  );
}

function showPage(sim: SimContext, kind: PageKind) {
  return (req: Request, res: Response): void => {
    const params = flatParams(req.query);
    const v = validateInteractive(sim, kind, String(req.params.tenant), params);
    if (isError(v)) return sendLoginError(req, res, sim, v);
    const common = {
      action: sim.url(`/login${req.path}`),
      params,
      appName: v.app.displayName,
      tenantLabel: v.ref.kind === 'specific' ? v.ref.tenant.displayName : 'your organization',
    };
    res.set('Cache-Control', 'no-store, no-cache').type('html');
    if (isConsentKind(kind, params)) {
      const permissions =
        kind === 'adminconsent-v2' && !/\/\.default$/.test(params.scope ?? '')
          ? (params.scope ?? '').split(/\s+/).filter(Boolean)
          : permissionLines(v.app);
      res.status(200).send(consentPage({ ...common, permissions }));
    } else {
      res.status(200).send(signInPage(common));
    }
  };
}

/** Error redirect: error, error_description with CRLF trailers, optional error_uri, then extras. */
function errorRedirect(
  req: Request,
  res: Response,
  sim: SimContext,
  redirectUri: string,
  error: string,
  code: number,
  message: string,
  extra: Record<string, string | undefined>,
  withUri = true,
): void {
  const t = aadTrailer(sim.now(), req);
  res.redirect(
    302,
    withQuery(redirectUri, {
      error,
      error_description: aadDescription(code, message, t),
      error_uri: withUri ? aadErrorUri(code) : undefined,
      ...extra,
    }),
  );
}

function userNotInTenant(username: string, idp: string, tenant: string, app: Application): string {
  return `User account '${username}' from identity provider '${idp}' does not exist in tenant '${tenant}' and cannot access the application '${app.appId}'(${app.displayName}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`;
}

function submitPage(sim: SimContext, kind: PageKind) {
  return (req: Request, res: Response): void => {
    const body = flatParams(req.body);
    const { username = '', decision = '', ...params } = body;
    const v = validateInteractive(sim, kind, String(req.params.tenant), params);
    if (isError(v)) return sendLoginError(req, res, sim, v);
    const { app, redirectUri, ref } = v;
    const state = params.state;
    const consent = isConsentKind(kind, params);
    const adminConsentFlag = kind === 'adminconsent-v2' ? { admin_consent: 'True' } : {};

    if (consent && decision === 'decline') {
      if (kind === 'adminconsent-legacy') {
        return res.redirect(
          302,
          withQuery(redirectUri, {
            error: 'permission_denied',
            error_description: 'The admin canceled the request',
            state,
          }),
        );
      }
      return errorRedirect(
        req,
        res,
        sim,
        redirectUri,
        'access_denied',
        65004,
        'User declined to consent to access the app.',
        {
          ...adminConsentFlag,
          state,
        },
      );
    }
    if (decision !== 'accept') {
      return sendLoginError(req, res, sim, aad.missingParam('decision'));
    }
    const user = username ? sim.findUser(username) : undefined;
    if (!user || (ref.kind === 'specific' && user.tenant.id !== ref.tenant.id)) {
      const idp = user ? `https://sts.windows.net/${user.tenant.id}/` : 'live.com';
      const tenantLabel = ref.kind === 'specific' ? ref.tenant.displayName : ref.name;
      return errorRedirect(
        req,
        res,
        sim,
        redirectUri,
        'access_denied',
        50020,
        userNotInTenant(username, idp, tenantLabel, app),
        { state },
        false,
      );
    }
    const tenant = user.tenant;

    if (consent) {
      if (!user.admin) {
        return errorRedirect(
          req,
          res,
          sim,
          redirectUri,
          'access_denied',
          90094,
          'The grant requires admin permission.',
          { state },
          false,
        );
      }
      const existing = sim.state.consents.find(
        (c) => c.tenantId === tenant.id && c.appId.toLowerCase() === app.appId.toLowerCase(),
      );
      const nowMs = sim.now();
      if (existing) {
        existing.grantedAt = new Date(nowMs).toISOString();
        existing.grantedAtMs = nowMs;
        existing.by = user.username;
      } else {
        sim.state.consents.push({
          tenantId: tenant.id,
          appId: app.appId,
          grantedAt: new Date(nowMs).toISOString(),
          grantedAtMs: nowMs,
          by: user.username,
        });
      }
      sim.state.counts.consentsGranted++;
      sim.changed();
      if (kind === 'adminconsent-v2') {
        return res.redirect(
          302,
          withQuery(redirectUri, { admin_consent: 'True', tenant: tenant.id, scope: params.scope, state }),
        );
      }
      if (kind === 'adminconsent-legacy') {
        return res.redirect(302, withQuery(redirectUri, { tenant: tenant.id, state, admin_consent: 'True' }));
      }
      // authorize-v1 with prompt=admin_consent continues to issue a code.
    }

    const code = `0.A${randomString(300, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`;
    const nowMs = sim.now();
    sim.state.authCodes[sha256(code)] = {
      tenantId: tenant.id,
      appId: app.appId,
      redirectUri,
      resource: kind === 'authorize-v1' ? params.resource || undefined : resourceFromScope(params.scope),
      scope: kind === 'authorize-v2' ? params.scope : undefined,
      username: user.username,
      issuedAtMs: nowMs,
      expiresAtMs: nowMs + CODE_SECONDS * 1000,
    };
    sim.issued(code);
    sim.changed();
    res.redirect(
      302,
      withQuery(redirectUri, {
        code,
        session_state: guid(),
        ...(consent ? { admin_consent: 'True' } : {}),
        state,
      }),
    );
  };
}

export function identityRouter(sim: SimContext): Router {
  const r = express.Router();
  r.use(express.urlencoded({ extended: false, limit: '100kb' }));
  r.post('/:tenant/oauth2/v2.0/token', tokenEndpoint(sim, 'v2'));
  r.post('/:tenant/oauth2/token', tokenEndpoint(sim, 'v1'));
  const pages: [string, PageKind][] = [
    ['/:tenant/oauth2/v2.0/authorize', 'authorize-v2'],
    ['/:tenant/oauth2/authorize', 'authorize-v1'],
    ['/:tenant/v2.0/adminconsent', 'adminconsent-v2'],
    ['/:tenant/adminconsent', 'adminconsent-legacy'],
  ];
  for (const [path, kind] of pages) {
    r.get(path, showPage(sim, kind));
    r.post(path, submitPage(sim, kind));
  }
  r.use((req, res) => {
    res
      .status(404)
      .type('html')
      .send(
        loginErrorPage(
          900561,
          `The endpoint only accepts known paths; '${req.path}' is not one.`,
          aadTrailer(sim.now(), req),
        ),
      );
  });
  return r;
}
