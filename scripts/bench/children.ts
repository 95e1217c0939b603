// Child processes the bench started: whatever ends the bench (an error, Ctrl-C, a timeout's
// SIGTERM) ends them too, so no dev server or worker is left behind.
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

export function adopt(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
