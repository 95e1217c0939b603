// Someone holding a customer's links (a forwarded e-mail), over real HTTP: thousands of error
// callbacks, made-up consents and sign-in returns, a flood of sign-in link opens. Each link passes
// on a bounded few outcomes, repeats are 409 without a signal, the history stays small, status
// answers, the webhook hears each problem once, the ops CLI prints the hostile text visibly, and
// the onboarding still reaches verified when the real admin and user act. Also: answers at once
// while Temporal is unreachable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { createCyclrClient } from '../src/clients/cyclr';
import { dataConverter } from '../src/codec/data-converter';
import { waitUntil } from '../src/demo/sample-onboarding';
import { startIngress } from '../src/ingress/server';
import { signLinkState, stateOfLink } from '../src/secrets/link-state';
import { consentFailedSignal, statusQuery } from '../src/shared/messages';
import type { OnboardingResult, OnboardingStatus } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { freePort, startHarness, type Harness } from './helpers/harness';
import { postEvent, signedEvent } from './helpers/events';
import { OpsClient } from './helpers/ops';
import { until } from './helpers/until';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
const OPS_TOKEN = 'hostile-test-ops-token-0123456789';

let h: Harness;
let hooks: WebhookReceiver;
before(async () => {
  hooks = await startWebhookReceiver();
  h = await startHarness('dev-server', {
    NOTIFY_WEBHOOK_URL: hooks.url,
    OPS_TOKEN,
    EVENTS_HMAC_SECRET: 'e'.repeat(40),
    SIGNIN_TOKEN_REUSE_SECONDS: '60',
  });
});
after(async () => {
  await h?.close();
  await hooks?.close();
});

/** Runs `fn` over 0..n-1, `width` at a time; counts the answers by status. */
async function flood(n: number, width: number, fn: (i: number) => Promise<Response>) {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const res = await fn(next++);
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

const get = (url: string) => fetch(url, { redirect: 'manual' });

/** Terminal escapes: clear the screen, a colour, an OSC window title, a C1 CSI, a bidi override. */
const ESCAPES = '\x1b[2J\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\x9b2J\u202eevil';
// eslint-disable-next-line no-control-regex -- matching raw escapes is the point
const RAW_ESCAPE = /[\x1b\x07\x9b\u202e]/;

async function historyLength(workflowId: string): Promise<number> {
  const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

async function opsCli(...args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'src', 'cli', 'main.ts'), ...args],
    { cwd: root, env: { ...process.env, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_NAMESPACE: 'default' } },
  );
  return stdout;
}

