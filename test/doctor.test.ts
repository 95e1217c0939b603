// `doctor` on a real dev server and the simulators: it passes on the harness setup; then one thing
// broken at a time (wrong Graph secret, the Graph permission missing, wrong Cyclr credentials, a
// connector not in the catalog, the search attribute not registered, no worker on the task queue)
// fails with the line that names it and its fix. The CLI prints the same report, exit code 0 or 1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from '../src/config';
import { runDoctor, type DoctorCheck, type DoctorReport } from '../src/doctor';
import { temporalCliPath } from '../src/embedded/binaries';
import { waitUntil } from '../src/demo/sample-onboarding';
import { startOnboarding } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { OpsClient } from './helpers/ops';
import { configWith } from './helpers/ops-oidc';
import { freePort } from './helpers/harness';
import { createCyclrClient } from '../src/clients/cyclr';
import { startIngress } from '../src/ingress/server';
import { escapeHtml } from '../src/ingress/pages';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
let h: Harness;

const OPS_TOKEN = 'doctor-test-ops-token-0123456789abcdef';

before(async () => {
  h = await startHarness('dev-server', { OPS_TOKEN });
});
after(async () => {
  await h?.close();
});

const doctor = (config: Partial<Config> = {}, client = h.env.client): Promise<DoctorReport> =>
  runDoctor({ config: { ...h.config, ...config }, env: {}, temporal: async () => client });

function line(report: DoctorReport, group: string, name: RegExp): DoctorCheck {
  const check = report.checks.find((c) => c.group === group && name.test(c.name));
  assert.ok(check, `no check ${group}: ${name} in ${JSON.stringify(report.checks.map((c) => c.name))}`);
  return check;
}

/** The only failing lines are these (skipped ones aside). */
function onlyFailing(report: DoctorReport, ...names: RegExp[]): void {
  const failing = report.checks.filter((c) => !c.ok && !c.skipped);
  assert.equal(report.ok, false);
  assert.deepEqual(
    failing.map((c) => names.some((n) => n.test(c.name))),
    failing.map(() => true),
    `failing: ${JSON.stringify(failing, null, 2)}`,
  );
  assert.equal(failing.length, names.length, `failing: ${JSON.stringify(failing, null, 2)}`);
}

const SECRETS = () => [
  h.config.GRAPH_CLIENT_SECRET,
  h.config.CYCLR_CLIENT_SECRET,
  h.config.SECRET_SEALING_KEYS!,
  h.config.STATE_SIGNING_KEY!,
  h.config.CODEC_AUTH_TOKEN!,
];

/** The harness's configuration as the environment a CLI process reads. */
function configEnv(overrides: Partial<Record<keyof Config, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_NAMESPACE: 'default',
  };
  for (const [key, value] of Object.entries(h.config)) if (value !== undefined) env[key] = String(value);
  return { ...env, ...overrides };
}

async function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(root, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: root,
        env,
      },
    );
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: `${e.stdout}${e.stderr}` };
  }
}

test('passes on the harness setup, with one line per check; the CLI too, exit code 0', async () => {
  const report = await doctor();
  assert.equal(
    report.ok,
    true,
    JSON.stringify(
      report.checks.filter((c) => !c.ok && !c.skipped),
      null,
      2,
    ),
  );
  for (const group of ['Temporal', 'Microsoft', 'shared app', 'Cyclr', 'ingress', 'keys'])
    assert.ok(
      report.checks.some((c) => c.group === group && c.ok),
      group,
    );
  assert.match(line(report, 'Temporal', /worker polls/).found, /1 worker polling/);

  const printed = await cli(configEnv(), 'doctor');
  assert.equal(printed.code, 0, printed.stdout);
  assert.match(printed.stdout, /^\[ok\] +Temporal: cluster answers: /m);
  assert.match(printed.stdout, /^\[ok\] +Cyclr: connector "Dynamics CRM Online": /m);
  assert.match(printed.stdout, /all checks passed/);
  for (const secret of SECRETS()) assert.ok(!printed.stdout.includes(secret));
});

