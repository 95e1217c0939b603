// The onboarding workflow's branches on the Java time-skipping test server, with its activities
// stubbed by a small in-memory world (Cyclr's Authenticated flag, Microsoft's answer about the
// tenant): each branch ends verified, expired, failed or in the pause that fits.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { temporalTestServerPath } from '../../src/embedded/binaries';
import type { Notification } from '../../src/notifications/notification';
import type { AppCredentials } from '../../src/shared/app-credentials';
import {
  consentFailedSignal,
  consentGrantedSignal,
  resourceCorrectedSignal,
  signInCompletedSignal,
  signInErrorReportedSignal,
  signInReturnedSignal,
  statusQuery,
} from '../../src/shared/messages';
import { ONBOARDING_WORKFLOW_TYPE } from '../../src/shared/names';
import type { OnboardingResult, OnboardingStatus, TenantCheck } from '../../src/shared/status';
import type { WaitingFor } from '../../src/shared/steps';
import { onboardingStepKey } from '../../src/workflows/onboarding-state';
import { workflowBundle } from '../helpers/harness';

const TASK_QUEUE = 'onboarding-unit';
const ORG = 'https://contoso.crm4.dynamics.com';
const TENANT = 'contoso.onmicrosoft.com';

/** What the stubbed activities answer and what they were asked. */
class World {
  consented = false;
  orgs = [ORG];
  tenantExists = true;
  authenticated = false;
  resource: string | null = null;
  secretKey = 1;
  calls: string[] = [];
  notifications: Notification[] = [];
  rejected: string[] = [];

  credentials(): AppCredentials {
    return {
      appId: 'app-1',
      objectId: 'obj-1',
      servicePrincipalId: 'sp-1',
      secret: {
        keyId: 'k',
        sealed: 'sealed',
        credentialKeyId: `secret-${this.secretKey}`,
        expiresAt: '2099-01-01T00:00:00Z',
      },
    };
  }

  check(resourceUrl: string): TenantCheck {
    const at = new Date().toISOString();
    if (!this.tenantExists)
      return { at, verdict: 'no-tenant', code: 90002, message: "AADSTS90002: Tenant 'x' not found." };
    if (!this.consented)
      return {
        at,
        verdict: 'no-consent',
        code: 7000229,
        message: 'AADSTS7000229: missing service principal.',
      };
    if (!this.orgs.includes(resourceUrl))
      return {
        at,
        verdict: 'wrong-resource',
        code: 500011,
        message: 'AADSTS500011: The resource principal was not found.',
      };
    return { at, verdict: 'consented', code: null, message: 'ok' };
  }

  activities(): Partial<Activities> {
    const called = <T>(name: string, value: T) => {
      this.calls.push(name);
      return value;
    };
    return {
      checkCyclrAccount: async () => called('checkCyclrAccount', undefined),
      appCredentials: async (input) => {
        if (input.rejected) {
          this.rejected.push(input.rejected.keyId);
          this.secretKey++;
        }
        return called('appCredentials', {
          ok: true as const,
          credentials: this.credentials(),
          owner: 'owner',
        });
      },
      checkTenant: async (input) => called('checkTenant', this.check(input.resourceUrl)),
      setUpAccountConnector: async (input) => {
        this.resource = input.resourceUrl;
        return called('setUpAccountConnector', {
          accountConnectorId: 7,
          installed: true,
          written: ['Resource'],
        });
      },
      readAccountConnector: async () =>
        called('readAccountConnector', {
          authenticated: this.authenticated,
          resource: this.resource,
          clientId: 'app-1',
        }),
      consentLink: async () => called('consentLink', 'https://login.example/contoso/adminconsent?state=s'),
      signInLink: async (input) =>
        called('signInLink', `https://onboarding.example/signin?attempt=${input.attempt}`),
      notify: async (n) => {
        this.notifications.push(n);
        return called('notify', { delivered: true });
      },
    };
  }
}

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let world = new World();
let seq = 0;

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: {
      [onboardingStepKey.name]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    },
  });
  // Each call goes to the current world, so each test starts from a fresh one.
  const activities = Object.fromEntries(
    Object.keys(world.activities()).map((name) => [
      name,
      (...args: unknown[]) =>
        (world.activities() as Record<string, (...a: unknown[]) => unknown>)[name](...args),
    ]),
  );
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: { code: (await workflowBundle()).code },
    activities,
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

