// `npm run bench -- --n N`: the baseline and the product, on the same dev server, each with its
// own worker process configured the same (src/worker-tuning.ts from the environment), in
// alternating order round after round.
import { ONBOARDING_WORKFLOW_TYPE } from '../../src/shared/names';
import { runBaselinePhase } from './baseline-phase';
import { seedCustomers, type Customer } from './customers';
import { runProductPhase } from './product-phase';
import { reportPhase, type PhaseFigures } from './report';
import { watchResources } from './resources';
import type { Stack } from './stack';
import { median } from './stats';
import { closedCount } from './step-watcher';
import { startWorkerProcess, type WorkerProcess } from './worker-process';

export interface ThroughputOptions {
  n: number;
  warmup: number;
  concurrency: number;
  timeoutMs: number;
  /** Let the product worker bundle its workflows at start (no WORKFLOW_BUNDLE_PATH). */
  bundleAtStart: boolean;
  only?: 'baseline' | 'product';
  /** Both phases this many times, alternating which goes first: a shared machine's speed drifts over minutes. */
  rounds: number;
}

async function startTimed(script: string, env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const t0 = Date.now();
  const worker = await startWorkerProcess(script, env);
  const { cpuSeconds, rssMiB } = worker.sample();
  console.log(
    `  ${script}: polling after ${((Date.now() - t0) / 1000).toFixed(1)} s, ${cpuSeconds.toFixed(1)} CPU s, RSS ${rssMiB.toFixed(0)} MiB`,
  );
  return worker;
}

export async function runThroughput(stack: Stack, opts: ThroughputOptions): Promise<void> {
  const run = `r${Date.now() % 100000}`;
  const perRound = opts.n + opts.warmup;
  const prewarmed = opts.only ? 0 : opts.n;
  console.log(`seeding ${prewarmed + perRound * opts.rounds} customers in the simulators...`);
  const seeded = await seedCustomers(stack.sims.url, run, prewarmed + perRound * opts.rounds);
  const customers = seeded.slice(prewarmed);

  if (!opts.only) await prewarm(stack, `${run}-pre`, seeded.slice(0, prewarmed), opts);

  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    if (opts.rounds > 1) console.log(`\n#### round ${round + 1} of ${opts.rounds}`);
    const mine = customers.slice(round * perRound, (round + 1) * perRound);
    // Alternate which phase goes first: the second runs on a server holding the first's
    // workflows, so a fixed order would always favour one of them.
    const runBaseline = async () =>
      opts.only === 'product' ? undefined : baselineRun(stack, `${run}-${round}`, opts);
    const runProduct = async () => (opts.only === 'baseline' ? undefined : productRun(stack, mine, opts));
    let baseline: PhaseFigures | undefined;
    let product: PhaseFigures | undefined;
    if (round % 2 === 0) {
      baseline = await runBaseline();
      product = await runProduct();
    } else {
      product = await runProduct();
      baseline = await runBaseline();
    }
    if (baseline && product) {
      ratios.push(product.throughput / baseline.throughput);
      // On a machine the three processes saturate, throughput follows CPU per onboarding: this
      // ratio says how much of the throughput ratio is the product's extra work (docs/benchmarks.md).
      cpuRatios.push(baseline.cpuMsPerOnboarding / product.cpuMsPerOnboarding);
      console.log(
        `\nratio product / baseline throughput: ${ratios.at(-1)!.toFixed(2)}` +
          ` (${product.throughput.toFixed(1)} / ${baseline.throughput.toFixed(1)} per second);` +
          ` CPU per onboarding, baseline / product: ${cpuRatios.at(-1)!.toFixed(2)}` +
          ` (${baseline.cpuMsPerOnboarding.toFixed(0)} / ${product.cpuMsPerOnboarding.toFixed(0)} ms)`,
      );
    }
  }
  if (ratios.length > 1) {
    console.log(
      `\nratio over ${ratios.length} rounds: median ${median(ratios).toFixed(2)}` +
        ` (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')});` +
        ` CPU per onboarding, baseline / product: median ${median(cpuRatios).toFixed(2)}`,
    );
  }
}

