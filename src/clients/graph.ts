// Microsoft Graph: the partner's multi-tenant app registration. Writes are idempotent by design:
// the app is upserted by uniqueName, the service principal tolerates 409, and secrets carry a
// marker so a retried addPassword can find (and retire) what an interrupted attempt created.
import { FailureTypes } from '../shared/failures';
import { HttpClient, type HttpResponse } from './http-client';
import { failureFor, nonRetryable, send, summariseBody, transientFailure } from './http';
import type { GraphTokenProvider } from './identity';

/**
 * Well-known ids: Microsoft Graph and its delegated User.Read; Dynamics CRM (Dataverse) and its
 * delegated user_impersonation ("Access Dynamics 365 as organization users").
 */
const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_USER_READ_SCOPE_ID = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d';
export const DYNAMICS_CRM_APP_ID = '00000007-0000-0000-c000-000000000000';
export const DYNAMICS_USER_IMPERSONATION_SCOPE_ID = '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4';

/** Audiences that let users of any organisation sign in (the app is multi-tenant). */
export const MULTI_TENANT_AUDIENCES = ['AzureADMultipleOrgs', 'AzureADandPersonalMicrosoftAccount'];

export interface ApplicationSpec {
  uniqueName: string;
  displayName: string;
  redirectUris: string[];
}

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
}

export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: string }[];
}

/** An application object as Graph returns it, with what the product checks and changes. */
export interface ApplicationRegistration {
  objectId: string;
  appId: string;
  displayName: string | null;
  uniqueName: string | null;
  signInAudience: string | null;
  /** `web` as read (homePageUrl, logoutUrl, implicitGrantSettings, redirectUris, ...). */
  web: Record<string, unknown>;
  redirectUris: string[];
  requiredResourceAccess: RequiredResourceAccess[];
  passwordCredentials: PasswordCredential[];
}

/** What to grant when Graph answers 403 on the app registration. */
export function graphPermissionFix(handRegistered = false): string {
  const which = handRegistered
    ? 'Application.ReadWrite.All (the app was registered by hand, so the client does not own it; or keep Application.ReadWrite.OwnedBy and add the client as an owner of the app)'
    : 'Application.ReadWrite.OwnedBy (or Application.ReadWrite.All when the app was registered by hand and the client does not own it)';
  return `grant the Graph client GRAPH_CLIENT_ID the Microsoft Graph application permission ${which}, then have an administrator of PARTNER_TENANT_ID grant admin consent for it (Entra ID > App registrations > the client > API permissions > Grant admin consent)`;
}

/** Graph refused the Graph client (403): a configuration failure naming the permission to grant. */
export function graphForbidden(what: string, res: HttpResponse, handRegistered = false): Error {
  const summary = summariseBody(res.data);
  return nonRetryable(
    FailureTypes.configuration,
    `graph: ${what} answered HTTP 403${summary ? ` (${summary})` : ''}: the Graph client may not manage the app registration. Fix: ${graphPermissionFix(handRegistered)}`,
    { status: 403, fix: graphPermissionFix(handRegistered) },
  );
}

/** Graph's answer to a call on the app registration, as a failure: 403 names the permission. */
function graphFailure(what: string, res: HttpResponse, handRegistered = false): Error {
  return res.status === 403 ? graphForbidden(what, res, handRegistered) : failureFor('graph', what, res);
}

/** The application object in a Graph answer. */
function registration(data: Record<string, unknown>): ApplicationRegistration {
  const web = (data.web && typeof data.web === 'object' ? data.web : {}) as Record<string, unknown>;
  const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  return {
    objectId: String(data.id),
    appId: String(data.appId),
    displayName: typeof data.displayName === 'string' ? data.displayName : null,
    uniqueName: typeof data.uniqueName === 'string' ? data.uniqueName : null,
    signInAudience: typeof data.signInAudience === 'string' ? data.signInAudience : null,
    web,
    redirectUris: list<string>(web.redirectUris),
    requiredResourceAccess: list<RequiredResourceAccess>(data.requiredResourceAccess),
    passwordCredentials: list<PasswordCredential>(data.passwordCredentials),
  };
}

/**
 * What adopting an app registered by hand adds to it, never removing anything: the redirect URIs
 * it lacks, the Dynamics CRM user_impersonation delegated permission, and multi-tenant sign-in.
 * `patch` is the PATCH body (null when nothing is missing); `changed` says it in words.
 */
