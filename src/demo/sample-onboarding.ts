// The embedded demo: seeds one sample customer in the simulators, onboards it, and plays the
// customer's admin (consent link) and user (sign-in link) over HTTP, as people would.
import type { Client } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../shared/names';
import type { OnboardingResult, OnboardingStatus } from '../shared/status';
import type { WaitingFor } from '../shared/steps';
import { followLink } from './person';

async function simControl(simBaseUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${simBaseUrl}/_sim${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`simulator control ${path}: HTTP ${res.status} ${await res.text()}`);
}

export async function waitUntil(
  client: Client,
  workflowId: string,
  what: WaitingFor,
  timeoutMs = 60_000,
): Promise<OnboardingStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery);
    if (status.waitingFor === what) return status;
    if (Date.now() > until)
      throw new Error(`${workflowId} is not waiting for ${what} after ${timeoutMs} ms (step ${status.step})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runSampleOnboarding(
  client: Client,
  simBaseUrl: string,
  log: (line: string) => void,
): Promise<OnboardingResult> {
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const tenantId = '22222222-2222-4222-8222-222222222222';
  await simControl(simBaseUrl, '/tenants', {
    tenantId,
    domain: 'contoso.onmicrosoft.com',
    displayName: 'Contoso Ltd',
    orgs: ['https://contoso.crm.dynamics.com'],
    users: [
      { username: 'admin@contoso.onmicrosoft.com', admin: true },
      { username: 'dana@contoso.onmicrosoft.com', admin: false },
    ],
  });
  const accountId = `sample-${stamp}`;
  await simControl(simBaseUrl, '/cyclr/accounts', { accountId, name: 'Contoso (sample)' });

  const workflowId = onboardingWorkflowId(accountId);
  log(`starting ${workflowId}`);
  const handle = await client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: TASK_QUEUE,
    args: [
      {
        cyclrAccountId: accountId,
        customerTenant: tenantId,
        resourceUrl: 'https://contoso.crm.dynamics.com',
        requester: 'npm start demo',
      },
    ],
  });

  const waiting = await waitUntil(client, workflowId, 'consent');
  log(`customer admin follows the consent link: ${waiting.consentUrl}`);
  const consent = await followLink(waiting.consentUrl!, { username: 'admin@contoso.onmicrosoft.com' });
  log(`  ...ended on ${consent.url.split('?')[0]} (HTTP ${consent.status})`);

  const signIn = await waitUntil(client, workflowId, 'sign-in');
  log(`customer user follows the sign-in link: ${signIn.signInUrl}`);
  const visit = await followLink(signIn.signInUrl!, { username: 'dana@contoso.onmicrosoft.com' });
  log(`  ...ended on ${visit.url.split('?')[0]} (HTTP ${visit.status})`);

  return handle.result();
}