/** Runs `use` with a baseline worker process polling, and stops the worker after it. */
async function withBaselineWorker<T>(stack: Stack, use: (worker: WorkerProcess) => Promise<T>): Promise<T> {
  const worker = await startTimed('scripts/bench/baseline-worker.ts', {
    ...stack.workerEnv,
    WORKFLOW_BUNDLE_PATH: stack.bundles.baseline,
  });
  try {
    return await use(worker);
  } finally {
    await worker.stop();
  }
}

/**
 * A round that is not counted, before the first: N bare workflows, then N onboardings. On an
 * empty dev server the first phase ran a fifth faster than any later one; after bare workflows
 * alone, round 1 (baseline first) still gave the lowest ratio of the four in each of four runs
 * (0.59-0.80 against 0.76-0.93). So the product's paths (in the server, and the simulators,
 * ingress and browser in this process) are warmed too, as the baseline's were.
 */
async function prewarm(
  stack: Stack,
  run: string,
  customers: Customer[],
  opts: ThroughputOptions,
): Promise<void> {
  const { client } = stack.server;
  console.log(`\nwarming up with ${opts.n} bare workflows and ${opts.n} onboardings (not counted)`);
  await withBaselineWorker(stack, () =>
    runBaselinePhase(client, run, opts.n, opts.concurrency, opts.timeoutMs),
  );
  await withProductWorker(stack, opts, () =>
    runProductPhase(client, customers, opts.concurrency, opts.timeoutMs),
  );
}

/** Runs `use` with the product's worker process (src/worker.ts) polling, and stops it after. */
async function withProductWorker<T>(
  stack: Stack,
  opts: ThroughputOptions,
  use: (worker: WorkerProcess) => Promise<T>,
): Promise<T> {
  const worker = await startTimed('src/worker.ts', {
    ...stack.workerEnv,
    ...(opts.bundleAtStart ? {} : { WORKFLOW_BUNDLE_PATH: stack.bundles.product }),
  });
  try {
    return await use(worker);
  } finally {
    await worker.stop();
  }
}

async function baselineRun(stack: Stack, run: string, opts: ThroughputOptions): Promise<PhaseFigures> {
  console.log('baseline: starting its worker');
  return withBaselineWorker(stack, async (worker) => {
    await runBaselinePhase(stack.server.client, `${run}w`, opts.warmup, opts.concurrency, opts.timeoutMs);
    const resources = await watchResources(worker, stack.server);
    const outcome = await runBaselinePhase(
      stack.server.client,
      run,
      opts.n,
      opts.concurrency,
      opts.timeoutMs,
    );
    return reportPhase('baseline (bare workflow, no-op activities)', outcome, await resources.finish(), (e) =>
      e.event.startsWith('signal consent'),
    );
  });
}

async function productRun(
  stack: Stack,
  customers: Customer[],
  opts: ThroughputOptions,
): Promise<PhaseFigures> {
  const { client } = stack.server;
  console.log('\nproduct: starting its worker');
  return withProductWorker(stack, opts, async (productWorker) => {
    // The warm-up also has the owner workflow register the shared app once.
    await runProductPhase(client, customers.slice(opts.n), opts.concurrency, opts.timeoutMs);
    const resources = await watchResources(productWorker, stack.server, stack.sims.url);
    const outcome = await runProductPhase(
      client,
      customers.slice(0, opts.n),
      opts.concurrency,
      opts.timeoutMs,
    );
    const figures = reportPhase(
      'product (dynamicsOnboarding)',
      outcome,
      await resources.finish(),
      (e) => e.event === 'consent granted',
    );
    const closed = await closedCount(client, ONBOARDING_WORKFLOW_TYPE);
    console.log(`  (${closed} onboardings closed on this server in all)`);
    return figures;
  });
}
