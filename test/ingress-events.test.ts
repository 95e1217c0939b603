// Onboarding events over real HTTP: signatures good, bad, stale, replayed and duplicated; fields
// validated one by one; one onboarding per account whatever arrives twice.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { waitUntil } from '../src/demo/sample-onboarding';
import { createCyclrClient } from '../src/clients/cyclr';
import { loadConfig } from '../src/config';
import { createIngressApp } from '../src/ingress/server';
import { onboardingWorkflowId } from '../src/shared/names';
import { startHarness, type Harness } from './helpers/harness';
import { postEvent, signedEvent } from './helpers/events';

const SECRET = randomBytes(32).toString('hex');
let h: Harness;
before(async () => {
  h = await startHarness('dev-server', { EVENTS_HMAC_SECRET: SECRET });
});
after(async () => {
  await h?.close();
});

const eventFor = (c: { accountId: string; tenantId: string; org: string }, extra = {}) => ({
  cyclrAccountId: c.accountId,
  customerTenant: c.tenantId,
  resourceUrl: c.org,
  requester: 'crm-sync@partner.example',
  ...extra,
});

const runsOf = (workflowId: string) => h.env.client.workflow.count(`WorkflowId = '${workflowId}'`);

test('a signed event starts the onboarding once: duplicates and re-sends get the same workflow', async () => {
  const customer = await h.sim.seedCustomer();
  const now = Math.floor(Date.now() / 1000);
  const event = eventFor(customer, { eventId: 'evt-1' });

  const firstSend = await postEvent(h.ingressUrl, signedEvent(SECRET, event, now - 2));
  assert.equal(firstSend.status, 202, JSON.stringify(firstSend.body));
  assert.equal(firstSend.body.workflowId, onboardingWorkflowId(customer.accountId));

  // The sender retries the same event (signed again), and another event for the account arrives.
  const resent = await postEvent(h.ingressUrl, signedEvent(SECRET, event, now - 1));
  const other = await postEvent(
    h.ingressUrl,
    signedEvent(SECRET, eventFor(customer, { eventId: 'evt-2', requester: 'someone else' }), now),
  );
  for (const again of [resent, other]) {
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal(again.body.workflowId, firstSend.body.workflowId);
    assert.equal(again.body.runId, firstSend.body.runId, 'the same run, not a second onboarding');
  }
  await waitUntil(h.env.client, firstSend.body.workflowId!, 'consent');
  assert.equal((await runsOf(firstSend.body.workflowId!)).count, 1);
});

test('a replayed request (same signature) is refused; nothing new starts', async () => {
  const customer = await h.sim.seedCustomer();
  const request = signedEvent(SECRET, eventFor(customer));
  const accepted = await postEvent(h.ingressUrl, request);
  assert.equal(accepted.status, 202);
  const replayed = await postEvent(h.ingressUrl, request);
  assert.equal(replayed.status, 409);
  assert.match(replayed.body.error!, /^X-Onboarding-Signature: replayed/);
  assert.match(replayed.body.error!, /sign it again with a fresh X-Onboarding-Timestamp/);
  assert.equal((await runsOf(accepted.body.workflowId!)).count, 1);
});

test('bad, missing, stale and future signatures are refused with the header named', async () => {
  const customer = await h.sim.seedCustomer();
  const event = eventFor(customer);
  const now = Math.floor(Date.now() / 1000);
  const good = signedEvent(SECRET, event);

  const cases: [string, Parameters<typeof postEvent>[1], RegExp][] = [
    [
      'wrong secret',
      signedEvent('another-secret-of-at-least-32-characters', event),
      /X-Onboarding-Signature: signature does not match/,
    ],
    [
      'body altered after signing',
      { ...good, body: good.body.replace(customer.org, 'https://evil.crm.dynamics.com') },
      /signature does not match/,
    ],
    [
      'no signature',
      { ...good, headers: { ...good.headers, 'X-Onboarding-Signature': '' } },
      /X-Onboarding-Signature: required/,
    ],
    [
      'malformed signature',
      { ...good, headers: { ...good.headers, 'X-Onboarding-Signature': 'md5=abc' } },
      /expected sha256= followed by 64 hex digits/,
    ],
    [
      'no timestamp',
      { ...good, headers: { ...good.headers, 'X-Onboarding-Timestamp': '' } },
      /X-Onboarding-Timestamp: required/,
    ],
    [
      'timestamp in ms',
      { ...good, headers: { ...good.headers, 'X-Onboarding-Timestamp': `${Date.now()}1` } },
      /Unix time in whole seconds/,
    ],
    [
      'stale',
      signedEvent(SECRET, event, now - 600),
      /X-Onboarding-Timestamp: stale: signed \d+ s ago, more than the 300 s allowed/,
    ],
    ['from the future', signedEvent(SECRET, event, now + 600), /stale: signed \d+ s in the future/],
  ];
  for (const [name, request, expected] of cases) {
    const sent = await postEvent(h.ingressUrl, request);
    assert.equal(sent.status, 401, `${name}: ${JSON.stringify(sent.body)}`);
    assert.match(sent.body.error!, expected, name);
  }
  await assert.rejects(
    h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).describe(),
    WorkflowNotFoundError,
    'nothing was started',
  );
});

