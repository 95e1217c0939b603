// `check-tenant` against the simulators, with the shared app's own credentials read from its owner:
// no credentials yet says how to get them; then a consented tenant, a tenant without consent, a
// wrong org and an unknown tenant each get one line with the verdict and the fix. Bad flags: exit 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Config } from '../src/config';
import { waitUntil } from '../src/demo/sample-onboarding';
import { onboardingWorkflowId } from '../src/shared/names';
import { startOnboarding } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
let h: Harness;

before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

async function checkTenant(tenant: string, resourceUrl: string): Promise<{ code: number; out: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_NAMESPACE: 'default',
  };
  for (const [key, value] of Object.entries(h.config as Config))
    if (value !== undefined) env[key] = String(value);
  const args = ['--import', 'tsx', resolve(root, 'src', 'cli', 'main.ts'), 'check-tenant'];
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [...args, '--tenant', tenant, '--resource-url', resourceUrl],
      { cwd: root, env },
    );
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

let first: Customer;

test('bad flags: one line naming the flag, exit code 2', async () => {
  const tenant = await checkTenant('common', 'https://contoso.crm.dynamics.com');
  assert.equal(tenant.code, 2);
  assert.match(tenant.out, /^error: --tenant: /m);
  const url = await checkTenant('contoso.onmicrosoft.com', 'https://contoso.example.com');
  assert.equal(url.code, 2);
  assert.match(url.out, /^error: --resource-url: /m);
});

test('before the shared app has credentials: says so and how to get them', async () => {
  const res = await checkTenant('contoso.onmicrosoft.com', 'https://contoso.crm.dynamics.com');
  assert.equal(res.code, 1);
  assert.match(res.out, /no credentials yet: start any onboarding/);
  assert.match(res.out, /npm run worker/);
});

test('a consented tenant: consented, exit code 0', async () => {
  first = await h.sim.seedCustomer();
  await startOnboarding(h, first);
  const status = await waitUntil(h.env.client, onboardingWorkflowId(first.accountId), 'consent');
  assert.ok(status.appId);
  await h.sim.grantConsent(first.tenantId, status.appId);
  const res = await checkTenant(first.tenantId, first.org);
  assert.equal(res.code, 0, res.out);
  assert.match(
    res.out,
    /^consented: tenant .* has consented to the app .*, and https:\/\/.* is a Dynamics org there$/m,
  );
  const issued = (await h.sim.state()).secretsIssued;
  for (const secret of issued) assert.ok(!res.out.includes(secret), 'no token or secret printed');
});

test('a tenant without consent: no-consent, and the admin consent remediation', async () => {
  const other = await h.sim.seedCustomer();
  const res = await checkTenant(other.domain, other.org);
  assert.equal(res.code, 1, res.out);
  assert.equal(res.out.trim().split('\n').length, 1, res.out);
  assert.match(res.out, /^no-consent: AADSTS(7000229|700016): /);
  assert.match(res.out, /-- fix: .*must grant admin consent/);
  assert.doesNotMatch(res.out, /Trace ID|Correlation ID/);
});

test('the wrong org for a consented tenant: wrong-resource, and where to find the org URL', async () => {
  const res = await checkTenant(first.tenantId, 'https://someone-else.crm4.dynamics.com');
  assert.equal(res.code, 1, res.out);
  assert.match(res.out, /^wrong-resource: AADSTS500011: /);
  assert.match(res.out, /-- fix: .*address bar/);
});

test('an unknown tenant: no-tenant', async () => {
  const res = await checkTenant('nobody-here.onmicrosoft.com', 'https://nobody.crm.dynamics.com');
  assert.equal(res.code, 1, res.out);
  assert.match(res.out, /^no-tenant: AADSTS90002: /);
  assert.match(res.out, /-- fix: Check the customer tenant "nobody-here\.onmicrosoft\.com"/);
});
