// Ops sign-in: the ops token plus the person's name or e-mail, or a verified OpenID Connect sign-in
// (ops-oidc.ts), buys a signed session cookie (HttpOnly, SameSite=Strict, 12 hours). The session's
// name is who every action is recorded as. Action forms
// carry a CSRF token derived from the session. Signing out ends the session on the server too: its
// id is revoked until it would have expired (a bounded list; when full, every session issued until
// then ends instead). A browser that has signed in keeps a signed device cookie, so the sign-in
// throttle counts its failures apart from everyone else's (login-throttle.ts).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'ops_session';
export const DEVICE_COOKIE = 'ops_device';
/** The OpenID Connect sign-in under way in this browser (PKCE verifier, state, nonce, next page). */
export const OIDC_FLOW_COOKIE = 'ops_oidc';
export const OIDC_FLOW_PATH = '/ops/oidc';
const OIDC_FLOW_SECONDS = 10 * 60;
const SESSION_SECONDS = 12 * 60 * 60;
const DEVICE_SECONDS = 90 * 24 * 60 * 60;
/** Revoked sessions remembered at once; more ends every session issued so far instead. */
const MAX_REVOKED = 10_000;

export interface OpsSession {
  by: string;
  /** Signed in with OpenID Connect: the user's object id and tenant id from the verified id token. */
  oid?: string;
  tid?: string;
  sid: string;
  /** Issued at, epoch seconds (absent in sessions issued before sign-out ended them). */
  iat?: number;
  exp: number;
}

/** An OpenID Connect sign-in started from this browser, kept until its callback. */
export interface OidcFlow {
  verifier: string;
  state: string;
  nonce: string;
  next: string;
  exp: number;
}

/** How people sign in: the shared ops token, or OpenID Connect (no token at all). */
export type OpsSignIn = { kind: 'token'; token: string } | { kind: 'oidc'; issuer: string; clientId: string };

const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

