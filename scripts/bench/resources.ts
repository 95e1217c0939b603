// Resource use of the worker and the dev server over one phase: CPU seconds used (the worker's also
// by thread), peak and sampled RSS (once a second), and requests each simulated service answered.
import { workerTuning } from '../../src/worker-tuning';
import { countsSince, serverRequests, type OperationCounts } from './server-requests';
import type { BenchSimulators } from './simulators';
import { ConnectionCounter } from './sockets';
import { sampleThreads, threadCpu, type ThreadCpu } from './threads';
import { sampleProc, type ProcSample, type WorkerProcess } from './worker-process';

export interface RequestSummary {
  total: number;
  services: Record<string, { total: number }>;
}

export interface PhaseResources {
  workerCpuSeconds: number;
  workerPeakRssMiB: number;
  workerRssAtStartMiB: number;
  /** The worker's CPU seconds by thread; absent if the worker exited or restarted meanwhile. */
  workerThreads?: ThreadCpu;
  serverCpuSeconds: number;
  /** This process: the driver (both phases), the ingress and the simulated people (the product phase). */
  benchCpuSeconds: number;
  /** The simulated services' process (the product phase), when they run on this host. */
  simulatorCpuSeconds?: number;
  /** [seconds since phase start, worker RSS MiB] once a second. */
  rssSeries: [number, number][];
  requests: Record<string, number>;
  /** Requests the Temporal server's frontend answered, by operation. */
  serverRequests: OperationCounts;
  persistenceRequests: OperationCounts;
  /** TCP connections the worker opened to the simulators (keep-alive check), if sampled. */
  simConnections?: { distinct: number; peakOpen: number };
}

export async function requestSummary(simUrl: string): Promise<RequestSummary> {
  const res = await fetch(`${simUrl}/_sim/requests/summary`);
  return (await res.json()) as RequestSummary;
}

export async function watchResources(
  worker: WorkerProcess,
  server: { pid: number; metricsUrl: string },
  sims?: BenchSimulators,
) {
  worker.resetPeak();
  const w0: ProcSample = worker.sample();
  const pid = worker.pid;
  const threads0 = sampleThreads(pid);
  const s0 = sampleProc(server.pid);
  const sim0 = sims?.sample?.();
  const q0 = await serverRequests(server.metricsUrl);
  const b0 = process.cpuUsage();
  const r0 = sims ? await requestSummary(sims.url) : undefined;
  const t0 = Date.now();
  const rssSeries: [number, number][] = [[0, w0.rssMiB]];
  const sockets = sims ? new ConnectionCounter(worker.pid, sims.port) : undefined;
  let ticks = 0;
  const timer = setInterval(() => {
    try {
      rssSeries.push([(Date.now() - t0) / 1000, worker.sample().rssMiB]);
      // Every 5 s: /proc/<pid>/net/tcp lists the whole machine's sockets, thousands of them in a
      // run, and reading it each second cost this process about 1 CPU s a minute.
      if (ticks++ % 5 === 0) sockets?.sample();
    } catch {
      clearInterval(timer); // the worker has exited; worker-process.ts says why
    }
  }, 1000);
  return {
    /** RSS samples so far (the parked run reports them while onboardings wait). */
    series: () => rssSeries,
    async finish(): Promise<PhaseResources> {
      clearInterval(timer);
      const w1 = worker.sample();
      // The SDK runs workflow code on one thread unless WORKER_WORKFLOW_THREADS says otherwise.
      const workflowThreads = workerTuning().workflowThreadPoolSize ?? 1;
      const threads1 = sampleThreads(pid);
      const workerThreads =
        worker.pid === pid && threads1.size > 0
          ? threadCpu(pid, threads0, threads1, workflowThreads)
          : undefined;
      const s1 = sampleProc(server.pid);
      const sim1 = sims?.sample?.();
      const q1 = await serverRequests(server.metricsUrl);
      const requests: Record<string, number> = {};
      if (sims && r0) {
        const r1 = await requestSummary(sims.url);
        for (const [service, { total }] of Object.entries(r1.services))
          requests[service] = total - (r0.services[service]?.total ?? 0);
      }
      return {
        workerCpuSeconds: w1.cpuSeconds - w0.cpuSeconds,
        workerPeakRssMiB: w1.peakRssMiB,
        workerRssAtStartMiB: w0.rssMiB,
        workerThreads,
        serverCpuSeconds: s1.cpuSeconds - s0.cpuSeconds,
        benchCpuSeconds: ((b) => b.user + b.system)(process.cpuUsage(b0)) / 1e6,
        simulatorCpuSeconds: sim0 && sim1 ? sim1.cpuSeconds - sim0.cpuSeconds : undefined,
        rssSeries,
        requests,
        serverRequests: countsSince(q0.frontend, q1.frontend),
        persistenceRequests: countsSince(q0.persistence, q1.persistence),
        simConnections: sockets?.summary(),
      };
    },
  };
}
