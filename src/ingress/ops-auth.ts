// Ops sign-in: the ops token plus the person's name or e-mail buys a signed session cookie
// (HttpOnly, SameSite=Strict, 12 hours). The name is who every action is recorded as. Action forms
// carry a CSRF token derived from the session.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const SESSION_COOKIE = 'ops_session';
const SESSION_SECONDS = 12 * 60 * 60;

export interface OpsSession {
  by: string;
  sid: string;
  exp: number;
}

const sameBytes = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export class OpsAuth {
  private readonly key: Buffer;
  private readonly tokenDigest: Buffer;

  /** `signingKey` is the ingress's state key; a new ops token ends every session. */
  constructor(
    opsToken: string,
    signingKey: Buffer,
    private readonly secureCookie: boolean,
  ) {
    this.key = createHmac('sha256', signingKey).update(`ops-session\0${opsToken}`).digest();
    this.tokenDigest = createHash('sha256').update(opsToken).digest();
  }

  tokenMatches(given: string): boolean {
    return sameBytes(createHash('sha256').update(given).digest(), this.tokenDigest);
  }

  private mac(text: string): Buffer {
    return createHmac('sha256', this.key).update(text).digest();
  }

  startSession(res: Response, by: string): void {
    const session: OpsSession = {
      by,
      sid: randomBytes(16).toString('base64url'),
      exp: Math.floor(Date.now() / 1000) + SESSION_SECONDS,
    };
    const body = Buffer.from(JSON.stringify(session)).toString('base64url');
    res.cookie(SESSION_COOKIE, `${body}.${this.mac(body).toString('base64url')}`, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secureCookie,
      path: '/ops',
      maxAge: SESSION_SECONDS * 1000,
    });
  }

  endSession(res: Response): void {
    res.clearCookie(SESSION_COOKIE, {
      path: '/ops',
      httpOnly: true,
      sameSite: 'strict',
      secure: this.secureCookie,
    });
  }

  session(req: Request): OpsSession | undefined {
    const cookie = (req.get('cookie') ?? '')
      .split(';')
      .map((c) => c.trim())
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const [body, mac] = (cookie?.slice(SESSION_COOKIE.length + 1) ?? '').split('.');
    if (!body || !mac || !sameBytes(Buffer.from(mac, 'base64url'), this.mac(body))) return undefined;
    const session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as OpsSession;
    return session.exp > Date.now() / 1000 ? session : undefined;
  }

  csrfToken(session: OpsSession): string {
    return this.mac(`csrf\0${session.sid}`).toString('base64url');
  }

  csrfMatches(session: OpsSession, given: unknown): boolean {
    return typeof given === 'string' && sameBytes(Buffer.from(given), Buffer.from(this.csrfToken(session)));
  }
}
