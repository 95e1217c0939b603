// Slows down guessing the ops token: after too many failed sign-ins from one address, sign-in from
// there is refused for the rest of the window. In memory, per process.
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly maxFailures = 10,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Seconds until `key` may try again; 0 when it may now. */
  blockedFor(key: string, now = Date.now()): number {
    const entry = this.failures.get(key);
    if (!entry || now - entry.since >= this.windowMs) return 0;
    return entry.count >= this.maxFailures ? Math.ceil((entry.since + this.windowMs - now) / 1000) : 0;
  }

  failed(key: string, now = Date.now()): void {
    const entry = this.failures.get(key);
    if (!entry || now - entry.since >= this.windowMs) this.failures.set(key, { count: 1, since: now });
    else entry.count += 1;
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(key: string): void {
    this.failures.delete(key);
  }
}
