// The doctor's checks that need no running service: the shared app's settings and secret as Graph
// has them, production requirements outside the simulators (https, explicit keys, the sign-in
// user), skipping what depends on a failure, the printed lines, and that nothing printed holds a
// secret.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ApplicationRegistration } from '../../src/clients/graph';
import { loadConfig, type Config } from '../../src/config';
import { formatDoctorReport, runDoctor, type DoctorReport } from '../../src/doctor';
import { sharedAppChecks } from '../../src/doctor/shared-app';
import { freePort } from '../../scripts/bench/free-port';

const DAY = 86_400_000;

function app(overrides: Partial<ApplicationRegistration> = {}): ApplicationRegistration {
  return {
    objectId: 'obj-1',
    appId: '6f1a2b3c-0000-4000-8000-000000000001',
    displayName: 'Cyclr Dynamics CRM Online',
    uniqueName: 'cyclr-dynamics-onboarding',
    signInAudience: 'AzureADMultipleOrgs',
    web: {},
    redirectUris: [
      'https://acme-h.cyclr.com/connector/callback',
      'https://onboarding.partner.example/callbacks/consent',
    ],
    requiredResourceAccess: [
      {
        resourceAppId: '00000007-0000-0000-c000-000000000000',
        resourceAccess: [{ id: '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4', type: 'Scope' }],
      },
    ],
    passwordCredentials: [
      {
        keyId: 'k1',
        displayName: 'dynamics-onboarding run/5',
        endDateTime: new Date(Date.now() + 100 * DAY).toISOString(),
      },
    ],
    ...overrides,
  };
}

const production = (overrides: Partial<Record<keyof Config, string>> = {}): Config =>
  loadConfig(
    {},
    {
      IDENTITY_BASE_URL: 'https://login.microsoftonline.com',
      CYCLR_SERVICE_BASE_URL: 'https://acme-h.cyclr.com',
      PUBLIC_BASE_URL: 'https://onboarding.partner.example',
      ...overrides,
    },
  );

const byName = (report: { checks: DoctorReport['checks'] }, name: RegExp) => {
  const check = report.checks.find((c) => name.test(c.name));
  assert.ok(check, String(name));
  return check;
};

describe('the shared app as Graph has it', () => {
  const deps = () => ({ config: production(), temporal: () => Promise.reject(new Error('unused')) });

  it('passes when it is multi-tenant, has both redirect URIs, the permission and a live secret', async () => {
    const checks = await sharedAppChecks(deps(), { app: app() });
    assert.deepEqual(
      checks.filter((c) => !c.ok),
      [],
    );
    assert.match(byName({ checks }, /expiry/).found, /in (99|100) days \(from Graph\)/);
  });

  it('fails each missing setting with its fix, and an expired secret', async () => {
    const checks = await sharedAppChecks(deps(), {
      app: app({
        signInAudience: 'AzureADMyOrg',
        redirectUris: ['https://acme-h.cyclr.com/connector/callback'],
        requiredResourceAccess: [],
        passwordCredentials: [
          { keyId: 'k0', displayName: 'dynamics-onboarding run/2', endDateTime: '2020-01-01T00:00:00Z' },
          { keyId: 'hand', displayName: 'made in the portal', endDateTime: '2099-01-01T00:00:00Z' },
        ],
      }),
    });
    const multi = byName({ checks }, /multi-tenant/);
    assert.equal(multi.ok, false);
    assert.match(multi.fix!, /Accounts in any organizational directory/);
    const redirects = byName({ checks }, /redirect URIs/);
    assert.match(redirects.found, /missing https:\/\/onboarding\.partner\.example\/callbacks\/consent/);
    assert.match(redirects.fix!, /Web redirect URIs/);
    assert.match(byName({ checks }, /user_impersonation/).fix!, /Dynamics CRM > user_impersonation/);
    const secret = byName({ checks }, /expiry/);
    assert.equal(secret.ok, false, 'only the secrets the product made count');
    assert.match(secret.found, /expired at 2020-01-01/);
  });

  it('an APP_ID Graph does not know fails; an app not registered yet skips its settings', async () => {
    const adopted = await sharedAppChecks(
      { ...deps(), config: production({ APP_ID: '0f0f0f0f-0000-4000-8000-000000000000' }) },
      { app: null },
    );
    assert.equal(adopted[0].ok, false);
    assert.match(adopted[0].fix!, /APP_ID/);
    assert.ok(adopted.slice(1).every((c) => c.skipped));

    const fresh = await sharedAppChecks(deps(), { app: null });
    assert.equal(fresh[0].ok, true);
    assert.match(fresh[0].found, /first onboarding registers/);
    assert.ok(fresh.slice(1).every((c) => c.skipped && !c.ok));

    const unknown = await sharedAppChecks(deps(), {});
    assert.ok(unknown.every((c) => c.skipped));
  });
});