test('a wrong GRAPH_CLIENT_SECRET: the Graph token line fails with AADSTS7000215 and says to use the Value', async () => {
  const report = await doctor({ GRAPH_CLIENT_SECRET: 'a-wrong-graph-secret' });
  onlyFailing(report, /Graph token/);
  const token = line(report, 'Microsoft', /Graph token/);
  assert.match(token.found, /AADSTS7000215/);
  assert.match(token.fix!, /GRAPH_CLIENT_SECRET .*Value/);
  assert.equal(line(report, 'Microsoft', /manage the shared app/).skipped, true);
  assert.equal(line(report, 'shared app', /exists/).skipped, true);
  assert.ok(!JSON.stringify(report).includes('a-wrong-graph-secret'));

  // The CLI: --json, exit code 1, no secret printed.
  const printed = await cli(configEnv({ GRAPH_CLIENT_SECRET: 'a-wrong-graph-secret' }), 'doctor', '--json');
  assert.equal(printed.code, 1, printed.stdout);
  const json = JSON.parse(printed.stdout) as DoctorReport;
  assert.equal(json.ok, false);
  assert.match(json.checks.find((c) => /Graph token/.test(c.name))!.fix!, /GRAPH_CLIENT_SECRET/);
  assert.ok(!printed.stdout.includes('a-wrong-graph-secret'));
});

test('the Graph permission missing (403 Authorization_RequestDenied): names the permission and the admin consent', async () => {
  await h.sim.call('POST', '/faults', {
    match: { service: 'graph', path: '^/v1\\.0/applications' },
    times: -1,
    action: {
      type: 'status',
      status: 403,
      body: {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      },
    },
  });
  try {
    const report = await doctor();
    onlyFailing(report, /manage the shared app/);
    const manage = line(report, 'Microsoft', /manage the shared app/);
    assert.match(manage.found, /403.*Authorization_RequestDenied/);
    assert.match(manage.fix!, /Application\.ReadWrite\.OwnedBy/);
    assert.match(manage.fix!, /admin(istrator)? .*consent/);
    assert.equal(line(report, 'shared app', /exists/).skipped, true);
  } finally {
    await h.sim.call('DELETE', '/faults');
  }
});

test('wrong Cyclr credentials, then a connector name not in the catalog', async () => {
  const creds = await doctor({ CYCLR_CLIENT_SECRET: 'a-wrong-cyclr-secret' });
  onlyFailing(creds, /API credentials/);
  assert.match(line(creds, 'Cyclr', /API credentials/).fix!, /CYCLR_CLIENT_ID and CYCLR_CLIENT_SECRET/);
  assert.equal(line(creds, 'Cyclr', /connector/).skipped, true);
  assert.ok(!JSON.stringify(creds).includes('a-wrong-cyclr-secret'));

  const connector = await doctor({ DYNAMICS_CONNECTOR_NAME: 'Dynamics 365 Sales' });
  onlyFailing(connector, /connector "Dynamics 365 Sales"/);
  const found = line(connector, 'Cyclr', /connector/);
  assert.match(found.found, /no connector named "Dynamics 365 Sales"/);
  assert.match(found.fix!, /DYNAMICS_CONNECTOR_NAME/);

  const draft = await doctor({ DYNAMICS_CONNECTOR_NAME: 'Pipedrive' });
  onlyFailing(draft, /connector "Pipedrive"/);
  assert.match(line(draft, 'Cyclr', /connector/).found, /Draft: only an Approved connector/);
});

