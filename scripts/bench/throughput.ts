// `npm run bench -- --n N`: the baseline and the product, on the same dev server, each with its
// own long-lived worker process configured the same (src/worker-tuning.ts from the environment),
// in alternating order round after round.
import { ONBOARDING_WORKFLOW_TYPE } from '../../src/shared/names';
import { runBaselinePhase } from './baseline-phase';
import { seedCustomers, type Customer } from './customers';
import { runProductPhase } from './product-phase';
import { reportPhase, type PhaseFigures } from './report';
import { watchResources, type PhaseResources } from './resources';
import type { Stack } from './stack';
import { median } from './stats';
import { closedCount } from './step-watcher';
import { superviseWorker, type SupervisedWorker } from './supervisor';
import { startWorkerProcess } from './worker-process';

export interface ThroughputOptions {
  n: number;
  warmup: number;
  concurrency: number;
  timeoutMs: number;
  /** Let the product worker bundle its workflows at start (no WORKFLOW_BUNDLE_PATH). */
  bundleAtStart: boolean;
  only?: 'baseline' | 'product';
  /** The bare workflow in both phases of each round: how far this machine moves a ratio that is 1. */
  againstItself: boolean;
  /** Both phases this many times, alternating which goes first: a shared machine's speed drifts over minutes. */
  rounds: number;
}

export async function runThroughput(stack: Stack, opts: ThroughputOptions): Promise<void> {
  const run = `r${Date.now() % 100000}`;
  const perRound = opts.n + opts.warmup;
  const prewarmed = runsProduct(opts) ? opts.n : 0;
  console.log(`seeding ${prewarmed + perRound * opts.rounds} customers in the simulators...`);
  const seeded = await seedCustomers(stack.sims.url, run, prewarmed + perRound * opts.rounds);
  const customers = seeded.slice(prewarmed);

  const workers = await startWorkers(stack, opts);
  try {
    // A round that is not counted, before the first: N bare workflows, then N onboardings. On an
    // empty dev server the first phase ran a fifth faster than any later one; after bare workflows
    // alone, round 1 (baseline first) still gave the lowest ratio of the four in each of four runs
    // (0.59-0.80 against 0.76-0.93). So the product's paths (in the server, the workers, and the
    // simulators, ingress and browser in this process) are warmed too, as the baseline's were.
    const { client } = stack.server;
    const what = [workers.baseline && `${opts.n} bare workflows`, workers.product && `${opts.n} onboardings`];
    console.log(`\nwarming up with ${what.filter(Boolean).join(' and ')} (not counted)`);
    if (workers.baseline)
      await runBaselinePhase(client, `${run}-pre`, opts.n, opts.concurrency, opts.timeoutMs);
    if (workers.product)
      await runProductPhase(client, seeded.slice(0, prewarmed), opts.concurrency, opts.timeoutMs);

    await runRounds(stack, workers, run, customers, opts);
  } finally {
    await Promise.all([workers.baseline?.stop(), workers.product?.stop()]);
  }
}

async function runRounds(
  stack: Stack,
  workers: Workers,
  run: string,
  customers: Customer[],
  opts: ThroughputOptions,
): Promise<void> {
  const perRound = opts.n + opts.warmup;
  const second = opts.againstItself ? 'baseline again' : 'product';
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const hostGauges: number[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    if (opts.rounds > 1) console.log(`\n#### round ${round + 1} of ${opts.rounds}`);
    const mine = customers.slice(round * perRound, (round + 1) * perRound);
    // Alternate which phase goes first: the second runs on a server holding the first's
    // workflows, so a fixed order would always favour one of them.
    const runBaseline = async () =>
      workers.baseline && baselineRun(stack, workers.baseline, `${run}-${round}`, opts);
    const runProduct = async () =>
      opts.againstItself
        ? workers.baseline &&
          baselineRun(stack, workers.baseline, `${run}-${round}-again`, opts, 'the bare workflow again')
        : workers.product && productRun(stack, workers.product, mine, opts);
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
      // On a machine the processes saturate, throughput follows CPU per onboarding: this
      // ratio says how much of the throughput ratio is the product's extra work (docs/benchmarks.md).
      cpuRatios.push(baseline.cpuMsPerOnboarding / product.cpuMsPerOnboarding);
      console.log(
        `\nratio ${second} / baseline throughput: ${ratios.at(-1)!.toFixed(2)}` +
          ` (${product.throughput.toFixed(1)} / ${baseline.throughput.toFixed(1)} per second);` +
          ` CPU per onboarding, baseline / ${second}: ${cpuRatios.at(-1)!.toFixed(2)}` +
          ` (${baseline.cpuMsPerOnboarding.toFixed(0)} / ${product.cpuMsPerOnboarding.toFixed(0)} ms)`,
      );
      // How evenly the machine ran between the two phases, read from the dev server's CPU per
      // onboarding. It is not a correction factor: the product asks a few percent more of the
      // server than the bare workflow (docs/benchmarks.md, "Eleventh session"), so its rounds
      // centre above 1.
      const server = product.serverCpuMsPerOnboarding / baseline.serverCpuMsPerOnboarding;
      hostGauges.push(server);
      console.log(hostGaugeLine(server, second));
    }
  }
  if (ratios.length > 1) {
    console.log(
      `\nratio over ${ratios.length} rounds: median ${median(ratios).toFixed(2)}` +
        ` (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')});` +
        ` CPU per onboarding, baseline / ${second}: median ${median(cpuRatios).toFixed(2)};` +
        ` the host gauge by round: ${hostGauges.map((g) => g.toFixed(2)).join(', ')}`,
    );
  }
}