export function adoptionChanges(
  app: ApplicationRegistration,
  redirectUris: string[],
): { patch: Record<string, unknown> | null; changed: string[] } {
  const patch: Record<string, unknown> = {};
  const changed: string[] = [];

  const missingUris = redirectUris.filter((uri) => !app.redirectUris.includes(uri));
  if (missingUris.length) {
    // Graph replaces a complex property as a whole on some versions: send the writable parts of
    // `web` that were read, so nothing else of it is lost.
    const web: Record<string, unknown> = {};
    for (const key of ['homePageUrl', 'logoutUrl', 'implicitGrantSettings'])
      if (app.web[key] !== undefined) web[key] = app.web[key];
    patch.web = { ...web, redirectUris: [...app.redirectUris, ...missingUris] };
    for (const uri of missingUris) changed.push(`added the web redirect URI ${uri}`);
  }

  const dynamics = app.requiredResourceAccess.find(
    (r) => r.resourceAppId?.toLowerCase() === DYNAMICS_CRM_APP_ID,
  );
  const hasScope = dynamics?.resourceAccess?.some(
    (a) => a.id?.toLowerCase() === DYNAMICS_USER_IMPERSONATION_SCOPE_ID && a.type === 'Scope',
  );
  if (!hasScope) {
    const scope = { id: DYNAMICS_USER_IMPERSONATION_SCOPE_ID, type: 'Scope' };
    patch.requiredResourceAccess = dynamics
      ? app.requiredResourceAccess.map((r) =>
          r === dynamics ? { ...r, resourceAccess: [...(r.resourceAccess ?? []), scope] } : r,
        )
      : [...app.requiredResourceAccess, { resourceAppId: DYNAMICS_CRM_APP_ID, resourceAccess: [scope] }];
    changed.push('added the Dynamics CRM delegated permission user_impersonation');
  }

  if (!MULTI_TENANT_AUDIENCES.includes(app.signInAudience ?? '')) {
    // Personal accounts, when allowed, stay allowed: only organisations are added.
    const audience =
      app.signInAudience === 'PersonalMicrosoftAccount'
        ? 'AzureADandPersonalMicrosoftAccount'
        : 'AzureADMultipleOrgs';
    patch.signInAudience = audience;
    changed.push(`made it multi-tenant (signInAudience ${app.signInAudience ?? 'unset'} -> ${audience})`);
  }

  return { patch: changed.length ? patch : null, changed };
}

export class GraphClient {
  private readonly http: HttpClient;

  constructor(
    baseUrl: string,
    timeoutMs: number,
    private readonly tokens: GraphTokenProvider,
  ) {
    this.http = new HttpClient(`${baseUrl}/v1.0`, timeoutMs);
  }

  private async request(
    what: string,
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    data?: unknown,
    headers: Record<string, string> = {},
  ) {
    const call = async () =>
      send('graph', what, async () =>
        this.http.request({
          method,
          url,
          data,
          headers: {
            Authorization: `Bearer ${await this.tokens.token()}`,
            'Content-Type': 'application/json',
            ...headers,
          },
        }),
      );
    let res = await call();
    if (res.status === 401) {
      // Token revoked or expired early: one fresh token, then the status speaks for itself.
      this.tokens.invalidate();
      res = await call();
    }
    return res;
  }

  /** PATCH applications(uniqueName=...) with Prefer: create-if-missing; returns ids. */
  async upsertApplication(
    spec: ApplicationSpec,
  ): Promise<{ objectId: string; appId: string; created: boolean }> {
    const path = `/applications(uniqueName='${encodeURIComponent(spec.uniqueName)}')`;
    const body = {
      displayName: spec.displayName,
      signInAudience: 'AzureADMultipleOrgs',
      web: { redirectUris: spec.redirectUris },
      requiredResourceAccess: [
        {
          resourceAppId: MICROSOFT_GRAPH_APP_ID,
          resourceAccess: [{ id: GRAPH_USER_READ_SCOPE_ID, type: 'Scope' }],
        },
        {
          resourceAppId: DYNAMICS_CRM_APP_ID,
          resourceAccess: [{ id: DYNAMICS_USER_IMPERSONATION_SCOPE_ID, type: 'Scope' }],
        },
      ],
    };
    const res = await this.request('upsert application', 'PATCH', path, body, {
      Prefer: 'create-if-missing',
    });
    if (res.status === 201) return { objectId: res.data.id, appId: res.data.appId, created: true };
    if (res.status !== 204) throw graphFailure('upsert application', res);
    const found = await this.getApplication({ uniqueName: spec.uniqueName });
    return { ...found, created: false };
  }

