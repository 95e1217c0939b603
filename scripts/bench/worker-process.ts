// A worker in its own process, so its CPU seconds and peak RSS are its own: read from
// /proc/<pid>/stat (utime+stime) and /proc/<pid>/status (VmRSS, VmHWM). Writing 5 to
// /proc/<pid>/clear_refs resets VmHWM, so each phase reports its own peak.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { adopt } from './children';

const root = resolve(__dirname, '..', '..');
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const OUTPUT_TAIL_CHARS = 64 * 1024;

export interface ProcSample {
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
}

export interface WorkerProcess {
  pid: number;
  sample(): ProcSample;
  resetPeak(): void;
  /** Resolves with the exit code or signal if the process ends other than by stop(). */
  exited: Promise<number | string | null>;
  stop(): Promise<void>;
}

/** utime + stime of a /proc stat line (a process's or a thread's), in seconds. */
export function cpuSecondsOfStat(stat: string): number {
  // Fields after the ")" of the command name: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function sampleProc(pid: number): ProcSample {
  const cpuSeconds = cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSeconds, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/** BENCH_CPU_PROFILE_DIR=<dir>: each worker process writes V8 CPU profiles there (one per thread). */
function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(dir)}`] : [];
}

/**
 * Starts `script` (a .ts entry point) with node + tsx and waits for the line that says it is ready
 * (a worker's "worker polling"; the simulators' "simulators listening on").
 */
export async function startWorkerProcess(
  script: string,
  env: NodeJS.ProcessEnv,
  readyLine = 'worker polling',
): Promise<WorkerProcess> {
  const child: ChildProcess = adopt(
    spawn(process.execPath, [...profileArgs(), '--import', 'tsx', resolve(root, script)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  // Only the end is ever shown (a failed start, an unexpected exit), and a worker now lives for a
  // whole run, logging a line or two per onboarding: keep a bounded tail.
  let output = '';
  const keep = (d: Buffer) => {
    output += d;
    if (output.length > 2 * OUTPUT_TAIL_CHARS) output = output.slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${script} did not start in 120 s:\n${output}`)), 120_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      fail(new Error(`${script} exited with ${code}:\n${output}`));
    };
    child.stdout!.on('data', function check() {
      if (!output.includes(readyLine)) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
      ok();
    });
    child.once('exit', onExit);
  });
  const pid = child.pid!;
  let stopping = false;
  // A worker that dies mid-run is a finding: say how, with the end of what it printed.
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`\n${script} exited (${signal ?? code}); its last output:\n${output.slice(-3000)}`);
      resolve(signal ?? code);
    }),
  );
  return {
    pid,
    sample: () => sampleProc(pid),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    exited,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