test('a hostile holder of the consent link: thousands of callbacks pass on a few outcomes; the real admin still gets through', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'consent');
  const state = encodeURIComponent(stateOfLink(waiting.consentUrl)!);
  const callback = (query: string) => `${h.ingressUrl}/callbacks/consent?state=${state}&${query}`;
  const description = encodeURIComponent(`AADSTS65004: declined ${ESCAPES} ${'x'.repeat(4000)}`);

  // The same declined consent, 2000 times, 16 at a time: passed on once.
  const same = await flood(2000, 16, () =>
    get(callback(`error=access_denied&error_description=${description}`)),
  );
  assert.deepEqual(same, { 200: 1, 409: 1999 }, JSON.stringify(same));
  // Made-up errors of every kind: a few more kinds per link, then nothing.
  const codes = [50020, 65001, 90094, 700016, 50076, 7000112, 1234567];
  const varied = await flood(1000, 16, (i) =>
    get(
      callback(
        `error=${i % 2 ? 'access_denied' : `x${i}`}&error_description=${encodeURIComponent(`AADSTS${codes[i % codes.length]}: made up ${i} ${ESCAPES}`)}`,
      ),
    ),
  );
  assert.equal(varied[200] ?? 0, 2, `three kinds per consent link in all: ${JSON.stringify(varied)}`);
  assert.equal(varied[409], 998);

  // A consent that is not there, reported 500 times with a hostile tenant: passed on once.
  const granted = await flood(500, 16, () =>
    get(callback(`admin_consent=True&tenant=${encodeURIComponent(ESCAPES)}`)),
  );
  // (Once; again only if Microsoft, asked meanwhile, had said there is no consent: three at most.)
  assert.ok(granted[200] >= 1 && granted[200] <= 3, JSON.stringify(granted));
  assert.equal(granted[409], 500 - granted[200]);
  // Microsoft does not confirm it: the onboarding waits for consent again, with the same link.
  const unconfirmed = await until('the report checked with Microsoft', async () => {
    const s = await handle.query(statusQuery);
    return (
      s.waitingFor === 'consent' && s.timeline.some((t) => t.event === 'consent reported, not confirmed')
    );
  }).then(() => handle.query(statusQuery));
  assert.equal(unconfirmed.consentUrl, waiting.consentUrl);
  const reported = unconfirmed.timeline.find((t) => t.event === 'consent reported');
  assert.match(reported?.detail ?? '', /tenant not a tenant id/, 'the hostile tenant is not recorded');

  // The history stays small, the status answers, the webhook heard each problem once.
  const events = await historyLength(handle.workflowId);
  assert.ok(events < 400, `history of ${events} events after 3500 callbacks`);
  const problems = hooks.of(handle.workflowId).filter((n) => n.kind === 'problem');
  assert.ok(problems.length <= 4, `problems notified: ${problems.length}`);

  // The hostile text is data. The ingress passed it on escaped; sent raw with Temporal access (as
  // the official CLI can), the ops CLI still prints it visibly and the ops page escapes it.
  await handle.signal(consentFailedSignal, {
    error: 'access_denied',
    errorDescription: `AADSTS65004: raw ${ESCAPES} <img src=x onerror=alert(1)>`,
  });
  await until('the raw problem recorded', async () =>
    (await handle.query(statusQuery)).lastError!.message.includes('raw'),
  );
  const printed = await opsCli('status', customer.accountId);
  assert.ok(!RAW_ESCAPE.test(printed), 'no raw escape reaches the terminal');
  assert.match(printed, /raw \\x1b\[2J\\x1b\[31mRED/, 'the escapes are shown');
  assert.ok(!RAW_ESCAPE.test(await opsCli('status', customer.accountId, '--json')));
  const ops = new OpsClient(h.ingressUrl);
  await ops.login('Olga Ops', OPS_TOKEN);
  const page = await ops.request(`/ops/onboardings/${customer.accountId}`);
  assert.equal(page.status, 200);
  assert.ok(page.body.includes('&lt;img src=x onerror=alert(1)&gt;'), 'escaped in HTML');
  assert.ok(!page.body.includes('<img'));

  // The real admin consents with the same link: the onboarding goes on to verified.
  const consent = await adminConsents(h, customer);
  assert.equal(consent.status, 200, consent.body);
  assert.match(consent.body, /consent granted/);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');
});

