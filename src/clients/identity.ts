// Microsoft identity platform: client-credentials tokens for Microsoft Graph, cached until
// shortly before they expire; and the app-only probe of a customer's tenant.
import { classifyTokenError, managementClientRemediation } from '../shared/aadsts';
import { FailureTypes } from '../shared/failures';
import { HttpClient, type HttpResponse } from './http-client';
import { failureFor, nonRetryable, send, summariseBody, transientFailure, retryAfterMs } from './http';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

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

  /**
   * A refused token is a configuration failure whose message and details carry the fix for the
   * product's own settings (details: `{ aadsts, fix }`), e.g. GRAPH_CLIENT_SECRET for AADSTS7000215.
   */
  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: GRAPH_SCOPE,
    });
    const res = await send('identity', 'Graph token request', () =>
      this.http.post(`/${encodeURIComponent(this.opts.tenantId)}/oauth2/v2.0/token`, form.toString(), {
        headers: FORM,
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
    if (typeof res.data?.error_description === 'string') {
      const classified = classifyTokenError(res.data);
      const message = `identity: Graph token for GRAPH_CLIENT_ID in PARTNER_TENANT_ID failed: ${classified.verbatim}`;
      if (classified.class === 'transient' || res.status >= 500 || res.status === 429) {
        throw transientFailure(message, retryAfterMs(res.headers['retry-after']));
      }
      const fix = managementClientRemediation(classified.code);
      throw nonRetryable(FailureTypes.configuration, `${message}. Fix: ${fix}`, {
        aadsts: classified.code,
        fix,
      });
    }
    throw failureFor('identity', 'Graph token request', res);
  }
}

/** What an app-only token request in a customer's tenant says about that tenant. */
export type TenantProbe =
  | { verdict: 'consented' }
  | {
      verdict: 'no-consent' | 'wrong-resource' | 'no-tenant' | 'secret-rejected' | 'unknown';
      /** The AADSTS code Microsoft answered with, when it gave one. */
      code: number | null;
      /** Microsoft's own first line of error_description (no trace or correlation ids). */
      message: string;
    };

export interface TenantProbeInput {
  /** The customer's tenant: its id (GUID) or a verified domain. */
  tenant: string;
  /** The customer's Dynamics org URL, e.g. https://contoso.crm4.dynamics.com */
  resourceUrl: string;
  /** The shared multi-tenant app's own credentials. */
  clientId: string;
  clientSecret: string;
}

/** What each AADSTS code says about the tenant (sources: src/shared/aadsts.ts). */
const VERDICTS: Record<number, Exclude<TenantProbe['verdict'], 'consented'>> = {
  7000229: 'no-consent', // the app has no service principal there: nobody consented
  700016: 'no-consent', // the same, as Microsoft answered it before 7000229 existed
  500011: 'wrong-resource', // no such Dynamics org in that tenant
  90002: 'no-tenant',
  7000215: 'secret-rejected',
  7000222: 'secret-rejected',
};

/** One client per identity endpoint and timeout, so probes share kept-alive connections. */
const probeClients = new Map<string, HttpClient>();

/**
 * Asks Microsoft, without any person, whether the customer's tenant consented to the shared app
 * and holds the Dynamics org: a client-credentials token request in that tenant (v2 endpoint) for
 * `<Resource URL>/.default` with the app's own credentials. A token means yes to both; it is
 * dropped at once (never cached, logged or returned). Transient answers (5xx, 429,
 * temporarily_unavailable, transient AADSTS codes, no answer) throw the transient failure.
 */
export async function probeTenant(
  opts: { baseUrl: string; timeoutMs: number },
  input: TenantProbeInput,
): Promise<TenantProbe> {
  const key = `${opts.baseUrl} ${opts.timeoutMs}`;
  let http = probeClients.get(key);
  if (!http) probeClients.set(key, (http = new HttpClient(opts.baseUrl, opts.timeoutMs)));
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: input.clientId,
    client_secret: input.clientSecret,
    scope: `${input.resourceUrl.replace(/\/+$/, '')}/.default`,
  });
  const client = http;
  const res = await send('identity', 'tenant probe', () =>
    client.post(`/${encodeURIComponent(input.tenant)}/oauth2/v2.0/token`, form.toString(), { headers: FORM }),
  );
  return tenantProbeVerdict(res);
}

/** Reads the token endpoint's answer to a probe (see probeTenant). */
export function tenantProbeVerdict(res: HttpResponse): TenantProbe {
  if (res.status === 200 && typeof res.data?.access_token === 'string') return { verdict: 'consented' };
  const body = typeof res.data === 'object' && res.data !== null ? res.data : {};
  const hasError = typeof body.error_description === 'string' || typeof body.error === 'string';
  const classified = classifyTokenError(body);
  if (classified.class === 'transient' || res.status >= 500 || res.status === 429 || res.status === 408) {
    const what = hasError ? classified.verbatim : `HTTP ${res.status}`;
    throw transientFailure(
      `identity: tenant probe answered ${what}; retrying`,
      retryAfterMs(res.headers['retry-after']),
      { status: res.status },
    );
  }
  if (!hasError) {
    const summary = summariseBody(res.data);
    return {
      verdict: 'unknown',
      code: null,
      message: `HTTP ${res.status}${summary ? `: ${summary}` : ''}`,
    };
  }
  const verdict = (classified.code !== null && VERDICTS[classified.code]) || 'unknown';
  return { verdict, code: classified.code, message: classified.verbatim };
}
