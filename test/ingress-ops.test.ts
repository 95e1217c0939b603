// The ops page over plain HTTP: nothing without the token, no action without the session's CSRF
// token and a confirmation, every refusal naming the field, every action recorded with who did it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { statusQuery } from '../src/shared/messages';
import { freePort, startHarness, type Harness } from './helpers/harness';
import { startOnboarding } from './helpers/flow';
import { OpsClient } from './helpers/ops';

const OPS_TOKEN = randomBytes(24).toString('base64url');
let h: Harness;
before(async () => {
  h = await startHarness('dev-server', { OPS_TOKEN });
});
after(async () => {
  await h?.close();
});

test('health: /healthz answers, /readyz says Temporal is reachable', async () => {
  const health = await fetch(`${h.ingressUrl}/healthz`);
  assert.equal(health.status, 200);
  const ready = await fetch(`${h.ingressUrl}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ok: true, temporal: 'reachable' });
});

test('without a session nothing is shown or done; a wrong token or name is refused by field', async () => {
  const anon = new OpsClient(h.ingressUrl);
  const list = await anon.request('/ops?step=verified');
  assert.equal(list.status, 303);
  assert.equal(list.location, '/ops/login?next=%2Fops%3Fstep%3Dverified');
  const action = await anon.request('/ops/onboardings/acct-x/consent', { confirm: 'yes' });
  assert.equal(action.status, 401);
  assert.match(action.body, /sign in first/);

  anon.cookie = 'ops_session=eyJieSI6ImV2ZSIsInNpZCI6IngiLCJleHAiOjk5OTk5OTk5OTl9.forged';
  assert.equal((await anon.request('/ops')).status, 303, 'a forged session cookie is no session');

  const wrong = await anon.login('Eve', 'guess');
  assert.equal(wrong.status, 401);
  assert.match(wrong.body, /token: not the ops token/);
  assert.equal(wrong.setCookie, null);
  const noName = await anon.login('   ', OPS_TOKEN);
  assert.equal(noName.status, 400);
  assert.match(noName.body, /name: must not be empty/);

  const ops = new OpsClient(h.ingressUrl);
  const good = await ops.login('Olga Ops', OPS_TOKEN);
  assert.equal(good.status, 303);
  assert.match(good.setCookie!, /HttpOnly/i);
  assert.match(good.setCookie!, /SameSite=Strict/i);
  assert.match(good.setCookie!, /Path=\/ops/);
  const page = await ops.request('/ops');
  assert.equal(page.status, 200);
  assert.match(page.body, /Signed in as <b>Olga Ops<\/b>/);
  assert.ok(!page.body.includes(OPS_TOKEN), 'the token is never echoed');

  // Only our own pages are redirect targets after sign-in.
  const evil = await new OpsClient(h.ingressUrl).request('/ops/login', {
    name: 'Olga',
    token: OPS_TOKEN,
    next: '//evil.example/ops',
  });
  assert.equal(evil.location, '/ops');
});

test('actions need the CSRF token and a confirmation, and are recorded with who did them', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const ops = new OpsClient(h.ingressUrl);
  await ops.login('Olga Ops', OPS_TOKEN);
  const detail = `/ops/onboardings/${customer.accountId}`;
  const csrf = await ops.csrf(detail);

  const other = new OpsClient(h.ingressUrl);
  await other.login('Someone Else', OPS_TOKEN);
  const otherCsrf = await other.csrf();

  for (const [name, form] of [
    ['no csrf', { confirm: 'yes' }],
    ['wrong csrf', { csrf: 'x'.repeat(43), confirm: 'yes' }],
    ["another session's csrf", { csrf: otherCsrf, confirm: 'yes' }],
  ] as const) {
    const refused = await ops.request(`${detail}/consent`, form);
    assert.equal(refused.status, 403, name);
    assert.match(refused.body, /csrf: the form is stale or did not come from this page/, name);
  }

  // The first post only asks for confirmation.
  const asked = await ops.request(`${detail}/consent`, { csrf, note: 'granted by phone' });
  assert.equal(asked.status, 200);
  assert.match(asked.body, /Signal consentGranted to dynamics-onboarding-/);
  assert.match(asked.body, /name="confirm" value="yes"/);
  assert.equal((await handle.query(statusQuery)).waitingFor, 'consent', 'nothing sent before confirming');

  // Not waiting for a resource fix: refused, naming why.
  const early = await ops.request(`${detail}/resource`, {
    csrf,
    resourceUrl: customer.org,
    confirm: 'yes',
  });
  assert.equal(early.status, 409);
  assert.match(early.body, /not waiting for a resource fix or a sign-in \(step waiting-for-consent\)/);
  const badUrl = await ops.request(`${detail}/resource`, { csrf, resourceUrl: 'http://x.crm.dynamics.com' });
  assert.equal(badUrl.status, 400);
  assert.match(badUrl.body, /resourceUrl: must use https/);

  // The admin granted it by phone: Microsoft confirms it when ops report it.
  await h.sim.grantConsent(customer.tenantId, (await handle.query(statusQuery)).appId!);
  const sent = await ops.request(`${detail}/consent`, { csrf, note: 'granted by phone', confirm: 'yes' });
  assert.equal(sent.status, 303);
  assert.equal(sent.location, `${detail}?sent=consentGranted`);
  const moved = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  assert.ok(
    moved.timeline.some(
      (t) =>
        t.event === 'consent granted' &&
        t.detail === 'reported by Olga Ops (ops page): granted by phone; confirmed by Microsoft',
    ),
  );
  const again = await ops.request(`${detail}/consent`, { csrf, confirm: 'yes' });
  assert.equal(again.status, 409);
  assert.match(again.body, /not waiting for consent \(step exchanging-token\); nothing was sent/);
  await handle.cancel();
});

test('bad filters and accounts are refused by name', async () => {
  const ops = new OpsClient(h.ingressUrl);
  await ops.login('Olga Ops', OPS_TOKEN);
  const step = await ops.request('/ops?step=waiting');
  assert.equal(step.status, 400);
  assert.match(step.body, /step: expected one of registering-app, waiting-for-consent/);
  const account = await ops.request('/ops/onboardings/bad%20account!');
  assert.equal(account.status, 400);
  assert.match(account.body, /account: expected the Cyclr account API ID/);
  const unknown = await ops.request('/ops/onboardings/no-such-account');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body, /account: no onboarding for &quot;no-such-account&quot;/);
});

test('npm run ingress: serves with its own Temporal client and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: h.env.address,
    TEMPORAL_NAMESPACE: 'default',
  };
  for (const [key, value] of Object.entries(h.config)) if (value !== undefined) env[key] = String(value);
  Object.assign(env, { INGRESS_PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
  const root = resolve(__dirname, '..');
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'src/ingress/main.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const until = Date.now() + 60_000;
    while (!output.includes('ops page')) {
      if (child.exitCode !== null || Date.now() > until) throw new Error(`ingress did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(!output.includes(OPS_TOKEN), 'the ops token is not logged');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM: stopping the ingress/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('guessing the ops token is cut short: after 10 failures from one address, sign-in waits', async () => {
  const guesser = new OpsClient(h.ingressUrl);
  for (let i = 0; i < 10; i++) assert.equal((await guesser.login('Eve', `guess-${i}`)).status, 401);
  const blocked = await guesser.login('Eve', OPS_TOKEN);
  assert.equal(blocked.status, 429, 'even the right token, once the address is blocked');
  assert.match(blocked.body, /Too many failed sign-ins from your address: try again in \d+ minutes/);
  assert.equal(blocked.setCookie, null);
});
