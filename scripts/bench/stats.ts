// Latencies from the result timelines: each step's time from entering it to entering the next,
// and from the consent signal to verified; summarised as p50/p95/p99.
export interface TimelineLike {
  at: string;
  step: string;
  event: string;
}

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

/** The middle value; for an even count, the mean of the two middle values. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per step, the milliseconds from entering it to entering the next step. */
export function stepDurations(timeline: TimelineLike[]): Map<string, number> {
  const entries = timeline.filter((t) => t.event === 'entered');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < entries.length; i++) {
    const ms = Date.parse(entries[i + 1].at) - Date.parse(entries[i].at);
    out.set(entries[i].step, (out.get(entries[i].step) ?? 0) + ms);
  }
  return out;
}

export interface LatencyReport {
  steps: Map<string, Percentiles>;
  consentToVerified: Percentiles;
  startToVerified: Percentiles;
  /** Latest verified time (ms since epoch): the end of the throughput window. */
  lastVerifiedAt: number;
}

export function latencies(
  timelines: TimelineLike[][],
  consentEvent: (e: TimelineLike) => boolean,
): LatencyReport {
  const perStep = new Map<string, number[]>();
  const consent: number[] = [];
  const total: number[] = [];
  let lastVerifiedAt = 0;
  for (const timeline of timelines) {
    for (const [step, ms] of stepDurations(timeline)) {
      if (!perStep.has(step)) perStep.set(step, []);
      perStep.get(step)!.push(ms);
    }
    const verified = timeline.find((t) => t.step === 'verified' && t.event === 'entered');
    if (!verified) continue;
    const verifiedAt = Date.parse(verified.at);
    lastVerifiedAt = Math.max(lastVerifiedAt, verifiedAt);
    total.push(verifiedAt - Date.parse(timeline[0].at));
    const granted = timeline.find(consentEvent);
    if (granted) consent.push(verifiedAt - Date.parse(granted.at));
  }
  return {
    steps: new Map([...perStep].map(([step, values]) => [step, percentiles(values)])),
    consentToVerified: percentiles(consent),
    startToVerified: percentiles(total),
    lastVerifiedAt,
  };
}
