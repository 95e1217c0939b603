// Runs the ops CLI as a person would (`npm run client -- ...`), against a harness's Temporal and
// data directory; and watches a long-running verb (--watch) until it has printed enough.
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Harness } from './harness';

const root = resolve(__dirname, '..', '..');
const main = resolve(root, 'src', 'cli', 'main.ts');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliEnv(h: Harness, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_NAMESPACE: 'default',
    DATA_DIR: h.config.DATA_DIR,
    PUBLIC_BASE_URL: h.config.PUBLIC_BASE_URL,
    ...extra,
  };
}

export async function cli(h: Harness, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      {
        cwd: root,
        env: cliEnv(h, extra),
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Starts a verb that runs until Ctrl-C, waits until `enough(stdout)`, then sends SIGINT. */
export async function cliUntilInterrupted(
  h: Harness,
  args: string[],
  enough: (stdout: string) => boolean,
  timeoutMs = 60_000,
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    env: cliEnv(h),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
  const until = Date.now() + timeoutMs;
  try {
    while (!enough(stdout)) {
      if (child.exitCode !== null) break;
      if (Date.now() > until)
        throw new Error(`${args.join(' ')} never printed enough:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    return { code: await exited, stdout, stderr };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
