// Signed `state` for the links handed to customers: binds a consent or sign-in link to one
// onboarding (and one sign-in attempt) so a forged or tampered callback is refused. Each link also
// carries a random nonce, so every link handed out is distinct: the ingress accepts a callback
// only for the link the onboarding currently publishes, and only once.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type LinkPurpose = 'consent' | 'sign-in';

export interface LinkState {
  purpose: LinkPurpose;
  workflowId: string;
  attempt: number;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Random nonce; absent in links signed before nonces existed. */
  jti?: string;
}

export function signLinkState(key: Buffer, state: LinkState): string {
  const jti = state.jti ?? randomBytes(12).toString('base64url');
  const body = Buffer.from(
    JSON.stringify([state.purpose, state.workflowId, state.attempt, state.exp, jti]),
  ).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The `state` query parameter of a link we handed out (consentUrl, signInUrl). */
export function stateOfLink(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  try {
    return new URL(link).searchParams.get('state') ?? undefined;
  } catch {
    return undefined;
  }
}

/** What identifies one link whatever else is appended to its URL: its signed body. */
export const linkKey = (state: string): string => state.split('.')[0];

export function verifyLinkState(
  key: Buffer,
  token: string | undefined,
  purpose: LinkPurpose,
  nowSeconds = Math.floor(Date.now() / 1000),
): { ok: true; state: LinkState } | { ok: false; reason: string } {
  if (!token || typeof token !== 'string') return { ok: false, reason: 'the link has no state parameter' };
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) return { ok: false, reason: 'the state parameter is malformed' };
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  // One spelling per link: base64 decoding forgives stray characters and spare bits, and a second
  // spelling of the same link must not pass for another link (links are used once).
  const canonical = given.toString('base64url') === mac;
  if (!canonical || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'the state parameter has a bad signature (forged or altered link)' };
  }
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'the state parameter is malformed' };
  }
  if (!Array.isArray(parts) || (parts.length !== 4 && parts.length !== 5))
    return { ok: false, reason: 'the state parameter is malformed' };
  const [p, workflowId, attempt, exp, jti] = parts as [string, string, number, number, string?];
  if (p !== purpose) return { ok: false, reason: `this is not a ${purpose} link` };
  if (exp < nowSeconds) return { ok: false, reason: 'the link has expired; ask ops for the current link' };
  return { ok: true, state: { purpose, workflowId, attempt, exp, ...(jti ? { jti } : {}) } };
}
