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
