// Every failure the real services produce, switched on in the simulators one at a time (and some
// together): each onboarding ends verified, or waits for a person with the right remediation, and
// the simulators count no duplicate app, secret, connector or property write. Retry-After is read
// back from the simulators' request log.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { isCancellation } from '@temporalio/workflow';
import { followLink } from '../src/demo/person';
import { waitUntil } from '../src/demo/sample-onboarding';
import { appRegistrationStatusQuery, statusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId } from '../src/shared/names';
import type { OnboardingResult, OnboardingStatus } from '../src/shared/status';
import {
  adminConsents,
  connectorInstalledByHand,
  startConsented,
  startOnboarding,
  userSignsIn,
} from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook';

interface Logged {
  index: number;
  at: string;
  service: string;
  method: string;
  path: string;
  status: number;
}

let h: Harness;
let hooks: WebhookReceiver;
before(async () => {
  hooks = await startWebhookReceiver();
  h = await startHarness('dev-server', {
    NOTIFY_WEBHOOK_URL: hooks.url,
    // The expired-token test reopens the sign-in link at once after the simulated clock jumped six
    // minutes; the ingress's reuse window runs on the real clock, so it is off here.
    SIGNIN_TOKEN_REUSE_SECONDS: '0',
  });
});
after(async () => {
  await h?.close();
  await hooks?.close();
});

const requests = (since = 0) => h.sim.call<Logged[]>('GET', `/requests?since=${since}`);
const cursor = async () => ((await requests()).at(-1)?.index ?? -1) + 1;
const fault = (spec: unknown) => h.sim.call('POST', '/faults', spec);

async function eventually<T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + 60_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Milliseconds between a 429 and the next request of the same kind (the retry). */
function waitAfter429(log: Logged[], match: (e: Logged) => boolean): number {
  const throttled = log.findIndex((e) => match(e) && e.status === 429);
  assert.ok(throttled >= 0, 'the throttled request is in the log');
  const retry = log.slice(throttled + 1).find(match);
  assert.ok(retry, 'the request was retried');
  return Date.parse(retry.at) - Date.parse(log[throttled].at);
}

async function onboardToVerified(customer: Customer, extra = {}): Promise<OnboardingResult> {
  const handle = await startOnboarding(h, customer, extra);
  await adminConsents(h, customer);
  const signIn = await userSignsIn(h, customer);
  assert.match(signIn.body, /Connected/, signIn.body);
  return handle.result();
}

function writesOf(state: Awaited<ReturnType<Harness['sim']['state']>>, accountConnectorId: number | null) {
  return state.propertyWrites
    .filter((w) => w.accountConnectorId === accountConnectorId)
    .map((w) => `${w.method} ${w.name}`);
}

// First: the shared app does not exist yet, so this onboarding makes the owner register it.
test('Entra replication delay, identity and Graph 429 with Retry-After: retried as told, one app, one SP, one secret', async () => {
  await h.sim.call('PUT', '/settings', { replicationDelayMs: 4000 });
  await fault({
    match: { service: 'identity', method: 'POST', path: '/oauth2/v2\\.0/token$' },
    action: { type: 'throttle', retryAfterSeconds: 2 },
  });
  await fault({
    match: { service: 'graph', method: 'PATCH', path: '^/v1\\.0/applications' },
    action: { type: 'throttle', retryAfterSeconds: 3 },
  });
  const from = await cursor();
  const customer = await h.sim.seedCustomer();
  const result = await onboardToVerified(customer);
  await h.sim.call('PUT', '/settings', { replicationDelayMs: 0 });
  assert.equal(result.outcome, 'verified');

  const log = await requests(from);
  const tokenWait = waitAfter429(
    log,
    (e) => e.service === 'identity' && e.path.endsWith('/oauth2/v2.0/token'),
  );
  const patchWait = waitAfter429(log, (e) => e.service === 'graph' && e.method === 'PATCH');
  assert.ok(tokenWait >= 1950, `identity Retry-After 2 s honoured (waited ${tokenWait} ms)`);
  assert.ok(patchWait >= 2950, `Graph Retry-After 3 s honoured (waited ${patchWait} ms)`);
  const spAttempts = log.filter((e) => e.service === 'graph' && e.path === '/v1.0/servicePrincipals');
  assert.ok(
    spAttempts.some((e) => e.status === 400) && spAttempts.at(-1)?.status === 201,
    'the service principal waited out NoBackingApplicationObject',
  );
  const graphCalls = log.filter((e) => e.service === 'graph').length;
  assert.ok(graphCalls <= 15, `Graph calls bounded (${graphCalls})`);

  const state = await h.sim.state();
  assert.equal(state.applications.length, 1, 'one app');
  assert.equal(state.counts.servicePrincipalsCreated, 1, 'one service principal');
  assert.equal(state.applications[0].passwordCredentials.length, 1, 'one secret');
  assert.equal(state.counts.passwordsAdded, 1);
});

