// The service clients against the simulators on real HTTP (no Temporal server): the app-only
// tenant probe, the Graph management client's token errors and its 403s, reading and adopting an
// app registered by hand, and the Cyclr account, connector lookup, deauthenticate and delete.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { CyclrClient } from '../../src/clients/cyclr';
import {
  DYNAMICS_CRM_APP_ID,
  DYNAMICS_USER_IMPERSONATION_SCOPE_ID,
  GraphClient,
} from '../../src/clients/graph';
import {
  GraphTokenProvider,
  probeTenant,
  type TenantProbe,
  type TenantProbeInput,
} from '../../src/clients/identity';
import { graphActivities, type AppSpec } from '../../src/activities/graph';
import { parseKeyList } from '../../src/secrets/keys';
import { FailureTypes } from '../../src/shared/failures';
import { startSimulators, type RunningSimulators } from '../../simulators/server';
import { SimControl, type Customer, type SimState } from '../helpers/sim-control';

const PARTNER_TENANT = '11111111-1111-4111-8111-111111111111';
const TIMEOUT_MS = 5000;

let sims: RunningSimulators;
let sim: SimControl;
let tokens: GraphTokenProvider;
let graph: GraphClient;

const tokenProvider = (
  overrides: Partial<{ tenantId: string; clientId: string; clientSecret: string }> = {},
) =>
  new GraphTokenProvider({
    baseUrl: `${sims.url}/login`,
    tenantId: PARTNER_TENANT,
    clientId: 'sim-graph-admin-client',
    clientSecret: 'sim-graph-admin-secret',
    timeoutMs: TIMEOUT_MS,
    ...overrides,
  });

const fault = (service: string, method: string, path: string, action: unknown, times = 1) =>
  sim.call('POST', '/faults', { match: { service, method, path }, times, action });

