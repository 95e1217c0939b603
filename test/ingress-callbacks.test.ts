// The consent and sign-in callbacks over real HTTP: forged and replayed ones refused, superseded
// links refused, an error turned into the catalog's remediation, nothing signalled twice.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { signLinkState, stateOfLink } from '../src/secrets/link-state';
import { statusQuery } from '../src/shared/messages';
import type { OnboardingResult } from '../src/shared/status';
import { startHarness, type Harness } from './helpers/harness';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';

let h: Harness;
before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

const get = async (url: string) => {
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, body: await res.text() };
};

test('forged, foreign, wrong-purpose and missing state are refused before anything is signalled', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'consent');
  const state = stateOfLink(waiting.consentUrl)!;
  const [body, mac] = state.split('.');

  // Same signature, another onboarding in the body.
  const parts = JSON.parse(Buffer.from(body, 'base64url').toString());
  parts[1] = 'dynamics-onboarding-someone-else';
  const altered = `${Buffer.from(JSON.stringify(parts)).toString('base64url')}.${mac}`;
  // Well formed, signed with a key that is not ours.
  const foreign = signLinkState(randomBytes(32), {
    purpose: 'consent',
    workflowId: handle.workflowId,
    attempt: 0,
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const consentCallback = (s: string) =>
    `${h.ingressUrl}/callbacks/consent?admin_consent=True&tenant=${customer.tenantId}&state=${encodeURIComponent(s)}`;

  for (const [name, url, expected] of [
    ['altered state', consentCallback(altered), /bad signature \(forged or altered link\)/],
    ['foreign key', consentCallback(foreign), /bad signature/],
    ['no state', `${h.ingressUrl}/callbacks/consent?admin_consent=True`, /no state parameter/],
    ['garbage', consentCallback('not-a-state'), /malformed/],
    [
      'consent state on the sign-in callback',
      `${h.ingressUrl}/callbacks/signin?success=true&state=${encodeURIComponent(state)}`,
      /this is not a sign-in link/,
    ],
  ] as const) {
    const res = await get(url);
    assert.equal(res.status, 400, name);
    assert.match(res.body, expected, name);
  }
  const status = await handle.query(statusQuery);
  assert.equal(status.waitingFor, 'consent', 'still waiting: nothing was signalled');
  assert.ok(!status.timeline.some((t) => t.event === 'consent granted'));
  await handle.cancel();
});

test('a consent callback works once; replayed it is refused and consent is recorded once', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const consent = await adminConsents(h, customer);
  assert.equal(consent.status, 200, consent.body);
  assert.ok(consent.url.startsWith(`${h.ingressUrl}/callbacks/consent?`), consent.url);

  const replay = await get(consent.url);
  assert.equal(replay.status, 409);
  assert.match(replay.body, /already used or is no longer current/);
  assert.match(replay.body, /nothing was changed/);

  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  assert.equal(result.timeline.filter((t) => t.event === 'consent granted').length, 1);
});

test('a declined consent shows the catalog remediation; the same link still works after', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const declined = await adminConsents(h, customer, 'decline');
  assert.equal(declined.status, 200);
  assert.match(declined.body, /Consent was not granted/);
  assert.match(declined.body, /The admin canceled the request/, "Microsoft's own words");
  assert.match(declined.body, /What to do: The customer&#39;s admin declined consent/);

  const status = await waitUntil(h.env.client, handle.workflowId, 'consent');
  assert.equal(status.lastError?.code, 65004, 'the decline is recorded as the last error');
  const accepted = await adminConsents(h, customer);
  assert.equal(accepted.status, 200);
  assert.match(accepted.body, /consent granted/);
  await userSignsIn(h, customer);
  assert.equal((await handle.result()).outcome, 'verified');
});

test('sign-in callbacks: one outcome per attempt; a replay or a superseded attempt is refused', async () => {
  const customer = await h.sim.seedCustomer();
  // Users of this tenant may not consent: the user is stopped at "Need admin approval" and goes back.
  const handle = await startOnboarding(h, customer, { consentAtSignIn: true });
  const failed = await userSignsIn(h, customer);
  assert.ok(failed.url.startsWith(`${h.ingressUrl}/callbacks/signin?`), failed.url);
  assert.match(failed.body, /The sign-in did not complete/);
  assert.match(failed.body, /AADSTS65004/, "Cyclr's hint is shown with its remediation");
  const paused = await waitUntil(h.env.client, handle.workflowId, 'consent');
  assert.equal(paused.tenantCheck?.verdict, 'no-consent', 'Microsoft decided the branch');

  // Replayed as is, or rewritten to claim success: the attempt is spent.
  for (const url of [
    failed.url,
    failed.url.replace(/success=false/, 'success=true').replace(/&error[^&]*/g, ''),
  ]) {
    const replay = await get(url);
    assert.equal(replay.status, 409, url);
    assert.match(replay.body, /already used or is no longer current/);
  }
  const oldLink = await get(failed.trail[0]);
  assert.equal(oldLink.status, 409);
  assert.match(oldLink.body, /not current/);

  await adminConsents(h, customer);
  const ok = await userSignsIn(h, customer);
  assert.match(ok.body, /Connected/);
  const replayOk = await get(ok.url);
  assert.equal(replayOk.status, 409);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
  const returns = result.timeline.filter((t) => t.event === 'user came back from the sign-in');
  assert.deepEqual(
    returns.map((t) => t.detail),
    ['attempt 1', 'attempt 2'],
    'one return per attempt, none from the replays',
  );
});
