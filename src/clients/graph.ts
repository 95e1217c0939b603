// Microsoft Graph: the partner's multi-tenant app registration. Writes are idempotent by design:
// the app is upserted by uniqueName, the service principal tolerates 409, and secrets carry a
// marker so a retried addPassword can find (and retire) what an interrupted attempt created.
import { FailureTypes } from '../shared/failures';
import { HttpClient, type HttpResponse } from './http-client';
import { failureFor, nonRetryable, send, summariseBody, transientFailure } from './http';
import type { GraphTokenProvider } from './identity';

/** Well-known ids (external-apis.md 2.1). */
const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_USER_READ_SCOPE_ID = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d';
const DYNAMICS_CRM_APP_ID = '00000007-0000-0000-c000-000000000000';
const DYNAMICS_USER_IMPERSONATION_SCOPE_ID = '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4';

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
    if (res.status !== 204) throw failureFor('graph', 'upsert application', res);
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
    if (res.status !== 200) throw failureFor('graph', 'read application', res);
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
    if (res.status !== 409) throw failureFor('graph', 'create service principal', res);
    const found = await this.request(
      'read service principal',
      'GET',
      `/servicePrincipals(appId='${encodeURIComponent(appId)}')`,
    );
    if (found.status === 404) throw replicationPending('service principal', appId, found);
    if (found.status !== 200) throw failureFor('graph', 'read service principal', found);
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
      throw failureFor('graph', 'add client secret', res);
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
    throw failureFor('graph', 'remove client secret', res);
  }
}

/** Entra is eventually consistent: a fresh object may read as missing for a while. */
function replicationPending(kind: string, id: string, res: HttpResponse): Error {
  if (res.status === 403)
    return nonRetryable(FailureTypes.configuration, `graph: access to ${kind} ${id} denied`);
  return transientFailure(
    `graph: ${kind} ${id} not visible yet (HTTP ${res.status}, Entra replication); retrying`,
  );
}
