// The demo's simulated browser (src/demo/person.ts) on the simulated sign-in pages: the consent
// prompt during sign-in, "Need admin approval" (back, or request approval), and today's pages.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import { followLink } from '../src/demo/person';
import { startSimulators } from '../simulators/server';

const PARTNER = '11111111-1111-4111-8111-111111111111';
const DYNAMICS = '00000007-0000-0000-c000-000000000000';
const USER_IMPERSONATION = '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sims: Awaited<ReturnType<typeof startSimulators>>;
let base = '';
/** A loopback landing page (the simulators' 404): where the browser ends, with the answer in its query. */
let landing = '';

before(async () => {
  sims = await startSimulators({ port: 0 });
  base = sims.url;
  landing = `${base}/landing`;
});
after(async () => {
  await sims.close();
});
beforeEach(async () => {
  await fetch(`${base}/_sim/reset`, { method: 'POST' });
});

async function sim(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await fetch(`${base}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${path}: ${r.status}`);
  return (await r.json()) as Json;
}

async function registerApp(): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    scope: 'https://graph.microsoft.com/.default',
  });
  const token = (await (
    await fetch(`${base}/login/${PARTNER}/oauth2/v2.0/token`, { method: 'POST', body: form })
  ).json()) as Json;
  const r = await fetch(`${base}/graph/v1.0/applications(uniqueName='person-${randomUUID()}')`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${token.access_token}`,
      prefer: 'create-if-missing',
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      displayName: 'Acme Cyclr Dynamics',
      signInAudience: 'AzureADMultipleOrgs',
      web: { redirectUris: [landing] },
      requiredResourceAccess: [
        { resourceAppId: DYNAMICS, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] },
      ],
    }),
  });
  return ((await r.json()) as Json).appId;
}

async function tenant(opts: Json = {}) {
  const tenantId = randomUUID();
  const domain = `t-${tenantId.slice(0, 8)}.example`;
  const org = `https://t-${tenantId.slice(0, 8)}.crm.dynamics.com`;
  await sim('POST', '/tenants', {
    tenantId,
    domain,
    orgs: [org],
    users: [
      { username: `admin@${domain}`, admin: true },
      { username: `user@${domain}`, admin: false },
    ],
    ...opts,
  });
  return { tenantId, org, admin: `admin@${domain}`, user: `user@${domain}` };
}

const authorize = (appId: string, org: string) =>
  `${base}/login/common/oauth2/authorize?${new URLSearchParams({
    client_id: appId,
    response_type: 'code',
    redirect_uri: landing,
    resource: org,
    state: 'st',
  })}`;

const answer = (url: string) => new URL(url).searchParams;

test('followLink: "Need admin approval" goes back to the app; with request, the request is recorded first', async () => {
  const appId = await registerApp();
  const t = await tenant({ adminConsentWorkflow: true });
  const back = await followLink(authorize(appId, t.org), { username: t.user });
  assert.equal(answer(back.url).get('error'), 'access_denied');
  assert.equal(answer(back.url).get('error_subcode'), 'cancel');
  assert.equal((await sim('GET', '/state')).approvalRequests.length, 0);

  const requested = await followLink(authorize(appId, t.org), { username: t.user, approval: 'request' });
  assert.equal(answer(requested.url).get('error_subcode'), 'cancel');
  const s = await sim('GET', '/state');
  assert.equal(s.approvalRequests.length, 1);
  assert.equal(s.approvalRequests[0].username, t.user);
});

test('followLink: an admin accepts the consent prompt, for self or for the organization', async () => {
  const appId = await registerApp();
  const t = await tenant();
  const self = await followLink(authorize(appId, t.org), { username: t.admin });
  assert.ok(answer(self.url).get('code'));
  let consents = ((await sim('GET', '/state')).consents as Json[]).filter((c) => c.appId === appId);
  assert.deepEqual(
    consents.map((c) => c.user),
    [t.admin],
  );

  const t2 = await tenant();
  const org = await followLink(authorize(appId, t2.org), { username: t2.admin, consentForOrg: true });
  assert.ok(answer(org.url).get('code'));
  consents = ((await sim('GET', '/state')).consents as Json[]).filter(
    (c) => c.appId === appId && c.tenantId === t2.tenantId,
  );
  assert.deepEqual(
    consents.map((c) => c.user),
    [null],
  );
  // Covered now: the tenant's user signs straight in.
  assert.ok(answer((await followLink(authorize(appId, t2.org), { username: t2.user })).url).get('code'));

  // Declining the prompt is a cancel.
  const t3 = await tenant();
  const declined = await followLink(authorize(appId, t3.org), { username: t3.admin, decision: 'decline' });
  assert.equal(answer(declined.url).get('error_subcode'), 'cancel');
});

test("followLink: a user who may consent accepts for themselves; today's admin consent link still works", async () => {
  const appId = await registerApp();
  const t = await tenant({ usersMayConsent: true });
  const self = await followLink(authorize(appId, t.org), { username: t.user, consentForOrg: true });
  assert.ok(answer(self.url).get('code'));
  const consents = ((await sim('GET', '/state')).consents as Json[]).filter((c) => c.appId === appId);
  assert.deepEqual(
    consents.map((c) => c.user),
    [t.user],
  );

  const t2 = await tenant();
  const link = `${base}/login/${t2.tenantId}/adminconsent?${new URLSearchParams({ client_id: appId, redirect_uri: landing, state: 'a' })}`;
  const admin = await followLink(link, { username: t2.admin });
  assert.equal(answer(admin.url).get('admin_consent'), 'True');
  assert.equal(answer(admin.url).get('tenant'), t2.tenantId);
  const user = await followLink(link, { username: t2.user });
  assert.equal(answer(user.url).get('error'), 'access_denied');
  assert.equal(answer(user.url).get('error_subcode'), 'cancel');
});