  /** Reads the app by its object id or uniqueName; missing reads as replication delay (retried). */
  async getApplication(
    key: { objectId: string } | { uniqueName: string },
  ): Promise<{ objectId: string; appId: string; passwordCredentials: PasswordCredential[] }> {
    const path =
      'objectId' in key
        ? `/applications/${encodeURIComponent(key.objectId)}`
        : `/applications(uniqueName='${encodeURIComponent(key.uniqueName)}')`;
    const id = 'objectId' in key ? key.objectId : key.uniqueName;
    const res = await this.request('read application', 'GET', path);
    if (res.status === 404) throw replicationPending('application', id, res);
    if (res.status !== 200) throw graphFailure('read application', res);
    return {
      objectId: res.data.id,
      appId: res.data.appId,
      passwordCredentials: res.data.passwordCredentials ?? [],
    };
  }

  /** Creates the service principal, or finds it when it exists (409). */
  async ensureServicePrincipal(appId: string): Promise<{ servicePrincipalId: string; created: boolean }> {
    const res = await this.request('create service principal', 'POST', '/servicePrincipals', { appId });
    if (res.status === 201) return { servicePrincipalId: res.data.id, created: true };
    if (res.status === 400 && JSON.stringify(res.data ?? '').includes('NoBackingApplicationObject')) {
      throw replicationPending('application', appId, res);
    }
    if (res.status !== 409) throw graphFailure('create service principal', res);
    const found = await this.request(
      'read service principal',
      'GET',
      `/servicePrincipals(appId='${encodeURIComponent(appId)}')`,
    );
    if (found.status === 404) throw replicationPending('service principal', appId, found);
    if (found.status !== 200) throw graphFailure('read service principal', found);
    return { servicePrincipalId: found.data.id, created: false };
  }

  async addPassword(
    objectId: string,
    displayName: string,
    endDateTime: string,
  ): Promise<{ keyId: string; secretText: string; endDateTime: string }> {
    const res = await this.request(
      'add client secret',
      'POST',
      `/applications/${encodeURIComponent(objectId)}/addPassword`,
      {
        passwordCredential: { displayName, endDateTime },
      },
    );
    if (res.status === 404) throw replicationPending('application', objectId, res);
    if (res.status !== 200 || typeof res.data?.secretText !== 'string')
      throw graphFailure('add client secret', res);
    return { keyId: res.data.keyId, secretText: res.data.secretText, endDateTime: res.data.endDateTime };
  }

  async removePassword(objectId: string, keyId: string): Promise<void> {
    const res = await this.request(
      'remove client secret',
      'POST',
      `/applications/${encodeURIComponent(objectId)}/removePassword`,
      { keyId },
    );
    if (res.status === 204 || res.status === 200) return;
    if (
      res.status === 404 ||
      (res.status === 400 && /\bno\b.*\bfound\b|not.*found|does not exist/i.test(summariseBody(res.data)))
    )
      return;
    throw graphFailure('remove client secret', res);
  }

  /** The app registered under this Application (client) ID; null when Graph has none (404). */
  async getApplicationByAppId(appId: string): Promise<ApplicationRegistration | null> {
    return this.readApplication(`/applications(appId='${encodeURIComponent(appId)}')`, true);
  }

  /** The app with this uniqueName; null when there is none yet (404). */
  async findApplication(uniqueName: string): Promise<ApplicationRegistration | null> {
    return this.readApplication(`/applications(uniqueName='${encodeURIComponent(uniqueName)}')`);
  }

  private async readApplication(
    path: string,
    handRegistered = false,
  ): Promise<ApplicationRegistration | null> {
    const res = await this.request('read application', 'GET', path);
    if (res.status === 404) return null;
    if (res.status !== 200) throw graphFailure('read application', res, handRegistered);
    return registration(res.data);
  }

  /** PATCH applications/{objectId}: only the properties in `patch` change. */
  async updateApplication(
    objectId: string,
    patch: Record<string, unknown>,
    handRegistered = false,
  ): Promise<void> {
    const res = await this.request(
      'update application',
      'PATCH',
      `/applications/${encodeURIComponent(objectId)}`,
      patch,
    );
    if (res.status === 204 || res.status === 200) return;
    if (res.status === 404) throw replicationPending('application', objectId, res);
    throw graphFailure('update application', res, handRegistered);
  }
}

/** Entra is eventually consistent: a fresh object may read as missing for a while. */
function replicationPending(kind: string, id: string, res: HttpResponse): Error {
  if (res.status === 403) return graphForbidden(`access to ${kind} ${id}`, res);
  return transientFailure(
    `graph: ${kind} ${id} not visible yet (HTTP ${res.status}, Entra replication); retrying`,
  );
}
