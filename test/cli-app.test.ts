// Verbs that were only reachable with the official `temporal` CLI, now in the ops CLI and on the
// ops page: report the sign-in error a user saw, the shared app's status, renew its secret now;
// and `send-event`, signing an event with the secret the ingress generated into its data dir.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { eventsSecretFile } from '../src/ingress/events-secret';
import { appRegistrationStatusQuery, statusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId, onboardingWorkflowId } from '../src/shared/names';
import { cli } from './helpers/cli';
import { adminConsents, startOnboarding } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { OpsClient } from './helpers/ops';
import { until } from './helpers/until';

const OPS_TOKEN = randomBytes(24).toString('base64url');
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'onboarding-cli-app-'));
before(async () => {
  // No EVENTS_HMAC_SECRET: the ingress generates one into its data dir, as on `npm start`.
  h = await startHarness('dev-server', { OPS_TOKEN });
});
after(async () => {
  await h?.close();
});

const owner = () => h.env.client.workflow.getHandle(appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));

test('send-event: signs with the secret the ingress generated into its data dir and starts an onboarding', async () => {
  const file = eventsSecretFile(h.config);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the secret file is private');
  const customer = await h.sim.seedCustomer();
  const eventFile = join(dir, 'event.json');
  writeFileSync(
    eventFile,
    JSON.stringify(
      {
        cyclrAccountId: customer.accountId,
        customerTenant: customer.domain,
        resourceUrl: customer.org,
        requester: 'crm-sync@partner.example',
        eventId: 'evt-42',
      },
      null,
      2,
    ) + '\n',
  );
  const sent = await cli(h, ['send-event', '--file', eventFile]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, new RegExp(`^HTTP 202 from ${h.ingressUrl}/events/onboarding$`, 'm'));
  const answer = JSON.parse(sent.stdout.slice(sent.stdout.indexOf('{')));
  assert.equal(answer.workflowId, onboardingWorkflowId(customer.accountId));
  assert.equal(answer.eventId, 'evt-42');
  await waitUntil(h.env.client, answer.workflowId, 'consent');

  // The same event again (signed again): the same onboarding, nothing new.
  const again = await cli(h, [
    'send-event',
    '--file',
    eventFile,
    '--url',
    `${h.ingressUrl}/events/onboarding`,
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout.slice(again.stdout.indexOf('{'))).runId, answer.runId);

  // A partner checks their signer against ours: same timestamp and bytes, same signature.
  const dry = await cli(h, ['send-event', '--file', eventFile, '--timestamp', '1764129600', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  const secret = (await import('node:fs')).readFileSync(file, 'utf8').trim();
  const body = (await import('node:fs')).readFileSync(eventFile);
  const expected = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from('1764129600.'), body]))
    .digest('hex');
  assert.match(dry.stdout, new RegExp(`^X-Onboarding-Signature: sha256=${expected}$`, 'm'));
  // The openssl recipe of docs/events.md gives the same signature (over the same bytes).
  const openssl = execFileSync(
    'sh',
    [
      '-c',
      `{ printf '%s.' "$TS"; cat "$FILE"; } | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/.* //'`,
    ],
    { env: { ...process.env, TS: '1764129600', FILE: eventFile, SECRET: secret } },
  )
    .toString()
    .trim();
  assert.equal(openssl, expected);

  const noSecret = await cli(h, ['send-event', '--file', eventFile], {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'no-secret-')),
  });
  assert.equal(noSecret.code, 1);
  assert.match(
    noSecret.stderr,
    /^error: no events secret: set EVENTS_HMAC_SECRET to the ingress's, or start the ingress once/,
  );
  const noFile = await cli(h, ['send-event', '--file', join(dir, 'missing.json')]);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /^error: --file: cannot read ".*missing\.json" \(ENOENT\)/);
  await h.env.client.workflow.getHandle(answer.workflowId).cancel();
});