test('Cyclr 429, 5xx, an answer slower than the timeout and dropped connections: verified, nothing written twice', async () => {
  // Two accounts: one new (the install carries the properties), one whose connector someone
  // installed by hand (the properties are written one by one).
  const fresh = await h.sim.seedCustomer();
  const byHand = await h.sim.seedCustomer();
  await connectorInstalledByHand(h, byHand);
  await fault({
    match: { service: 'cyclr-api', method: 'GET', path: '^/v1\\.0/account/connectors$' },
    action: { type: 'throttle', retryAfterSeconds: 2 },
  });
  // The install: refused once (503), then applied with its answer dropped.
  await fault({
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    action: { type: 'status', status: 503 },
  });
  await fault({
    match: { service: 'cyclr-api', method: 'POST', path: '/install$' },
    action: { type: 'drop', when: 'after' },
  });
  // Resource: applied, answer held past HTTP_TIMEOUT_MS; ClientId and ClientSecret: applied, dropped.
  await fault({
    match: { service: 'cyclr-api', method: 'POST', path: '/properties$' },
    action: { type: 'delay', ms: 7000, when: 'after' },
  });
  await fault({
    match: { service: 'cyclr-api', method: 'POST', path: '/properties$' },
    times: 2,
    action: { type: 'drop', when: 'after' },
  });
  const from = await cursor();
  const freshResult = await onboardToVerified(fresh);
  const byHandResult = await onboardToVerified(byHand);
  assert.equal(freshResult.outcome, 'verified');
  assert.equal(byHandResult.outcome, 'verified');

  const log = await requests(from);
  const wait = waitAfter429(
    log,
    (e) => e.service === 'cyclr-api' && e.method === 'GET' && e.path === '/v1.0/account/connectors',
  );
  assert.ok(wait >= 1950, `Cyclr Retry-After 2 s honoured (waited ${wait} ms)`);
  for (const path of ['/install', '/properties']) {
    assert.ok(
      log.some((e) => e.path.endsWith(path) && e.status === 0),
      `connections were dropped on ${path}`,
    );
  }

  const state = await h.sim.state();
  for (const customer of [fresh, byHand]) {
    assert.equal(state.accountConnectors.filter((c) => c.accountId === customer.accountId).length, 1);
  }
  assert.deepEqual(
    writesOf(state, freshResult.accountConnectorId),
    ['INSTALL Resource', 'INSTALL ClientId', 'INSTALL ClientSecret'],
    'the new account: the properties written once, by the install',
  );
  assert.deepEqual(
    writesOf(state, byHandResult.accountConnectorId).sort(),
    ['POST ClientId', 'POST ClientSecret', 'POST Resource'],
    'the account installed by hand: each property written exactly once',
  );
  const cyclrCalls = log.filter((e) => e.service === 'cyclr-api').length;
  assert.ok(cyclrCalls <= 40, `Cyclr calls bounded (${cyclrCalls} for two onboardings)`);
});

test('consent still propagating in Entra: the sign-in is offered once Microsoft confirms it, verified with one', async () => {
  await h.sim.call('PUT', '/settings', { consentPropagationMs: 8000 });
  try {
    const customer = await h.sim.seedCustomer();
    const handle = await startOnboarding(h, customer);
    await adminConsents(h, customer);
    await waitUntil(h.env.client, handle.workflowId, 'sign-in');
    const status = await handle.query(statusQuery);
    assert.equal(status.signInAttempt, 1);
    const checks = status.timeline.filter((t) => t.event === 'tenant checked');
    assert.match(checks.at(-1)!.detail!, /^consented/, 'Microsoft confirmed the consent first');
    await userSignsIn(h, customer);
    const result: OnboardingResult = await handle.result();
    assert.equal(result.outcome, 'verified');
    const consentWaits = result.timeline.filter(
      (t) => t.event === 'entered' && t.step === 'waiting-for-consent',
    );
    assert.equal(consentWaits.length, 1, 'not sent back to the consent wait');
    assert.ok(
      result.timeline.some((t) => t.event === 'consent granted' && /confirmed by Microsoft/.test(t.detail!)),
    );
  } finally {
    await h.sim.call('PUT', '/settings', { consentPropagationMs: 0 });
  }
});

