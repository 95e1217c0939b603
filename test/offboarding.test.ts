// Offboarding with the ops CLI and the ops page: a verified customer's connector deauthenticated
// and deleted in Cyclr (a failed call retried), the app's owner no longer holding it, the record
// naming who; a second offboarding is already done; an onboarding still running is refused, or
// cancelled first when asked; and a later onboarding of the account starts afresh.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { waitUntil } from '../src/demo/sample-onboarding';
import { resolveEventsSecret } from '../src/ingress/events-secret';
import { appRegistrationStatusQuery } from '../src/shared/messages';
import {
  appRegistrationWorkflowId,
  OFFBOARDING_WORKFLOW_TYPE,
  offboardingWorkflowId,
  onboardingWorkflowId,
  TASK_QUEUE,
} from '../src/shared/names';
import type { OffboardingRecord } from '../src/shared/offboarding';
import type { OnboardingResult } from '../src/shared/status';
import { cli } from './helpers/cli';
import { postEvent, signedEvent } from './helpers/events';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { OpsClient } from './helpers/ops';
import type { Customer } from './helpers/sim-control';
import { until } from './helpers/until';

const OPS_TOKEN = randomBytes(24).toString('base64url');
let h: Harness;
before(async () => {
  h = await startHarness('dev-server', { OPS_TOKEN });
});
after(async () => {
  await h?.close();
});

const owner = () => h.env.client.workflow.getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
const holders = async () => (await owner().query(appRegistrationStatusQuery)).holders;
const connectorsOf = async (c: Customer) =>
  (await h.sim.state()).accountConnectors.filter((ac) => ac.accountId === c.accountId);
const requestsSince = async (index: number) =>
  h.sim.call<{ index: number; service: string; method: string; path: string; status: number }[]>(
    'GET',
    `/requests?since=${index}`,
  );
const lastRequestIndex = async () => {
  const all = await requestsSince(0);
  return all.length ? all[all.length - 1].index : 0;
};

async function verified(customer: Customer): Promise<OnboardingResult> {
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  return result;
}

