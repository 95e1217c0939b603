// What the ingress remembers per customer link, so that holding a link buys a bounded amount of
// anything: requests per minute, Cyclr sign-in tokens, and error outcomes passed on to the
// onboarding. In memory, per process, each map bounded (the oldest entries go first).

const MAX_KEYS = 50_000;

function bounded<K, V>(map: Map<K, V>, max = MAX_KEYS): void {
  while (map.size > max) map.delete(map.keys().next().value!);
}

/** At most `max` events per key in any `windowMs` (a sliding log of their times). */
export class RateLimit {
  private readonly log = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** Seconds until `key` may act again; 0 when it may now. Does not record anything. */
  waitFor(key: string, now = Date.now()): number {
    const times = this.recent(key, now);
    return times.length < this.max ? 0 : Math.max(1, Math.ceil((times[0] + this.windowMs - now) / 1000));
  }

  /** Records one event for `key` when allowed: 0; otherwise the seconds to wait, and nothing recorded. */
  take(key: string, now = Date.now()): number {
    const wait = this.waitFor(key, now);
    if (wait) return wait;
    const times = this.recent(key, now);
    times.push(now);
    this.log.delete(key);
    this.log.set(key, times);
    bounded(this.log);
    return 0;
  }

  private recent(key: string, now: number): number[] {
    return (this.log.get(key) ?? []).filter((t) => t > now - this.windowMs);
  }
}

export interface SignInToken {
  token: string;
  accountConnectorId: number;
}

export type TokenAnswer =
  { ok: true; token: SignInToken; reused: boolean } | { ok: false; retryAfterSeconds: number };

/**
 * Cyclr's one-time sign-in tokens, per sign-in link. Whether a token has been used cannot be seen,
 * so the last one is handed out again for `reuseMs` (repeated opens of the link share it), and
 * at most `mints` new ones are asked of Cyclr per link in any `windowMs`.
 */
export class SignInTokens {
  private readonly current = new Map<string, { answer: Promise<SignInToken>; at: number }>();
  private readonly minted: RateLimit;

  constructor(
    private readonly reuseMs = 60_000,
    mints = 10,
    windowMs = 15 * 60_000,
  ) {
    this.minted = new RateLimit(mints, windowMs);
  }

  async get(key: string, mint: () => Promise<SignInToken>, now = Date.now()): Promise<TokenAnswer> {
    const held = this.current.get(key);
    if (held && now - held.at < this.reuseMs)
      return held.answer.then((token) => ({ ok: true, token, reused: true }));
    const wait = this.minted.take(key, now);
    if (wait) return { ok: false, retryAfterSeconds: wait };
    // Requests arriving while Cyclr is asked share the one answer.
    const answer = mint();
    const entry = { answer, at: now };
    this.current.delete(key);
    this.current.set(key, entry);
    bounded(this.current);
    try {
      return { ok: true, token: await answer, reused: false };
    } catch (err) {
      if (this.current.get(key) === entry) this.current.delete(key);
      throw err;
    }
  }

  /** The user came back from Cyclr with this link: its token is spent. */
  spent(key: string): void {
    this.current.delete(key);
  }
}

/**
 * Error outcomes passed on per link: each kind of error (an AADSTS code, or "other") once, and at
 * most `maxKinds` kinds per link, so an admin who first declines and then signs in with the wrong
 * account is heard twice, while a link replayed with made-up errors is heard a bounded few times.
 */
export class ErrorOutcomes {
  private readonly kinds = new Map<string, { kinds: Set<string>; expiresAt: number }>();

  constructor(readonly maxKinds = 3) {}

  /** Whether an outcome of `kind` would be accepted for `link` now (nothing recorded). */
  wouldAccept(link: string, kind: string, now = Date.now()): boolean {
    const entry = this.live(link, now);
    return !entry || (!entry.kinds.has(kind) && entry.kinds.size < this.maxKinds);
  }

  /** Records the outcome; false when it is a repeat or the link has had its share. */
  claim(link: string, kind: string, expiresAt: number, now = Date.now()): boolean {
    if (!this.wouldAccept(link, kind, now)) return false;
    const entry = this.live(link, now) ?? { kinds: new Set<string>(), expiresAt };
    entry.kinds.add(kind);
    this.kinds.set(link, entry);
    bounded(this.kinds);
    return true;
  }

  /** The outcome did not reach the onboarding (the signal failed): it may be sent again. */
  release(link: string, kind: string): void {
    this.kinds.get(link)?.kinds.delete(kind);
  }

  private live(link: string, now: number) {
    const entry = this.kinds.get(link);
    if (entry && entry.expiresAt <= now) this.kinds.delete(link);
    return entry && entry.expiresAt > now ? entry : undefined;
  }
}

/**
 * Granted consents passed on per consent link. One, unless Microsoft was asked after the last one
 * and said there is no consent (someone holding the link reported a consent that was not there):
 * then the real admin's callback counts again, `max` times at most per link.
 */
export class ConsentReports {
  private readonly reports = new Map<string, { at: number; count: number; expiresAt: number }>();

  constructor(readonly max = 3) {}

  /** False when the link has had its share: refused without asking anything. */
  mayReport(link: string, now = Date.now()): boolean {
    const entry = this.live(link, now);
    return !entry || entry.count < this.max;
  }

  /**
   * Records a report when it may count: the first for the link, or one after Microsoft found no
   * consent (`noConsentSince`: when it last said so, epoch ms; null when it has not since).
   */
  claim(link: string, expiresAt: number, noConsentAt: number | null, now = Date.now()): boolean {
    const entry = this.live(link, now);
    if (entry && (entry.count >= this.max || noConsentAt === null || noConsentAt <= entry.at)) return false;
    this.reports.delete(link);
    this.reports.set(link, { at: now, count: (entry?.count ?? 0) + 1, expiresAt });
    bounded(this.reports);
    return true;
  }

  /** The report did not reach the onboarding: it does not count. */
  release(link: string): void {
    const entry = this.reports.get(link);
    if (!entry) return;
    if (entry.count <= 1) this.reports.delete(link);
    else entry.count -= 1;
  }

  private live(link: string, now: number) {
    const entry = this.reports.get(link);
    if (entry && entry.expiresAt <= now) this.reports.delete(link);
    return entry && entry.expiresAt > now ? entry : undefined;
  }
}
