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
  console.log(`seeding ${perRound * opts.rounds} customers in the simulators...`);
  const customers = await seedCustomers(stack.sims.url, run, perRound * opts.rounds);

  if (!opts.only) await prewarmServer(stack, `${run}-pre`, opts);

  const ratios: number[] = [];
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
      console.log(
        `\nratio product / baseline throughput: ${ratios.at(-1)!.toFixed(2)}` +
          ` (${product.throughput.toFixed(1)} / ${baseline.throughput.toFixed(1)} per second)`,
      );
    }
  }
  if (ratios.length > 1) {
    console.log(
      `\nratio over ${ratios.length} rounds: median ${median(ratios).toFixed(2)}` +
        ` (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
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
 * Bare workflows run before the first round and not counted: on an empty dev server the first
 * phase runs faster than any later one (a fifth faster in the runs of 2026-11-26), so the first
 * round would otherwise compare phases on unequal servers.
 */
async function prewarmServer(stack: Stack, run: string, opts: ThroughputOptions): Promise<void> {
  console.log(`\nwarming the dev server with ${opts.n} bare workflows (not counted)`);
  await withBaselineWorker(stack, () =>
    runBaselinePhase(stack.server.client, run, opts.n, opts.concurrency, opts.timeoutMs),
  );
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
  const productWorker = await startTimed('src/worker.ts', {
    ...stack.workerEnv,
    ...(opts.bundleAtStart ? {} : { WORKFLOW_BUNDLE_PATH: stack.bundles.product }),
  });
  try {
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
  } finally {
    await productWorker.stop();
  }
}