test('declined consent (65004) and a wrong-tenant admin (50020): handed back with the reason, notified, still waiting', async () => {
  const customer = await h.sim.seedCustomer();
  const stranger = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);

  const declined = await adminConsents(h, customer, 'decline');
  assert.match(declined.body, /declined consent/, 'the admin is told what it means');
  let status: OnboardingStatus = await eventually('65004 recorded', async () => {
    const s = await handle.query(statusQuery);
    return s.lastError?.code === 65004 ? s : undefined;
  });
  assert.equal(status.waitingFor, 'consent', 'still waiting for consent');
  assert.equal(status.lastError?.class, 'needs-person');
  assert.match(status.lastError!.remediation, /declined/);
  assert.ok(status.lastError!.remediation.includes(status.consentUrl!), 'the remediation carries the link');

  const wrongTenant = await adminConsents(h, customer, 'accept', stranger.admin);
  assert.match(wrongTenant.body, /AADSTS50020/);
  status = await eventually('50020 recorded', async () => {
    const s = await handle.query(statusQuery);
    return s.lastError?.code === 50020 ? s : undefined;
  });
  assert.equal(status.waitingFor, 'consent');
  assert.match(status.lastError!.remediation, new RegExp(customer.tenantId));

  const told = await eventually('both problems notified', async () => {
    const problems = hooks.of(handle.workflowId).filter((n) => n.kind === 'problem');
    return problems.length >= 2 ? problems : undefined;
  });
  assert.deepEqual(
    told.map((n) => n.lastError?.code),
    [65004, 50020],
  );
  for (const n of told) {
    assert.equal(n.links.consentUrl, status.consentUrl, 'the notification carries the consent link');
    assert.ok(n.lastError?.remediation);
  }
  assert.equal(hooks.of(handle.workflowId)[0].kind, 'action-needed', 'the wait itself was notified first');

  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

async function secretRejected(action: 'expire' | 'delete', code: number): Promise<void> {
  const holder = await h.sim.seedCustomer();
  const held = await onboardToVerified(holder);
  const before = await h.sim.state();
  const app = before.applications[0];
  const oldKeyId = app.passwordCredentials[0].keyId;
  await h.sim.call('POST', `/applications/${app.appId}/secrets/${oldKeyId}/${action}`);

  // Microsoft refuses the secret when the product asks about the tenant: replaced before anyone signs in.
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const signIn = await userSignsIn(h, customer);
  assert.match(signIn.body, /Connected/, signIn.body);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.ok(result.timeline.some((t) => t.event === 'client secret replaced'));
  assert.ok(result.timeline.some((t) => t.event === 'tenant checked' && t.detail?.includes(`AADSTS${code}`)));
  assert.equal((await handle.query(statusQuery)).signInAttempt, 1, 'no sign-in was wasted');

  const state = await h.sim.state();
  const secrets = state.applications[0].passwordCredentials;
  assert.equal(secrets.length, 1, 'one usable secret: the old one was removed');
  assert.notEqual(secrets[0].keyId, oldKeyId);
  assert.equal(state.counts.passwordsAdded, before.counts.passwordsAdded + 1, 'one new secret');
  assert.deepEqual(
    writesOf(state, result.accountConnectorId),
    ['INSTALL Resource', 'INSTALL ClientId', 'INSTALL ClientSecret'],
    'the new account got the new secret in its install; nothing written twice',
  );
  assert.deepEqual(
    writesOf(state, held.accountConnectorId).slice(-1),
    ['PUT ClientSecret'],
    'the account verified earlier got the new secret too',
  );
  const owner = await h.env.client.workflow
    .getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME))
    .query(appRegistrationStatusQuery);
  assert.equal(owner.secretKeyId, secrets[0].keyId);
  assert.match(owner.rotations!.at(-1)!.reason, new RegExp(`AADSTS${code}`));
}

test('expired client secret (AADSTS7000222): found before the sign-in, replaced without a person, Cyclr told, the old one removed', async () => {
  await secretRejected('expire', 7000222);
});

test('invalid client secret (AADSTS7000215, deleted in the portal): replaced without a person', async () => {
  await secretRejected('delete', 7000215);
});

