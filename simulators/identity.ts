// Simulated Microsoft identity platform (login.microsoftonline.com), mounted at /login.
import express, { type Request, type Response, type Router } from 'express';
import { createHash, randomBytes, sign } from 'node:crypto';
import { userOid, type FoundUser, type SimContext } from './context.js';
import {
  checkAppSecret,
  consentCovers,
  DYNAMICS_APP_ID,
  grantConsent,
  hasConsent,
  isGraphResource,
  isMultiTenant,
  isTenantOrg,
  permissionLines,
  redirectUris,
  requiredResourceAccess,
  resourceFromScope,
  servicePrincipalIn,
  visibleApp,
} from './directory.js';
import { aad, aadDescription, aadErrorUri, aadTrailer, sendAadError, type AadError } from './errors.js';
import {
  approvalPage,
  approvalRequestedPage,
  consentPage,
  consentPromptPage,
  loginErrorPage,
  signedOutPage,
  signInPage,
} from './html.js';
import type { Application, AuthCode, Tenant } from './state.js';
import { base64url, flatParams, guid, normaliseResource, randomString, sha256, withQuery } from './util.js';

const ACCESS_TOKEN_SECONDS = 3599;
const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;
const CODE_SECONDS = 600;
/** How long a signed-in user's flow between two pages (consent prompt, approval page) lives. */
const INTERACTION_MS = 60 * 60_000;

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

