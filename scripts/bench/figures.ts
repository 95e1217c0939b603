// What a wave is measured by: latencies from the results' timelines, the worker's CPU and memory
// (/proc), the Temporal server's requests (its Prometheus counters) and the histories' size; and
// the summary the run ends with, a markdown table to paste into docs/benchmarks.md as it is.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { mapLimit, type WaveTimes } from './drive';
import { resetPeak, usage } from './stack';

interface TimelineEntry {
  at: string;
  step: string;
  event: string;
}

type Percentiles = [p50: number, p95: number, p99: number];

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return [at(0.5), at(0.95), at(0.99)];
}

/** The frontend's `service_requests` counters by operation: what workers and clients asked the server. */
async function serverRequests(metricsUrl: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await (await fetch(metricsUrl)).text()).split('\n')) {
    const operation = /^service_requests\{.*operation="([^"]+)".*service_name="frontend"/.exec(line)?.[1];
    if (operation) counts.set(operation, (counts.get(operation) ?? 0) + Number(line.split(' ').at(-1)));
  }
  return counts;
}

export interface Used {
  workerCpuSeconds: number;
  workerPeakRssMiB: number;
  /** The worker's RSS when the window opened, after the warm-up. */
  workerStartRssMiB: number;
  /** Server requests by operation in the window. */
  requests: Map<string, number>;
}

const settle = () => new Promise((r) => setTimeout(r, 2000));

/** Opens a measured window on the worker and the server; the function it returns closes it. */
export async function measure(pid: number, metricsUrl: string): Promise<() => Promise<Used>> {
  // The server's counters reach its metrics endpoint a moment late: let each end of the window settle.
  await settle();
  resetPeak(pid);
  const before = usage(pid);
  const requestsBefore = await serverRequests(metricsUrl);
  return async () => {
    const after = usage(pid);
    await settle();
    const requests = new Map<string, number>();
    for (const [op, n] of await serverRequests(metricsUrl))
      requests.set(op, n - (requestsBefore.get(op) ?? 0));
    const workerCpuSeconds = after.cpuSeconds - before.cpuSeconds;
    return {
      workerCpuSeconds,
      workerPeakRssMiB: after.peakRssMiB,
      workerStartRssMiB: before.rssMiB,
      requests,
    };
  };
}

export interface Figures {
  n: number;
  verified: number;
  times: WaveTimes;
  used: Used;
  /** Per step, from entering it to entering the next (ms). */
  steps: Map<string, Percentiles>;
  /** From the timeline's `consent granted` to `verified` (ms). */
  consentToVerified: Percentiles;
  lastVerifiedAt: number;
  /** Mean events and encoded bytes of up to 100 histories, spread over the wave. */
  history: { events: number; bytes: number };
}

/** The wave's figures from its results and histories, fetched after the measured window closed. */
export async function collect(client: Client, ids: string[], times: WaveTimes, used: Used): Promise<Figures> {
  const results = await mapLimit(ids, 50, (id) =>
    client.workflow
      .getHandle(id)
      .result()
      .then((r: { timeline: TimelineEntry[] }) => r.timeline)
      .catch(() => []),
  );
  const perStep = new Map<string, number[]>();
  const consent: number[] = [];
  const verifiedIds: string[] = [];
  let lastVerifiedAt = 0;
  for (const [i, timeline] of results.entries()) {
    const entered = timeline.filter((e) => e.event === 'entered');
    const verified = entered.find((e) => e.step === 'verified');
    if (!verified) continue;
    verifiedIds.push(ids[i]);
    for (const [j, { step, at }] of entered.slice(0, -1).entries())
      (perStep.get(step) ?? perStep.set(step, []).get(step)!).push(
        Date.parse(entered[j + 1].at) - Date.parse(at),
      );
    lastVerifiedAt = Math.max(lastVerifiedAt, Date.parse(verified.at));
    const granted = timeline.find((e) => e.event === 'consent granted');
    if (granted) consent.push(Date.parse(verified.at) - Date.parse(granted.at));
  }
  const sample = verifiedIds.filter((_, i) => i % Math.ceil(verifiedIds.length / 100) === 0);
  const sizes = await mapLimit(sample, 10, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    return [history.events?.length ?? 0, temporal.api.history.v1.History.encode(history).finish().length];
  });
  const mean = (k: number) => sizes.reduce((sum, size) => sum + size[k], 0) / sizes.length;
  return {
    n: ids.length,
    verified: verifiedIds.length,
    times,
    used,
    steps: new Map([...perStep].map(([step, ms]) => [step, percentiles(ms)])),
    consentToVerified: percentiles(consent),
    lastVerifiedAt,
    history: { events: mean(0), bytes: mean(1) },
  };
}