/** A probe that did not get a token: its verdict, code and message. */
function refusal(p: TenantProbe): Exclude<TenantProbe, { verdict: 'consented' }> {
  assert.ok(p.verdict !== 'consented', 'expected no token');
  return p;
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

before(async () => {
  sims = await startSimulators({ port: 0 });
  sim = new SimControl(sims.url);
});
after(async () => {
  await sims?.close();
});
beforeEach(async () => {
  await sim.call('POST', '/reset');
  tokens = tokenProvider();
  graph = new GraphClient(`${sims.url}/graph`, TIMEOUT_MS, tokens);
});

/** The shared app as the owner registers it, with a secret (its Value is returned). */
async function sharedApp(): Promise<{ appId: string; objectId: string; keyId: string; secret: string }> {
  const app = await graph.upsertApplication({
    uniqueName: 'cyclr-dynamics-onboarding',
    displayName: 'Cyclr Dynamics CRM Online',
    redirectUris: [`${sims.url}/cyclr-app/connector/callback`],
  });
  await graph.ensureServicePrincipal(app.appId);
  const secret = await graph.addPassword(
    app.objectId,
    'test',
    new Date(Date.now() + 86_400_000).toISOString(),
  );
  return { appId: app.appId, objectId: app.objectId, keyId: secret.keyId, secret: secret.secretText };
}

describe('probeTenant: an app-only token request in the customer tenant', () => {
  let app: Awaited<ReturnType<typeof sharedApp>>;
  let customer: Customer;
  const probe = (input: Partial<TenantProbeInput> = {}) =>
    probeTenant(
      { baseUrl: `${sims.url}/login`, timeoutMs: TIMEOUT_MS },
      {
        tenant: customer.tenantId,
        resourceUrl: customer.org,
        clientId: app.appId,
        clientSecret: app.secret,
        ...input,
      },
    );

  beforeEach(async () => {
    app = await sharedApp();
    customer = await sim.seedCustomer();
  });

  it('consented: a token (never returned), for the tenant id or its domain', async () => {
    await sim.grantConsent(customer.tenantId, app.appId);
    const verdict = await probe();
    assert.deepEqual(verdict, { verdict: 'consented' });
    assert.deepEqual(await probe({ tenant: customer.domain, resourceUrl: `${customer.org}/` }), {
      verdict: 'consented',
    });
    const state = await sim.state();
    assert.ok(state.secretsIssued.length > 0);
    for (const issued of state.secretsIssued) assert.ok(!JSON.stringify(verdict).includes(issued));
  });

  it('no consent: no-consent, with the code and the first line of Microsoft’s words', async () => {
    const verdict = refusal(await probe());
    assert.equal(verdict.verdict, 'no-consent');
    assert.ok([7000229, 700016].includes(verdict.code!), String(verdict.code));
    assert.match(verdict.message, new RegExp(`^AADSTS${verdict.code}: `));
    assert.doesNotMatch(verdict.message, /Trace ID|Correlation ID|\r|\n/);
  });

  it('no-consent for AADSTS7000229 as Microsoft answers it today (401 invalid_client)', async () => {
    const description = `AADSTS7000229: The client application ${app.appId} is missing service principal in the tenant ${customer.tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119\r\nTrace ID: 1f6a92a9\r\nCorrelation ID: 0d1a5c28\r\nTimestamp: 2026-06-09 09:07:41Z`;
    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', {
      type: 'status',
      status: 401,
      body: { error: 'invalid_client', error_description: description, error_codes: [7000229] },
    });
    assert.deepEqual(await probe(), {
      verdict: 'no-consent',
      code: 7000229,
      message: description.split('\r\n')[0],
    });
  });

  it('wrong org for that tenant: wrong-resource (AADSTS500011)', async () => {
    await sim.grantConsent(customer.tenantId, app.appId);
    const verdict = refusal(await probe({ resourceUrl: 'https://someone-else.crm.dynamics.com' }));
    assert.equal(verdict.verdict, 'wrong-resource');
    assert.equal(verdict.code, 500011);
  });

  it('unknown tenant: no-tenant (AADSTS90002)', async () => {
    const verdict = refusal(await probe({ tenant: 'nobody-here.onmicrosoft.com' }));
    assert.equal(verdict.verdict, 'no-tenant');
    assert.equal(verdict.code, 90002);
  });

  it('a wrong or expired secret: secret-rejected (7000215, 7000222)', async () => {
    await sim.grantConsent(customer.tenantId, app.appId);
    const wrong = refusal(await probe({ clientSecret: 'not-the-secret' }));
    assert.equal(wrong.verdict, 'secret-rejected');
    assert.equal(wrong.code, 7000215);
    await sim.call('POST', `/applications/${app.appId}/secrets/${app.keyId}/expire`);
    const expired = refusal(await probe());
    assert.equal(expired.verdict, 'secret-rejected');
    assert.equal(expired.code, 7000222);
  });

  it('a code it has no verdict for: unknown, with Microsoft’s words', async () => {
    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', {
      type: 'status',
      status: 400,
      body: { error: 'invalid_request', error_description: 'AADSTS1234567: Something new.\r\nTrace ID: x' },
    });
    assert.deepEqual(await probe(), {
      verdict: 'unknown',
      code: 1234567,
      message: 'AADSTS1234567: Something new.',
    });
  });

  it('transient answers throw the transient failure: 5xx, 429 with Retry-After, a dropped connection', async () => {
    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', { type: 'status', status: 503 });
    const busy = await failure(probe());
    assert.equal(busy.type, FailureTypes.transient);
    assert.equal(busy.nonRetryable, false);

    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', { type: 'throttle', retryAfterSeconds: 3 });
    const throttled = await failure(probe());
    assert.equal(throttled.type, FailureTypes.transient);
    assert.ok(throttled.nextRetryDelay !== undefined);

    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', {
      type: 'status',
      status: 400,
      body: { error: 'invalid_request', error_description: 'AADSTS50033: A transient error.\r\nTrace ID: x' },
    });
    assert.equal((await failure(probe())).type, FailureTypes.transient);

    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', { type: 'drop' });
    const dropped = await failure(probe());
    assert.equal(dropped.type, FailureTypes.transient);
    assert.ok(!dropped.message.includes(app.secret));
  });
});

