// The ops page over plain HTTP: nothing without the token, no action without the session's CSRF
// token and a confirmation, every refusal naming the field, every action recorded with who did it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { waitUntil } from '../src/demo/sample-onboarding';
import { statusQuery } from '../src/shared/messages';
import { createCyclrClient } from '../src/clients/cyclr';
import { loadConfig } from '../src/config';
import { startIngress } from '../src/ingress/server';
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

test('guessing the token is slowed down; the right token is never refused because of others', async () => {
  // Mallory guesses: after a few free failures her own tries wait, the right token included.
  const eve = new OpsClient(h.ingressUrl);
  const answers: number[] = [];
  for (let i = 0; i < 20; i++) answers.push((await eve.login('Mallory', `guess-${i}`)).status);
  assert.deepEqual(answers.slice(0, 6), [401, 401, 401, 401, 401, 401], 'five free failures, and one more');
  // Then doubling waits (1 s, 2 s, 4 s...), which trying early only lengthens.
  assert.ok(answers.filter((s) => s === 429).length >= 10, answers.join(','));
  const blocked = await eve.login('Mallory', OPS_TOKEN);
  assert.equal(blocked.status, 429);
  assert.match(
    blocked.body,
    /Too many failed sign-ins with this name from your address: try again in \d+ (seconds|minutes)/,
  );
  assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  assert.equal(blocked.setCookie, null);

  // Ten bad tries from the same (shared) address lock nobody else out.
  const olga = new OpsClient(h.ingressUrl);
  assert.equal((await olga.login('Olga Ops', OPS_TOKEN)).status, 303);
  assert.match(olga.cookie, /ops_device=/, 'her browser is remembered');
  // An ops user with a typo: a few wrong tries, then in.
  const tom = new OpsClient(h.ingressUrl);
  for (const typo of [`${OPS_TOKEN}x`, OPS_TOKEN.slice(1), ` ${OPS_TOKEN}`])
    assert.equal((await tom.login('Tom', typo)).status, 401);
  assert.equal((await tom.login('Tom', OPS_TOKEN)).status, 303);

  // A guesser changing names holds back browsers that never signed in from that address...
  for (let i = 0; i < 25; i++) await new OpsClient(h.ingressUrl).login(`name-${i}`, `guess-${i}`);
  const newcomer = await new OpsClient(h.ingressUrl).login('Pat', OPS_TOKEN);
  assert.equal(newcomer.status, 429);
  assert.match(
    newcomer.body,
    /from your address \(a browser that has signed in here before is not held back/,
  );
  // ...never one that has signed in before.
  const again = new OpsClient(h.ingressUrl);
  again.cookie = olga.cookie.split('; ').find((c) => c.startsWith('ops_device='))!;
  assert.equal((await again.login('Olga Ops', OPS_TOKEN)).status, 303);
});

test('signing out ends the session on the server: the old cookie no longer works', async () => {
  const ops = new OpsClient(h.ingressUrl);
  // A browser that signed in before (the throttle test above may have held back this address).
  ops.keep([(await signedInBrowser()).deviceCookie]);
  assert.equal((await ops.login('Olga Ops', OPS_TOKEN)).status, 303);
  const session = ops.cookie;
  const csrf = await ops.csrf();
  const out = await ops.request('/ops/logout', { csrf });
  assert.equal(out.status, 303);
  assert.equal(out.location, '/ops/login');
  assert.match(out.setCookie ?? '', /ops_session=;/);
  const replayed = new OpsClient(h.ingressUrl);
  replayed.cookie = session;
  const page = await replayed.request('/ops');
  assert.equal(page.status, 303, 'the session cookie kept from before sign-out is refused');
  assert.match(page.location ?? '', /^\/ops\/login/);
  assert.equal((await replayed.request('/ops/logout', { csrf })).status, 401);
});

test('odd query values are plain values: ?sent=constructor and friends', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const ops = new OpsClient(h.ingressUrl);
  ops.keep([(await signedInBrowser()).deviceCookie]);
  await ops.login('Olga Ops', OPS_TOKEN);
  for (const sent of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'consentGranted']) {
    const page = await ops.request(`/ops/onboardings/${customer.accountId}?sent=${sent}`);
    assert.equal(page.status, 200, sent);
  }
  await handle.cancel();
});

