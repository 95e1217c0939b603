// Remembers keys (event signatures, used link states) until they expire, so a second use within
// the window is refused. In memory: one ingress process. With several replicas a replay can reach
// only the idempotent parts (the workflow start, the workflow's own checks), never a second onboarding.
export class SeenOnce {
  private readonly used = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** True the first time `key` is offered before `expiresAtMs`; false on every later offer. */
  firstUse(key: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    this.sweep(nowMs);
    const until = this.used.get(key);
    if (until !== undefined && until > nowMs) return false;
    if (this.used.size >= this.maxEntries) this.used.delete(this.used.keys().next().value!);
    this.used.set(key, expiresAtMs);
    return true;
  }

  /** True when `key` was used and its use has not expired (nothing recorded). */
  seen(key: string, nowMs = Date.now()): boolean {
    const until = this.used.get(key);
    return until !== undefined && until > nowMs;
  }

  /** Forgets `key`: its use did not take effect (e.g. the signal failed), so it may be tried again. */
  release(key: string): void {
    this.used.delete(key);
  }

  private sweep(nowMs: number): void {
    for (const [key, until] of this.used) if (until <= nowMs) this.used.delete(key);
  }
}