describe("the Graph management client's token errors carry their fix", () => {
  const refused = async (provider: GraphTokenProvider) => {
    const err = await failure(provider.token());
    assert.equal(err.type, FailureTypes.configuration);
    assert.equal(err.nonRetryable, true);
    return err;
  };

  it('wrong secret (7000215): GRAPH_CLIENT_SECRET must be the Value', async () => {
    const err = await refused(tokenProvider({ clientSecret: 'wrong-secret-value' }));
    assert.match(err.message, /AADSTS7000215/);
    assert.match(err.message, /Fix: GRAPH_CLIENT_SECRET .*Value/);
    assert.ok(!err.message.includes('wrong-secret-value'));
    assert.deepEqual((err.details?.[0] as { aadsts: number }).aadsts, 7000215);
  });

  it('unknown tenant (90002): PARTNER_TENANT_ID', async () => {
    const err = await refused(tokenProvider({ tenantId: 'no-such-tenant.example' }));
    assert.match(err.message, /AADSTS90002.*Fix: PARTNER_TENANT_ID/);
  });

  it('unknown client (700016): GRAPH_CLIENT_ID and the tenant', async () => {
    const err = await refused(tokenProvider({ clientId: 'not-a-client' }));
    assert.match(err.message, /AADSTS700016.*Fix: GRAPH_CLIENT_ID .*PARTNER_TENANT_ID/);
  });

  it('expired secret (7000222): a new secret', async () => {
    await fault('identity', 'POST', '/oauth2/v2\\.0/token$', {
      type: 'status',
      status: 401,
      body: {
        error: 'invalid_client',
        error_description:
          "AADSTS7000222: The provided client secret keys for app 'sim-graph-admin-client' are expired.\r\nTrace ID: x",
        error_codes: [7000222],
      },
    });
    const err = await refused(tokenProvider());
    assert.match(err.message, /Fix: GRAPH_CLIENT_SECRET has expired: create a new client secret/);
  });
});

