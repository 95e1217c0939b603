// The ops CLI and the official `temporal` CLI, driving onboardings by hand on a real dev server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { temporalCliPath } from '../src/embedded/binaries';
import { onboardingWorkflowId } from '../src/shared/names';
import type { OnboardingResult } from '../src/shared/status';
import { userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
let h: Harness;

before(async () => {
  h = await startHarness('dev-server');
});
after(async () => {
  await h?.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(root, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: root,
        env: { ...process.env, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_NAMESPACE: 'default' },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The official CLI; payloads are encrypted, so it reads them through the codec server. */
async function temporal(...args: string[]): Promise<string> {
  const codec = ['--codec-endpoint', h.codec.endpoint, '--codec-auth', h.codec.auth];
  const { stdout } = await run(temporalCliPath(), [...args, '--address', h.env.address, ...codec]);
  return stdout;
}

test('bad input: one line naming the flag and the expected form, exit code 2, nothing started', async () => {
  const cases: [string[], RegExp][] = [
    [
      [
        'onboard',
        '--account',
        'a b',
        '--tenant',
        'contoso.onmicrosoft.com',
        '--resource-url',
        'https://contoso.crm.dynamics.com',
      ],
      /^error: --account: expected the Cyclr account API ID/,
    ],
    [
      [
        'onboard',
        '--account',
        'ok1',
        '--tenant',
        'common',
        '--resource-url',
        'https://contoso.crm.dynamics.com',
      ],
      /^error: --tenant: .*not common/,
    ],
    [
      [
        'onboard',
        '--account',
        'ok1',
        '--tenant',
        'contoso.onmicrosoft.com',
        '--resource-url',
        'https://contoso.example.com',
      ],
      /^error: --resource-url: host "contoso.example.com" is not a Dynamics 365 org host/,
    ],
    [
      [
        'onboard',
        '--account',
        'ok1',
        '--tenant',
        'contoso.onmicrosoft.com',
        '--resource-url',
        'https://contoso.crm.dynamics.com',
        '--consent-deadline',
        'soon',
      ],
      /^error: --consent-deadline: expected a duration/,
    ],
    [
      ['onboard', '--account', 'ok1', '--tenant', 'contoso.onmicrosoft.com'],
      /required option '--resource-url <url>' not specified/,
    ],
    [
      ['fix-resource', 'ok1', '--resource-url', 'contoso', '--by', 'ops'],
      /^error: --resource-url: "contoso" is not a URL/,
    ],
    [['consent', 'ok1', '--by', ' '], /^error: --by: must not be empty/],
    [['list', '--step', 'nowhere'], /argument 'nowhere' is invalid/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await cli(...args);
    assert.equal(code, 2, `${args.join(' ')} exits 2`);
    assert.match(stderr.trim().split('\n')[0], expected, args.join(' '));
  }
  const listed = await temporal(
    'workflow',
    'list',
    '--query',
    "WorkflowId = 'dynamics-onboarding-ok1'",
    '--output',
    'json',
  );
  assert.ok(!listed.includes('ok1'), 'nothing was started');
});

test('driven by hand with the ops CLI: onboard, status, list, consent, verified', async () => {
  const customer = await h.sim.seedCustomer();
  const started = await cli(
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.domain,
    '--resource-url',
    customer.org,
    '--requester',
    'ops@partner.example',
  );
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, new RegExp(`started ${onboardingWorkflowId(customer.accountId)}`));
  const again = await cli(
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.domain,
    '--resource-url',
    customer.org,
  );
  assert.match(again.stdout, /already onboarding/);

  await waitUntil(h.env.client, onboardingWorkflowId(customer.accountId), 'consent');
  const status = await cli('status', customer.accountId);
  assert.match(status.stdout, /step\s+waiting-for-consent \(waiting for consent\)/);
  assert.match(status.stdout, /consent link\s+http/);
  const json = JSON.parse((await cli('status', customer.accountId, '--json')).stdout);
  assert.equal(json.waitingFor, 'consent');

  const deadline = Date.now() + 10_000;
  let listed = '';
  while (!listed.includes(customer.accountId) && Date.now() < deadline) {
    listed = (await cli('list', '--step', 'waiting-for-consent')).stdout;
  }
  assert.match(listed, new RegExp(`${onboardingWorkflowId(customer.accountId)}\\s+waiting-for-consent`));

  // The admin grants consent in the Entra portal (tenant given by domain); ops report it.
  await h.sim.grantConsent(customer.tenantId, (await h.sim.state()).applications[0].appId);
  const consent = await cli(
    'consent',
    customer.accountId,
    '--by',
    'ops@partner.example',
    '--note',
    'granted in portal',
  );
  assert.equal(consent.code, 0, consent.stderr);

  await userSignsIn(h, customer);
  const result: OnboardingResult = await h.env.client.workflow
    .getHandle(onboardingWorkflowId(customer.accountId))
    .result();
  assert.equal(result.outcome, 'verified');
  assert.match((await cli('status', customer.accountId)).stdout, /step\s+verified/);
});

test('driven with the official temporal CLI: signal consentGranted, query status', async () => {
  const customer = await h.sim.seedCustomer();
  assert.equal(
    (
      await cli(
        'onboard',
        '--account',
        customer.accountId,
        '--tenant',
        customer.tenantId,
        '--resource-url',
        customer.org,
      )
    ).code,
    0,
  );
  const workflowId = onboardingWorkflowId(customer.accountId);
  await waitUntil(h.env.client, workflowId, 'consent');

  const queried = JSON.parse(
    await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'status', '--output', 'json'),
  );
  assert.equal(JSON.stringify(queried).includes('waiting-for-consent'), true);

  // A malformed signal is refused and recorded; the workflow keeps waiting.
  await temporal(
    'workflow',
    'signal',
    '--workflow-id',
    workflowId,
    '--name',
    'consentGranted',
    '--input',
    '{"who":"ops"}',
  );
  await h.sim.grantConsent(customer.tenantId, (await h.sim.state()).applications[0].appId);
  await temporal(
    'workflow',
    'signal',
    '--workflow-id',
    workflowId,
    '--name',
    'consentGranted',
    '--input',
    '{"by":"ops via temporal CLI"}',
  );

  await userSignsIn(h, customer);
  const result: OnboardingResult = await h.env.client.workflow.getHandle(workflowId).result();
  assert.equal(result.outcome, 'verified');
  assert.ok(
    result.timeline.some(
      (t) => t.event === 'rejected consentGranted signal' && /by: required/.test(t.detail ?? ''),
    ),
  );
  assert.ok(
    result.timeline.some((t) => t.event === 'consent granted' && /ops via temporal CLI/.test(t.detail ?? '')),
  );
});

test('cancel from the CLI', async () => {
  const customer = await h.sim.seedCustomer();
  await cli(
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.tenantId,
    '--resource-url',
    customer.org,
  );
  await waitUntil(h.env.client, onboardingWorkflowId(customer.accountId), 'consent');
  assert.equal((await cli('cancel', customer.accountId)).code, 0);
  const deadline = Date.now() + 10_000;
  let out = '';
  while (!/step\s+cancelled/.test(out) && Date.now() < deadline)
    out = (await cli('status', customer.accountId)).stdout;
  assert.match(out, /step\s+cancelled/);
  assert.equal((await cli('status', 'no-such-account')).code, 1);
});
