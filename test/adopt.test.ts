// A partner who registered the app by hand (Cyclr's guide) names it with APP_ID: the owner adopts
// it instead of creating another, adds what the flow needs (redirect URIs, Dynamics CRM
// user_impersonation, multi-tenant) without removing anything, says what it changed, and an
// onboarding reaches verified with it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { GraphTokenProvider } from '../src/clients/identity';
import { appRegistrationStatusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { createWorker } from '../src/worker-setup';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, workflowBundle, type Harness } from './helpers/harness';

let h: Harness;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  worker?.shutdown();
  await running;
  await h?.close();
});

test('APP_ID: the app registered by hand is adopted, completed, and used; no second app', async () => {
  // Registered in the portal: single-tenant, its own redirect URI, Graph User.Read only.
  const tokens = new GraphTokenProvider({
    baseUrl: h.config.IDENTITY_BASE_URL,
    tenantId: h.config.PARTNER_TENANT_ID,
    clientId: h.config.GRAPH_CLIENT_ID,
    clientSecret: h.config.GRAPH_CLIENT_SECRET,
    timeoutMs: 5000,
  });
  const created = await fetch(`${h.config.GRAPH_BASE_URL}/v1.0/applications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await tokens.token()}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      displayName: 'Dynamics for Cyclr (registered by hand)',
      signInAudience: 'AzureADMyOrg',
      web: { redirectUris: ['https://partner.example/existing'] },
      requiredResourceAccess: [
        {
          resourceAppId: '00000003-0000-0000-c000-000000000000',
          resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
        },
      ],
    }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  const hand = (await created.json()) as { appId: string };

  await h.stopWorker();
  const config = { ...h.config, APP_ID: hand.appId };
  worker = await createWorker({
    connection: h.env.nativeConnection,
    namespace: h.env.namespace ?? 'default',
    client: h.env.client,
    config,
    keys: h.keys,
    workflowBundle: { code: (await workflowBundle()).code },
  });
  running = worker.run();

  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.equal(result.appId, hand.appId, 'the onboarding used the adopted app');

  const owner = await h.env.client.workflow
    .getHandle(appRegistrationWorkflowId(config.APP_UNIQUE_NAME))
    .query(appRegistrationStatusQuery);
  assert.equal(owner.appId, hand.appId);
  const changed = owner.adopted?.changed.join('; ') ?? '';
  assert.match(changed, /connector\/callback/);
  assert.match(changed, /callbacks\/consent/);
  assert.match(changed, /user_impersonation/);
  assert.match(changed, /multi-tenant/);

  const state = (await h.sim.state()) as unknown as {
    applications: { appId: string; redirectUris: string[]; signInAudience: string }[];
  };
  assert.equal(state.applications.length, 1, 'no second app was created');
  assert.ok(
    state.applications[0].redirectUris.includes('https://partner.example/existing'),
    'nothing removed',
  );
  assert.equal(state.applications[0].signInAudience, 'AzureADMultipleOrgs');
});