describe('Graph: an app registered by hand', () => {
  /** Registers an app "by hand": single-tenant, its own redirect URI and permissions. */
  async function handRegistered(extra: Record<string, unknown> = {}): Promise<{ appId: string; id: string }> {
    const res = await fetch(`${sims.url}/graph/v1.0/applications`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await tokens.token()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        displayName: 'Registered in the portal',
        signInAudience: 'AzureADMyOrg',
        web: { redirectUris: ['https://partner.example/existing'], homePageUrl: 'https://partner.example' },
        requiredResourceAccess: [
          {
            resourceAppId: '00000003-0000-0000-c000-000000000000',
            resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
          },
        ],
        ...extra,
      }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { appId: string; id: string };
  }

  const spec = (): AppSpec => ({
    uniqueName: 'cyclr-dynamics-onboarding',
    displayName: 'Cyclr Dynamics CRM Online',
    redirectUris: [`${sims.url}/cyclr-app/connector/callback`, 'http://127.0.0.1:8088/callbacks/consent'],
    secretLifetimeDays: 180,
  });
  const keys = () => ({
    sealing: parseKeyList(`t1:${randomBytes(32).toString('base64')}`),
    stateSigningKey: randomBytes(32),
  });
  const stateApp = async (appId: string) =>
    (
      await sim.call<SimState & { applications: Record<string, unknown>[] }>('GET', '/state')
    ).applications.find((a) => a.appId === appId) as unknown as {
      signInAudience: string;
      redirectUris: string[];
      requiredResourceAccess: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
      displayName: string;
    };

  it('reads an app by its Application (client) ID; null when there is none', async () => {
    const hand = await handRegistered();
    const app = await graph.getApplicationByAppId(hand.appId);
    assert.equal(app?.objectId, hand.id);
    assert.equal(app?.signInAudience, 'AzureADMyOrg');
    assert.deepEqual(app?.redirectUris, ['https://partner.example/existing']);
    assert.equal(await graph.getApplicationByAppId('0f0f0f0f-0000-4000-8000-000000000000'), null);
    assert.equal(await graph.findApplication('no-such-unique-name'), null);
  });

  it('adoptApplication adds what is missing, removes nothing, and says what it changed', async () => {
    const hand = await handRegistered();
    const activities = graphActivities(graph, keys());
    const adopted = await activities.adoptApplication({ appId: hand.appId, spec: spec() });
    assert.equal(adopted.appId, hand.appId);
    assert.equal(adopted.objectId, hand.id);
    assert.equal(adopted.changed.length, 4, adopted.changed.join('; '));
    assert.ok(adopted.changed.some((c) => c.includes('/cyclr-app/connector/callback')));
    assert.ok(adopted.changed.some((c) => c.includes('/callbacks/consent')));
    assert.ok(adopted.changed.some((c) => /user_impersonation/.test(c)));
    assert.ok(adopted.changed.some((c) => /multi-tenant/.test(c)));

    const after = await stateApp(hand.appId);
    assert.equal(after.signInAudience, 'AzureADMultipleOrgs');
    assert.deepEqual(after.redirectUris, ['https://partner.example/existing', ...spec().redirectUris]);
    assert.equal(after.displayName, 'Registered in the portal');
    assert.deepEqual(after.requiredResourceAccess, [
      {
        resourceAppId: '00000003-0000-0000-c000-000000000000',
        resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
      },
      {
        resourceAppId: DYNAMICS_CRM_APP_ID,
        resourceAccess: [{ id: DYNAMICS_USER_IMPERSONATION_SCOPE_ID, type: 'Scope' }],
      },
    ]);

    // Again: nothing is missing, nothing changes.
    const again = await activities.adoptApplication({ appId: hand.appId, spec: spec() });
    assert.deepEqual(again.changed, []);
  });

  it('keeps other Dynamics permissions and a multi-tenant audience with personal accounts', async () => {
    const other = { id: '11111111-2222-4333-8444-555555555555', type: 'Role' };
    const hand = await handRegistered({
      signInAudience: 'AzureADandPersonalMicrosoftAccount',
      web: { redirectUris: spec().redirectUris },
      requiredResourceAccess: [{ resourceAppId: DYNAMICS_CRM_APP_ID, resourceAccess: [other] }],
    });
    const adopted = await graphActivities(graph, keys()).adoptApplication({
      appId: hand.appId,
      spec: spec(),
    });
    assert.deepEqual(adopted.changed, ['added the Dynamics CRM delegated permission user_impersonation']);
    const after = await stateApp(hand.appId);
    assert.equal(after.signInAudience, 'AzureADandPersonalMicrosoftAccount');
    assert.deepEqual(after.requiredResourceAccess, [
      {
        resourceAppId: DYNAMICS_CRM_APP_ID,
        resourceAccess: [other, { id: DYNAMICS_USER_IMPERSONATION_SCOPE_ID, type: 'Scope' }],
      },
    ]);
  });

  it('an unknown APP_ID is a configuration failure that says what to check', async () => {
    const err = await failure(
      graphActivities(graph, keys()).adoptApplication({
        appId: '0f0f0f0f-0000-4000-8000-000000000000',
        spec: spec(),
      }),
    );
    assert.equal(err.type, FailureTypes.configuration);
    assert.match(err.message, /APP_ID/);
  });

  it('a 403 names the permission to grant and that an admin must consent to it', async () => {
    const hand = await handRegistered();
    const denied = {
      type: 'status',
      status: 403,
      body: {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      },
    };
    await fault('graph', 'GET', '^/v1\\.0/applications', denied);
    const read = await failure(
      graphActivities(graph, keys()).adoptApplication({ appId: hand.appId, spec: spec() }),
    );
    assert.equal(read.type, FailureTypes.configuration);
    assert.match(read.message, /Authorization_RequestDenied/);
    assert.match(read.message, /Application\.ReadWrite\.All/, 'an app registered by hand: .All');
    assert.match(read.message, /admin consent/);

    await fault('graph', 'PATCH', '^/v1\\.0/applications', denied);
    const upsert = await failure(graph.upsertApplication({ ...spec() }));
    assert.match(upsert.message, /Application\.ReadWrite\.OwnedBy/);
    assert.match(upsert.message, /admin consent/);
  });
});

