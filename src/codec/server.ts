// The codec server (Temporal's remote codec protocol) for the official `temporal` CLI
// (`--codec-endpoint http://host:port/codecs --codec-auth "Bearer <token>"`) and the Web UI:
// POST /codecs/encode and /codecs/decode, body and answer `{ payloads: [{ metadata, data }] }`
// with base64 fields. Only a holder of the token gets anything; browsers only from allowed origins.
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Config } from '../config';
import { AesGcmCodec } from './aes-gcm-codec';
import { loadCodecKeys, loadCodecToken } from './keys';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Accepted bearer tokens (the codec token; the ops token where one is configured). */
  tokens: string[];
  /** The namespace whose keys this server holds; requests naming another are refused. */
  namespace: string;
  corsOrigins: string[];
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
  const tokens = opts.tokens.filter(Boolean);

  // CORS for the Web UI: only listed origins, and the headers the UI sends.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('Origin');
    if (origin && opts.corsOrigins.includes(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(origin && opts.corsOrigins.includes(origin) ? 204 : 403).end();
      return;
    }
    next();
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.get('Authorization') ?? '';
    const given = header.replace(/^Bearer\s+/i, '');
    if (!given || !tokens.some((t) => sameToken(given, t))) {
      res.status(401).json({ message: 'codec server: a valid Authorization: Bearer <token> is required' });
      return;
    }
    const namespace = req.get('X-Namespace');
    if (namespace && namespace !== opts.namespace) {
      res.status(403).json({ message: `codec server: no keys for namespace "${namespace.slice(0, 100)}"` });
      return;
    }
    next();
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

/** The codec server's options from configuration: the codec token and, when set, OPS_TOKEN. */
export function codecServerOptions(config: Config, namespace: string): CodecServerOptions {
  return {
    codec: new AesGcmCodec(loadCodecKeys(config)),
    tokens: [loadCodecToken(config), config.OPS_TOKEN ?? ''],
    namespace,
    corsOrigins: config.CODEC_CORS_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
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
