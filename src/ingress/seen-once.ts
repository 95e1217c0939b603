// Remembers keys (event signatures, used link states) until they expire, so a second use within
// the window is refused. In memory: one ingress process. With several replicas a replay can reach
// only the idempotent parts (the workflow start, the workflow's own checks), never a second onboarding.
export class SeenOnce {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  /** True the first time `key` is offered before `expiresAtMs`; false on every later offer. */
  firstUse(key: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    this.sweep(nowMs);
    const until = this.seen.get(key);
    if (until !== undefined && until > nowMs) return false;
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, expiresAtMs);
    return true;
  }

  /** Forgets `key`: its use did not take effect (e.g. the signal failed), so it may be tried again. */
  release(key: string): void {
    this.seen.delete(key);
  }

  private sweep(nowMs: number): void {
    for (const [key, until] of this.seen) if (until <= nowMs) this.seen.delete(key);
  }
}
