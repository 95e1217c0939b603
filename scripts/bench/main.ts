// `npm run bench`: what one worker process sustains against the simulators, on a Temporal dev
// server of its own: N onboardings started at once, or a wave parked at consent (--parked).
// See docs/benchmarks.md.
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { onboardings, runWave, withWarmWorker, type RunOptions } from './drive';
import { collect, measure, printDetail, table } from './figures';
import { runParked } from './parked';
import { startStack, type Stack } from './stack';

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const program = new Command('bench')
  .description(
    'Onboardings against the simulators: throughput, latency and cost per onboarding, or a parked wave',
  )
  .option('--n <count>', 'onboardings started at once', positive, 200)
  .option(
    '--parked <count>',
    'instead: this many parked at consent while RSS is sampled, then completed',
    positive,
  )
  .option('--hold <seconds>', 'parked wave: how long all wait before the people act', positive, 30)
  .option('--warmup <count>', 'onboardings run first and not counted', positive, 50)
  .option('--concurrency <count>', "the driver's requests in flight at most", positive, 50)
  .option('--timeout <seconds>', 'give up after this long', positive, 7200)
  .option('--db <file>', "the dev server's SQLite file (default: in memory)")
  .option(
    '--simulators <url>',
    'simulators already running there (`npm run simulators`, e.g. on another host)',
  );

function runThroughput(stack: Stack, opts: RunOptions): Promise<string> {
  return withWarmWorker(stack, opts, async (pid, customers) => {
    console.log(`\n${opts.n} onboardings started at once`);
    const wave = onboardings(stack.client, customers);
    const done = await measure(pid, stack.metricsUrl);
    const times = await runWave(stack.client, wave, opts.concurrency, opts.deadline);
    const figures = await collect(stack.client, wave.ids, times, await done());
    printDetail('product', figures);
    return table([['product', figures]]);
  });
}

/** What the figures were produced by, in a line to go beside them. */
function provenance(): string {
  let commit = '?';
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    // not a git checkout
  }
  const tuning = Object.entries(process.env).filter(([name]) => name.startsWith('WORKER_'));
  return [
    `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `commit ${commit}`,
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()})`,
    `Node ${process.version}`,
    tuning.map(([name, value]) => `${name}=${value}`).join(' ') || 'default worker tuning',
  ].join(' · ');
}

async function main(): Promise<void> {
  const opts = program.parse().opts();
  const produced = provenance();
  console.log(produced);
  const stack = await startStack({ db: opts.db, simulatorsUrl: opts.simulators });
  const run = {
    warmup: opts.warmup,
    concurrency: opts.concurrency,
    deadline: Date.now() + opts.timeout * 1000,
  };
  const summary = opts.parked
    ? await runParked(stack, { ...run, n: opts.parked, holdSeconds: opts.hold })
    : await runThroughput(stack, { ...run, n: opts.n });
  console.log(`\n${produced}\n\n${summary}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
