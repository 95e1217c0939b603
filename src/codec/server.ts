// The codec server (Temporal's remote codec protocol) for the official `temporal` CLI
// (`--codec-endpoint http://host:port/codecs --codec-auth "Bearer <token>"`) and the Web UI:
// POST /codecs/encode and /codecs/decode, body and answer `{ payloads: [{ metadata, data }] }`
// with base64 fields. Only a holder of the codec token gets anything (failed tokens are throttled
// per address); browsers only from allowed origins. The one exception is the embedded default's
// own Web UI (`npm start`): see `localUi` and docs/security.md.
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Config } from '../config';
import { Backoff } from '../ingress/login-throttle';
import type { TrustProxy } from '../ingress/trust-proxy';
import { AesGcmCodec } from './aes-gcm-codec';
import { loadCodecKeys, loadCodecToken } from './keys';

/**
 * The embedded default's Web UI, which calls the codec endpoint from the browser without a token:
 * accepted only on a loopback connection, addressed to a loopback host name, from exactly these
 * origins (the UI's own, which no other web page can claim).
 */
export interface LocalUi {
  origins: string[];
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Accepted bearer tokens: the codec token (CODEC_AUTH_TOKEN, or the generated one). */
  tokens: string[];
  /** The namespace whose keys this server holds; requests naming another are refused. */
  namespace: string;
  corsOrigins: string[];
  localUi?: LocalUi;
  /** Express "trust proxy" (CODEC_TRUST_PROXY): whose address failed tokens are counted against. */
  trustProxy?: TrustProxy;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const b64 = (bytes: Uint8Array | null | undefined) =>
  Buffer.from(bytes ?? new Uint8Array()).toString('base64');
const fromB64 = (text: unknown) =>
  new Uint8Array(Buffer.from(typeof text === 'string' ? text : '', 'base64'));

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = fromB64(v);
  return { metadata, data: fromB64(p.data) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = b64(v);
  return { metadata, data: b64(p.data) };
}

/** Protobuf JSON omits an empty list: `{}` is zero payloads (the CLI sends it for a query with no args). */
function payloadList(body: unknown): JsonPayload[] | undefined {
  if (body === undefined) return [];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const payloads = (body as { payloads?: unknown }).payloads ?? [];
  return isPayloadArray(payloads) ? payloads : undefined;
}

function isPayloadArray(payloads: unknown): payloads is JsonPayload[] {
  return (
    Array.isArray(payloads) &&
    payloads.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        (p.data === undefined || typeof p.data === 'string') &&
        (p.metadata === undefined ||
          (p.metadata !== null &&
            typeof p.metadata === 'object' &&
            Object.values(p.metadata).every((v) => typeof v === 'string'))),
    )
  );
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createCodecApp(opts: CodecServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  if (opts.trustProxy !== undefined) app.set('trust proxy', opts.trustProxy);
  const tokens = opts.tokens.filter(Boolean);
  const allowed = [...opts.corsOrigins, ...(opts.localUi?.origins ?? [])];

  // CORS for the Web UI: only listed origins, and the headers the UI sends.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('Origin');
    if (origin && allowed.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(origin && allowed.includes(origin) ? 204 : 403).end();
      return;
    }
    next();
  });

  // Failed tokens per address: a few free, then doubling waits (the ops sign-in's backoff).
  const failures = new Backoff({ free: 10 });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.get('Authorization');
    if (header === undefined && opts.localUi && fromLocalUi(req, opts.localUi)) return checkNamespace();
    const from = req.ip ?? 'unknown';
    const wait = failures.waitFor(from);
    if (wait) {
      if (header) failures.failed(from); // trying again before the wait is over counts too
      res
        .status(429)
        .set('Retry-After', String(wait))
        .json({ message: `codec server: too many failed tokens from your address; try again in ${wait} s` });
      return;
    }
    const given = (header ?? '').replace(/^Bearer\s+/i, '');
    if (!given || !tokens.some((t) => sameToken(given, t))) {
      // Only a token that was tried counts (a request without one guessed nothing).
      if (given) failures.failed(from);
      res.status(401).json({ message: 'codec server: a valid Authorization: Bearer <token> is required' });
      return;
    }
    checkNamespace();

    function checkNamespace() {
      const namespace = req.get('X-Namespace');
      if (namespace && namespace !== opts.namespace) {
        res.status(403).json({ message: `codec server: no keys for namespace "${namespace.slice(0, 100)}"` });
        return;
      }
      next();
    }
  });

  app.use(express.json({ limit: '16mb' }));

  for (const op of ['encode', 'decode'] as const) {
    app.post(`/codecs/${op}`, async (req: Request, res: Response) => {
      const payloads = payloadList(req.body);
      if (!payloads) {
        res.status(400).json({ message: 'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}' });
        return;
      }
      try {
        const out = await opts.codec[op](payloads.map(fromJson));
        res.json({ payloads: out.map(toJson) });
      } catch (err) {
        // The codec's messages name key ids, never key material or payload content.
        res.status(400).json({ message: `codec server: ${(err as Error).message}` });
      }
    });
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    res
      .status(status && status >= 400 && status < 500 ? status : 500)
      .json({ message: 'codec server: bad request' });
  });
  return app;
}

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  const a = (address ?? '').replace(/^::ffff:/i, '');
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** A browser request of the embedded Web UI, on this machine, to this machine. */
function fromLocalUi(req: Request, ui: LocalUi): boolean {
  const origin = req.get('Origin');
  const hostname = (req.get('Host') ?? '').replace(/:\d+$/, '').toLowerCase();
  return (
    origin !== undefined &&
    ui.origins.includes(origin) &&
    LOOPBACK_HOSTS.includes(hostname) &&
    isLoopbackAddress(req.socket.remoteAddress) &&
    isLoopbackAddress(req.socket.localAddress)
  );
}

/**
 * Whether the embedded default's Web UI may call without a token: only when this process started
 * the dev server (and so its Web UI) itself, the codec server listens on loopback, and no codec
 * token is configured (nothing says this is more than one person's machine).
 */
export function embeddedLocalUi(
  config: Pick<Config, 'CODEC_AUTH_TOKEN' | 'CODEC_HOST'>,
  o: { devServerStarted: boolean; uiPort: number },
): LocalUi | undefined {
  if (!o.devServerStarted || config.CODEC_AUTH_TOKEN !== undefined) return undefined;
  if (!isLoopbackAddress(config.CODEC_HOST) && config.CODEC_HOST !== 'localhost') return undefined;
  return { origins: [`http://127.0.0.1:${o.uiPort}`, `http://localhost:${o.uiPort}`] };
}

/** The codec server's options from configuration: its own token only (OPS_TOKEN does not open it). */
export function codecServerOptions(config: Config, namespace: string, localUi?: LocalUi): CodecServerOptions {
  return {
    codec: new AesGcmCodec(loadCodecKeys(config)),
    tokens: [loadCodecToken(config)],
    namespace,
    corsOrigins: config.CODEC_CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    ...(localUi ? { localUi } : {}),
    ...(config.CODEC_TRUST_PROXY !== undefined ? { trustProxy: config.CODEC_TRUST_PROXY } : {}),
  };
}

export async function startCodecServer(
  opts: CodecServerOptions,
  port: number,
  host: string,
): Promise<Server> {
  const app = createCodecApp(opts);
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
