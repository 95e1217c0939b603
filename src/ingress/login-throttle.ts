// Slows down guessing a token (the ops token at the ops sign-in, the codec token at the codec
// server) without locking out the people who hold it. Failures are counted per key; after a few
// free ones each further failure doubles the wait before the key may try again (1 s, 2 s, 4 s...,
// at most 15 minutes). In memory, per process, bounded.

export interface BackoffOptions {
  /** Failures allowed before any wait. */
  free: number;
  maxWaitMs?: number;
  /** Failures are forgotten this long after the last one. */
  forgetAfterMs?: number;
}

export class Backoff {
  private readonly entries = new Map<string, { failures: number; last: number; until: number }>();
  private readonly maxWaitMs: number;
  private readonly forgetAfterMs: number;

  constructor(
    private readonly options: BackoffOptions,
    private readonly maxKeys = 50_000,
  ) {
    this.maxWaitMs = options.maxWaitMs ?? 15 * 60_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 60 * 60_000;
  }

  /** Seconds until `key` may try again; 0 when it may now. */
  waitFor(key: string, now = Date.now()): number {
    const entry = this.live(key, now);
    return entry && entry.until > now ? Math.ceil((entry.until - now) / 1000) : 0;
  }

  failed(key: string, now = Date.now()): void {
    const entry = this.live(key, now) ?? { failures: 0, last: now, until: 0 };
    entry.failures += 1;
    entry.last = now;
    const over = entry.failures - this.options.free;
    entry.until = over > 0 ? now + Math.min(1000 * 2 ** Math.min(over - 1, 30), this.maxWaitMs) : 0;
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value!);
  }

  succeeded(key: string): void {
    this.entries.delete(key);
  }

  private live(key: string, now: number) {
    const entry = this.entries.get(key);
    if (entry && now - entry.last > Math.max(this.forgetAfterMs, entry.until - entry.last)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

export interface LoginAttempt {
  /** The client's address (req.ip). */
  address: string;
  /** The name the person signs in as. */
  name: string;
  /** A browser that has signed in before (its signed device cookie), if any. */
  device?: string;
}

export type LoginWait = { seconds: number; because: 'browser' | 'name' | 'address' } | null;

/**
 * The ops sign-in: a browser that signed in before counts only its own failures, so nobody else's
 * can keep it out. Any other browser counts failures per address and name (a typo delays only
 * the person making it) and, with more room, per address (names are self-declared, so a guesser
 * cannot dodge the wait by changing them).
 */
export class LoginThrottle {
  private readonly perDevice = new Backoff({ free: 5 });
  private readonly perName = new Backoff({ free: 5 });
  private readonly perAddress = new Backoff({ free: 20 });

  blockedFor(a: LoginAttempt, now = Date.now()): LoginWait {
    if (a.device) {
      const seconds = this.perDevice.waitFor(a.device, now);
      return seconds ? { seconds, because: 'browser' } : null;
    }
    const byName = this.perName.waitFor(nameKey(a), now);
    const byAddress = this.perAddress.waitFor(a.address, now);
    if (!byName && !byAddress) return null;
    return byName >= byAddress
      ? { seconds: byName, because: 'name' }
      : { seconds: byAddress, because: 'address' };
  }

  failed(a: LoginAttempt, now = Date.now()): void {
    if (a.device) return this.perDevice.failed(a.device, now);
    this.perName.failed(nameKey(a), now);
    this.perAddress.failed(a.address, now);
  }

  /**
   * An attempt made while it had to wait: counted against what held it back only (trying again too
   * early lengthens one's own wait, never anyone else's).
   */
  refused(a: LoginAttempt, wait: NonNullable<LoginWait>, now = Date.now()): void {
    if (wait.because === 'browser') this.perDevice.failed(a.device!, now);
    else if (wait.because === 'name') this.perName.failed(nameKey(a), now);
    else this.perAddress.failed(a.address, now);
  }

  /** A success clears the failures it would otherwise carry (not the address's: others made them). */
  succeeded(a: LoginAttempt): void {
    if (a.device) this.perDevice.succeeded(a.device);
    this.perName.succeeded(nameKey(a));
  }
}

const nameKey = (a: LoginAttempt) => `${a.address}|${a.name.trim().toLowerCase()}`;