beforeEach(() => {
  world = new World();
});

function start(
  extra: Record<string, unknown> = {},
  options?: Record<string, unknown>,
): Promise<WorkflowHandle> {
  return env.client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
    workflowId: `unit-${++seq}`,
    taskQueue: TASK_QUEUE,
    args: [
      { cyclrAccountId: `acct-${seq}`, customerTenant: TENANT, resourceUrl: ORG, ...extra },
      ...(options ? [options] : []),
    ],
  });
}

/** Queries until `ok` holds (a query does not move the test server's clock). */
async function until(
  handle: WorkflowHandle,
  ok: (s: OnboardingStatus) => boolean,
  what: string,
): Promise<OnboardingStatus> {
  for (let i = 0; i < 300; i++) {
    const status = await handle.query(statusQuery);
    if (ok(status)) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never ${what}: ${JSON.stringify(await handle.query(statusQuery))}`);
}
const waitingFor = (handle: WorkflowHandle, what: WaitingFor, attempt?: number) =>
  until(
    handle,
    (s) => s.waitingFor === what && (attempt === undefined || s.signInAttempt === attempt),
    `waiting for ${what}${attempt ? ` (attempt ${attempt})` : ''}`,
  );

async function userComesBack(handle: WorkflowHandle, attempt: number, authenticated: boolean) {
  world.authenticated = authenticated;
  await handle.signal(signInReturnedSignal, { attempt });
}

test('happy path: consent reported and confirmed, the user comes back, verified', async () => {
  const handle = await start();
  const consent = await waitingFor(handle, 'consent');
  assert.ok(consent.consentUrl);
  assert.ok(!world.calls.includes('signInLink'), 'no sign-in link before consent');
  world.consented = true;
  await handle.signal(consentGrantedSignal, { by: 'ops@partner.example' });
  await waitingFor(handle, 'sign-in', 1);
  await userComesBack(handle, 1, true);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  const order = world.calls.filter((c) => ['checkTenant', 'setUpAccountConnector', 'signInLink'].includes(c));
  assert.deepEqual(order.slice(-3), ['checkTenant', 'setUpAccountConnector', 'signInLink']);
});

test('consent granted in the portal and told to nobody: found by asking Microsoft', async () => {
  const handle = await start();
  await waitingFor(handle, 'consent');
  world.consented = true;
  await env.sleep('3 minutes');
  await waitingFor(handle, 'sign-in', 1);
  const status = await handle.query(statusQuery);
  assert.ok(
    status.timeline.some((t) => t.event === 'consent granted' && /found by asking Microsoft/.test(t.detail!)),
    JSON.stringify(status.timeline),
  );
  await handle.cancel();
});

test('a consent Microsoft does not confirm, counted anyway with force: the sign-in link comes', async () => {
  const handle = await start();
  await waitingFor(handle, 'consent');
  await handle.signal(consentGrantedSignal, { by: 'ops@partner.example', force: true });
  const status = await waitingFor(handle, 'sign-in', 1);
  assert.ok(
    status.timeline.some((t) => t.event === 'consent granted' && /counted without checking/.test(t.detail!)),
  );
  await handle.cancel();
});

test('consent claimed in the input but missing: no sign-in link, the consent wait instead', async () => {
  const handle = await start({ consentAlreadyGranted: true });
  const status = await waitingFor(handle, 'consent');
  assert.equal(status.signInAttempt, 0);
  assert.equal(status.tenantCheck?.verdict, 'no-consent');
  assert.match(status.waitingReason!, /no consent/);
  await handle.cancel();
});

test('users may consent at the sign-in: the link comes at once; one who cannot leads to the consent wait', async () => {
  const handle = await start({ consentAtSignIn: true });
  await waitingFor(handle, 'sign-in', 1);
  await userComesBack(handle, 1, false); // blocked: "Need admin approval"
  const status = await waitingFor(handle, 'consent');
  assert.equal(status.lastError?.code, 7000229);
  assert.match(status.lastError!.remediation, /admin consent/i);
  world.consented = true;
  await handle.signal(consentGrantedSignal, { by: 'ops' });
  await waitingFor(handle, 'sign-in', 2);
  await userComesBack(handle, 2, true);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test('a wrong Resource URL: the resource-fix wait before any sign-in, then verified with the right one', async () => {
  world.consented = true;
  const handle = await start({ consentAlreadyGranted: true, resourceUrl: 'https://wrong.crm.dynamics.com' });
  const paused = await waitingFor(handle, 'resource-fix');
  assert.equal(paused.lastError?.code, 500011);
  assert.equal(world.calls.includes('setUpAccountConnector'), false, 'nothing written to Cyclr');
  await handle.signal(resourceCorrectedSignal, { resourceUrl: ORG, by: 'ops' });
  await waitingFor(handle, 'sign-in', 1);
  assert.equal(world.resource, ORG);
  await userComesBack(handle, 1, true);
  assert.equal(((await handle.result()) as OnboardingResult).resourceUrl, ORG);
});

test('the user comes back unauthenticated with nothing said: a new attempt that asks what they saw; their error decides', async () => {
  world.consented = true;
  const handle = await start({ consentAlreadyGranted: true });
  await waitingFor(handle, 'sign-in', 1);
  await userComesBack(handle, 1, false);
  const second = await waitingFor(handle, 'sign-in', 2);
  assert.equal(second.lastError?.name, 'SignInNotCompleted');
  assert.match(second.waitingReason!, /paste the error/);
  await handle.signal(signInErrorReportedSignal, {
    text: 'AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.',
    by: 'the customer user',
  });
  const third = await waitingFor(handle, 'sign-in', 3);
  assert.equal(third.lastError?.code, 50076);
  await userComesBack(handle, 3, true);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test("Cyclr's hint of 65001 right after consent: Entra's propagation, a new sign-in without a person", async () => {
  const handle = await start();
  await waitingFor(handle, 'consent');
  world.consented = true;
  await handle.signal(consentGrantedSignal, { by: 'customer admin (consent callback)' });
  await waitingFor(handle, 'sign-in', 1);
  world.authenticated = false;
  await handle.signal(signInReturnedSignal, {
    attempt: 1,
    success: false,
    error: 'invalid_grant',
    errorDescription: 'AADSTS65001: The user or administrator has not consented to use the application.',
  });
  const retry = await waitingFor(handle, 'sign-in', 2);
  assert.equal(retry.lastError?.class, 'transient');
  assert.match(retry.lastError!.remediation, /propagating/);
  await userComesBack(handle, 2, true);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test('an expired client secret reported at the sign-in: the owner replaces it, then a new sign-in', async () => {
  world.consented = true;
  const handle = await start({ consentAlreadyGranted: true });
  await waitingFor(handle, 'sign-in', 1);
  await handle.signal(signInCompletedSignal, {
    ok: false,
    error: 'invalid_client',
    errorDescription: "AADSTS7000222: The provided client secret keys for app 'app-1' are expired.",
  });
  await waitingFor(handle, 'sign-in', 2);
  assert.deepEqual(world.rejected, ['secret-1']);
  await userComesBack(handle, 2, true);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test('a tenant that does not exist: fails at once with what to fix', async () => {
  world.tenantExists = false;
  const handle = await start({ consentAlreadyGranted: true });
  await assert.rejects(handle.result(), (err: Error) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), /AADSTS90002/);
    return true;
  });
  assert.equal((await handle.query(statusQuery)).step, 'failed');
});

test('no consent before the deadline: reminders each interval, then expired', async () => {
  const handle = await start({ deadlines: { consent: '3 days' }, reminderInterval: '1 day' });
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'expired');
  assert.equal(result.expiredWhile, 'consent');
  const kinds = world.notifications.filter((n) => n.workflowId === handle.workflowId).map((n) => n.kind);
  assert.deepEqual(kinds, ['action-needed', 'reminder', 'reminder', 'expired']);
});

test('the same consent error a thousand times: recorded and notified once, then counted', async () => {
  const handle = await start();
  await waitingFor(handle, 'consent');
  const declined = {
    error: 'access_denied',
    errorDescription: 'AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x',
  };
  for (let i = 0; i < 1000; i += 100)
    await Promise.all(Array.from({ length: 100 }, () => handle.signal(consentFailedSignal, declined)));
  const status = await until(
    handle,
    (s) => (s.timeline.find((t) => t.event === 'the same problem again')?.repeats ?? 0) >= 999,
    'counted every repeat',
  );
  assert.equal(world.notifications.filter((n) => n.kind === 'problem').length, 1);
  assert.equal(status.lastError?.code, 65004);
  assert.ok(status.timeline.length < 20, `${status.timeline.length} timeline entries`);
  await handle.cancel();
});

test('a long history continues as new mid-wait and the onboarding goes on where it was', async () => {
  const handle = await start({}, { historyLimit: 40 });
  await waitingFor(handle, 'consent');
  for (let i = 0; i < 30; i++)
    await handle.signal(consentFailedSignal, {
      error: 'access_denied',
      errorDescription: `AADSTS65004: no ${i}`,
    });
  // The time-skipping server moves the continued run on only when time moves (it is locked
  // between awaits of a result): let a second pass, as it would.
  await env.sleep('1 second');
  world.consented = true;
  await handle.signal(consentGrantedSignal, { by: 'ops' });
  await waitingFor(handle, 'sign-in', 1);
  await userComesBack(handle, 1, true);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.ok(result.timeline.some((t) => t.event === 'continued as new'));
  assert.equal(world.calls.filter((c) => c === 'consentLink').length, 1, 'the same consent link throughout');
  assert.equal(
    world.notifications.filter((n) => n.kind === 'action-needed').length,
    2,
    'consent, then sign-in',
  );
});

test('identical signals alone (nothing new to wake the wait) still make a long run continue as new', async () => {
  const handle = await start({}, { historyLimit: 40 });
  await waitingFor(handle, 'consent');
  const firstRun = (await handle.describe()).runId;
  const same = {
    error: 'access_denied',
    errorDescription: 'AADSTS65004: User declined to consent to access the app.',
  };
  for (let i = 0; i < 40; i++) await handle.signal(consentFailedSignal, same);
  await env.sleep('1 second'); // as above: the continued run moves on when time does
  const status = await until(
    handle,
    (s) => s.timeline.some((t) => t.event === 'continued as new'),
    'continued as new',
  );
  assert.equal(status.waitingFor, 'consent', 'still waiting, in a new run');
  assert.notEqual((await env.client.workflow.getHandle(handle.workflowId).describe()).runId, firstRun);
  assert.equal(
    world.notifications.filter((n) => n.workflowId === handle.workflowId && n.kind === 'problem').length,
    1,
  );
  await env.client.workflow.getHandle(handle.workflowId).cancel();
});

test('durations out of range are refused by the workflow itself, naming the bounds', async () => {
  for (const [extra, bound] of [
    [{ deadlines: { consent: '99999999999999999999 days' } }, /deadlines\.consent: .*1 hour to 365 days/],
    [{ deadlines: { signIn: '10 minutes' } }, /deadlines\.signIn: .*1 hour to 365 days/],
    [{ reminderInterval: '0.001 ms' }, /reminderInterval: .*at least 1 hour/],
  ] as const) {
    const handle = await start(extra);
    await assert.rejects(handle.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), bound);
      return true;
    });
  }
});

test('cancelled while waiting for the sign-in: stops and records what was done', async () => {
  world.consented = true;
  const handle = await start({ consentAlreadyGranted: true });
  await waitingFor(handle, 'sign-in', 1);
  await handle.cancel();
  await assert.rejects(handle.result(), WorkflowFailedError);
  const status = await handle.query(statusQuery);
  assert.equal(status.step, 'cancelled');
  assert.match(status.timeline.at(-1)!.detail!, /account connector 7 with Resource written/);
});
