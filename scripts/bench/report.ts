// Prints a phase's figures: throughput, latencies per step, and resources per 1,000 onboardings.
import type { PhaseOutcome } from './phase';
import type { PhaseResources } from './resources';
import { latencies, type Percentiles } from './stats';

const s = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '-');
const row = (label: string, p: Percentiles) =>
  `  ${label.padEnd(30)} ${s(p.p50).padStart(8)} ${s(p.p95).padStart(8)} ${s(p.p99).padStart(8)} ${s(p.max).padStart(8)}   (n=${p.count})`;

export interface PhaseFigures {
  throughput: number;
  seconds: number;
  /** Worker, dev server, bench process and simulators together: what an onboarding costs the machine. */
  cpuMsPerOnboarding: number;
  /** The dev server alone: nearly the same work per onboarding in both phases, so a gauge of the host. */
  serverCpuMsPerOnboarding: number;
}

export function reportPhase(
  title: string,
  outcome: PhaseOutcome,
  resources: PhaseResources,
  consentEvent: (e: { event: string }) => boolean,
): PhaseFigures {
  const lat = latencies(outcome.timelines, consentEvent);
  const end = Math.max(lat.lastVerifiedAt, outcome.startedAt);
  const seconds = (end - outcome.startedAt) / 1000;
  const n = outcome.verified + outcome.failed;
  const throughput = outcome.verified / seconds;
  const per1000 = (x: number) => ((x * 1000) / n).toFixed(1);
  console.log(`\n== ${title}: ${n} started at once`);
  console.log(
    `  verified ${outcome.verified}, not verified ${outcome.failed}, driver retries ${outcome.driverRetries}`,
  );
  console.log(
    `  start -> last verified ${seconds.toFixed(1)} s: ${throughput.toFixed(1)} per second` +
      ` (driver saw the last close after ${((outcome.closedAt - outcome.startedAt) / 1000).toFixed(1)} s)`,
  );
  console.log(`  one history: ${outcome.shape}`);
  console.log(`  latency (s)                         p50      p95      p99      max`);
  for (const [step, p] of lat.steps) console.log(row(step, p));
  console.log(row('consent signal -> verified', lat.consentToVerified));
  console.log(row('start -> verified', lat.startToVerified));
  console.log(
    `  worker: ${resources.workerCpuSeconds.toFixed(1)} CPU s (${per1000(resources.workerCpuSeconds)} per 1,000),` +
      ` peak RSS ${resources.workerPeakRssMiB.toFixed(0)} MiB (idle ${resources.workerRssAtStartMiB.toFixed(0)} MiB;` +
      ` growth ${per1000(resources.workerPeakRssMiB - resources.workerRssAtStartMiB)} MiB per 1,000)`,
  );
  const threads = resources.workerThreads;
  if (threads)
    console.log(
      `  worker by thread, CPU s per 1,000: main ${per1000(threads.main)}, workflow ${per1000(threads.workflow)},` +
        ` V8 and libuv helpers ${per1000(threads.otherJs)}, SDK core ${per1000(threads.core)}`,
    );
  console.log(
    `  dev server: ${resources.serverCpuSeconds.toFixed(1)} CPU s (${per1000(resources.serverCpuSeconds)} per 1,000)`,
  );
  console.log(
    `  bench process (driver; ingress and simulated people in the product phase): ${resources.benchCpuSeconds.toFixed(1)} CPU s (${per1000(resources.benchCpuSeconds)} per 1,000)`,
  );
  const simulatorCpuSeconds = resources.simulatorCpuSeconds ?? 0;
  if (resources.simulatorCpuSeconds !== undefined)
    console.log(
      `  simulated services (their own process): ${simulatorCpuSeconds.toFixed(1)} CPU s (${per1000(simulatorCpuSeconds)} per 1,000)`,
    );
  const cpuMsPerOnboarding =
    ((resources.workerCpuSeconds +
      resources.serverCpuSeconds +
      resources.benchCpuSeconds +
      simulatorCpuSeconds) *
      1000) /
    n;
  console.log(`  all processes: ${cpuMsPerOnboarding.toFixed(0)} CPU ms per onboarding`);
  const perOnboarding = (what: string, counts: Record<string, number>) => {
    const calls = Object.entries(counts)
      .filter(([, v]) => v / n >= 0.05)
      .sort((a, b) => b[1] - a[1]);
    const total = Object.values(counts).reduce((sum, v) => sum + v, 0);
    console.log(
      `  ${what}: ${(total / n).toFixed(1)} per onboarding: ` +
        calls.map(([op, v]) => `${op} ${(v / n).toFixed(1)}`).join(', '),
    );
  };
  perOnboarding('Temporal server requests', resources.serverRequests);
  perOnboarding('its persistence requests', resources.persistenceRequests);
  const services = Object.entries(resources.requests);
  if (services.length)
    console.log(
      `  requests to simulated services: ${services.map(([k, v]) => `${k} ${v} (${(v / n).toFixed(1)} each)`).join(', ')}`,
    );
  if (resources.simConnections)
    console.log(
      `  worker TCP connections to the simulators (sampled every 5 s): ${resources.simConnections.distinct} distinct, at most ${resources.simConnections.peakOpen} open at once`,
    );
  const serverCpuMsPerOnboarding = (resources.serverCpuSeconds * 1000) / n;
  return { throughput, seconds, cpuMsPerOnboarding, serverCpuMsPerOnboarding };
}
