// A worker under supervision, as production runs workers (a Deployment, systemd Restart=always):
// one that exits unexpectedly is restarted at once, and each restart is recorded and reported.
// CPU seconds add up across the processes; peak RSS is the highest any of them reached.
import type { ProcSample } from './worker-process';
import type { WorkerProcess } from './worker-process';

export interface SupervisedWorker extends WorkerProcess {
  /** One line per restart: when, and how the previous process ended. */
  restarts(): string[];
}

const NOTHING: ProcSample = { cpuSeconds: 0, rssMiB: 0, peakRssMiB: 0 };

export async function superviseWorker(start: () => Promise<WorkerProcess>): Promise<SupervisedWorker> {
  let current = await start();
  let last = current.sample();
  let earlierCpu = 0;
  let earlierPeak = 0;
  let stopped = false;
  const restarts: string[] = [];
  const watch = (worker: WorkerProcess) =>
    void worker.exited.then(async (how) => {
      if (stopped) return;
      earlierCpu += last.cpuSeconds;
      earlierPeak = Math.max(earlierPeak, last.peakRssMiB);
      last = NOTHING;
      restarts.push(`${new Date().toISOString()}: the worker exited (${how}) and was restarted`);
      console.error(`  supervisor: the worker exited (${how}); restarting it, as a supervisor would`);
      current = await start();
      last = current.sample();
      watch(current);
    });
  watch(current);
  return {
    get pid() {
      return current.pid;
    },
    sample() {
      try {
        last = current.sample();
      } catch {
        // Between an exit and its restart: the last figures stand.
      }
      return {
        cpuSeconds: earlierCpu + last.cpuSeconds,
        rssMiB: last.rssMiB,
        peakRssMiB: Math.max(earlierPeak, last.peakRssMiB),
      };
    },
    resetPeak() {
      earlierPeak = 0;
      current.resetPeak();
    },
    exited: new Promise(() => {}),
    restarts: () => [...restarts],
    async stop() {
      stopped = true;
      await current.stop();
    },
  };
}