test('report-signin-error reaches the onboarding and prints its classification', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'sign-in');

  const bad = await cli(h, ['report-signin-error', customer.accountId, '--error', '  ', '--by', 'Olga Ops']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: --error: must not be empty: paste the error text the user saw/);

  const text = `AADSTS500011: The resource principal named ${customer.org} was not found in the tenant named ${customer.domain}.`;
  const run = await cli(h, ['report-signin-error', customer.accountId, '--error', text, '--by', 'Olga Ops']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^signInErrorReported sent to ${handle.workflowId}$`, 'm'));
  assert.match(run.stdout, /^classified as AADSTS500011 /m);
  assert.match(run.stdout, /^ {2}step now +waiting-for-resource-fix \(waiting for resource-fix\)$/m);
  const status = await handle.query(statusQuery);
  assert.equal(status.lastError?.code, 500011);
  assert.ok(status.timeline.some((t) => t.event === 'sign-in error reported' && t.detail === 'by Olga Ops'));

  await handle.cancel();
  await until('cancelled', async () => (await handle.describe()).status.name === 'CANCELLED');
  const ended = await cli(h, [
    'report-signin-error',
    customer.accountId,
    '--error',
    text,
    '--by',
    'Olga Ops',
  ]);
  assert.equal(ended.code, 1);
  assert.match(ended.stderr, /^error: the onboarding \S+ has ended: cancelled; nothing was sent$/m);
});

test('app-status shows the app, the secret expiry and renewal date, and the holders; renew-secret rotates it', async () => {
  const before = await owner().query(appRegistrationStatusQuery);
  assert.ok(before.appId);
  const shown = await cli(h, ['app-status']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^ {2}app id +${before.appId}$`, 'm'));
  assert.match(shown.stdout, new RegExp(`^ {2}secret +${before.secretKeyId}$`, 'm'));
  assert.match(shown.stdout, /^ {2}expires +\d{4}-\d\d-\d\d \d\d:\d\d UTC$/m);
  assert.match(shown.stdout, /^ {2}renewal +\d{4}-\d\d-\d\d \d\d:\d\d UTC$/m);
  assert.match(
    shown.stdout,
    new RegExp(`^ {2}holders +${before.holders} account connectors? holds? the secret$`, 'm'),
  );
  assert.deepEqual(JSON.parse((await cli(h, ['app-status', '--json'])).stdout), before);

  const refused = await cli(h, ['renew-secret', '--by', '']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^error: --by: must not be empty/);

  const renewed = await cli(h, ['renew-secret', '--by', 'Olga Ops']);
  assert.equal(renewed.code, 0, renewed.stderr);
  const after = await owner().query(appRegistrationStatusQuery);
  assert.notEqual(after.secretKeyId, before.secretKeyId, 'a new secret');
  assert.match(
    renewed.stdout,
    new RegExp(`^renewed: secret ${before.secretKeyId} replaced by ${after.secretKeyId}`, 'm'),
  );
  assert.equal(after.rotations[after.rotations.length - 1].reason, 'renewed now by Olga Ops');
  const app = (await h.sim.state()).applications.find((a) => a.appId === before.appId)!;
  const keys = app.passwordCredentials.map((p) => p.keyId);
  assert.ok(keys.includes(after.secretKeyId!), 'the new secret exists');
  assert.ok(!keys.includes(before.secretKeyId!), 'the old secret was removed');
});

test('the ops page: the shared app and renewing its secret, and reporting a sign-in error, each confirmed', async () => {
  const ops = new OpsClient(h.ingressUrl);
  await ops.login('Olga Ops', OPS_TOKEN);
  const before = await owner().query(appRegistrationStatusQuery);
  const page = await ops.request('/ops/app');
  assert.equal(page.status, 200);
  assert.match(page.body, new RegExp(`<dt>App id</dt><dd>${before.appId}</dd>`));
  assert.match(page.body, /<dt>Renewal date<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/dd>/);
  assert.match(page.body, new RegExp(`<dt>Holders</dt><dd>${before.holders} account connector`));
  const csrf = await ops.csrf('/ops/app');
  assert.equal((await ops.request('/ops/app/renew', { confirm: 'yes' })).status, 403, 'no csrf, no renewal');
  const asked = await ops.request('/ops/app/renew', { csrf });
  assert.equal(asked.status, 200);
  assert.match(asked.body, /Renew the client secret of app [0-9a-f-]+ now/);
  assert.equal((await owner().query(appRegistrationStatusQuery)).secretKeyId, before.secretKeyId);
  const done = await ops.request('/ops/app/renew', { csrf, confirm: 'yes' });
  assert.equal(done.status, 303);
  assert.equal(done.location, '/ops/app?sent=renewed');
  const after = await owner().query(appRegistrationStatusQuery);
  assert.notEqual(after.secretKeyId, before.secretKeyId);
  assert.equal(after.rotations[after.rotations.length - 1].reason, 'renewed now by Olga Ops (ops page)');
  assert.match((await ops.request('/ops/app?sent=renewed')).body, /The secret was renewed/);

  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  const detail = `/ops/onboardings/${customer.accountId}`;
  assert.match((await ops.request(detail)).body, /action="\/ops\/onboardings\/[^"]+\/signin-error"/);
  const text =
    'AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication <script>alert(1)</script>';
  const confirm = await ops.request(`${detail}/signin-error`, { csrf, text });
  assert.equal(confirm.status, 200);
  assert.match(confirm.body, /Signal signInErrorReported to dynamics-onboarding-/);
  assert.ok(!confirm.body.includes('<script>alert'), 'escaped');
  const sent = await ops.request(`${detail}/signin-error`, { csrf, text, confirm: 'yes' });
  assert.equal(sent.status, 303);
  assert.equal(sent.location, `${detail}?sent=signInErrorReported`);
  await until('the report is recorded', async () =>
    (await handle.query(statusQuery)).timeline.some(
      (t) => t.event === 'sign-in error reported' && t.detail === 'by Olga Ops (ops page)',
    ),
  );
  await handle.cancel();
});
