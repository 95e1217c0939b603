// Small helpers shared by the simulators (ids, random secrets, time formats, query parsing).
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export const guid = (): string => randomUUID();

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Random string of `length` chars drawn from `alphabet` (uniform enough for a simulator). */
export function randomString(length: number, alphabet: string): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes.readUInt16BE(i * 2) % alphabet.length];
  return out;
}

export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** `YYYY-MM-DD HH:MM:SSZ` as used in AADSTS trailers and the `timestamp` field. */
export function aadTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** ISO 8601 with 7 fraction digits (.NET "o" format), e.g. 2017-12-08T11:02:48.7436471Z. */
export function iso7(ms: number): string {
  const base = new Date(ms).toISOString().replace(/Z$/, ''); // ...SS.mmm
  const extra = String(Math.floor(Math.random() * 10000)).padStart(4, '0');
  return `${base}${extra}Z`;
}

/** Graph innerError date format: 2019-09-09T19:50:29 (no fraction, no zone). */
export function graphDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '');
}

/** First string value of a query/body field (express may hand arrays for repeated keys). */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Plain `Record<string,string>` of a parsed query or form body (first value of each key). */
export function flatParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (source && typeof source === 'object') {
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const s = str(v);
      if (s !== undefined) out[k] = s;
    }
  }
  return out;
}

/**
 * Normalise a resource / org URL for comparison: lower-case scheme and host, drop default port,
 * drop trailing slashes. Returns undefined for things that are not absolute http(s) URLs.
 */
export function normaliseResource(value: string): string | undefined {
  try {
    const u = new URL(value.trim());
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    const path = u.pathname.replace(/\/+$/, '');
    return `${u.protocol}//${u.host.toLowerCase()}${path}`;
  } catch {
    return undefined;
  }
}

/** Append query params to a URL, keeping the params it already has. */
export function withQuery(url: string, params: Record<string, string | undefined>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.append(k, v);
  return u.toString();
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
