// The owner renews the client secret before it expires (Java time-skipping server: 170 days pass in
// seconds): a new secret, put into every holder's Cyclr ClientSecret, then the old one removed; the
// account connector verified before the renewal can still authenticate with what Cyclr now holds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { followLink } from '../src/demo/person';
import { appRegistrationStatusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';

let h: Harness;
before(async () => {
  h = await startHarness('time-skipping', {
    APP_SECRET_LIFETIME_DAYS: '180',
    APP_SECRET_RENEW_BEFORE_DAYS: '14',
  });
});
after(async () => {
  await h?.close();
});

/** Signs the account connector in again through Cyclr, as Cyclr would with its stored ClientSecret. */
async function cyclrCanAuthenticate(customer: Customer, accountConnectorId: number): Promise<string> {
  const tokenRes = await fetch(`${h.config.CYCLR_API_BASE_URL}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: h.config.CYCLR_CLIENT_ID,
      client_secret: h.config.CYCLR_CLIENT_SECRET,
    }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const signIn = await fetch(
    `${h.config.CYCLR_API_BASE_URL}/v1.0/accounts/${customer.accountId}/signintoken`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ Username: 'renewal-check' }),
    },
  );
  const { Token } = (await signIn.json()) as { Token: string };
  const query = new URLSearchParams({
    id: String(accountConnectorId),
    token: Token,
    targetOrigin: 'http://127.0.0.1',
    callbackMessage: 'done',
  });
  const visit = await followLink(
    `${h.config.CYCLR_SERVICE_BASE_URL}/connectorauth/updateaccountconnectoroauth?${query}`,
    { username: customer.user },
  );
  return visit.body;
}

test('the secret is renewed 14 days before its end, Cyclr gets the new one, the old one is removed', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');

  const owner = h.env.client.workflow.getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
  const first = await owner.query(appRegistrationStatusQuery);
  assert.equal(first.holders, 1, 'the onboarding told the owner where it put the secret');
  const expiresAt = Date.parse(first.secretExpiresAt!);
  assert.equal(Date.parse(first.renewAt!), expiresAt - 14 * 86_400_000);

  await h.env.sleep('170 days');
  const end = Date.now() + 120_000;
  let renewed = await owner.query(appRegistrationStatusQuery);
  while (!renewed.rotations?.length) {
    assert.ok(Date.now() < end, 'the owner renewed the secret');
    await new Promise((r) => setTimeout(r, 250));
    renewed = await owner.query(appRegistrationStatusQuery);
  }
  const rotation = renewed.rotations[0];
  assert.match(rotation.reason, /renewal 14 days before/);
  assert.equal(rotation.oldKeyId, first.secretKeyId);
  assert.ok(Date.parse(renewed.secretExpiresAt!) > expiresAt, 'the new secret lasts longer');

  // The test server may skip on to the next renewal (another 166 days) while this test reads.
  // Read the sim between two owner reads that agree and with no renewal half done.
  let state: Awaited<ReturnType<typeof h.sim.state>>;
  for (;;) {
    const before = (await owner.query(appRegistrationStatusQuery)).rotations!.length;
    state = await h.sim.state();
    renewed = await owner.query(appRegistrationStatusQuery);
    const secrets = state.applications[0].passwordCredentials;
    if (
      renewed.rotations!.length === before &&
      secrets.length === 1 &&
      secrets[0].keyId === renewed.secretKeyId
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const renewals = renewed.rotations!.length;
  assert.ok(renewals >= 1 && renewals <= 2, `one renewal per 166 days (${renewals})`);
  assert.deepEqual(
    state.applications[0].passwordCredentials.map((p) => p.keyId),
    [renewed.secretKeyId],
    'one secret: the newest',
  );
  assert.equal(state.counts.passwordsAdded, 1 + renewals);
  assert.equal(state.counts.passwordsRemoved, renewals, 'each old secret removed');
  assert.deepEqual(
    state.propertyWrites
      .filter((w) => w.accountConnectorId === result.accountConnectorId && w.name === 'ClientSecret')
      .map((w) => w.method),
    ['INSTALL', ...Array<string>(renewals).fill('PUT')],
    'Cyclr told once per renewal',
  );
  const check = await cyclrCanAuthenticate(customer, result.accountConnectorId!);
  assert.match(check, /data-success="true"/, 'Cyclr redeems with the renewed secret');
});