test('behind https: HSTS and Secure cookies; INGRESS_TRUST_PROXY=true takes the forwarded address', async () => {
  const port = await freePort();
  const config = loadConfig(
    {},
    {
      ...Object.fromEntries(
        Object.entries(h.config)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)]),
      ),
      INGRESS_PORT: String(port),
      PUBLIC_BASE_URL: 'https://onboarding.partner.example',
      INGRESS_TRUST_PROXY: 'true',
    },
  );
  const server = await startIngress({
    config,
    keys: h.keys,
    client: h.env.client,
    cyclr: createCyclrClient(config),
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const login = (address: string, token: string) =>
      fetch(`${base}/ops/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': address },
        body: new URLSearchParams({ name: 'Eve', token }).toString(),
      });
    const page = await login('203.0.113.1', OPS_TOKEN);
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('strict-transport-security'), 'max-age=31536000');
    for (const cookie of page.headers.getSetCookie()) assert.match(cookie, /; Secure/i);
    for (let i = 0; i < 10; i++) await login('203.0.113.1', 'wrong');
    assert.equal(
      (await login('203.0.113.1', OPS_TOKEN)).status,
      429,
      'counted against the forwarded address',
    );
    assert.equal((await login('203.0.113.2', OPS_TOKEN)).status, 303, 'another client behind the proxy');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** A device cookie of a browser that signed in before, from an address nobody has failed from. */
async function signedInBrowser(): Promise<{ deviceCookie: string }> {
  const port = await freePort();
  const config = { ...h.config, INGRESS_PORT: port, INGRESS_TRUST_PROXY: true };
  const server = await startIngress({
    config,
    keys: h.keys,
    client: h.env.client,
    cyclr: createCyclrClient(config),
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ops/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': '192.0.2.77' },
      body: new URLSearchParams({ name: 'Olga Ops', token: OPS_TOKEN }).toString(),
    });
    return { deviceCookie: res.headers.getSetCookie().find((c) => c.startsWith('ops_device='))! };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('actions per onboarding are capped: twenty confirmed at once send ten signals at most', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const ops = new OpsClient(h.ingressUrl);
  ops.keep([(await signedInBrowser()).deviceCookie]);
  await ops.login('Olga Ops', OPS_TOKEN);
  const detail = `/ops/onboardings/${customer.accountId}`;
  const csrf = await ops.csrf(detail);
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => ops.request(`${detail}/consent`, { csrf, confirm: 'yes' })),
  );
  const statuses = answers.map((a) => a.status);
  assert.ok(
    statuses.every((s) => [303, 409, 429].includes(s)),
    statuses.join(','),
  );
  assert.ok(statuses.filter((s) => s === 303).length <= 10, statuses.join(','));
  const history = await handle.fetchHistory();
  const signals = history.events!.filter(
    (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'consentGranted',
  );
  assert.ok(signals.length >= 1 && signals.length <= 10, `${signals.length} consentGranted signals`);
  await handle.cancel();
});

test('sign-in errors reported from the page count with the other actions: the eleventh in ten minutes waits', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const ops = new OpsClient(h.ingressUrl);
  ops.keep([(await signedInBrowser()).deviceCookie]);
  await ops.login('Olga Ops', OPS_TOKEN);
  const detail = `/ops/onboardings/${customer.accountId}`;
  const csrf = await ops.csrf(detail);
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++)
    statuses.push(
      (await ops.request(`${detail}/signin-error`, { csrf, text: `AADSTS50105: try ${i}`, confirm: 'yes' }))
        .status,
    );
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(303), statuses.join(','));
  assert.deepEqual(statuses.slice(10), [429, 429]);
  await handle.cancel();
});
