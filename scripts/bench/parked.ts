// `npm run bench -- --parked 10000`: a wave of onboardings that all park at the consent wait.
// Reports the worker's RSS while they wait (bounded workflow cache: it must stay flat), the time
// to signal consent to all of them (as ops would, `consentGranted`), and the time until all are
// verified, the driver following every real sign-in link with bounded concurrency. The worker
// runs supervised, as in production: one that dies is restarted, and the restarts are reported.
import type { Client } from '@temporalio/client';
import { followLink } from '../../src/demo/person';
import { consentGrantedSignal, statusQuery } from '../../src/shared/messages';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../../src/shared/names';
import type { OnboardingResult } from '../../src/shared/status';
import { seedCustomers } from './customers';
import { Pool } from './pool';
import { workflowResults } from './results';
import { runProductPhase } from './product-phase';
import { watchResources, type PhaseResources } from './resources';
import type { Stack } from './stack';
import { latencies, percentiles } from './stats';
import { closedCount, waitClosed, watchSteps } from './step-watcher';
import { superviseWorker } from './supervisor';
import { startWorkerProcess } from './worker-process';

export interface ParkedOptions {
  n: number;
  concurrency: number;
  holdSeconds: number;
  timeoutMs: number;
}

const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;

async function countParked(client: Client): Promise<number> {
  const query = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND OnboardingStep = 'waiting-for-consent'`;
  return (await client.workflow.count(query)).count;
}

export async function runParked(stack: Stack, opts: ParkedOptions): Promise<void> {
  const { client } = stack.server;
  const run = `p${Date.now() % 100000}`;
  console.log(`seeding ${opts.n + 1} customers in the simulators...`);
  const [warm, ...customers] = await seedCustomers(stack.sims.url, run, opts.n + 1);
  const worker = await superviseWorker(() =>
    startWorkerProcess('src/worker.ts', {
      ...stack.workerEnv,
      WORKFLOW_BUNDLE_PATH: stack.bundles.product,
    }),
  );
  try {
    // Registers the shared app; its appId is what the customers' admins consent to.
    await runProductPhase(client, [warm], 1, opts.timeoutMs);
    const { appId } = await client.workflow
      .getHandle<() => Promise<OnboardingResult>>(onboardingWorkflowId(warm.accountId))
      .result();
    const resources = await watchResources(worker, stack.server, stack.sims);
    const rss = () => worker.sample().rssMiB.toFixed(0);
    const closedBefore = await closedCount(client, ONBOARDING_WORKFLOW_TYPE);
    console.log(`\n== parked wave of ${opts.n}: worker RSS ${rss()} MiB before`);

    const t0 = Date.now();
    const deadline = t0 + opts.timeoutMs;
    await new Pool(opts.concurrency).map(customers, (c) =>
      client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
        workflowId: onboardingWorkflowId(c.accountId),
        taskQueue: TASK_QUEUE,
        args: [
          { cyclrAccountId: c.accountId, customerTenant: c.tenantId, resourceUrl: c.org, requester: 'bench' },
        ],
      }),
    );
    console.log(`  started all in ${since(t0)}; worker RSS ${rss()} MiB`);
    let lastReport = Date.now();
    for (let parked = 0; parked < opts.n; parked = await countParked(client)) {
      if (Date.now() > deadline) throw new Error(`only ${parked} of ${opts.n} parked in time`);
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        console.log(`  ... ${parked} parked after ${since(t0)}; worker RSS ${rss()} MiB`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(`  all ${opts.n} waiting for consent after ${since(t0)}; worker RSS ${rss()} MiB`);

    const holdStart = Date.now();
    const held: number[] = [];
    while (Date.now() - holdStart < opts.holdSeconds * 1000) {
      held.push(worker.sample().rssMiB);
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(
      `  held ${opts.holdSeconds} s: worker RSS min ${Math.min(...held).toFixed(0)}, max ${Math.max(...held).toFixed(0)} MiB` +
        ` (first ${held[0].toFixed(0)}, last ${held.at(-1)!.toFixed(0)})`,
    );

    const byId = new Map(customers.map((c) => [onboardingWorkflowId(c.accountId), c]));
    const pool = new Pool(opts.concurrency);
    const watcher = watchSteps(
      client,
      ONBOARDING_WORKFLOW_TYPE,
      {
        'exchanging-token': async (id) => {
          const status = await client.workflow.getHandle(id).query(statusQuery);
          if (status.waitingFor !== 'sign-in' || !status.signInUrl)
            throw new Error('not waiting for sign-in');
          const visit = await followLink(status.signInUrl, { username: byId.get(id)!.user });
          if (visit.status !== 200) throw new Error(`sign-in ended with HTTP ${visit.status}`);
        },
      },
      pool,
      1000,
    );
    // Each admin grants consent in the Azure portal (not timed); ops then signal it, which is timed.
    const tg = Date.now();
    await new Pool(opts.concurrency).map(customers, (c) =>
      fetch(`${stack.sims.url}/_sim/tenants/${c.tenantId}/consents`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ appId, by: c.admin }),
      }).then((res) => {
        if (!res.ok) throw new Error(`consent for ${c.tenantId}: HTTP ${res.status}`);
      }),
    );
    console.log(
      `  (consent granted in the simulated portal for all in ${since(tg)}; not part of the figures)`,
    );
    const t1 = Date.now();
    await new Pool(opts.concurrency).map([...byId.keys()], (id) =>
      client.workflow.getHandle(id).signal(consentGrantedSignal, { by: 'bench (ops)' }),
    );
    console.log(`  consentGranted signalled to all ${opts.n} in ${since(t1)}`);
    let completed = true;
    try {
      await waitClosed(
        client,
        ONBOARDING_WORKFLOW_TYPE,
        closedBefore,
        opts.n,
        deadline - Date.now(),
        watcher,
      );
    } catch (err) {
      completed = false;
      console.log(`  stopped at the time limit: ${(err as Error).message}`);
    } finally {
      await watcher.stop();
    }
    const closed = (await closedCount(client, ONBOARDING_WORKFLOW_TYPE)) - closedBefore;
    const rate = (closed * 1000) / (Date.now() - t1);
    console.log(
      `  ${closed} closed ${since(t1)} after the first consent signal: ${rate.toFixed(1)} per second (driver retries ${watcher.retries()})`,
    );
    reportResources(await resources.finish(), opts.n);
    const restarts = worker.restarts();
    console.log(
      restarts.length
        ? `  worker restarts: ${restarts.length} (the figures above span all of them)\n    ${restarts.join('\n    ')}`
        : '  worker restarts: none',
    );
    if (!completed) return;

    const results = await workflowResults<OnboardingResult>(client, [...byId.keys()], opts.concurrency);
    const ok = results.filter((r): r is OnboardingResult => r?.outcome === 'verified');
    const lat = latencies(
      ok.map((r) => r.timeline),
      (e) => e.event === 'consent granted',
    );
    const last = (lat.lastVerifiedAt - t1) / 1000;
    console.log(
      `  verified ${ok.length} of ${opts.n}; last verified ${last.toFixed(1)} s after the first signal`,
    );
    const p = lat.consentToVerified;
    console.log(
      `  consent signal -> verified (s): p50 ${(p.p50 / 1000).toFixed(1)}, p95 ${(p.p95 / 1000).toFixed(1)}, p99 ${(p.p99 / 1000).toFixed(1)}`,
    );
  } finally {
    await worker.stop();
  }
}

function reportResources(used: PhaseResources, n: number): void {
  const series = used.rssSeries;
  const rssAll = percentiles(series.map(([, v]) => v));
  console.log(
    `  worker over the whole wave: ${used.workerCpuSeconds.toFixed(0)} CPU s (${((used.workerCpuSeconds * 1000) / n).toFixed(1)} per 1,000),` +
      ` peak RSS ${used.workerPeakRssMiB.toFixed(0)} MiB, RSS p50 ${rssAll.p50.toFixed(0)} MiB; dev server ${used.serverCpuSeconds.toFixed(0)} CPU s` +
      (used.simulatorCpuSeconds === undefined
        ? ''
        : `; simulated services ${used.simulatorCpuSeconds.toFixed(0)} CPU s`),
  );
  console.log(
    `  requests to simulated services: ${Object.entries(used.requests)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const step = Math.max(1, Math.round(series.length / 30));
  console.log(
    `  worker RSS (s:MiB): ${series
      .filter((_, i) => i % step === 0)
      .map(([t, v]) => `${t.toFixed(0)}:${v.toFixed(0)}`)
      .join(' ')}`,
  );
}
