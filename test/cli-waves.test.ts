// Onboarding waves from a file with the ops CLI: every bad row reported at once and nothing
// started; the fixed file started once per account with progress and a summary by step; the same
// file again starting nothing; JSON Lines; and `list`/`status` with counts per step and --watch.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId } from '../src/shared/names';
import { cli, cliUntilInterrupted } from './helpers/cli';
import { startHarness, type Harness } from './helpers/harness';
import type { Customer } from './helpers/sim-control';
import { until } from './helpers/until';

let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'onboarding-waves-'));
const WAVE = 200;
let customers: Customer[] = [];

before(async () => {
  h = await startHarness('dev-server');
  // The wave's onboardings are only started, not run: no worker until the wave is over.
  await h.stopWorker();
  // Customers the simulators know, so the wave's onboardings go on to wait for consent.
  customers = [];
  for (let i = 0; i < WAVE; i += 20)
    customers.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(20, WAVE - i) }, (_, j) =>
          h.sim.seedCustomer(`wave${i + j}x${Date.now() % 1000}`),
        ),
      )),
    );
});
after(async () => {
  await h?.close();
});

/** Every onboarding still running is terminated (a wave need not finish). */
async function terminateAll(): Promise<void> {
  const running = [];
  for await (const wf of h.env.client.workflow.list({ query: 'ExecutionStatus = "Running"' }))
    running.push(wf);
  for (let i = 0; i < running.length; i += 20)
    await Promise.all(
      running.slice(i, i + 20).map((wf) =>
        h.env.client.workflow
          .getHandle(wf.workflowId, wf.runId)
          .terminate('test over')
          .catch(() => undefined),
      ),
    );
}

const header = 'account,tenant,resource_url,requester,consent_already_granted';
const rowOf = (c: Customer, i: number) =>
  `${c.accountId},${c.domain},${c.org},ops+${i}@partner.example,${i % 50 === 0 ? 'false' : ''}`;
const countOnboardings = async () =>
  (await h.env.client.workflow.count(`WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'`)).count;

/** Line numbers (1 = the header) of the rows the bad file spoils, and what is wrong with each. */
const BAD: Record<number, [string, (c: Customer, i: number) => string, RegExp]> = {
  7: [
    'tenant',
    (c, i) => rowOf(c, i).replace(c.domain, 'common'),
    /tenant: expected the customer's own tenant/,
  ],
  42: [
    'resource_url',
    (c, i) => rowOf(c, i).replace(c.org, c.org.replace('https:', 'http:')),
    /resource_url: must use https; expected the customer's Dynamics org URL/,
  ],
  99: [
    'account',
    (c, i) => rowOf(c, i).replace(c.accountId, 'has space'),
    /account: expected the Cyclr account API ID/,
  ],
  150: [
    'consent_already_granted',
    (c, i) => `${rowOf(c, i).replace(/,[^,]*$/, '')},maybe`,
    /consent_already_granted: "maybe": expected true or false/,
  ],
  201: [
    'account',
    (_c, i) => rowOf(customers[0], i),
    /account: "acct-[^"]+" is also on line 2: one row per account/,
  ],
};

function writeCsv(name: string, bad: boolean): string {
  const file = join(dir, name);
  const lines = customers.map((c, i) => {
    const line = i + 2;
    return bad && BAD[line] ? BAD[line][1](c, i) : rowOf(c, i);
  });
  writeFileSync(file, `\uFEFF${header}\n${lines.join('\n')}\n`);
  return file;
}

test('a file of 200 with a few bad rows: every bad row named by line and field, nothing started', async () => {
  const file = writeCsv('customers.csv', true);
  const run = await cli(h, ['onboard', '--from', file]);
  assert.equal(run.code, 2, run.stderr);
  const errors = run.stderr.trim().split('\n');
  for (const [line, [field, , expected]] of Object.entries(BAD)) {
    const reported = errors.find((e) => e.startsWith(`error: customers.csv line ${line}: ${field}: `));
    assert.ok(reported, `line ${line} (${field}) is reported:\n${run.stderr}`);
    assert.match(reported, expected);
  }
  assert.match(
    errors[errors.length - 1],
    /^error: customers\.csv: 5 of 200 rows are invalid; nothing was started \(fix them, or add --skip-invalid to start the 195 valid rows\)$/,
  );
  assert.equal(run.stdout, '');

  const json = await cli(h, ['onboard', '--from', file, '--json']);
  assert.equal(json.code, 2);
  const report = JSON.parse(json.stdout);
  assert.equal(report.started, 0);
  assert.equal(report.invalid, 5);
  assert.deepEqual(
    report.results.map((r: { line: number }) => r.line),
    Object.keys(BAD).map(Number),
  );
  assert.equal(await countOnboardings(), 0, 'nothing was started');
});

test('the fixed file: 200 started with plain progress lines (not a TTY) and a summary by step', async () => {
  const file = writeCsv('customers.csv', false);
  const run = await cli(h, ['onboard', '--from', file]);
  assert.equal(run.code, 0, run.stderr);
  const progress = run.stderr.trim().split('\n');
  assert.ok(progress.length >= 10, `plain progress lines:\n${run.stderr}`);
  assert.match(progress[0], /^starting: 20\/200 \(started \d+, already had one 0, failed 0\)$/);
  assert.equal(progress[progress.length - 1], 'starting: 200/200 (started 200, already had one 0, failed 0)');
  assert.ok(!run.stderr.includes('\x1b'), 'no terminal control sequences in a pipe');
  assert.match(run.stdout, /^customers\.csv: 200 rows$/m);
  assert.match(run.stdout, /^ {2}started +200$/m);
  assert.match(run.stdout, /^ {2}already had an onboarding +0$/m);
  assert.match(run.stdout, /^by step:$/m);
  const bySteps = [
    ...run.stdout.matchAll(
      /^ {2}(starting|registering-app|waiting-for-consent|setting-resource|exchanging-token|failed) +(\d+)$/gm,
    ),
  ];
  assert.equal(
    bySteps.reduce((n, m) => n + Number(m[2]), 0),
    200,
    `every row is counted at a step:\n${run.stdout}`,
  );
  await until('visibility lists the 200', async () => (await countOnboardings()) === 200);
});