/** Onboardings verified per second, from the first start to the last `verified` in the timelines. */
export const throughput = (f: Figures) => f.verified / ((f.lastVerifiedAt - f.times.startedAt) / 1000);

// The driver's own visibility reads (how it finds who waits) are no part of what an onboarding costs.
const DRIVER_OPERATIONS = ['ListWorkflowExecutions', 'CountWorkflowExecutions'];

export function printDetail(title: string, f: Figures): void {
  const window = ((f.times.closedAt - f.times.startedAt) / 1000).toFixed(1);
  console.log(
    `\n${title}: ${f.verified} of ${f.n} verified; the driver saw the last close after ${window} s`,
  );
  const ops = [...f.used.requests].sort((a, b) => b[1] - a[1]).filter(([, n]) => n / f.n >= 0.05);
  console.log(
    `  server requests per onboarding: ${ops.map(([op, n]) => `${op} ${(n / f.n).toFixed(1)}`).join(', ')}`,
  );
  console.log(`  (${DRIVER_OPERATIONS.join(' and ')} are the driver's, and left out of the summary)`);
}

export const spread = (p: Percentiles) => p.map((ms) => (ms / 1000).toFixed(2)).join(' / ');
export const perThousand = (f: Figures) => ((f.used.workerCpuSeconds * 1000) / f.n).toFixed(0);

export const markdown = (header: string[], rows: string[][]) =>
  [header, header.map((_, i) => (i ? '---:' : '---')), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');

/** Figure by figure, one column per measured wave (the product, and the bare workflow with --baseline). */
export function table(columns: [string, Figures][]): string {
  const steps = [...new Set(columns.flatMap(([, f]) => [...f.steps.keys()]))];
  const requests = (f: Figures) =>
    [...f.used.requests].reduce((sum, [op, n]) => (DRIVER_OPERATIONS.includes(op) ? sum : sum + n), 0) / f.n;
  const rows: [string, (f: Figures) => string][] = [
    ['verified', (f) => `${f.verified} of ${f.n}`],
    ['throughput (per second)', (f) => throughput(f).toFixed(1)],
    ...steps.map((step): [string, (f: Figures) => string] => [
      `${step}, p50 / p95 / p99 (s)`,
      (f) => (f.steps.has(step) ? spread(f.steps.get(step)!) : '-'),
    ]),
    ['consent signal → verified, p50 / p95 / p99 (s)', (f) => spread(f.consentToVerified)],
    ['worker CPU per 1,000 onboardings (s)', perThousand],
    [
      'worker peak RSS (MiB; at the start)',
      (f) => `${f.used.workerPeakRssMiB.toFixed(0)} (${f.used.workerStartRssMiB.toFixed(0)})`,
    ],
    ['history events per onboarding', (f) => f.history.events.toFixed(0)],
    ['history size per onboarding (KiB)', (f) => (f.history.bytes / 1024).toFixed(1)],
    ['Temporal server requests per onboarding', (f) => requests(f).toFixed(1)],
  ];
  return markdown(
    ['figure', ...columns.map(([title]) => title)],
    rows.map(([label, value]) => [label, ...columns.map(([, f]) => value(f))]),
  );
}
