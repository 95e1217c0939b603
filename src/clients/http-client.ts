// A small JSON-over-HTTP client on undici's `request`, one per external service: base URL, a
// timeout for the whole exchange, kept-alive connections. About half the CPU per call of axios,
// which the worker used before (docs/benchmarks.md). Every status is an answer to interpret; only
// transport failures (refused, reset, timed out) throw, as TransportError.
import { request } from 'undici';
import { keepAliveDispatcher } from './keep-alive';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A parsed body: each client checks the fields it relies on, as it did with axios's `any`. */
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

const transportCode = (err: unknown): string => {
  const e = err as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (e?.name === 'TimeoutError') return 'timeout';
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return typeof e?.name === 'string' ? e.name : 'transport error';
};

export class HttpClient {
  /** The base URL without its trailing slashes, trimmed once rather than on every call. */
  private readonly trimmedBase: string;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.trimmedBase = baseUrl.replace(/\/+$/, '');
  }

  /** As axios joined them: the base URL untouched when the path is empty (a webhook's own URL). */
  private urlFor(path: string | undefined): string {
    return path ? `${this.trimmedBase}/${path.replace(/^\/+/, '')}` : this.baseUrl;
  }

  async request<T = ResponseBody>(req: HttpRequest): Promise<HttpResponse<T>> {
    const body =
      req.data === undefined ? undefined : typeof req.data === 'string' ? req.data : JSON.stringify(req.data);
    let res: Awaited<ReturnType<typeof request>>;
    let text: string;
    try {
      res = await request(this.urlFor(req.url), {
        method: req.method ?? 'GET',
        headers: req.headers,
        body,
        dispatcher: keepAliveDispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.body.text();
    } catch (err) {
      throw new TransportError(transportCode(err));
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      data: parseBody(text, String(res.headers['content-type'] ?? '')) as T,
    };
  }

  post<T = ResponseBody>(url: string, data: unknown, opts: { headers?: Record<string, string> } = {}) {
    return this.request<T>({ method: 'POST', url, data, headers: opts.headers });
  }
}