/** One round's host gauge, with the spans it was measured in (docs/benchmarks.md, "Eleventh session"). */
function hostGaugeLine(gauge: number, second: string): string {
  return (
    `the host gauge: the dev server's CPU per onboarding, ${second} / baseline: ${gauge.toFixed(2)}` +
    ` (on the machine of docs/benchmarks.md: 0.84-1.15 for the bare workflow against itself;` +
    ` the product's rounds centre near 1.05, its own extra server work)`
  );
}

/** Whether the run has product phases (and so a product worker and seeded customers). */
function runsProduct(opts: ThroughputOptions): boolean {
  return opts.only !== 'baseline' && !opts.againstItself;
}

interface Workers {
  baseline?: SupervisedWorker;
  product?: SupervisedWorker;
}

/**
 * One worker process of each kind for the whole run, serving every phase of its kind as a
 * production worker serves wave after wave. A fresh worker per phase measured the product's JIT
 * warm-up: its own code (activities, HTTP clients, codec, interceptors) took 200-400 onboardings
 * to reach steady CPU per onboarding, the bare workflow's about 20 (docs/benchmarks.md, "Ninth
 * session"). Supervised: one that exits is restarted and the phase says so.
 */
async function startWorkers(stack: Stack, opts: ThroughputOptions): Promise<Workers> {
  const baseline =
    opts.only === 'product'
      ? undefined
      : await startSupervised('scripts/bench/baseline-worker.ts', {
          ...stack.workerEnv,
          WORKFLOW_BUNDLE_PATH: stack.bundles.baseline,
        });
  const product = runsProduct(opts)
    ? await startSupervised('src/worker.ts', {
        ...stack.workerEnv,
        ...(opts.bundleAtStart ? {} : { WORKFLOW_BUNDLE_PATH: stack.bundles.product }),
      })
    : undefined;
  return { baseline, product };
}

function startSupervised(script: string, env: NodeJS.ProcessEnv): Promise<SupervisedWorker> {
  return superviseWorker(async () => {
    const t0 = Date.now();
    const worker = await startWorkerProcess(script, env);
    const { cpuSeconds, rssMiB } = worker.sample();
    console.log(
      `  ${script}: polling after ${((Date.now() - t0) / 1000).toFixed(1)} s, ${cpuSeconds.toFixed(1)} CPU s, RSS ${rssMiB.toFixed(0)} MiB`,
    );
    return worker;
  });
}

/** Prints the restarts of `worker` that happened while `phase` ran: its figures then mix two processes. */
async function noteRestarts<T>(worker: SupervisedWorker, phase: () => Promise<T>): Promise<T> {
  const before = worker.restarts().length;
  const result = await phase();
  for (const line of worker.restarts().slice(before))
    console.log(`  worker restart during the phase: ${line}`);
  return result;
}

async function baselineRun(
  stack: Stack,
  worker: SupervisedWorker,
  run: string,
  opts: ThroughputOptions,
  title = 'baseline',
): Promise<PhaseFigures> {
  console.log(`\n${title}:`);
  return noteRestarts(worker, async () => {
    await runBaselinePhase(stack.server.client, `${run}w`, opts.warmup, opts.concurrency, opts.timeoutMs);
    const resources = await watchResources(worker, stack.server);
    let used: PhaseResources | undefined;
    const outcome = await runBaselinePhase(
      stack.server.client,
      run,
      opts.n,
      opts.concurrency,
      opts.timeoutMs,
      async () => void (used = await resources.finish()),
    );
    return reportPhase('baseline (bare workflow, no-op activities)', outcome, used!, (e) =>
      e.event.startsWith('signal consent'),
    );
  });
}

async function productRun(
  stack: Stack,
  worker: SupervisedWorker,
  customers: Customer[],
  opts: ThroughputOptions,
): Promise<PhaseFigures> {
  const { client } = stack.server;
  console.log('\nproduct:');
  return noteRestarts(worker, async () => {
    // The warm-up also has the owner workflow register the shared app once.
    await runProductPhase(client, customers.slice(opts.n), opts.concurrency, opts.timeoutMs);
    const resources = await watchResources(worker, stack.server, stack.sims);
    let used: PhaseResources | undefined;
    const outcome = await runProductPhase(
      client,
      customers.slice(0, opts.n),
      opts.concurrency,
      opts.timeoutMs,
      async () => void (used = await resources.finish()),
    );
    const figures = reportPhase(
      'product (dynamicsOnboarding)',
      outcome,
      used!,
      (e) => e.event === 'consent granted',
    );
    const closed = await closedCount(client, ONBOARDING_WORKFLOW_TYPE);
    console.log(`  (${closed} onboardings closed on this server in all)`);
    return figures;
  });
}
