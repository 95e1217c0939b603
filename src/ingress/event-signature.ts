// Checks an onboarding event's HMAC-SHA256 signature and timestamp before anything reads the body.
// Signed string: `<X-Onboarding-Timestamp>.<raw body>`; header `X-Onboarding-Signature: sha256=<hex>`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EVENT_SIGNATURE_HEADER, EVENT_TIMESTAMP_HEADER, signedString } from '../shared/events';

export type SignatureCheck =
  { ok: true; signature: string; timestampSeconds: number } | { ok: false; status: 401; message: string };

export function signEvent(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(signedString(timestamp, rawBody)).digest('hex')}`;
}

export function checkEventSignature(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: Buffer,
  maxSkewSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const fail = (message: string): SignatureCheck => ({ ok: false, status: 401, message });
  const { timestamp, signature } = headers;
  if (!timestamp)
    return fail(`${EVENT_TIMESTAMP_HEADER}: required: the Unix time in seconds when the event was signed`);
  if (!/^\d{1,12}$/.test(timestamp))
    return fail(`${EVENT_TIMESTAMP_HEADER}: expected Unix time in whole seconds, like 1764129600`);
  if (!signature)
    return fail(
      `${EVENT_SIGNATURE_HEADER}: required: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret>`,
    );
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature.trim());
  if (!match) return fail(`${EVENT_SIGNATURE_HEADER}: expected sha256= followed by 64 hex digits`);
  const expected = createHmac('sha256', secret).update(signedString(timestamp, rawBody)).digest();
  const given = Buffer.from(match[1], 'hex');
  if (!timingSafeEqual(given, expected))
    return fail(
      `${EVENT_SIGNATURE_HEADER}: signature does not match: sign exactly "<${EVENT_TIMESTAMP_HEADER}>.<raw body bytes>" with the shared secret`,
    );
  // Checked after the signature, so an unauthenticated caller learns nothing about our clock.
  const skew = nowSeconds - Number(timestamp);
  if (Math.abs(skew) > maxSkewSeconds)
    return fail(
      `${EVENT_TIMESTAMP_HEADER}: stale: signed ${Math.abs(skew)} s ${skew > 0 ? 'ago' : 'in the future'}, more than the ${maxSkewSeconds} s allowed; sign again with the current time`,
    );
  return { ok: true, signature: match[1].toLowerCase(), timestampSeconds: Number(timestamp) };
}
