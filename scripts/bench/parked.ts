// `npm run bench -- --parked N`: N onboardings started at once and left waiting at consent while
// the worker's RSS is sampled (the bounded workflow cache keeps it flat however many wait), then
// every admin and user acts, and the time the wave takes to complete is measured.
import { ONBOARDING_WORKFLOW_TYPE } from '../../src/shared/names';
import { countRunning, onboardings, runWave, withWarmWorker, type RunOptions } from './drive';
import { collect, markdown, measure, perThousand, printDetail, spread } from './figures';
import { usage, type Stack } from './stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns the summary table. */
export function runParked(stack: Stack, opts: RunOptions & { holdSeconds: number }): Promise<string> {
  const { client } = stack;
  return withWarmWorker(stack, opts, async (pid, customers) => {
    const rss = () => usage(pid).rssMiB;
    const rssBefore = rss();
    console.log(`\nparking ${opts.n} onboardings at consent; worker RSS ${rssBefore.toFixed(0)} MiB`);
    const wave = onboardings(client, customers);
    const held: number[] = [];
    let startedAll = 0;
    let parkedAll = 0;
    wave.beforePeople = async () => {
      startedAll = Date.now();
      for (let report = Date.now() + 30_000; ; await sleep(1000)) {
        const parked = await countRunning(client, ONBOARDING_WORKFLOW_TYPE, 'waiting-for-consent');
        if (parked >= opts.n) break;
        if (Date.now() > opts.deadline) throw new Error(`only ${parked} of ${opts.n} parked in time`);
        if (Date.now() < report) continue;
        report = Date.now() + 30_000;
        console.log(`  ... ${parked} parked; worker RSS ${rss().toFixed(0)} MiB`);
      }
      parkedAll = Date.now();
      console.log(`  all ${opts.n} waiting for consent; held ${opts.holdSeconds} s before the people act`);
      for (; Date.now() < parkedAll + opts.holdSeconds * 1000; await sleep(1000)) held.push(rss());
    };
    const done = await measure(pid, stack.metricsUrl);
    const times = await runWave(client, wave, opts.concurrency, opts.deadline);
    const f = await collect(client, wave.ids, times, await done());
    printDetail('parked wave', f);
    const after = (t: number) => ((t - times.startedAt) / 1000).toFixed(1);
    const completion = (f.lastVerifiedAt - times.peopleAt) / 1000;
    const mib = (values: number[]) => values.map((v) => v.toFixed(0)).join(' / ');
    return markdown(
      ['parked wave', 'value'],
      [
        ['onboardings parked at consent', String(opts.n)],
        ['all started after (s)', after(startedAll)],
        ['all waiting for consent after (s)', after(parkedAll)],
        ['worker RSS before the wave (MiB)', mib([rssBefore])],
        ['worker RSS while all waited, min / max (MiB)', mib([Math.min(...held), Math.max(...held)])],
        ['verified', `${f.verified} of ${f.n}`],
        ['completion: first person acting → last verified (s)', completion.toFixed(1)],
        ['completion rate (per second)', (f.verified / completion).toFixed(1)],
        ['consent signal → verified, p50 / p95 / p99 (s)', spread(f.consentToVerified)],
        ['worker peak RSS over the wave (MiB)', mib([f.used.workerPeakRssMiB])],
        ['worker CPU per 1,000 onboardings (s)', perThousand(f)],
      ],
    );
  });
}
