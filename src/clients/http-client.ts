// A small JSON-over-HTTP client on axios, one instance per external service: base URL, a timeout
// for the whole exchange, kept-alive connections. Every status is an answer to interpret (see
// http.ts); only transport failures (refused, reset, timed out) throw, as TransportError, which
// carries a code and nothing of the request (axios errors hold its headers and body: secrets).
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { keepAliveAgents } from './keep-alive';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A parsed body: each client checks the fields it relies on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResponseBody = any;

export interface HttpResponse<T = ResponseBody> {
  status: number;
  /** Lower-case names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON when it is JSON, else the text ('' when empty). */
  data: T;
}

export interface HttpRequest {
  method?: HttpMethod;
  /** Appended to the base URL ('' for the base URL itself). */
  url?: string;
  /** A string is sent as it is; anything else as JSON. */
  data?: unknown;
  headers?: Record<string, string>;
}

/** No answer came. Carries no request detail: headers and bodies hold secrets. */
export class TransportError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'TransportError';
  }
}

function parseBody(text: string, contentType: string): unknown {
  if (!text) return '';
  if (/\bjson\b/i.test(contentType) || /^\s*[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The error's code only: never its message or fields, which may quote the request. */
const transportCode = (err: unknown, timedOut: boolean): string => {
  if (timedOut) return 'timeout';
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (e?.code === 'ETIMEDOUT' || e?.code === 'ECONNABORTED' || e?.name === 'TimeoutError') return 'timeout';
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return 'transport error';
};

const identity = <T>(data: T): T => data;

export class HttpClient {
  private readonly axios: AxiosInstance;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.axios = axios.create({
      // axios joins the base URL and a path as the clients expect, and uses the base URL untouched
      // when the path is empty (a webhook's own URL); a path is never taken as an absolute URL.
      baseURL: baseUrl,
      allowAbsoluteUrls: false,
      timeout: timeoutMs,
      httpAgent: keepAliveAgents.http,
      httpsAgent: keepAliveAgents.https,
      // Every status reaches the caller's outcome mapping; a redirect is an answer too.
      validateStatus: () => true,
      maxRedirects: 0,
      // Bodies are serialised and parsed here, the same for every service.
      responseType: 'text',
      transformRequest: [identity],
      transformResponse: [identity],
      // Straight to the configured services, whatever proxy variables the environment holds.
      proxy: false,
      transitional: { clarifyTimeoutError: true },
    });
  }

  async request<T = ResponseBody>(req: HttpRequest): Promise<HttpResponse<T>> {
    const body =
      req.data === undefined ? undefined : typeof req.data === 'string' ? req.data : JSON.stringify(req.data);
    // axios's own timeout ends at the response headers; this signal bounds the body too.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request<string>({
        method: req.method ?? 'GET',
        url: req.url ?? '',
        data: body,
        headers: req.headers,
        signal: deadline,
      });
    } catch (err) {
      throw new TransportError(transportCode(err, deadline.aborted));
    }
    const headers: HttpResponse['headers'] = {};
    for (const [name, value] of Object.entries(res.headers ?? {})) {
      if (typeof value === 'string' || Array.isArray(value)) headers[name.toLowerCase()] = value;
      else if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
    const text = typeof res.data === 'string' ? res.data : '';
    return {
      status: res.status,
      headers,
      data: parseBody(text, String(headers['content-type'] ?? '')) as T,
    };
  }

  post<T = ResponseBody>(url: string, data: unknown, opts: { headers?: Record<string, string> } = {}) {
    return this.request<T>({ method: 'POST', url, data, headers: opts.headers });
  }
}