test('a verified customer: connector deauthenticated and deleted (a 503 retried), owner forgets it, the record names who', async () => {
  const customer = await h.sim.seedCustomer();
  const result = await verified(customer);
  const connectorId = result.accountConnectorId!;
  const firstRun = (
    await h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).describe()
  ).runId;
  await until('the owner holds the connector', async () => (await holders()) >= 1);
  const before = await holders();
  const since = await lastRequestIndex();
  // Cyclr fails the delete once: retried like any Cyclr call.
  await h.sim.call('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'DELETE', path: '^/v1\\.0/account/connectors/\\d+$' },
    times: 1,
    action: { type: 'status', status: 503 },
  });

  const run = await cli(h, ['offboard', customer.accountId, '--by', 'Olga Ops']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^offboarded ${customer.accountId} by Olga Ops at \\d{4}-`, 'm'));
  assert.match(
    run.stdout,
    new RegExp(`Dynamics account connector ${connectorId} deauthenticated and deleted`),
  );
  assert.match(run.stdout, /onboarding +dynamics-onboarding-\S+ ended: verified$/m);
  assert.match(run.stdout, /its owner no longer replaces the secret in this account/);

  assert.deepEqual(await connectorsOf(customer), [], 'the connector is gone from Cyclr');
  const calls = (await requestsSince(since + 1)).filter((r) =>
    r.path.includes(`/account/connectors/${connectorId}`),
  );
  assert.ok(
    calls.some((r) => r.method === 'PUT' && r.path.endsWith('/deauthenticate') && r.status === 200),
    'deauthenticated first',
  );
  assert.deepEqual(
    calls.filter((r) => r.method === 'DELETE').map((r) => r.status),
    [503, 200],
    'the failed delete was retried',
  );
  await until('the owner no longer lists the connector', async () => (await holders()) === before - 1);

  const record: OffboardingRecord = await h.env.client.workflow
    .getHandle(offboardingWorkflowId(customer.accountId))
    .result();
  assert.equal(record.by, 'Olga Ops');
  assert.deepEqual(record.removedAccountConnectorIds, [connectorId]);
  assert.equal(record.cancelledOnboarding, false);
  assert.ok(Date.parse(record.at) >= Date.parse(record.startedAt));

  // Twice: already done, nothing new.
  const again = await cli(h, ['offboard', customer.accountId, '--by', 'Someone Else']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`^already offboarded: ${customer.accountId} by Olga Ops at `));
  assert.equal(
    (
      await h.env.client.workflow.count(
        `WorkflowType = '${OFFBOARDING_WORKFLOW_TYPE}' AND WorkflowId = '${offboardingWorkflowId(customer.accountId)}'`,
      )
    ).count,
    1,
  );
  const status = await cli(h, ['status', customer.accountId]);
  assert.match(status.stdout, /^ {2}offboarded +by Olga Ops at .*a new onboard starts afresh$/m);
  await until('list shows it offboarded', async () =>
    new RegExp(`${onboardingWorkflowId(customer.accountId)}\\s+offboarded`).test(
      (await cli(h, ['list'])).stdout,
    ),
  );

  // A later onboarding starts afresh (from the CLI here; from an event below).
  const fresh = await cli(h, [
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.domain,
    '--resource-url',
    customer.org,
  ]);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stdout, /^started dynamics-onboarding-\S+ \(afresh: the account was offboarded\)$/m);
  const latest = await h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).describe();
  assert.notEqual(latest.runId, firstRun, 'a new run');
  assert.equal(latest.status.name, 'RUNNING');
  const twice = await cli(h, [
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.domain,
    '--resource-url',
    customer.org,
  ]);
  assert.match(twice.stdout, /already onboarding: .*a second one is never started/);
  await h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).cancel();
});

test('one still onboarding: refused; with --cancel-running it is cancelled, then offboarded', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  const connectorId = waiting.accountConnectorId!;
  assert.ok(connectorId, 'the connector is installed before the sign-in');
  const firstRun = (await handle.describe()).runId;

  // The workflow refuses too (started directly, as with the official CLI).
  const direct = await h.env.client.workflow.start(OFFBOARDING_WORKFLOW_TYPE, {
    workflowId: offboardingWorkflowId(customer.accountId),
    taskQueue: TASK_QUEUE,
    args: [{ cyclrAccountId: customer.accountId, by: 'a script' }],
  });
  await assert.rejects(direct.result(), (err: Error) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'OnboardingRunning');
    assert.match(err.cause.message, /is running \(step exchanging-token\); nothing was changed/);
    return true;
  });

  const refused = await cli(h, ['offboard', customer.accountId, '--by', 'Olga Ops']);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(
      `^error: refused: the onboarding ${handle.workflowId} is running, step exchanging-token; nothing was changed\\. To cancel it and offboard: npm run client -- offboard ${customer.accountId} --by "Olga Ops" --cancel-running$`,
      'm',
    ),
  );
  assert.equal((await handle.describe()).status.name, 'RUNNING');
  assert.equal((await connectorsOf(customer)).length, 1, 'nothing was changed');
  const unknown = await cli(h, ['offboard', 'acct-never-onboarded', '--by', 'Olga Ops']);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /^error: no onboarding for acct-never-onboarded \(dynamics-onboarding-acct-never-onboarded\); nothing to offboard$/m,
  );

  const forced = await cli(h, [
    'offboard',
    customer.accountId,
    '--by',
    'Olga Ops',
    '--cancel-running',
    '--json',
  ]);
  assert.equal(forced.code, 0, forced.stderr);
  const record: OffboardingRecord = JSON.parse(forced.stdout);
  assert.equal(record.cancelledOnboarding, true);
  assert.equal(record.onboarding?.status, 'CANCELLED');
  assert.deepEqual(record.removedAccountConnectorIds, [connectorId]);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.deepEqual(await connectorsOf(customer), []);

  // An onboarding event for the account now starts a fresh onboarding.
  const secret = resolveEventsSecret(h.config)!.secret;
  const event = await postEvent(
    h.ingressUrl,
    signedEvent(secret, {
      cyclrAccountId: customer.accountId,
      customerTenant: customer.tenantId,
      resourceUrl: customer.org,
    }),
  );
  assert.equal(event.status, 202, JSON.stringify(event.body));
  assert.notEqual(event.body.runId, firstRun);
  assert.equal(event.body.ended, undefined);
  // The tenant consented during the first onboarding: the fresh one goes straight to the sign-in.
  await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  await h.env.client.workflow.getHandle(handle.workflowId).cancel();
});

test('the ops page: offboard with a confirmation, refused while running unless ticked, recorded as the signed-in person', async () => {
  const customer = await h.sim.seedCustomer();
  const handle: WorkflowHandle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const ops = new OpsClient(h.ingressUrl);
  await ops.login('Olga Ops', OPS_TOKEN);
  const detail = `/ops/onboardings/${customer.accountId}`;
  const page = await ops.request(detail);
  assert.match(page.body, /<form class="card" method="post" action="\/ops\/onboardings\/[^"]+\/offboard">/);
  assert.match(page.body, /name="cancelRunning" value="yes"/);
  const csrf = await ops.csrf(detail);

  const noCsrf = await ops.request(`${detail}/offboard`, { confirm: 'yes', cancelRunning: 'yes' });
  assert.equal(noCsrf.status, 403);
  const refused = await ops.request(`${detail}/offboard`, { csrf, confirm: 'yes' });
  assert.equal(refused.status, 409);
  assert.match(refused.body, /Refused: the onboarding is running; nothing was changed/);
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  const asked = await ops.request(`${detail}/offboard`, { csrf, cancelRunning: 'yes' });
  assert.equal(asked.status, 200);
  assert.match(
    asked.body,
    /Offboard [^:]+: cancel its running onboarding first, then deauthenticate and delete/,
  );
  assert.match(asked.body, /name="confirm" value="yes"/);
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'nothing done before confirming');

  const done = await ops.request(`${detail}/offboard`, { csrf, cancelRunning: 'yes', confirm: 'yes' });
  assert.equal(done.status, 303);
  assert.match(done.location!, /\?sent=offboard(ed|ing)$/);
  const record: OffboardingRecord = await h.env.client.workflow
    .getHandle(offboardingWorkflowId(customer.accountId))
    .result();
  assert.equal(record.by, 'Olga Ops (ops page)');
  assert.equal(record.cancelledOnboarding, true);
  const after = await ops.request(detail);
  assert.match(after.body, /<h2>Offboarded<\/h2>/);
  assert.match(after.body, /<dt>By<\/dt><dd>Olga Ops \(ops page\)<\/dd>/);
  assert.doesNotMatch(after.body, /\/offboard">/, 'no second offboard form');
  const list = await ops.request('/ops');
  assert.match(list.body, new RegExp(`${customer.accountId}</a></td>\\n<td>offboarded</td>`));
});
