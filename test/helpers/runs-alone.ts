// Test files that load the machine (several worker processes, waves of onboardings, thousands of
// requests, a production build) take turns: `npm test` runs two files at a time, and two such
// files together would only measure the machine. A lock directory per test run (the runner is the
// parent process); held until this process exits, taken over when its holder has died.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before } from 'node:test';

const lock = join(tmpdir(), `dynamics-onboarding-tests-alone-${process.ppid}`);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function acquire(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      process.once('exit', () => rmSync(lock, { recursive: true, force: true }));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // being written or removed: look again
    }
    if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
    else await new Promise((r) => setTimeout(r, 250));
  }
}

/** Call at the top of a test file, before its own hooks: its tests start once no such file runs. */
export function runsAlone(): void {
  before(acquire, { timeout: 30 * 60_000 });
}
