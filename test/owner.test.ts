// One owner of the shared app registration: fifty onboardings starting at once, with Graph failing
// under them (5xx at random, an addPassword applied but its answer dropped), make exactly one app,
// one service principal and one usable secret, and every onboarding gets the same app; once it
// exists, onboardings read its credentials by query without signalling the owner.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { appSpecFrom } from '../src/activities/app-owner';
import { SecretHolderReports, signalHolders } from '../src/activities/holder-reports';
import { appRegistrationStatusQuery, statusQuery } from '../src/shared/messages';
import { APP_REGISTRATION_WORKFLOW_TYPE, appRegistrationWorkflowId, TASK_QUEUE } from '../src/shared/names';
import { startOnboarding } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';

const N = 50;
let h: Harness;
before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

test(`${N} onboardings at once, Graph failing under them: one app, one service principal, one usable secret`, async () => {
  await h.sim.call('POST', '/faults', {
    match: { service: 'graph', method: 'POST', path: '/addPassword$' },
    action: { type: 'drop', when: 'after' },
  });
  await h.sim.call('POST', '/faults', {
    match: { service: 'graph' },
    times: -1,
    probability: 0.3,
    action: { type: 'status', status: 503, headers: { 'Retry-After': '1' } },
  });
  // Names whose first six characters differ: seedCustomer derives the tenant id from them.
  const customers = await Promise.all(
    Array.from({ length: N }, (_, i) => h.sim.seedCustomer(`o${String(i).padStart(5, '0')}`)),
  );
  const handles = await Promise.all(customers.map((c) => startOnboarding(h, c)));

  const appIds = new Set<string>();
  for (const handle of handles) {
    const end = Date.now() + 240_000;
    for (;;) {
      const s = await handle.query(statusQuery);
      if (s.waitingFor === 'consent') {
        appIds.add(s.appId!);
        break;
      }
      assert.ok(Date.now() < end, `${handle.workflowId} reached the consent wait (step ${s.step})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await h.sim.call('DELETE', '/faults');

  const state = await h.sim.state();
  assert.equal(appIds.size, 1, 'every onboarding got the same app');
  assert.equal(state.applications.length, 1, 'one app');
  assert.equal(state.counts.applicationsCreated, 1);
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(state.applications[0].passwordCredentials.length, 1, 'one usable secret');
  // The dropped addPassword made a secret whose value was lost: it was found by its marker and
  // removed before the replacement was added.
  assert.equal(state.counts.passwordsAdded - state.counts.passwordsRemoved, 1);
  const owner = await h.env.client.workflow
    .getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME))
    .query(appRegistrationStatusQuery);
  assert.equal(owner.secretKeyId, state.applications[0].passwordCredentials[0].keyId);
  assert.equal(owner.lastError, null);

  await Promise.all(handles.map((handle) => handle.terminate('test done')));
});

test('once the app exists, onboardings read its credentials by query: no request reaches the owner', async () => {
  const owner = h.env.client.workflow.getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
  const requestsSignalled = async () =>
    ((await owner.fetchHistory()).events ?? []).filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    ).length;
  const before = await requestsSignalled();
  const customers = await Promise.all(
    Array.from({ length: 5 }, (_, i) => h.sim.seedCustomer(`q${String(i).padStart(5, '0')}`)),
  );
  const handles = await Promise.all(customers.map((c) => startOnboarding(h, c)));
  const { appId } = await owner.query(appRegistrationStatusQuery);
  for (const handle of handles) {
    const end = Date.now() + 60_000;
    for (;;) {
      const s = await handle.query(statusQuery);
      if (s.waitingFor === 'consent') {
        assert.equal(s.appId, appId, 'the owner’s app');
        break;
      }
      assert.ok(Date.now() < end, `${handle.workflowId} reached the consent wait (step ${s.step})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  assert.equal(await requestsSignalled(), before, 'no requestAppCredentials update');
  await Promise.all(handles.map((handle) => handle.terminate('test done')));
});

test('holders reported under load ride together in few signals, and a long history continues as new keeping them all', async () => {
  // An owner of its own (no credentials, nothing requested) with a short history limit.
  const spec = { ...appSpecFrom(h.config), uniqueName: `bound-${Date.now()}` };
  const ownerId = appRegistrationWorkflowId(spec.uniqueName);
  const first = await h.env.client.workflow.start(APP_REGISTRATION_WORKFLOW_TYPE, {
    workflowId: ownerId,
    taskQueue: TASK_QUEUE,
    args: [{ spec, historyLimit: 40 }],
  });
  const reports = new SecretHolderReports(signalHolders(h.env.client));
  const holder = (i: number) => ({
    workflowId: `onboarding-b${i}`,
    accountId: `b${i}`,
    accountConnectorId: i,
    credentialKeyId: 'key-1',
  });
  // One at a time: a signal (and a workflow task) each, enough to pass the history limit.
  for (let i = 0; i < 30; i++) await reports.report(ownerId, holder(i));
  // A wave at once: the first is signalled at once, the rest ride in the next signal.
  await Promise.all(Array.from({ length: 200 }, (_, i) => reports.report(ownerId, holder(30 + i))));

  const owner = h.env.client.workflow.getHandle(ownerId);
  const end = Date.now() + 30_000;
  let status = await owner.query(appRegistrationStatusQuery);
  while (status.holders !== 230 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    status = await owner.query(appRegistrationStatusQuery);
  }
  assert.equal(status.holders, 230, 'every holder reached the owner, across continue-as-new');

  // Visibility is eventually consistent: the new run's record can lag the query that reached it.
  let runs: string[] = [];
  await until(
    'visibility to list the run the owner continued as',
    async () => {
      const ids: string[] = [];
      for await (const run of h.env.client.workflow.list({ query: `WorkflowId = '${ownerId}'` }))
        ids.push(run.runId);
      runs = ids;
      return runs.length >= 2;
    },
    30_000,
  );
  assert.ok(runs.length >= 2, `the owner continued as new (${runs.length} runs)`);
  for (const runId of runs) {
    const { events } = await h.env.client.workflow.getHandle(ownerId, runId).fetchHistory();
    assert.ok((events ?? []).length < 40 + 30, `run ${runId} stayed near its history limit`);
  }
  await h.env.client.workflow.getHandle(ownerId).terminate('test done');
  assert.notEqual((await owner.describe()).runId, first.firstExecutionRunId);
});