test('the same file again: nothing started, every row reported as already having an onboarding', async () => {
  const file = join(dir, 'customers.csv');
  const run = await cli(h, ['onboard', '--from', file, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.started, 0);
  assert.equal(report.existing, 200);
  assert.equal(report.failed, 0);
  for (const r of report.results) {
    assert.equal(r.outcome, 'existing');
    assert.equal(r.workflowId, onboardingWorkflowId(r.account));
    assert.equal(r.status, 'RUNNING');
  }
  assert.equal(
    Object.values(report.byStep as Record<string, number>).reduce((a, b) => a + b, 0),
    200,
  );
  const text = await cli(h, ['onboard', '--from', file]);
  assert.match(text.stdout, /^ {2}started +0$/m);
  assert.match(text.stdout, /^ {2}already had an onboarding +200$/m);
  assert.match(text.stdout, /line 2 +acct-\S+ +running, step \S+/);
  assert.match(text.stdout, /\.\.\. and 180 more \(--json lists every row\)/);
  assert.equal(await countOnboardings(), 200, 'never started twice');
  await terminateAll();
  await h.startWorker();
});

let jsonlAccount = '';
test('JSON Lines; --skip-invalid starts the valid rows and lists the skipped ones', async () => {
  const fresh = await Promise.all([h.sim.seedCustomer(), h.sim.seedCustomer()]);
  jsonlAccount = fresh[0].accountId;
  const file = join(dir, 'more.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ account: fresh[0].accountId, tenant: fresh[0].tenantId, resource_url: fresh[0].org }),
      JSON.stringify({
        account: customers[1].accountId,
        tenant: customers[1].domain,
        resource_url: customers[1].org,
      }),
      '',
      JSON.stringify({ account: fresh[1].accountId, tenant: fresh[1].domain, resource_url: 'contoso' }),
    ].join('\n'),
  );
  const refused = await cli(h, ['onboard', '--from', file]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: more\.jsonl line 4: resource_url: "contoso" is not a URL/m);
  await assert.rejects(
    h.env.client.workflow.getHandle(onboardingWorkflowId(fresh[0].accountId)).describe(),
    WorkflowNotFoundError,
  );

  const run = await cli(h, ['onboard', '--from', file, '--skip-invalid', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.format, 'jsonl');
  assert.deepEqual(
    report.results.map((r: { line: number; outcome: string }) => [r.line, r.outcome]),
    [
      [1, 'started'],
      [2, 'existing'],
      [4, 'invalid'],
    ],
  );
  assert.equal(report.results[2].problems[0].field, 'resource_url');
});

test('list: a count per step, JSON, and --watch refreshing until Ctrl-C; status --watch', async () => {
  const listed = await cli(h, ['list']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^201 onboardings by step:\n {2}starting +200\n/m);
  const json = JSON.parse((await cli(h, ['list', '--json'])).stdout);
  assert.equal(json.total, 201);
  assert.equal(
    Object.values(json.byStep as Record<string, number>).reduce((a, b) => a + b, 0),
    201,
  );
  assert.equal(json.onboardings.length, 201);

  const watched = await cliUntilInterrupted(
    h,
    ['list', '--watch', '1', '--step', 'waiting-for-consent'],
    (out) => (out.match(/^--- /gm) ?? []).length >= 2,
  );
  assert.equal(watched.code, 0, watched.stderr);
  assert.match(watched.stdout, /^--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · every 1 s · Ctrl-C stops$/m);
  assert.match(watched.stdout, /onboardings? by step:\n {2}waiting-for-consent +\d+|no onboardings match/);

  const status = await cliUntilInterrupted(
    h,
    ['status', jsonlAccount, '--watch', '1'],
    (out) => (out.match(/^--- /gm) ?? []).length >= 2,
  );
  assert.equal(status.code, 0, status.stderr);
  assert.match(
    status.stdout,
    new RegExp(`${onboardingWorkflowId(jsonlAccount)}\\n {2}account +${jsonlAccount}`),
  );

  const bad = await cli(h, ['list', '--watch', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --watch: expected the seconds between refreshes/);
});

test('onboard: the file and the single-account flags do not mix; a missing file is named', async () => {
  const both = await cli(h, ['onboard', '--from', join(dir, 'customers.csv'), '--account', 'x']);
  assert.equal(both.code, 2);
  assert.match(
    both.stderr,
    /^error: --from: give either --from <file> or --account\/--tenant\/--resource-url, not both/,
  );
  const missing = await cli(h, ['onboard', '--from', join(dir, 'nope.csv')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: --from: cannot read ".*nope\.csv" \(ENOENT\)/);
  const header = join(dir, 'header.csv');
  writeFileSync(header, 'account,tenant,resource-url\nx,y,z\n');
  const wrongHeader = await cli(h, ['onboard', '--from', header]);
  assert.equal(wrongHeader.code, 2);
  assert.match(
    wrongHeader.stderr,
    /^error: header\.csv line 1: header: unknown column "resource-url"; no resource_url column; expected the columns account, tenant, resource_url/m,
  );
});