describe('runDoctor outside the simulators, with nothing reachable', () => {
  let health: Server;
  let healthUrl: string;
  before(async () => {
    health = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}'),
    );
    await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
    healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}`;
  });
  after(() => health.close());

  it('fails what it must, skips what depends on a failure, and prints no secret', async () => {
    const closed = `http://127.0.0.2:${await freePort()}`;
    const graphSecret = `graph-${randomBytes(12).toString('hex')}`;
    const cyclrSecret = `cyclr-${randomBytes(12).toString('hex')}`;
    const config = loadConfig(
      {},
      {
        IDENTITY_BASE_URL: closed,
        GRAPH_BASE_URL: closed,
        CYCLR_API_BASE_URL: closed,
        PUBLIC_BASE_URL: healthUrl,
        GRAPH_CLIENT_SECRET: graphSecret,
        CYCLR_CLIENT_SECRET: cyclrSecret,
        HTTP_TIMEOUT_MS: '2000',
      },
    );
    const report = await runDoctor({
      config,
      env: {},
      temporal: () => Promise.reject(new Error(`Cannot reach Temporal (saw ${graphSecret} somewhere)`)),
      timeoutMs: 2000,
    });

    const temporal = report.checks.filter((c) => c.group === 'Temporal');
    assert.equal(temporal[0].ok, false);
    assert.match(temporal[0].fix!, /TEMPORAL_ADDRESS/);
    assert.ok(temporal.slice(1).every((c) => c.skipped));

    const token = byName(report, /Graph token/);
    assert.equal(token.ok, false);
    assert.match(token.fix!, /IDENTITY_BASE_URL/);
    assert.ok(report.checks.filter((c) => c.group === 'shared app').every((c) => c.skipped));

    assert.equal(byName(report, /API credentials/).ok, false);
    assert.match(byName(report, /sign-in user/).fix!, /CYCLR_SIGNIN_USERNAME/);
    const url = byName(report, /^PUBLIC_BASE_URL$/);
    assert.equal(url.ok, false);
    assert.match(url.fix!, /https/);
    assert.equal(byName(report, /healthz/).ok, true);
    const keys = byName(report, /set explicitly/);
    assert.equal(keys.ok, false);
    assert.match(keys.found, /SECRET_SEALING_KEYS, STATE_SIGNING_KEY, PAYLOAD_CODEC_KEYS, OPS_TOKEN not set/);
    assert.equal(report.ok, false);

    const printed = `${JSON.stringify(report)}\n${formatDoctorReport(report)}`;
    assert.ok(!printed.includes(graphSecret));
    assert.ok(!printed.includes(cyclrSecret));
    assert.match(formatDoctorReport(report), /^\[FAIL\] Temporal: cluster answers: .* -- fix: /m);
    assert.match(formatDoctorReport(report), /^\[skip\] Temporal: namespace exists: skipped: /m);
    assert.match(formatDoctorReport(report), /checks failed$/);
  });
});