/** A JWT signed RS256 with the simulator's current key (published in the JWKS). */
function signJwt(sim: SimContext, payload: Record<string, unknown>): string {
  const key = sim.signingKey();
  const header = { typ: 'JWT', alg: 'RS256', kid: key.kid };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

const UTI_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

interface Issued {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  nowSec: number;
  expSec: number;
}

/** `iss` of v2.0 id tokens and of the v2.0 discovery document, for a tenant id. */
function v2Issuer(sim: SimContext, tenantId: string): string {
  return sim.url(`/login/${tenantId}/v2.0`);
}

const v1Issuer = (tenantId: string) => `https://sts.windows.net/${tenantId}/`;

function issueTokens(
  sim: SimContext,
  o: {
    appId: string;
    tenantId: string;
    resource: string;
    username?: string;
    scope?: string;
    refresh: boolean;
    /** Which id token, if any: v1 shape (v1 endpoint) or v2.0 shape (v2.0 endpoint with openid). */
    idToken: false | 'v1' | 'v2';
    nonce?: string;
    /** App-only tokens: the application permissions (`roles`). */
    roles?: string[];
  },
): Issued {
  const nowMs = sim.now();
  const nowSec = Math.floor(nowMs / 1000);
  const expSec = nowSec + ACCESS_TOKEN_SECONDS;
  const oid = o.username ? userOid(o.tenantId, o.username) : undefined;
  const accessToken = signJwt(sim, {
    aud: o.resource,
    iss: v1Issuer(o.tenantId),
    iat: nowSec,
    nbf: nowSec,
    exp: expSec,
    appid: o.appId,
    ...(o.username ? { oid, upn: o.username, scp: 'user_impersonation' } : { roles: o.roles ?? [] }),
    tid: o.tenantId,
    uti: randomString(22, UTI_ALPHABET),
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
  if (o.idToken && o.username && oid) {
    const user = sim.findUser(o.username)?.user;
    const name = user?.displayName ?? o.username.split('@')[0];
    const groups = user?.groups?.length ? { groups: [...user.groups] } : {};
    const roleValues = (user?.appRoles ?? [])
      .filter((r) => r.appId.toLowerCase() === o.appId.toLowerCase())
      .map((r) => r.value);
    const roles = roleValues.length ? { roles: roleValues } : {};
    const nonce = o.nonce !== undefined ? { nonce: o.nonce } : {};
    out.idToken =
      o.idToken === 'v2'
        ? signJwt(sim, {
            aud: o.appId,
            iss: v2Issuer(sim, o.tenantId),
            iat: nowSec,
            nbf: nowSec,
            exp: expSec,
            ...groups,
            name,
            ...nonce,
            oid,
            preferred_username: o.username,
            ...roles,
            sub: pairwiseSub(oid, o.appId),
            tid: o.tenantId,
            uti: randomString(22, UTI_ALPHABET),
            ver: '2.0',
          })
        : signJwt(sim, {
            aud: o.appId,
            iss: v1Issuer(o.tenantId),
            iat: nowSec,
            nbf: nowSec,
            exp: expSec,
            ...groups,
            name,
            ...nonce,
            oid,
            ...roles,
            sub: pairwiseSub(oid, o.appId),
            tid: o.tenantId,
            unique_name: o.username,
            upn: o.username,
            ver: '1.0',
          });
  }
  return out;
}

/** `sub` is pairwise: the same user has a different subject in each application. */
function pairwiseSub(oid: string, appId: string): string {
  return createHash('sha256').update(`${oid}\0${appId.toLowerCase()}`).digest('base64url').slice(0, 43);
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

/** PKCE (RFC 7636): S256 compares base64url(SHA-256(verifier)); plain compares the strings. */
function pkceMatches(rec: AuthCode, verifier: string | undefined): boolean {
  if (!verifier) return false;
  if (rec.codeChallengeMethod === 'S256')
    return createHash('sha256').update(verifier).digest('base64url') === rec.codeChallenge;
  if (rec.codeChallengeMethod === 'plain') return verifier === rec.codeChallenge;
  return false;
}

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
    // offline_access / openid count whether named at authorize (the code's scope) or here.
    const asked = (scope: string, rec?: AuthCode) =>
      new RegExp(`\\b${scope}\\b`).test(`${p.scope ?? ''} ${rec?.scope ?? ''}`);

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
      if (rec.codeChallenge !== undefined && !pkceMatches(rec, p.code_verifier))
        return fail(aad.pkceMismatch());
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
      if (!hasConsent(sim, tenant.id, app.appId, rec.username))
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
        refresh: version === 'v1' || asked('offline_access', rec),
        idToken: version === 'v1' ? 'v1' : asked('openid', rec) ? 'v2' : false,
        nonce: rec.nonce,
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
    if (!hasConsent(sim, tenant.id, app.appId, rt.username))
      return fail(aad.consentRequired(app.appId, app.displayName));
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
    if (gc.secretExpired) return fail(aad.expiredSecret(clientId));
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
    // Outside its home tenant an app needs a service principal there: consenting (an admin for the
    // organization, or any user for themselves) creates one; it counts once consent propagated.
    const sp = tenant.id === app.homeTenantId ? undefined : servicePrincipalIn(sim, tenant.id, app.appId);
    if (
      tenant.id !== app.homeTenantId &&
      (!sp || sp.createdAtMs + sim.state.settings.consentPropagationMs > sim.now())
    ) {
      return fail(aad.missingServicePrincipal(app.appId, tenant.id));
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
    roles: clientId === gc.appId && gc.canManageApplications !== false ? ['Application.ReadWrite.All'] : [],
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

/** Error redirect: error, error_subcode, error_description (CRLF trailers), error_uri, then extras. */
function errorRedirect(
  req: Request,
  res: Response,
  sim: SimContext,
  redirectUri: string,
  e: { error: string; code: number; message: string; subcode?: string; withUri?: boolean },
  extra: Record<string, string | undefined>,
): void {
  const t = aadTrailer(sim.now(), req);
  res.redirect(
    302,
    withQuery(redirectUri, {
      error: e.error,
      error_subcode: e.subcode,
      error_description: aadDescription(e.code, e.message, t),
      error_uri: e.withUri === false ? undefined : aadErrorUri(e.code),
      ...extra,
    }),
  );
}

const DECLINED = 'User declined to consent to access the app.';

function userNotInTenant(username: string, idp: string, tenant: string, app: Application): string {
  return `User account '${username}' from identity provider '${idp}' does not exist in tenant '${tenant}' and cannot access the application '${app.appId}'(${app.displayName}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`;
}

/** One POST to an interactive page: the request as validated, plus who answers it. */
interface Flow {
  sim: SimContext;
  req: Request;
  res: Response;
  kind: PageKind;
  app: Application;
  redirectUri: string;
  params: Record<string, string>;
  /** Admin-consent pages (v2.0 and legacy adminconsent, v1 authorize with prompt=admin_consent). */
  adminConsentPage: boolean;
}

/** The resource a sign-in asks for: v1 `resource`, v2.0 the audience of the first resource scope. */
function requestedResource(f: Flow): string | undefined {
  if (f.kind === 'authorize-v1') return f.params.resource || undefined;
  if (f.kind === 'authorize-v2') return resourceFromScope(f.params.scope);
  return undefined;
}

function pageBase(f: Flow, user: FoundUser, ctx: string) {
  return {
    action: f.sim.url(`/login${f.req.path}`),
    params: f.params,
    ctx,
    appName: f.app.displayName,
    tenantLabel: user.tenant.displayName,
    username: user.username,
  };
}

function sendPage(f: Flow, html: string): void {
  f.res.status(200).set('Cache-Control', 'no-store, no-cache').type('html').send(html);
}

/** Remembers the signed-in user for the next page of this request (the `ctx` hidden input). */
function newInteraction(f: Flow, user: FoundUser): string {
  const ctx = randomBytes(24).toString('base64url');
  f.sim.state.interactions[ctx] = {
    username: user.username,
    tenantId: user.tenant.id,
    expiresAtMs: f.sim.now() + INTERACTION_MS,
  };
  f.sim.changed();
  return ctx;
}

/** "Need admin approval" (with a request form when the tenant has the admin consent workflow). */
function showApproval(f: Flow, user: FoundUser, ctx = newInteraction(f, user)): void {
  sendPage(f, approvalPage({ ...pageBase(f, user, ctx), workflow: !!user.tenant.adminConsentWorkflow }));
}

/** The consent prompt during sign-in: admins may consent for the organization, others for themselves. */
function showConsentPrompt(f: Flow, user: FoundUser, ctx = newInteraction(f, user)): void {
  sendPage(
    f,
    consentPromptPage({
      ...pageBase(f, user, ctx),
      permissions: permissionLines(f.app, true),
      forOrg: user.admin,
    }),
  );
}

/** "Back to app" / Cancel after sign-in: access_denied, error_subcode=cancel, AADSTS65004. */
function cancelRedirect(f: Flow): void {
  errorRedirect(
    f.req,
    f.res,
    f.sim,
    f.redirectUri,
    { error: 'access_denied', subcode: 'cancel', code: 65004, message: DECLINED },
    { state: f.params.state },
  );
}

function issueCode(f: Flow, user: FoundUser, adminConsented: boolean): void {
  const { sim, params } = f;
  const code = `0.A${randomString(300, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`;
  const nowMs = sim.now();
  sim.state.authCodes[sha256(code)] = {
    tenantId: user.tenant.id,
    appId: f.app.appId,
    redirectUri: f.redirectUri,
    resource: requestedResource(f),
    scope: f.kind === 'authorize-v2' ? params.scope : undefined,
    username: user.username,
    issuedAtMs: nowMs,
    expiresAtMs: nowMs + CODE_SECONDS * 1000,
    ...(params.code_challenge
      ? { codeChallenge: params.code_challenge, codeChallengeMethod: params.code_challenge_method || 'plain' }
      : {}),
    ...(params.nonce !== undefined ? { nonce: params.nonce } : {}),
  };
  sim.issued(code);
  sim.changed();
  f.res.redirect(
    302,
    withQuery(f.redirectUri, {
      code,
      session_state: guid(),
      ...(adminConsented ? { admin_consent: 'True' } : {}),
      state: params.state,
    }),
  );
}

/** The admin accepted an admin-consent page: tenant-wide consent, then the page's own answer. */
function adminConsentGranted(f: Flow, user: FoundUser): void {
  const tenant = user.tenant;
  grantConsent(f.sim, { tenantId: tenant.id, appId: f.app.appId, by: user.username });
  const state = f.params.state;
  if (f.kind === 'adminconsent-v2') {
    return f.res.redirect(
      302,
      withQuery(f.redirectUri, { admin_consent: 'True', tenant: tenant.id, scope: f.params.scope, state }),
    );
  }
  if (f.kind === 'adminconsent-legacy') {
    return f.res.redirect(302, withQuery(f.redirectUri, { tenant: tenant.id, state, admin_consent: 'True' }));
  }
  // authorize-v1 with prompt=admin_consent goes on to issue a code.
  issueCode(f, user, true);
}

/**
 * After sign-in: the resource must exist in the user's tenant, and a consent must cover the user
 * (tenant-wide, or their own). Otherwise an admin or a user who may consent gets the consent
 * prompt, anyone else "Need admin approval".
 */
function afterSignIn(f: Flow, user: FoundUser): void {
  const tenant = user.tenant;
  const resource = requestedResource(f);
  if (resource && !isGraphResource(resource) && !isTenantOrg(tenant, resource)) {
    const e = aad.resourceNotFound(resource, tenant.displayName);
    return errorRedirect(f.req, f.res, f.sim, f.redirectUri, e, { state: f.params.state });
  }
  if (f.adminConsentPage) {
    if (!user.admin) return showApproval(f, user);
    return adminConsentGranted(f, user);
  }
  if (consentCovers(f.sim, tenant.id, f.app.appId, user.username, false)) return issueCode(f, user, false);
  if (user.admin || tenant.usersMayConsent) return showConsentPrompt(f, user);
  return showApproval(f, user);
}

/** A POST from a page shown after sign-in (it carries `ctx`). */
function continueAfterSignIn(f: Flow, ctx: string, body: Record<string, string>): void {
  const { sim } = f;
  const it = sim.state.interactions[ctx];
  const user = it && it.expiresAtMs > sim.now() ? sim.findUser(it.username) : undefined;
  if (!it || !user || user.tenant.id !== it.tenantId) {
    return sendLoginError(f.req, f.res, sim, aad.flowExpired());
  }
  const done = () => {
    delete sim.state.interactions[ctx];
    sim.changed();
  };
  const tenant = user.tenant;
  const mayConsent = !f.adminConsentPage && (user.admin || !!tenant.usersMayConsent);
  switch (body.decision) {
    case 'decline':
    case 'cancel':
      done();
      return cancelRedirect(f);
    case 'request': {
      if (!tenant.adminConsentWorkflow || mayConsent || user.admin) return showApproval(f, user, ctx);
      let request = sim.state.approvalRequests.find(
        (r) =>
          r.tenantId === tenant.id &&
          r.appId.toLowerCase() === f.app.appId.toLowerCase() &&
          r.username.toLowerCase() === user.username.toLowerCase(),
      );
      if (!request) {
        request = {
          id: guid(),
          tenantId: tenant.id,
          appId: f.app.appId,
          username: user.username,
          justification: body.justification ?? '',
          requestedAt: new Date(sim.now()).toISOString(),
          status: 'pending',
        };
        sim.state.approvalRequests.push(request);
        sim.changed();
      }
      return sendPage(f, approvalRequestedPage({ ...pageBase(f, user, ctx), requestId: request.id }));
    }
    case 'accept': {
      if (f.adminConsentPage) {
        if (!user.admin) return showApproval(f, user, ctx);
        done();
        return adminConsentGranted(f, user);
      }
      if (!mayConsent) return showApproval(f, user, ctx);
      const forOrg = user.admin && body.consent_for_org === 'true';
      grantConsent(sim, {
        tenantId: tenant.id,
        appId: f.app.appId,
        by: user.username,
        ...(forOrg ? {} : { user: user.username }),
      });
      done();
      return issueCode(f, user, false);
    }
    default:
      return sendLoginError(f.req, f.res, sim, aad.missingParam('decision'));
  }
}

function submitPage(sim: SimContext, kind: PageKind) {
  return (req: Request, res: Response): void => {
    const body = flatParams(req.body);
    // What the person typed or pressed; everything else is the original request's parameters.
    const { username = '', decision = '', ctx = '' } = body;
    const params = Object.fromEntries(
      Object.entries(body).filter(
        ([k]) => !['username', 'decision', 'ctx', 'consent_for_org', 'justification'].includes(k),
      ),
    );
    const v = validateInteractive(sim, kind, String(req.params.tenant), params);
    if (isError(v)) return sendLoginError(req, res, sim, v);
    const { app, redirectUri, ref } = v;
    const state = params.state;
    const f: Flow = {
      sim,
      req,
      res,
      kind,
      app,
      redirectUri,
      params,
      adminConsentPage: isConsentKind(kind, params),
    };
    if (ctx) return continueAfterSignIn(f, ctx, body);

    if (f.adminConsentPage && decision === 'decline') {
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
        { error: 'access_denied', code: 65004, message: DECLINED },
        { ...(kind === 'adminconsent-v2' ? { admin_consent: 'True' } : {}), state },
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
        {
          error: 'access_denied',
          code: 50020,
          message: userNotInTenant(username, idp, tenantLabel, app),
          withUri: false,
        },
        { state },
      );
    }
    afterSignIn(f, user);
  };
}

// ------------------------------------------------------------------ OpenID Connect discovery

/** The tenant of a metadata path: a GUID or domain resolves to its id; common & co. keep a placeholder. */
function metadataTenant(sim: SimContext, name: string): { path: string; issuerTid: string } | undefined {
  const ref = resolveTenant(sim, name);
  if (ref.kind === 'unknown') return undefined;
  if (ref.kind === 'multi') return { path: ref.name, issuerTid: '{tenantid}' };
  return { path: ref.tenant.id, issuerTid: ref.tenant.id };
}

function discovery(sim: SimContext, version: 'v1' | 'v2') {
  return (req: Request, res: Response): void => {
    const t = metadataTenant(sim, String(req.params.tenant));
    if (!t) {
      return sendAadError(req, res, sim.now(), {
        ...aad.tenantNotFound(String(req.params.tenant)),
        error: 'invalid_tenant',
      });
    }
    const login = (path: string) => sim.url(`/login/${t.path}${path}`);
    const v2 = version === 'v2';
    res
      .status(200)
      .set('Cache-Control', 'max-age=86400, private')
      .json({
        token_endpoint: login(v2 ? '/oauth2/v2.0/token' : '/oauth2/token'),
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        jwks_uri: login(v2 ? '/discovery/v2.0/keys' : '/discovery/keys'),
        response_modes_supported: ['query'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code'],
        scopes_supported: v2 ? ['openid', 'profile', 'email', 'offline_access'] : ['openid'],
        issuer: v2 ? v2Issuer(sim, t.issuerTid) : v1Issuer(t.issuerTid),
        request_uri_parameter_supported: false,
        authorization_endpoint: login(v2 ? '/oauth2/v2.0/authorize' : '/oauth2/authorize'),
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: login(v2 ? '/oauth2/v2.0/logout' : '/oauth2/logout'),
        claims_supported: v2
          ? [
              'sub',
              'iss',
              'aud',
              'exp',
              'iat',
              'nonce',
              'preferred_username',
              'name',
              'tid',
              'ver',
              'oid',
              'groups',
              'roles',
            ]
          : [
              'sub',
              'iss',
              'aud',
              'exp',
              'iat',
              'nonce',
              'upn',
              'unique_name',
              'name',
              'tid',
              'oid',
              'groups',
              'roles',
            ],
        ...(v2 ? {} : { microsoft_multi_refresh_token: true }),
      });
  };
}

function jwks(sim: SimContext) {
  return (req: Request, res: Response): void => {
    if (!metadataTenant(sim, String(req.params.tenant))) {
      return sendAadError(req, res, sim.now(), {
        ...aad.tenantNotFound(String(req.params.tenant)),
        error: 'invalid_tenant',
      });
    }
    res
      .status(200)
      .set('Cache-Control', 'max-age=86400, private')
      .json({
        keys: sim.state.signingKeys.map((k) => ({ kty: 'RSA', use: 'sig', kid: k.kid, n: k.n, e: k.e })),
      });
  };
}

/** Sign-out: back to post_logout_redirect_uri (with state) when given, else the signed-out page. */
function logout() {
  return (req: Request, res: Response): void => {
    const q = flatParams(req.query);
    if (q.post_logout_redirect_uri) {
      try {
        return res.redirect(302, withQuery(q.post_logout_redirect_uri, { state: q.state }));
      } catch {
        // not an absolute URL: fall through to the page
      }
    }
    res.status(200).type('html').send(signedOutPage());
  };
}

export function identityRouter(sim: SimContext): Router {
  const r = express.Router();
  r.use(express.urlencoded({ extended: false, limit: '100kb' }));
  r.post('/:tenant/oauth2/v2.0/token', tokenEndpoint(sim, 'v2'));
  r.post('/:tenant/oauth2/token', tokenEndpoint(sim, 'v1'));
  r.get('/:tenant/v2.0/.well-known/openid-configuration', discovery(sim, 'v2'));
  r.get('/:tenant/.well-known/openid-configuration', discovery(sim, 'v1'));
  r.get('/:tenant/discovery/v2.0/keys', jwks(sim));
  r.get('/:tenant/discovery/keys', jwks(sim));
  r.get('/:tenant/oauth2/v2.0/logout', logout());
  r.get('/:tenant/oauth2/logout', logout());
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