test('an authorization code redeemed twice (54005): a fresh sign-in, verified', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await fault({
    match: { service: 'identity', method: 'POST', path: '/oauth2/token$' },
    action: {
      type: 'status',
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description:
          'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.\r\nTrace ID: 0000aaaa-11bb-cccc-dd33-eeeeee333333',
        error_codes: [70002, 54005],
      },
    },
  });
  const first = await userSignsIn(h, customer);
  assert.match(first.body, /AADSTS54005/);
  const retry = await eventually('a new sign-in attempt', async () => {
    const s = await handle.query(statusQuery);
    return s.waitingFor === 'sign-in' && s.signInAttempt === 2 ? s : undefined;
  });
  assert.equal(retry.lastError?.code, 54005);
  assert.equal(retry.lastError?.class, 'needs-person');
  await userSignsIn(h, customer);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test('an AADSTS code the catalog does not know: shown verbatim, handed to a person, a new sign-in offered', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const text = 'AADSTS4242424: Something Microsoft added last week.';
  await fault({
    match: { service: 'identity', method: 'POST', path: '/oauth2/token$' },
    action: {
      type: 'status',
      status: 400,
      body: { error: 'invalid_request', error_description: `${text}\r\nTrace ID: x` },
    },
  });
  await userSignsIn(h, customer);
  const retry = await eventually('a new sign-in attempt', async () => {
    const s = await handle.query(statusQuery);
    return s.waitingFor === 'sign-in' && s.signInAttempt === 2 ? s : undefined;
  });
  assert.equal(retry.lastError?.code, 4242424);
  assert.equal(retry.lastError?.name, 'Unknown');
  assert.equal(
    retry.lastError?.class,
    'needs-person',
    'never retried blindly, never a configuration failure',
  );
  assert.equal(retry.lastError?.message, text, 'verbatim, without the trace trailer');
  assert.match(retry.lastError!.remediation, /login\.microsoftonline\.com\/error\?code=4242424/);
  await userSignsIn(h, customer);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test("Cyclr's single-use sign-in token expires after 5 minutes: the same sign-in link mints a new one", async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const status = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  const before = (await h.sim.state()).counts.signInTokensIssued;
  // The user opens the link, then leaves the Cyclr page for six minutes.
  const opened = await fetch(status.signInUrl!, { redirect: 'manual' });
  const cyclrPage = opened.headers.get('location')!;
  await h.sim.call('POST', '/clock', { advanceMs: 6 * 60_000 });
  const stale = await followLink(cyclrPage, { username: customer.user });
  assert.equal(stale.status, 400);
  assert.match(stale.body, /invalid or has expired/);
  const again = await userSignsIn(h, customer);
  assert.match(again.body, /Connected/);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
  assert.equal((await h.sim.state()).counts.signInTokensIssued, before + 2, 'a new token when reopened');
});

test('cancelled while a Cyclr call hangs, or while waiting for the sign-in: stops cleanly, records what was done', async () => {
  const inFlight = await h.sim.seedCustomer();
  await fault({
    match: { service: 'cyclr-api', method: 'POST', path: '^/v1\\.0/connectors/\\d+/install$' },
    times: -1,
    action: { type: 'delay', ms: 20_000, when: 'before' },
  });
  const first = await startConsented(h, inFlight);
  await eventually(
    'setting the Resource',
    async () => (await first.query(statusQuery)).step === 'setting-resource',
  );
  await first.cancel();
  await h.sim.call('DELETE', '/faults');

  const waiting = await h.sim.seedCustomer();
  const second = await startOnboarding(h, waiting);
  await adminConsents(h, waiting);
  await waitUntil(h.env.client, second.workflowId, 'sign-in');
  await second.cancel();

  for (const [handle, during, done] of [
    [first, 'setting-resource', /nothing written to Cyclr/],
    [second, 'exchanging-token', /account connector \d+ with Resource, ClientId, ClientSecret written/],
  ] as const) {
    await assert.rejects(
      handle.result(),
      (err: Error) => err instanceof WorkflowFailedError && isCancellation(err.cause),
    );
    const s = await handle.query(statusQuery);
    assert.equal(s.step, 'cancelled');
    const record = s.timeline.at(-1)!;
    assert.match(record.detail ?? '', new RegExp(`cancelled while ${during}`));
    assert.match(record.detail ?? '', done);
    assert.deepEqual((await handle.describe()).searchAttributes.OnboardingStep, ['cancelled']);
  }
});
