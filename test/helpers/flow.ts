// Steps the tests share: start an onboarding, wait for a pause, play the admin or the user.
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { createCyclrClient } from '../../src/clients/cyclr';
import { followLink } from '../../src/demo/person';
import { waitUntil } from '../../src/demo/sample-onboarding';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../../src/shared/names';
import type { OnboardingInput } from '../../src/shared/validation';
import { consentGrantedSignal, statusQuery } from '../../src/shared/messages';
import type { Harness } from './harness';
import type { Customer } from './sim-control';

export async function startOnboarding(
  h: Harness,
  customer: Customer,
  extra: Partial<OnboardingInput> = {},
): Promise<WorkflowHandle> {
  return h.env.client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId: onboardingWorkflowId(customer.accountId),
    taskQueue: TASK_QUEUE,
    args: [
      {
        cyclrAccountId: customer.accountId,
        customerTenant: customer.tenantId,
        resourceUrl: customer.org,
        ...extra,
      },
    ],
  });
}

/** The customer's admin opens the consent link and accepts (or declines). */
export async function adminConsents(
  h: Harness,
  customer: Customer,
  decision: 'accept' | 'decline' = 'accept',
  username = customer.admin,
) {
  const status = await waitUntil(h.env.client, onboardingWorkflowId(customer.accountId), 'consent');
  assert.ok(status.consentUrl, 'a consent link is published while waiting for consent');
  return followLink(status.consentUrl, { username, decision });
}

/** The customer's user opens the sign-in link and signs in (once it is there, within `timeoutMs`). */
export async function userSignsIn(
  h: Harness,
  customer: Customer,
  username = customer.user,
  timeoutMs?: number,
) {
  const status = await waitUntil(
    h.env.client,
    onboardingWorkflowId(customer.accountId),
    'sign-in',
    timeoutMs,
  );
  assert.ok(status.signInUrl, 'a sign-in link is published while waiting for sign-in');
  return followLink(status.signInUrl, { username });
}

/**
 * Someone installed the Dynamics connector in the customer's Cyclr account by hand (the console),
 * without properties: the onboarding then finds it and writes the properties one by one.
 */
export async function connectorInstalledByHand(h: Harness, customer: Customer): Promise<number> {
  const cyclr = createCyclrClient(h.config);
  const connectorId = await cyclr.connectorId(h.config.DYNAMICS_CONNECTOR_NAME, customer.accountId);
  const installed = await cyclr.installConnector(customer.accountId, connectorId, {
    name: h.config.DYNAMICS_CONNECTOR_NAME,
    description: 'Installed in the Cyclr console',
  });
  return installed.Id;
}

/**
 * An onboarding of a tenant that has consented: started with consentAlreadyGranted, consent
 * granted in the simulators as soon as the shared app exists (and reported, should Microsoft have
 * been asked before it was there).
 */
export async function startConsented(
  h: Harness,
  customer: Customer,
  extra: Partial<OnboardingInput> = {},
): Promise<WorkflowHandle> {
  const handle = await startOnboarding(h, customer, { consentAlreadyGranted: true, ...extra });
  let status = await handle.query(statusQuery);
  for (const end = Date.now() + 60_000; !status.appId; status = await handle.query(statusQuery)) {
    if (Date.now() > end) throw new Error(`${handle.workflowId} got no app credentials in 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await h.sim.grantConsent(customer.tenantId, status.appId);
  for (const end = Date.now() + 60_000; ; status = await handle.query(statusQuery)) {
    if (status.waitingFor === 'consent') {
      await handle.signal(consentGrantedSignal, { by: 'test: consent granted in the portal' });
      return handle;
    }
    if (status.tenantCheck?.verdict && status.tenantCheck.verdict !== 'no-consent') return handle;
    if (Date.now() > end) throw new Error(`${handle.workflowId} never asked Microsoft about the tenant`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