test('once an onboarding registered the app: its settings and the secret are checked too', async () => {
  const customer = await h.sim.seedCustomer();
  await startOnboarding(h, customer);
  await waitUntil(h.env.client, `dynamics-onboarding-${customer.accountId}`, 'consent');
  const report = await doctor();
  assert.equal(
    report.ok,
    true,
    JSON.stringify(
      report.checks.filter((c) => !c.ok && !c.skipped),
      null,
      2,
    ),
  );
  for (const name of [/multi-tenant/, /redirect URIs/, /user_impersonation/, /secret's expiry/])
    assert.equal(line(report, 'shared app', name).ok, true, String(name));
  assert.match(line(report, 'shared app', /secret's expiry/).found, /from the app-registration owner/);
  assert.match(line(report, 'shared app', /exists/).found, /appId /);
});

test('the search attribute not registered: the line fails with the command that registers it', async () => {
  const bare = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() } },
  });
  try {
    const report = await doctor({}, bare.client);
    const attribute = line(report, 'Temporal', /OnboardingStep search attribute/);
    assert.equal(attribute.ok, false);
    assert.match(attribute.found, /not registered/);
    assert.match(
      attribute.fix!,
      /temporal operator search-attribute create --namespace default --name OnboardingStep --type Keyword/,
    );
    // Nothing polls that server's task queue either.
    assert.equal(line(report, 'Temporal', /worker polls/).ok, false);
  } finally {
    await bare.teardown();
  }
});

test('nothing polls the task queue: the worker line fails and says to start one', async () => {
  await h.stopWorker();
  try {
    let report!: DoctorReport;
    // The server lists a poller for a while after its worker stopped; the doctor reads the
    // worker's own shutdown report, or the poller's age.
    await until(
      'the doctor to see no worker',
      async () => !line((report = await doctor()), 'Temporal', /worker polls/).ok,
      150_000,
    );
    onlyFailing(report, /worker polls/);
    const worker = line(report, 'Temporal', /worker polls/);
    assert.match(worker.found, /no worker has polled dynamics-onboarding/);
    assert.match(worker.fix!, /npm run worker/);
  } finally {
    await h.startWorker();
  }
});

test('the ops page shows the same report: every check with what it found, a failing one with its fix', async () => {
  const ops = new OpsClient(h.ingressUrl);
  assert.equal((await ops.login('Olga Ops', OPS_TOKEN)).status, 303);
  const page = await ops.request('/ops/doctor');
  assert.equal(page.status, 200);
  assert.match(page.body, /id="doctor-verdict">All checks passed\./);
  const report = await doctor();
  for (const c of report.checks) assert.ok(page.body.includes(`<td>${escapeHtml(c.name)}</td>`), c.name);

  // An ingress whose Cyclr credentials are wrong shows that line failed, with the fix, and no secret.
  const port = await freePort();
  const config = configWith(h, {
    CYCLR_CLIENT_SECRET: 'not-the-cyclr-secret-0123456789',
    INGRESS_PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  });
  const broken = await startIngress({
    config,
    keys: h.keys,
    client: h.env.client,
    cyclr: createCyclrClient(config),
  });
  try {
    const other = new OpsClient(config.PUBLIC_BASE_URL);
    assert.equal((await other.login('Olga Ops', OPS_TOKEN)).status, 303);
    const bad = await other.request('/ops/doctor');
    // (This ingress's consent callback is not among the app's redirect URIs either: said too.)
    assert.match(bad.body, /id="doctor-verdict">2 checks failed/);
    assert.match(
      bad.body,
      /<tr class="check failed">.*<td>redirect URIs<\/td><td>missing http:\/\/127\.0\.0\.1:\d+\/callbacks\/consent/,
    );
    assert.match(
      bad.body,
      /<tr class="check failed">.*<td>Cyclr<\/td>.*<p class="fix"><b>Fix:<\/b> [^<]*CYCLR_CLIENT_SECRET/,
    );
    for (const secret of [...SECRETS(), config.CYCLR_CLIENT_SECRET]) assert.ok(!bad.body.includes(secret));
    // Without a session, no report.
    assert.equal((await new OpsClient(config.PUBLIC_BASE_URL).request('/ops/doctor')).status, 303);
  } finally {
    broken.closeAllConnections();
    await new Promise((r) => broken.close(r));
  }
});