function cookieValue(req: Request, name: string): string | undefined {
  const cookie = (req.get('cookie') ?? '')
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${name}=`));
  return cookie?.slice(name.length + 1);
}

export class OpsAuth {
  private readonly key: Buffer;
  private readonly tokenDigest: Buffer | undefined;
  private readonly revoked = new Map<string, number>();
  /** Sessions issued before this (epoch seconds) are over: the revoked list overflowed. */
  private notBefore = 0;

  /**
   * `signingKey` is the ingress's state key; a new ops token ends every session, and so does
   * switching between the token and OpenID Connect, or to another issuer or app.
   */
  constructor(
    signIn: OpsSignIn,
    signingKey: Buffer,
    private readonly secureCookie: boolean,
  ) {
    const scope = signIn.kind === 'token' ? signIn.token : `\0oidc\0${signIn.issuer}\0${signIn.clientId}`;
    this.key = createHmac('sha256', signingKey).update(`ops-session\0${scope}`).digest();
    this.tokenDigest =
      signIn.kind === 'token' ? createHash('sha256').update(signIn.token).digest() : undefined;
  }

  /** With OpenID Connect there is no token, and no given text matches. */
  tokenMatches(given: string): boolean {
    return (
      this.tokenDigest !== undefined &&
      sameBytes(createHash('sha256').update(given).digest(), this.tokenDigest)
    );
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }

  private signed(kind: string, value: object): string {
    const body = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${body}.${this.mac(`${kind}\0${body}`).toString('base64url')}`;
  }

  private opened<T>(kind: string, text: string | undefined): T | undefined {
    const [body, mac, extra] = (text ?? '').split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    if (!sameBytes(Buffer.from(mac, 'base64url'), this.mac(`${kind}\0${body}`))) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  private cookieOptions(path: string, seconds: number, sameSite: 'strict' | 'lax' = 'strict') {
    return {
      httpOnly: true,
      sameSite,
      secure: this.secureCookie,
      path,
      maxAge: seconds * 1000,
    };
  }

  startSession(res: Response, by: string, verified: { oid?: string; tid?: string } = {}): OpsSession {
    const now = Math.floor(Date.now() / 1000);
    const session: OpsSession = {
      by,
      ...(verified.oid ? { oid: verified.oid } : {}),
      ...(verified.tid ? { tid: verified.tid } : {}),
      sid: randomBytes(16).toString('base64url'),
      iat: now,
      exp: now + SESSION_SECONDS,
    };
    res.cookie(SESSION_COOKIE, this.signed('session', session), this.cookieOptions('/ops', SESSION_SECONDS));
    return session;
  }

  /** Signs out: the cookie is cleared and the session refused from now on, wherever it is replayed. */
  endSession(req: Request, res: Response): void {
    const session = this.session(req);
    if (session) {
      const now = Date.now() / 1000;
      for (const [sid, exp] of this.revoked) if (exp <= now) this.revoked.delete(sid);
      if (this.revoked.size >= MAX_REVOKED) {
        this.revoked.clear();
        this.notBefore = Math.ceil(now);
      } else this.revoked.set(session.sid, session.exp);
    }
    res.clearCookie(SESSION_COOKIE, { ...this.cookieOptions('/ops', 0), maxAge: undefined });
  }

  session(req: Request): OpsSession | undefined {
    const session = this.opened<OpsSession>('session', cookieValue(req, SESSION_COOKIE));
    if (!session || typeof session.sid !== 'string' || typeof session.by !== 'string') return undefined;
    if (!(session.exp > Date.now() / 1000)) return undefined;
    if (this.revoked.has(session.sid)) return undefined;
    if ((session.iat ?? 0) < this.notBefore) return undefined;
    return session;
  }

  /** The id of a browser that has signed in here before, from its device cookie. */
  device(req: Request): string | undefined {
    const device = this.opened<{ d: string; exp: number }>('device', cookieValue(req, DEVICE_COOKIE));
    return device && typeof device.d === 'string' && device.exp > Date.now() / 1000 ? device.d : undefined;
  }

  /** Remembers this browser (after a successful sign-in), keeping its id if it has one. */
  rememberDevice(res: Response, existing: string | undefined): void {
    const device = {
      d: existing ?? randomBytes(16).toString('base64url'),
      exp: Math.floor(Date.now() / 1000) + DEVICE_SECONDS,
    };
    res.cookie(
      DEVICE_COOKIE,
      this.signed('device', device),
      this.cookieOptions('/ops/login', DEVICE_SECONDS),
    );
  }

  /**
   * Keeps an OpenID Connect sign-in's secrets in this browser until its callback: signed, HttpOnly,
   * sent only to /ops/oidc, for 10 minutes. SameSite=Lax, since the callback is a top-level
   * redirect from the identity provider's site.
   */
  startFlow(res: Response, flow: Omit<OidcFlow, 'exp'>): void {
    const value = { ...flow, exp: Math.floor(Date.now() / 1000) + OIDC_FLOW_SECONDS };
    res.cookie(
      OIDC_FLOW_COOKIE,
      this.signed('oidc-flow', value),
      this.cookieOptions(OIDC_FLOW_PATH, OIDC_FLOW_SECONDS, 'lax'),
    );
  }

  /** The sign-in under way, if any and unexpired; the cookie is cleared either way (single use). */
  takeFlow(req: Request, res: Response): OidcFlow | undefined {
    const flow = this.opened<OidcFlow>('oidc-flow', cookieValue(req, OIDC_FLOW_COOKIE));
    res.clearCookie(OIDC_FLOW_COOKIE, {
      ...this.cookieOptions(OIDC_FLOW_PATH, 0, 'lax'),
      maxAge: undefined,
    });
    if (!flow || !(flow.exp > Date.now() / 1000)) return undefined;
    const fields = [flow.verifier, flow.state, flow.nonce, flow.next];
    return fields.every((f) => typeof f === 'string' && f) ? flow : undefined;
  }

  csrfToken(session: OpsSession): string {
    return this.mac(`csrf\0${session.sid}`).toString('base64url');
  }

  csrfMatches(session: OpsSession, given: unknown): boolean {
    return typeof given === 'string' && sameBytes(Buffer.from(given), Buffer.from(this.csrfToken(session)));
  }
}
