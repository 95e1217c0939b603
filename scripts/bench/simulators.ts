// The simulated services for a bench run: in a process of their own (`npm run simulators`), so the
// CPU they take from the machine is measured apart from the driver's and the ingress's, or already
// running at a URL (`--simulators`), on this host or another, so they take none of its CPU.
import { freePort } from './free-port';
import { startWorkerProcess, type ProcSample } from './worker-process';

export interface BenchSimulators {
  url: string;
  port: number;
  /** CPU and memory of their process; absent when they run elsewhere (`--simulators`). */
  sample?: () => ProcSample;
  close(): Promise<void>;
}

export async function startSimulatorProcess(): Promise<BenchSimulators> {
  const port = await freePort();
  const child = await startWorkerProcess(
    'simulators/main.ts',
    { SIM_PORT: String(port), SIM_HOST: '127.0.0.1', SIM_STATE_FILE: '' },
    'simulators listening on',
  );
  return { url: `http://127.0.0.1:${port}`, port, sample: child.sample, close: () => child.stop() };
}

/** Simulators someone else started: checked to answer as the simulators do before the run relies on them. */
export async function useRunningSimulators(url: string): Promise<BenchSimulators> {
  const base = url.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new Error(
      `--simulators ${url}: nothing answered there (${(err as Error).message}); start them with ` +
        `\`SIM_HOST=<address> SIM_PORT=<port> npm run simulators\` and pass the URL they print`,
      { cause: err },
    );
  }
  const answer: unknown = res.ok ? await res.json().catch(() => undefined) : undefined;
  if (!(answer as { simulators?: unknown } | undefined)?.simulators)
    throw new Error(
      `--simulators ${url}: what answered is not the simulators (GET / lists them); pass the URL ` +
        '`npm run simulators` prints',
    );
  const parsed = new URL(base);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  return { url: base, port, close: async () => {} };
}
