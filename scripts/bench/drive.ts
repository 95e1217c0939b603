// The driver: seeds the customers in the simulators, starts a wave of workflows, and plays each
// customer's admin and user as soon as visibility shows the onboarding waiting for them.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { followLink } from '../../src/demo/person';
import { statusQuery } from '../../src/shared/messages';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE as STEP, ONBOARDING_WORKFLOW_TYPE } from '../../src/shared/names';
import { onboardingWorkflowId, TASK_QUEUE } from '../../src/shared/names';
import { startNode, usage, type Stack } from './stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs tasks `limit` at a time: the driver plays many people, but not all at the same instant. */
export function limiter(limit: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((r) => queue.push(r));
    running++;
    return task().finally(() => (running--, queue.shift()?.()));
  };
}

export const mapLimit = <I, T>(items: I[], limit: number, task: (item: I) => Promise<T>) => {
  const run = limiter(limit);
  return Promise.all(items.map((item) => run(() => task(item))));
};

const customer = (run: string, i: number) => ({
  accountId: `bench-${run}-${i}`,
  tenantId: `44444444-4444-4444-8444-${run}${i.toString(16).padStart(6, '0')}`,
  domain: `b${run}c${i}.onmicrosoft.com`,
  org: `https://b${run}c${i}.crm4.dynamics.com`,
});
export type Customer = ReturnType<typeof customer>;

/** `n` customers: a tenant with an org, an admin and a user each, and a Cyclr account. */
export async function seedCustomers(simulatorsUrl: string, n: number): Promise<Customer[]> {
  const run = randomBytes(3).toString('hex'); // runs against the same simulators do not collide
  const customers = Array.from({ length: n }, (_, i) => customer(run, i));
  const post = async (path: string, body: unknown) => {
    const headers = { 'Content-Type': 'application/json' };
    const res = await fetch(`${simulatorsUrl}/_sim${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`simulators ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  await mapLimit(customers, 32, async ({ tenantId, domain, org, accountId }) => {
    const users = [`admin@${domain}`, `user@${domain}`].map((username, i) => ({ username, admin: i === 0 }));
    await post('/tenants', { tenantId, domain, displayName: accountId, orgs: [org], users });
    await post('/cyclr/accounts', { accountId, name: accountId });
  });
  return customers;
}

export interface Wave {
  workflowType: string;
  ids: string[];
  start(workflowId: string): Promise<unknown>;
  /** By step: what a person does when visibility shows a workflow in it. */
  people: Record<string, (workflowId: string) => Promise<void>>;
  /** Runs once all are started, before any person acts (the parked wave waits here). */
  beforePeople?: () => Promise<void>;
}

/** The onboardings of `customers`: the admins follow the consent link, the users the sign-in link. */
export function onboardings(client: Client, customers: Customer[]): Wave {
  const byId = new Map(customers.map((c) => [onboardingWorkflowId(c.accountId), c]));
  // As ops would: the link the workflow publishes in `status`, followed like a browser.
  const visit = async (id: string, waitingFor: 'consent' | 'sign-in', person: 'admin' | 'user') => {
    const status = await client.workflow.getHandle(id).query(statusQuery);
    const link = waitingFor === 'consent' ? status.consentUrl : status.signInUrl;
    if (status.waitingFor !== waitingFor || !link) throw new Error(`${id} is not waiting for ${waitingFor}`);
    const page = await followLink(link, { username: `${person}@${byId.get(id)!.domain}` });
    if (page.status !== 200) throw new Error(`${waitingFor} ended with HTTP ${page.status} at ${page.url}`);
  };
  return {
    workflowType: ONBOARDING_WORKFLOW_TYPE,
    ids: [...byId.keys()],
    start: (id) => {
      const { accountId, tenantId, org } = byId.get(id)!;
      const input = {
        cyclrAccountId: accountId,
        customerTenant: tenantId,
        resourceUrl: org,
        requester: 'bench',
      };
      return client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
        workflowId: id,
        taskQueue: TASK_QUEUE,
        args: [input],
      });
    },
    people: {
      'waiting-for-consent': (id) => visit(id, 'consent', 'admin'),
      'exchanging-token': (id) => visit(id, 'sign-in', 'user'),
    },
  };
}

const running = (type: string, step: string) =>
  `WorkflowType = '${type}' AND ExecutionStatus = 'Running' AND ${STEP} = '${step}'`;
export const countRunning = async (client: Client, type: string, step: string) =>
  (await client.workflow.count(running(type, step))).count;
const countClosed = async (client: Client, type: string) =>
  (await client.workflow.count(`WorkflowType = '${type}' AND ExecutionStatus != 'Running'`)).count;

