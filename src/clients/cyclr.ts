// Cyclr API: accounts, the connector library, account connectors, their properties, and one-time
// sign-in tokens.
import type { Config } from '../config';
import { FailureTypes } from '../shared/failures';
import { HttpClient, type HttpResponse } from './http-client';
import { failureFor, nonRetryable, send, summariseBody } from './http';

export interface CyclrOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

export interface AccountConnector {
  Id: number;
  Description?: string | null;
  Authenticated: boolean;
  Connector: { Id: number; Name: string };
}

/** A Cyclr account (GET /v1.0/accounts/{id}). */
export interface CyclrAccount {
  Id: string;
  Name: string;
  Description?: string | null;
  Timezone?: string;
  CreatedDate?: string;
}

/** A connector of the library, as the connector lookup reports it. */
export type ConnectorLookup =
  | { found: false; name: string }
  | {
      found: true;
      id: number;
      name: string;
      /** Cyclr's release status ("Approved", "Draft", ...); null when Cyclr did not say. */
      status: string | null;
      version: string | null;
      /** Only an Approved connector can be installed (assumed when Cyclr gives no status). */
      installable: boolean;
    };

export interface ConnectorProperty {
  Id: number;
  Name: string;
  Value: string | null;
}

export class CyclrClient {
  private readonly http: HttpClient;
  private cached?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;
  private connectorIds = new Map<string, number>();

  constructor(private readonly opts: CyclrOptions) {
    this.http = new HttpClient(opts.baseUrl, opts.timeoutMs);
  }

