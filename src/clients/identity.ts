// Microsoft identity platform: client-credentials tokens for Microsoft Graph, cached until
// shortly before they expire.
import { classifyAadsts } from '../shared/aadsts';
import { FailureTypes } from '../shared/failures';
import { HttpClient } from './http-client';
import { failureFor, nonRetryable, send, transientFailure, retryAfterMs } from './http';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface IdentityOptions {
  baseUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
}

export class GraphTokenProvider {
  private readonly http: HttpClient;
  private cached?: { token: string; refreshAt: number };
  private inflight?: Promise<string>;

  constructor(private readonly opts: IdentityOptions) {
    this.http = new HttpClient(opts.baseUrl, opts.timeoutMs);
  }

  async token(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: GRAPH_SCOPE,
    });
    const res = await send('identity', 'Graph token request', () =>
      this.http.post(`/${encodeURIComponent(this.opts.tenantId)}/oauth2/v2.0/token`, form.toString(), {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    );
    if (res.status === 200 && typeof res.data?.access_token === 'string') {
      const expiresIn = Number(res.data.expires_in ?? 3599);
      this.cached = {
        token: res.data.access_token,
        refreshAt: Date.now() + Math.max(expiresIn - 120, 30) * 1000,
      };
      return this.cached.token;
    }
    const description =
      typeof res.data?.error_description === 'string' ? res.data.error_description : undefined;
    if (description) {
      const classified = classifyAadsts(description, {}, res.data?.error);
      const message = `identity: Graph token for GRAPH_CLIENT_ID failed: ${classified.verbatim}`;
      if (classified.class === 'transient' || res.status >= 500 || res.status === 429) {
        throw transientFailure(message, retryAfterMs(res.headers['retry-after']));
      }
      throw nonRetryable(
        FailureTypes.configuration,
        `${message}. Fix: check PARTNER_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET (${classified.remediation})`,
        { aadsts: classified.code },
      );
    }
    throw failureFor('identity', 'Graph token request', res);
  }
}

export type TenantProbe =
  | { verdict: 'consented' }
  | {
      verdict: 'no-consent' | 'wrong-resource' | 'no-tenant' | 'secret-rejected' | 'unknown';
      code: number | null;
      message: string;
    };

/**
 * An app-only token request in the customer's tenant with the shared app's own credentials: a
 * token means consent exists and the org is real; the AADSTS code says which is missing.
 */
export async function probeTenant(
  opts: { baseUrl: string; timeoutMs: number },
  input: { tenant: string; resourceUrl: string; clientId: string; clientSecret: string },
): Promise<TenantProbe> {
  const http = new HttpClient(opts.baseUrl, opts.timeoutMs);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: input.clientId,
    client_secret: input.clientSecret,
    scope: `${input.resourceUrl}/.default`,
  });
  const res = await send('identity', 'tenant probe', () =>
    http.post(`/${encodeURIComponent(input.tenant)}/oauth2/v2.0/token`, form.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    }),
  );
  if (res.status === 200 && typeof res.data?.access_token === 'string') return { verdict: 'consented' };
  const description =
    typeof res.data?.error_description === 'string' ? res.data.error_description : undefined;
  const classified = classifyAadsts(description, {}, res.data?.error);
  if (classified.class === 'transient' || res.status >= 500 || res.status === 429)
    throw transientFailure(
      `identity: tenant probe: ${classified.verbatim}`,
      retryAfterMs(res.headers['retry-after']),
    );
  const verdict =
    classified.code === 7000229 || classified.code === 700016
      ? 'no-consent'
      : classified.code === 500011
        ? 'wrong-resource'
        : classified.code === 90002
          ? 'no-tenant'
          : classified.code === 7000215 || classified.code === 7000222
            ? 'secret-rejected'
            : 'unknown';
  return { verdict, code: classified.code, message: classified.verbatim };
}