/**
 * Runs each person once per workflow that visibility lists in their step. Visibility rather than
 * polling each workflow's `status`: a query is a workflow task on the worker (a replay once
 * evicted), so polling would load what is being measured.
 */
function watchSteps(client: Client, wave: Wave, concurrency: number) {
  const run = limiter(concurrency);
  const seen = new Map(Object.keys(wave.people).map((step) => [step, new Set<string>()]));
  let stopped = false;
  const failures: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const pollStart = Date.now();
      for (const [step, person] of Object.entries(wave.people)) {
        const done = seen.get(step)!;
        const query = running(wave.workflowType, step);
        for await (const { workflowId: id } of client.workflow.list({ query, pageSize: 1000 })) {
          if (done.has(id)) continue;
          done.add(id);
          run(() => person(id)).catch((err: Error) => {
            failures.push(`${step}: ${err.message}`);
            // Not at the next poll: a person whose page failed tries again later, as a person would.
            setTimeout(() => done.delete(id), 30_000);
          });
        }
      }
      // Thousands waiting make each list long: poll at most a third of the time, so the driver's
      // visibility reads do not become the server's main load.
      await sleep(Math.max(200, 2 * (Date.now() - pollStart)));
    }
  })();
  return { stop: () => ((stopped = true), loop), failures };
}

export interface WaveTimes {
  startedAt: number;
  /** When the people began to act. */
  peopleAt: number;
  /** When the driver saw the last one close. */
  closedAt: number;
  /** People whose visit failed and was tried again; zero in a healthy run. */
  retries: number;
}

export async function runWave(
  client: Client,
  wave: Wave,
  concurrency: number,
  deadline: number,
): Promise<WaveTimes> {
  const closedBefore = await countClosed(client, wave.workflowType);
  let watcher = wave.beforePeople ? undefined : watchSteps(client, wave, concurrency);
  const startedAt = Date.now();
  await mapLimit(wave.ids, concurrency, wave.start);
  await wave.beforePeople?.();
  const peopleAt = Date.now();
  watcher ??= watchSteps(client, wave, concurrency);
  try {
    for (let report = Date.now() + 10_000; ; await sleep(250)) {
      const closed = (await countClosed(client, wave.workflowType)) - closedBefore;
      if (closed >= wave.ids.length) break;
      if (Date.now() > deadline) throw new Error(`only ${closed} of ${wave.ids.length} closed in time`);
      if (Date.now() < report) continue;
      report = Date.now() + 10_000;
      const last = watcher.failures.at(-1)?.slice(0, 160);
      const failed = `${watcher.failures.length} retries${last ? ` (last: ${last})` : ''}`;
      const after = ((Date.now() - startedAt) / 1000).toFixed(0);
      console.log(`  ... ${closed} of ${wave.ids.length} closed after ${after} s; ${failed}`);
    }
  } finally {
    await watcher.stop();
  }
  return { startedAt, peopleAt, closedAt: Date.now(), retries: watcher.failures.length };
}

export interface RunOptions {
  n: number;
  warmup: number;
  concurrency: number;
  deadline: number;
}

/**
 * Seeds warm-up + N customers, starts the product's worker as production does (`src/worker.ts` on
 * the prebuilt bundle), runs the warm-up, and hands `run` the worker's pid and the N to measure.
 */
export async function withWarmWorker<T>(
  stack: Stack,
  opts: RunOptions,
  run: (pid: number, customers: Customer[]) => Promise<T>,
): Promise<T> {
  console.log(`seeding ${opts.warmup + opts.n} customers in the simulators...`);
  const customers = await seedCustomers(stack.simulatorsUrl, opts.warmup + opts.n);
  const t0 = Date.now();
  const pid = await startNode('src/worker.ts', stack.workerEnv, 'worker polling');
  const { cpuSeconds, rssMiB } = usage(pid);
  const took = `${((Date.now() - t0) / 1000).toFixed(1)} s, ${cpuSeconds.toFixed(1)} CPU s`;
  console.log(`worker polling after ${took}; RSS ${rssMiB.toFixed(0)} MiB`);
  // The worker's JIT, the owner workflow's one registration of the shared app, and the first
  // calls of every path are no part of what an onboarding costs.
  console.log(`warming up with ${opts.warmup} onboardings (not counted)`);
  await runWave(
    stack.client,
    onboardings(stack.client, customers.slice(0, opts.warmup)),
    opts.concurrency,
    opts.deadline,
  );
  return run(pid, customers.slice(opts.warmup));
}