test('bad fields get a 400 naming each field and the expected form; nothing starts', async () => {
  const customer = await h.sim.seedCustomer();
  const bad = await postEvent(
    h.ingressUrl,
    signedEvent(SECRET, {
      cyclrAccountId: customer.accountId,
      customerTenant: 'common',
      resourceUrl: 'http://contoso.crm.dynamics.com/main.aspx',
      requester: 42,
    }),
  );
  assert.equal(bad.status, 400);
  assert.match(bad.body.error!, /customerTenant: expected the customer's own tenant/);
  assert.match(bad.body.error!, /resourceUrl: must use https; expected the customer's Dynamics org URL/);
  assert.match(bad.body.error!, /requester: /);
  const fields = (bad.body.issues as { field: string }[]).map((i) => i.field).sort();
  assert.deepEqual(fields, ['customerTenant', 'requester', 'resourceUrl']);

  const missing = await postEvent(h.ingressUrl, signedEvent(SECRET, { customerTenant: customer.tenantId }));
  assert.equal(missing.status, 400);
  assert.match(missing.body.error!, /cyclrAccountId: required: the Cyclr account API ID/);
  assert.match(missing.body.error!, /resourceUrl: required/);

  const notJson = await postEvent(h.ingressUrl, signedEvent(SECRET, '{"cyclrAccountId": '));
  assert.equal(notJson.status, 400);
  assert.match(notJson.body.error!, /^body: not valid JSON/);

  const form = signedEvent(SECRET, JSON.stringify(eventFor(customer)));
  const wrongType = await postEvent(h.ingressUrl, {
    ...form,
    headers: { ...form.headers, 'Content-Type': 'text/plain' },
  });
  assert.equal(wrongType.status, 415);
  assert.match(wrongType.body.error!, /Content-Type: expected application\/json/);

  await assert.rejects(
    h.env.client.workflow.getHandle(onboardingWorkflowId(customer.accountId)).describe(),
    WorkflowNotFoundError,
  );
});

test('an event for an account whose onboarding has ended never starts a second one', async () => {
  const customer = await h.sim.seedCustomer();
  const first = await postEvent(h.ingressUrl, signedEvent(SECRET, eventFor(customer)));
  assert.equal(first.status, 202);
  const handle = h.env.client.workflow.getHandle(first.body.workflowId!);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  await handle.cancel();
  await assert.rejects(handle.result(), WorkflowFailedError);

  // Signed a second later, so it is a new request, not a replay of the first.
  const later = await postEvent(
    h.ingressUrl,
    signedEvent(SECRET, eventFor(customer), Math.floor(Date.now() / 1000) + 1),
  );
  assert.equal(later.status, 202, JSON.stringify(later.body));
  assert.equal(later.body.runId, first.body.runId);
  assert.equal(later.body.ended, 'CANCELLED');
  assert.equal((await runsOf(handle.workflowId)).count, 1);
});

test('in production without EVENTS_HMAC_SECRET the endpoint is off and says how to turn it on', async () => {
  const config = loadConfig({}, { ...stringsOf(h.config), EVENTS_HMAC_SECRET: undefined });
  // Outside production a secret would be generated into DATA_DIR instead (src/ingress/events-secret.ts).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  let app: ReturnType<typeof createIngressApp>;
  try {
    app = createIngressApp({ config, keys: h.keys, client: h.env.client, cyclr: createCyclrClient(config) });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sent = await postEvent(url, signedEvent(SECRET, { cyclrAccountId: 'x' }));
    assert.equal(sent.status, 503);
    assert.match(sent.body.error!, /set EVENTS_HMAC_SECRET/);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});

function stringsOf(config: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
