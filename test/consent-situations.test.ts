// Consent and sign-in as they really happen (the simulators behave like Entra on this path), with
// Cyclr appending its outcome to our landing page or appending nothing: each situation ends
// verified, or in the pause that fits with its remediation, and nothing is written twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { followLink } from '../src/demo/person';
import { waitUntil } from '../src/demo/sample-onboarding';
import { statusQuery } from '../src/shared/messages';
import type { OnboardingResult, OnboardingStatus } from '../src/shared/status';
import type { WaitingFor } from '../src/shared/steps';
import { adminConsents, startOnboarding } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';
import type { WorkflowHandle } from '@temporalio/client';

let h: Harness;
before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

/** Waits for a pause with the given wait and a sign-in attempt at least `attempt`. */
async function pausedAt(handle: WorkflowHandle, what: WaitingFor, attempt = 0): Promise<OnboardingStatus> {
  const end = Date.now() + 60_000;
  for (;;) {
    const s = await handle.query(statusQuery);
    if (s.waitingFor === what && s.signInAttempt >= attempt) return s;
    if (Date.now() > end) throw new Error(`not waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function signIn(
  handle: WorkflowHandle,
  username: string,
  opts: { consentForOrg?: boolean; decision?: 'accept' | 'decline' } = {},
) {
  const status = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  return followLink(status.signInUrl!, { username, ...opts });
}

function writesOnce(state: Awaited<ReturnType<Harness['sim']['state']>>, result: OnboardingResult) {
  const names = state.propertyWrites
    .filter((w) => w.accountConnectorId === result.accountConnectorId)
    .map((w) => w.name);
  assert.equal(new Set(names).size, names.length, `each property written once: ${names.join(', ')}`);
}

for (const outcome of ['query', 'none'] as const) {
  const setting = async () => h.sim.call('PUT', '/settings', { cyclrRedirectOutcome: outcome });

  test(`[${outcome}] a user blocked at "Need admin approval": the consent pause, then the admin consents, verified`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer();
    const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
    const blocked = await signIn(handle, customer.user);
    assert.ok(
      blocked.trail.some((url) => url.includes('error_subcode=cancel') || url.includes('/callbacks/signin')),
    );
    const paused = await pausedAt(handle, 'consent');
    assert.match(paused.lastError!.remediation, /admin consent/i);
    assert.ok(paused.consentUrl, 'the admin consent link is handed out');
    await adminConsents(h, customer);
    const done = await signIn(handle, customer.user);
    assert.match(done.body, /Connected/);
    const result: OnboardingResult = await handle.result();
    assert.equal(result.outcome, 'verified');
    writesOnce(await h.sim.state(), result);
  });

  test(`[${outcome}] a user who may consent consents alone while signing in: verified, no admin`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer(undefined, { usersMayConsent: true });
    const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
    const visit = await signIn(handle, customer.user);
    assert.match(visit.body, /Connected/);
    const result: OnboardingResult = await handle.result();
    assert.equal(result.outcome, 'verified');
    assert.equal((await handle.query(statusQuery)).signInAttempt, 1);
  });

  test(`[${outcome}] an admin consents for the organisation while signing in: verified`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer();
    const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
    const visit = await signIn(handle, customer.admin, { consentForOrg: true });
    assert.match(visit.body, /Connected/);
    const result: OnboardingResult = await handle.result();
    assert.equal(result.outcome, 'verified');
    const consent = (await h.sim.state()) as unknown as {
      consents: { tenantId: string; user: string | null }[];
    };
    assert.ok(
      consent.consents.some((c) => c.tenantId === customer.tenantId && c.user === null),
      'tenant-wide',
    );
  });

  test(`[${outcome}] an admin declines the consent prompt: the consent pause with the remediation`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer();
    const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
    await signIn(handle, customer.admin, { decision: 'decline' });
    const paused = await pausedAt(handle, 'consent');
    assert.equal(paused.accountConnectorId !== null, true);
    assert.match(paused.lastError!.remediation, /consent/i);
    await handle.cancel();
  });

  test(`[${outcome}] a wrong Resource URL refused at authorize: the resource-fix pause, then verified`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer(undefined, { usersMayConsent: true });
    const handle = await startOnboarding(h, customer, {
      consentAtSignIn: true,
      resourceUrl: 'https://notthisorg.crm4.dynamics.com',
    });
    const visit = await signIn(handle, customer.user);
    assert.match(visit.body, /The sign-in did not complete/);
    if (outcome === 'none') {
      // Cyclr said nothing: the user pastes what Microsoft showed them.
      const state = new URL(visit.url).searchParams.get('state')!;
      const reported = await fetch(`${h.ingressUrl}/callbacks/signin/report`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          state,
          error_text: `AADSTS500011: The resource principal named https://notthisorg.crm4.dynamics.com was not found in the tenant named ${customer.domain}.`,
        }),
      });
      assert.equal(reported.status, 200, await reported.text());
    }
    const paused = await pausedAt(handle, 'resource-fix');
    assert.equal(paused.lastError?.code, 500011);
    await handle.signal('resourceCorrected', { resourceUrl: customer.org, by: 'ops@partner.example' });
    const done = await signIn(handle, customer.user);
    assert.match(done.body, /Connected/);
    const result: OnboardingResult = await handle.result();
    assert.equal(result.outcome, 'verified');
    assert.equal(result.resourceUrl, customer.org);
  });

  test(`[${outcome}] AADSTS65001 at redemption (consent not yet propagated): a new sign-in, verified`, async () => {
    await setting();
    const customer = await h.sim.seedCustomer(undefined, { usersMayConsent: true });
    await h.sim.call('PUT', '/settings', { consentPropagationMs: 4000 });
    try {
      const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
      const first = await signIn(handle, customer.user);
      assert.match(first.body, /The sign-in did not complete/);
      await pausedAt(handle, 'sign-in', 2);
      await new Promise((r) => setTimeout(r, 4000));
      const second = await signIn(handle, customer.user);
      assert.match(second.body, /Connected/);
      const result: OnboardingResult = await handle.result();
      assert.equal(result.outcome, 'verified');
      assert.ok(!result.timeline.some((t) => t.event === 'entered' && t.step === 'waiting-for-consent'));
    } finally {
      await h.sim.call('PUT', '/settings', { consentPropagationMs: 0 });
    }
  });
}

test('a non-admin who opens the admin consent link: Need admin approval, back; the onboarding says who must open it', async () => {
  await h.sim.call('PUT', '/settings', { cyclrRedirectOutcome: 'none' });
  const customer: Customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const visit = await adminConsents(h, customer, 'accept', customer.user);
  assert.match(visit.body, /Consent was not granted/);
  const status = await pausedAt(handle, 'consent');
  assert.equal(status.lastError?.code, 65004);
  assert.ok(status.consentUrl);
  await handle.cancel();
});

test('the sign-in link opened by a link scanner first: the user opening it next still signs in, verified', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const status = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  // The scanner follows the redirects as far as Microsoft's sign-in page: Cyclr's token is spent.
  const scanned = await fetch(status.signInUrl!);
  assert.match(await scanned.text(), /Sign in/);
  const visit = await followLink(status.signInUrl!, { username: customer.user });
  assert.match(visit.body, /Connected/);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
});