test('a hostile holder of a sign-in link: opens reuse one token, returns and reports pass on once', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  const waiting = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  const state = stateOfLink(waiting.signInUrl)!;
  const tokensBefore = (await h.sim.state()).counts.signInTokensIssued;

  // 200 opens of the sign-in link: one Cyclr token, then 429 with when to come back.
  const opens = await flood(200, 16, () => get(waiting.signInUrl!));
  assert.equal(opens[302], 30, JSON.stringify(opens));
  assert.equal(opens[429], 170);
  assert.equal((await h.sim.state()).counts.signInTokensIssued, tokensBefore + 1, 'one token minted');
  const refused = await get(waiting.signInUrl!);
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.match(await refused.text(), /Try again at \d\d:\d\d UTC \(in \d+ (seconds|minutes?)\)/);

  // 2000 returns with a hostile error: passed on once; the onboarding offers a new sign-in.
  const landing = `${h.ingressUrl}/callbacks/signin?state=${encodeURIComponent(state)}&error=access_denied&error_description=${encodeURIComponent(`made up: ${ESCAPES}`)}`;
  const returns = await flood(2000, 16, () => get(landing));
  assert.deepEqual(returns, { 200: 1, 409: 1999 }, JSON.stringify(returns));
  const attempt = async (n: number) =>
    until(`sign-in attempt ${n}`, async () => {
      const s = await handle.query(statusQuery);
      return s.waitingFor === 'sign-in' && s.signInAttempt === n;
    });
  await attempt(2);
  // 1000 error reports from that landing page: passed on once.
  const reports = await flood(1000, 16, (i) =>
    fetch(`${h.ingressUrl}/callbacks/signin/report`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ state, error_text: `made up ${i}: ${ESCAPES}` }).toString(),
    }),
  );
  assert.deepEqual(reports, { 200: 1, 409: 999 }, JSON.stringify(reports));
  await attempt(3);

  const status: OnboardingStatus = await handle.query(statusQuery);
  const events = await historyLength(handle.workflowId);
  assert.ok(events < 400, `history of ${events} events after 3200 requests (step ${status.step})`);

  // The real user signs in with the link the onboarding publishes now.
  const signIn = await userSignsIn(h, customer);
  assert.match(signIn.body, /Connected/);
  assert.equal(((await handle.result()) as OnboardingResult).outcome, 'verified');
});

test('public pages carry the CSP, nosniff and frame denial; repeated link use is cheap', async () => {
  const res = await get(`${h.ingressUrl}/callbacks/consent?state=nope`);
  assert.equal(res.status, 400);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /style-src 'sha256-/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
  for (const path of ['/signin?state=x', '/callbacks/signin?state=x', '/healthz'])
    assert.equal((await get(`${h.ingressUrl}${path}`)).headers.get('x-content-type-options'), 'nosniff');
});

test('with Temporal unreachable, callbacks, events and the ops page answer 503 at once', async () => {
  const port = await freePort();
  const deadPort = await freePort();
  const config = { ...h.config, INGRESS_PORT: port, PUBLIC_BASE_URL: `http://127.0.0.1:${port}` };
  const connection = Connection.lazy({ address: `127.0.0.1:${deadPort}` });
  const client = new Client({ connection, dataConverter: dataConverter(h.config) });
  const server = await startIngress({ config, keys: h.keys, client, cyclr: createCyclrClient(config) });
  try {
    const state = signLinkState(h.keys.stateSigningKey, {
      purpose: 'consent',
      workflowId: 'dynamics-onboarding-nowhere',
      attempt: 0,
      exp: Math.floor(Date.now() / 1000) + 3600,
    });
    for (let i = 0; i < 3; i++) {
      const res = await get(`${config.PUBLIC_BASE_URL}/callbacks/consent?admin_consent=True&state=${state}`);
      assert.equal(res.status, 503, `try ${i}`);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.match(await res.text(), /Please try again/);
    }
    const event = await fetch(`${config.PUBLIC_BASE_URL}/events/onboarding`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(event.status, 401, 'an unsigned event is refused before Temporal is asked');
    const signed = await postEvent(
      config.PUBLIC_BASE_URL,
      signedEvent(h.config.EVENTS_HMAC_SECRET!, {
        cyclrAccountId: 'acme-42',
        customerTenant: 'contoso.onmicrosoft.com',
        resourceUrl: 'https://contoso.crm.dynamics.com',
      }),
    );
    assert.equal(signed.status, 503);
    assert.match(signed.body.error!, /temporarily unavailable; send the event again later/);
    assert.ok(Number(signed.headers['retry-after']) > 0);
    const ops = new OpsClient(config.PUBLIC_BASE_URL);
    assert.equal((await ops.login('Olga Ops', OPS_TOKEN)).status, 303);
    assert.equal((await ops.request('/ops/onboardings/acme-42')).status, 503);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await connection.close().catch(() => undefined);
  }
});