  private async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
    });
    const res = await send('cyclr', 'API token request', () =>
      this.http.post('/oauth/token', form.toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    );
    if (res.status === 200 && typeof res.data?.access_token === 'string') {
      const expiresIn = Number(res.data.expires_in ?? 3600);
      this.cached = {
        token: res.data.access_token,
        refreshAt: Date.now() + Math.max(expiresIn - 300, 30) * 1000,
      };
      return this.cached.token;
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw nonRetryable(
        FailureTypes.configuration,
        `cyclr: API token request refused (HTTP ${res.status}): check CYCLR_CLIENT_ID and CYCLR_CLIENT_SECRET (Cyclr console > Settings > OAuth Client Credentials)`,
      );
    }
    throw failureFor('cyclr', 'API token request', res);
  }

  private async request(
    what: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    accountId?: string,
    data?: unknown,
  ): Promise<HttpResponse> {
    const call = async () =>
      send('cyclr', what, async () =>
        this.http.request({
          method,
          url: `/v1.0${url}`,
          data,
          headers: {
            Authorization: `Bearer ${await this.token()}`,
            Accept: 'application/json',
            ...(data === undefined ? {} : { 'Content-Type': 'application/json' }),
            ...(accountId ? { 'X-Cyclr-Account': accountId } : {}),
          },
        }),
      );
    let res = await call();
    if (res.status === 401) {
      this.cached = undefined;
      res = await call();
    }
    return res;
  }

  private accountFailure(accountId: string, res: HttpResponse): Error | undefined {
    const text = summariseBody(res.data);
    if (res.status === 404 || (res.status === 400 && /account/i.test(text))) {
      return nonRetryable(
        FailureTypes.cyclrAccountNotFound,
        `cyclr: account "${accountId}" was not found (HTTP ${res.status}${text ? `: ${text}` : ''}); check cyclrAccountId is the account's API ID`,
      );
    }
    return undefined;
  }

  async listAccountConnectors(accountId: string): Promise<AccountConnector[]> {
    const res = await this.request('list account connectors', 'GET', '/account/connectors', accountId);
    if (res.status !== 200)
      throw this.accountFailure(accountId, res) ?? failureFor('cyclr', 'list account connectors', res);
    return res.data as AccountConnector[];
  }

  async connectorId(name: string, accountId: string): Promise<number> {
    const known = this.connectorIds.get(name);
    if (known !== undefined) return known;
    const res = await this.request(
      'list connectors',
      'GET',
      `/connectors?query=${encodeURIComponent(name)}`,
      accountId,
    );
    if (res.status !== 200) throw failureFor('cyclr', 'list connectors', res);
    const match = (res.data as { Id: number; Name: string }[]).find((c) => c.Name === name);
    if (!match) {
      throw nonRetryable(
        FailureTypes.configuration,
        `cyclr: no connector named "${name}" in the connector library; check DYNAMICS_CONNECTOR_NAME`,
      );
    }
    this.connectorIds.set(name, match.Id);
    return match.Id;
  }

  /** The API credentials work: a fresh token from /oauth/token (failures as for any call). */
  async checkCredentials(): Promise<void> {
    await this.fetchToken();
  }

  /** The account with this API ID; null when Cyclr has none (404). */
  async getAccount(accountId: string): Promise<CyclrAccount | null> {
    const res = await this.request('read account', 'GET', `/accounts/${encodeURIComponent(accountId)}`);
    if (res.status === 404) return null;
    if (res.status !== 200) throw failureFor('cyclr', 'read account', res);
    return res.data as CyclrAccount;
  }

  /**
   * Whether the library has a connector with exactly this name, and whether it can be installed
   * (Status "Approved"). With `accountId`, as that account sees the library. When several versions
   * carry the name, an Approved one wins.
   */
  async lookupConnector(name: string, accountId?: string): Promise<ConnectorLookup> {
    type Listed = { Id: number; Name: string; Status?: string | null; Version?: string | null };
    const matches: Listed[] = [];
    for (let page = 1, pages = 1; page <= pages && page <= 20; page++) {
      const res = await this.request(
        'list connectors',
        'GET',
        `/connectors?query=${encodeURIComponent(name)}${page > 1 ? `&page=${page}` : ''}`,
        accountId,
      );
      if (res.status !== 200) throw failureFor('cyclr', 'list connectors', res);
      if (!Array.isArray(res.data)) break;
      matches.push(...(res.data as Listed[]).filter((c) => c.Name === name));
      pages = Number(res.headers['total-pages']) || 1;
    }
    const installable = (c: Listed) => typeof c.Status !== 'string' || /^approved$/i.test(c.Status);
    const best = matches.find(installable) ?? matches[0];
    if (!best) return { found: false, name };
    return {
      found: true,
      id: best.Id,
      name: best.Name,
      status: typeof best.Status === 'string' ? best.Status : null,
      version: typeof best.Version === 'string' ? best.Version : null,
      installable: installable(best),
    };
  }

  /** Installs a connector in the account, with its account connector properties when given. */
  async installConnector(
    accountId: string,
    connectorId: number,
    install: { name: string; description: string; properties?: Record<string, string> },
  ): Promise<AccountConnector> {
    const res = await this.request(
      'install connector',
      'POST',
      `/connectors/${connectorId}/install`,
      accountId,
      {
        Name: install.name,
        Description: install.description,
        ...(install.properties
          ? { Properties: Object.entries(install.properties).map(([Name, Value]) => ({ Name, Value })) }
          : {}),
      },
    );
    if (res.status !== 200 && res.status !== 201)
      throw this.accountFailure(accountId, res) ?? failureFor('cyclr', 'install connector', res);
    return res.data as AccountConnector;
  }

  async getAccountConnector(accountId: string, accountConnectorId: number): Promise<AccountConnector> {
    const res = await this.request(
      'read account connector',
      'GET',
      `/account/connectors/${accountConnectorId}`,
      accountId,
    );
    if (res.status === 404) {
      throw nonRetryable(
        FailureTypes.rejected,
        `cyclr: account connector ${accountConnectorId} of account "${accountId}" no longer exists (deleted in Cyclr?)`,
      );
    }
    if (res.status !== 200) throw failureFor('cyclr', 'read account connector', res);
    return res.data as AccountConnector;
  }

  async listProperties(accountId: string, accountConnectorId: number): Promise<ConnectorProperty[]> {
    const res = await this.request(
      'list properties',
      'GET',
      `/account/connectors/${accountConnectorId}/properties`,
      accountId,
    );
    if (res.status !== 200) throw failureFor('cyclr', 'list properties', res);
    return res.data as ConnectorProperty[];
  }

  async createProperty(
    accountId: string,
    accountConnectorId: number,
    name: string,
    value: string,
  ): Promise<void> {
    const res = await this.request(
      'create property',
      'POST',
      `/account/connectors/${accountConnectorId}/properties`,
      accountId,
      {
        Name: name,
        Value: value,
      },
    );
    if (res.status !== 200 && res.status !== 201) throw failureFor('cyclr', `create property ${name}`, res);
  }

  async updateProperty(
    accountId: string,
    accountConnectorId: number,
    property: ConnectorProperty,
    value: string,
  ): Promise<void> {
    const res = await this.request(
      'update property',
      'PUT',
      `/account/connectors/${accountConnectorId}/properties/${property.Id}`,
      accountId,
      {
        Id: property.Id,
        Name: property.Name,
        Value: value,
      },
    );
    if (res.status !== 200 && res.status !== 204)
      throw failureFor('cyclr', `update property ${property.Name}`, res);
  }

  /**
   * Forgets the account connector's captured OAuth tokens (PUT .../deauthenticate).
   * `alreadyGone`: the account connector (or its account) no longer exists (404).
   */
  async deauthenticateAccountConnector(
    accountId: string,
    accountConnectorId: number,
  ): Promise<{ alreadyGone: boolean }> {
    const res = await this.request(
      'deauthenticate account connector',
      'PUT',
      `/account/connectors/${accountConnectorId}/deauthenticate`,
      accountId,
    );
    if (res.status === 404) return { alreadyGone: true };
    if (res.status !== 200 && res.status !== 204)
      throw (
        this.accountFailure(accountId, res) ?? failureFor('cyclr', 'deauthenticate account connector', res)
      );
    return { alreadyGone: false };
  }

  /**
   * Deletes the account connector (DELETE). A 404 means it is already gone: reported as
   * `alreadyGone`, not as an error, so a retried delete is idempotent.
   */
  async deleteAccountConnector(
    accountId: string,
    accountConnectorId: number,
  ): Promise<{ alreadyGone: boolean }> {
    const res = await this.request(
      'delete account connector',
      'DELETE',
      `/account/connectors/${accountConnectorId}`,
      accountId,
    );
    if (res.status === 404) return { alreadyGone: true };
    if (res.status !== 200 && res.status !== 204)
      throw this.accountFailure(accountId, res) ?? failureFor('cyclr', 'delete account connector', res);
    return { alreadyGone: false };
  }

  /** A one-time sign-in token: single use, valid 5 minutes. */
  async createSignInToken(
    accountId: string,
    username: string,
  ): Promise<{ token: string; expiresAtUtc: string }> {
    const res = await this.request(
      'create sign-in token',
      'POST',
      `/accounts/${encodeURIComponent(accountId)}/signintoken`,
      undefined,
      {
        Username: username,
      },
    );
    if (res.status !== 200 || typeof res.data?.Token !== 'string') {
      throw this.accountFailure(accountId, res) ?? failureFor('cyclr', 'create sign-in token', res);
    }
    return { token: res.data.Token, expiresAtUtc: res.data.ExpiresAtUtc };
  }
}

/** The Cyclr API client the configuration names (the worker, the ingress and the CLI share it). */
export function createCyclrClient(config: Config): CyclrClient {
  return new CyclrClient({
    baseUrl: config.CYCLR_API_BASE_URL,
    clientId: config.CYCLR_CLIENT_ID,
    clientSecret: config.CYCLR_CLIENT_SECRET,
    timeoutMs: config.HTTP_TIMEOUT_MS,
  });
}