describe('Cyclr: accounts, the connector library, deauthenticate and delete', () => {
  let cyclr: CyclrClient;
  beforeEach(() => {
    cyclr = new CyclrClient({
      baseUrl: `${sims.url}/cyclr-api`,
      clientId: 'sim-cyclr-client',
      clientSecret: 'sim-cyclr-secret',
      timeoutMs: TIMEOUT_MS,
    });
  });

  it('getAccount: the account, or null when Cyclr has none', async () => {
    const customer = await sim.seedCustomer();
    const account = await cyclr.getAccount(customer.accountId);
    assert.equal(account?.Id, customer.accountId);
    assert.equal(await cyclr.getAccount('no-such-account'), null);
  });

  it('lookupConnector: found and installable, found but a draft, or not found', async () => {
    const dynamics = await cyclr.lookupConnector('Dynamics CRM Online');
    assert.ok(dynamics.found);
    assert.equal(dynamics.id, 3400);
    assert.equal(dynamics.status, 'Approved');
    assert.equal(dynamics.installable, true);
    const draft = await cyclr.lookupConnector('Pipedrive');
    assert.ok(draft.found && !draft.installable && draft.status === 'Draft');
    assert.deepEqual(await cyclr.lookupConnector('Dynamics CRM'), { found: false, name: 'Dynamics CRM' });
    const customer = await sim.seedCustomer();
    assert.ok((await cyclr.lookupConnector('Dynamics CRM Online', customer.accountId)).found);
  });

  it('deauthenticates and deletes an account connector; a second delete says it is already gone', async () => {
    const customer = await sim.seedCustomer();
    const installed = await cyclr.installConnector(customer.accountId, 3400, {
      name: 'Dynamics',
      description: 'test',
    });
    assert.deepEqual(await cyclr.deauthenticateAccountConnector(customer.accountId, installed.Id), {
      alreadyGone: false,
    });
    assert.equal((await cyclr.getAccountConnector(customer.accountId, installed.Id)).Authenticated, false);
    assert.deepEqual(await cyclr.deleteAccountConnector(customer.accountId, installed.Id), {
      alreadyGone: false,
    });
    assert.deepEqual(await cyclr.deleteAccountConnector(customer.accountId, installed.Id), {
      alreadyGone: true,
    });
    assert.deepEqual(await cyclr.deauthenticateAccountConnector(customer.accountId, installed.Id), {
      alreadyGone: true,
    });
    assert.deepEqual(await cyclr.listAccountConnectors(customer.accountId), []);
  });

  it('maps failures as for the other calls: 5xx transient, bad credentials a configuration failure', async () => {
    const customer = await sim.seedCustomer();
    await fault('cyclr-api', 'DELETE', '^/v1\\.0/account/connectors/', { type: 'status', status: 503 });
    assert.equal(
      (await failure(cyclr.deleteAccountConnector(customer.accountId, 1))).type,
      FailureTypes.transient,
    );
    const wrong = new CyclrClient({
      baseUrl: `${sims.url}/cyclr-api`,
      clientId: 'sim-cyclr-client',
      clientSecret: 'wrong',
      timeoutMs: TIMEOUT_MS,
    });
    const refused = await failure(wrong.checkCredentials());
    assert.equal(refused.type, FailureTypes.configuration);
    assert.match(refused.message, /CYCLR_CLIENT_ID and CYCLR_CLIENT_SECRET/);
    await cyclr.checkCredentials();
  });
});
