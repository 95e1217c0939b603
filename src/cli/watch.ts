// `--watch`: render, wait, render again, until Ctrl-C. At a terminal each refresh replaces the
// screen; otherwise (a pipe, a log) each one follows the last under a line with the time.
import { UsageError } from './program';

/** The --watch value: seconds between refreshes (default 5). */
export function watchSeconds(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 5;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600)
    throw new UsageError(`--watch: expected the seconds between refreshes, a whole number from 1 to 3600`);
  return seconds;
}

export async function watch(seconds: number, render: () => Promise<string>): Promise<void> {
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let running = true;
  const onInterrupt = () => {
    running = false;
    stop();
  };
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const tty = process.stdout.isTTY === true;
  try {
    while (running) {
      const body = await render();
      const heading = `${new Date().toISOString().replace('T', ' ').slice(0, 19)} UTC · every ${seconds} s · Ctrl-C stops`;
      process.stdout.write(tty ? `\x1b[H\x1b[2J${heading}\n\n${body}\n` : `--- ${heading}\n${body}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        void stopped.then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
