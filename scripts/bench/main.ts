// The benchmark: `npm run bench -- --n 500` (throughput beside the baseline) or
// `npm run bench -- --parked 10000` (a parked wave). Brings up its own dev server, simulators,
// ingress and worker processes; see docs/benchmarks.md.
import { execSync } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runParked } from './parked';
import { startStack } from './stack';
import { runThroughput } from './throughput';

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
};

const simulatorsUrl = (value: string) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('a URL such as http://10.0.0.5:8089 (what `npm run simulators` prints)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('an http:// or https:// URL');
  return value;
};

const program = new Command('bench')
  .description('What one worker sustains: throughput beside a bare-workflow baseline, or a parked wave')
  .option('--n <count>', 'onboardings started at once (throughput run)', positive, 200)
  .option('--parked <count>', 'instead: this many onboardings parked at consent, then completed', positive)
  .option('--concurrency <count>', 'driver requests in flight at most', positive, 50)
  .option('--warmup <count>', 'workflows run before each measured phase', positive, 20)
  .option('--hold <seconds>', 'parked run: how long the wave waits before consent', positive, 30)
  .option('--timeout <seconds>', 'give up on a phase after this long', positive, 7200)
  .addOption(
    new Option('--only <phase>', 'throughput run: only one phase (no ratio)').choices([
      'baseline',
      'product',
    ]),
  )
  .option(
    '--rounds <count>',
    'throughput run: baseline and product this many times, alternating which goes first; the median ratio is the figure (a machine drifts over minutes)',
    positive,
    4,
  )
  .addOption(
    new Option(
      '--against-itself',
      'throughput run: the bare workflow in both phases of each round (how far this machine moves a ratio that is 1)',
    )
      .default(false)
      .conflicts(['only', 'parked']),
  )
  .option('--bundle-at-start', 'product worker bundles its workflows at start (no prebuilt bundle)', false)
  .option('--db <file>', 'dev server SQLite file (default: in memory)')
  .option(
    '--simulators <url>',
    "simulators already running there (`npm run simulators`, on another host: they then take none of this one's CPU) instead of a process of their own",
    simulatorsUrl,
  );

async function main(): Promise<void> {
  const opts = program.parse().opts();
  const load = execSync('uptime').toString().trim();
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB (${(freemem() / 2 ** 30).toFixed(0)} free), node ${process.version}`,
  );
  console.log(`load: ${load}`);
  const tuning = Object.entries(process.env).filter(([k]) => k.startsWith('WORKER_'));
  console.log(
    `worker tuning from the environment: ${tuning.map(([k, v]) => `${k}=${v}`).join(' ') || '(defaults)'}`,
  );
  const stack = await startStack({ db: opts.db, simulatorsUrl: opts.simulators });
  console.log(
    `dev server ${stack.server.address}, simulators ${stack.sims.url}, ingress ${stack.config.PUBLIC_BASE_URL}`,
  );
  try {
    if (opts.parked)
      await runParked(stack, {
        n: opts.parked,
        concurrency: opts.concurrency,
        holdSeconds: opts.hold,
        timeoutMs: opts.timeout * 1000,
      });
    else
      await runThroughput(stack, {
        n: opts.n,
        warmup: opts.warmup,
        concurrency: opts.concurrency,
        timeoutMs: opts.timeout * 1000,
        bundleAtStart: opts.bundleAtStart,
        only: opts.only,
        againstItself: opts.againstItself,
        rounds: opts.rounds,
      });
  } finally {
    console.log(`\nload at the end: ${execSync('uptime').toString().trim()}`);
    await stack.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
