// N onboardings started at once, the driver playing each customer's admin (follows the consent
// link and accepts) and user (follows the sign-in link and signs in) as soon as visibility shows
// the onboarding waiting for them.
import type { Client } from '@temporalio/client';
import { followLink } from '../../src/demo/person';
import { statusQuery } from '../../src/shared/messages';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../../src/shared/names';
import type { OnboardingResult } from '../../src/shared/status';
import type { Customer } from './customers';
import type { PhaseOutcome } from './phase';
import { historyShape } from './history-shape';
import { Pool } from './pool';
import { workflowResults } from './results';
import { closedCount, waitClosed, watchSteps } from './step-watcher';

export async function runProductPhase(
  client: Client,
  customers: Customer[],
  concurrency: number,
  timeoutMs: number,
  /** Called once the last one has closed, before the results are fetched (outside the measured window). */
  onClosed?: () => Promise<void>,
): Promise<PhaseOutcome> {
  const byId = new Map(customers.map((c) => [onboardingWorkflowId(c.accountId), c]));
  const pool = new Pool(concurrency);
  const closedBefore = await closedCount(client, ONBOARDING_WORKFLOW_TYPE);
  const current = async (workflowId: string, waitingFor: 'consent' | 'sign-in') => {
    const status = await client.workflow.getHandle(workflowId).query(statusQuery);
    const link = waitingFor === 'consent' ? status.consentUrl : status.signInUrl;
    if (status.waitingFor !== waitingFor || !link)
      throw new Error(`${workflowId} not waiting for ${waitingFor}`);
    return link;
  };
  const watcher = watchSteps(
    client,
    ONBOARDING_WORKFLOW_TYPE,
    {
      'waiting-for-consent': async (id) => {
        const visit = await followLink(await current(id, 'consent'), { username: byId.get(id)!.admin });
        if (visit.status !== 200) throw new Error(`consent ended with HTTP ${visit.status} at ${visit.url}`);
      },
      'exchanging-token': async (id) => {
        const visit = await followLink(await current(id, 'sign-in'), { username: byId.get(id)!.user });
        if (visit.status !== 200) throw new Error(`sign-in ended with HTTP ${visit.status} at ${visit.url}`);
      },
    },
    pool,
  );

  const startedAt = Date.now();
  await new Pool(concurrency).map(customers, (c) =>
    client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
      workflowId: onboardingWorkflowId(c.accountId),
      taskQueue: TASK_QUEUE,
      args: [
        { cyclrAccountId: c.accountId, customerTenant: c.tenantId, resourceUrl: c.org, requester: 'bench' },
      ],
    }),
  );
  try {
    await waitClosed(client, ONBOARDING_WORKFLOW_TYPE, closedBefore, customers.length, timeoutMs, watcher);
  } finally {
    await watcher.stop();
  }
  const closedAt = Date.now();
  await onClosed?.();
  const results = await workflowResults<OnboardingResult>(client, [...byId.keys()], concurrency);
  const ok = results.filter((r): r is OnboardingResult => r?.outcome === 'verified');
  return {
    startedAt,
    closedAt,
    verified: ok.length,
    failed: customers.length - ok.length,
    driverRetries: watcher.retries(),
    timelines: ok.map((r) => r.timeline),
    shape: await historyShape(client, [...byId.keys()][0]),
  };
}
