// Whatever fails, no secret or token is written anywhere: every step is failed through the
// simulators' faults (and the people in the loop decline or never come), with the real worker
// process as a child; then its stdout/stderr, every history (plain and decoded through the codec
// server), every status query, every workflow outcome and every notification are searched for
// every secret the simulators issued and every credential and key of the product.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { followLink } from '../src/demo/person';
import { waitUntil } from '../src/demo/sample-onboarding';
import { codecServerOptions, startCodecServer } from '../src/codec/server';
import { statusQuery } from '../src/shared/messages';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, type Harness } from './helpers/harness';
import { allWorkflowIds, exportHistory, leaksIn, secretValues } from './helpers/leaks';
import type { Customer } from './helpers/sim-control';
import { spawnWorker, type WorkerProcess } from './helpers/worker-process';

let h: Harness;
let worker: WorkerProcess;
let codec: Server;
let hook: Server;
const notifications: string[] = [];
const written: { what: string; text: string }[] = [];
/** Secret-shaped values a misbehaving service echoes back in unexpected answers. */
const ECHOED = ['echoed-graph-secretText-9Qz~Vb1', 'ZWNob2VkLWN5Y2xyLXNpZ24taW4tdG9rZW4='];
// The ingress runs in this process: what it logs is searched too.
const testOutput: string[] = [];
for (const level of ['log', 'info', 'warn', 'error'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    testOutput.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : String(a))).join(' '));
    original(...args);
  };
}

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      notifications.push(`${JSON.stringify(req.headers)}\n${body}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  h = await startHarness('dev-server', {
    NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
    // The sign-in link is reopened at once after each odd Cyclr answer: a fresh token each time.
    SIGNIN_TOKEN_REUSE_SECONDS: '0',
  });
  await h.stopWorker(); // only the child process works: its output is searched
  worker = await spawnWorker(h.env.address, h.config, {
    WORKFLOW_BUNDLE_PATH: h.bundlePath,
    LOG_LEVEL: 'debug',
  });
  codec = await startCodecServer(codecServerOptions(h.config, 'default'), 0, '127.0.0.1');
});
after(async () => {
  await worker?.kill();
  codec?.close();
  hook?.close();
  await h?.close();
});

const fault = (service: string, method: string, path: string, action: object, times = 1) =>
  h.sim.call('POST', '/faults', { match: { service, method, path }, times, action });

/** The onboarding's end (result or failure) and its status, kept for the search. */
async function settle(name: string, handle: WorkflowHandle): Promise<string> {
  let outcome: string;
  try {
    const result = await handle.result();
    outcome = `result ${JSON.stringify(result)}`;
  } catch (err) {
    const e = err as Error & { cause?: Error & { cause?: Error } };
    outcome = `failure ${e.message} / ${e.cause?.message} / ${e.cause?.cause?.message} ${e.cause?.stack ?? ''}`;
  }
  written.push({ what: `${name}: outcome`, text: outcome });
  written.push({ what: `${name}: status query`, text: JSON.stringify(await handle.query(statusQuery)) });
  return outcome;
}

async function waitingStatus(h: Harness, customer: Customer, what: 'consent' | 'sign-in' | 'resource-fix') {
  const status = await waitUntil(h.env.client, `dynamics-onboarding-${customer.accountId}`, what);
  written.push({
    what: `${customer.accountId}: status while waiting for ${what}`,
    text: JSON.stringify(status),
  });
  return status;
}

test('every step failed: no secret in logs, histories, queries, outcomes or notifications', async () => {
  const ends: Record<string, string> = {};

  // 1 register the app: the Graph token is refused (configuration), then a 500 and a 429 on Graph
  // writes (transient, retried) for the next onboarding.
  const c1 = await h.sim.seedCustomer();
  await fault('identity', 'POST', '/oauth2/v2\\.0/token$', { type: 'status', status: 401 });
  ends.registerApp = await settle('register app', await startOnboarding(h, c1));
  assert.match(ends.registerApp, /failure/);

  // ...and a Graph that answers addPassword with an unexpected 201 carrying the secret.
  const c1b = await h.sim.seedCustomer();
  await fault('graph', 'POST', '/addPassword$', {
    type: 'status',
    status: 201,
    body: { keyId: 'k', secretText: ECHOED[0], endDateTime: '2030-01-01T00:00:00Z' },
  });
  ends.registerAppEcho = await settle('register app (echo)', await startOnboarding(h, c1b));
  assert.match(ends.registerAppEcho, /failure/);

  await fault('graph', 'PATCH', '^/v1\\.0/applications', {
    type: 'status',
    status: 429,
    headers: { 'Retry-After': '1' },
  });
  await fault('graph', 'POST', '/addPassword$', { type: 'drop', when: 'after' });
  // 2 wait for consent: the admin declines; ops give up and cancel.
  const c2 = await h.sim.seedCustomer();
  const h2 = await startOnboarding(h, c2);
  await waitingStatus(h, c2, 'consent').catch(async (err) => {
    throw new Error(`${err}: ${JSON.stringify((await h2.query(statusQuery)).lastError)}`);
  });
  await adminConsents(h, c2, 'decline');
  await h2.cancel();
  ends.consent = await settle('consent', h2);
  assert.match(ends.consent, /cancel/i);

  // 3 set the Resource: Cyclr refuses the install (403), after a dropped property write elsewhere.
  const c3 = await h.sim.seedCustomer();
  await fault('cyclr-api', 'POST', '/install$', { type: 'status', status: 403 });
  const h3 = await startOnboarding(h, c3);
  await adminConsents(h, c3);
  ends.setResource = await settle('set resource', h3);
  assert.match(ends.setResource, /failure/);

  // 4 exchange the token: the sign-in token is refused once (500 at the ingress), the Resource is
  // wrong (AADSTS500011), a malformed correction is sent, then the sign-in deadline passes.
  const c4 = await h.sim.seedCustomer();
  const h4 = await startOnboarding(h, c4, {
    resourceUrl: 'https://wrongorg.crm.dynamics.com',
    consentAtSignIn: true,
  });
  await fault('cyclr-api', 'POST', '/signintoken$', { type: 'status', status: 500 });
  await fault('cyclr-api', 'POST', '/signintoken$', {
    type: 'status',
    status: 201,
    body: { Token: ECHOED[1], ExpiresAtUtc: '2030-01-01T00:00:00Z' },
  });
  const signIn = (await waitingStatus(h, c4, 'sign-in')).signInUrl!;
  await followLink(signIn, { username: c4.user }).catch(() => undefined); // the 500: "try again"
  await followLink(signIn, { username: c4.user }).catch(() => undefined); // the odd 201
  await followLink(signIn, { username: c4.admin, consentForOrg: true }).catch(() => undefined); // 500011
  await waitingStatus(h, c4, 'resource-fix');
  await h4.signal('resourceCorrected', { resourceUrl: 'javascript:alert(1)', by: 'ops' });
  await h4.cancel();
  ends.exchange = await settle('exchange token', h4);
  assert.match(ends.exchange, /cancel/i);

  // 5 verify: Cyclr answers 403 to every read of the account connector after the sign-in.
  const c5 = await h.sim.seedCustomer();
  const h5 = await startOnboarding(h, c5);
  await adminConsents(h, c5);
  await waitingStatus(h, c5, 'sign-in');
  await fault('cyclr-api', 'GET', '^/v1\\.0/account/connectors/\\d+$', { type: 'status', status: 403 }, -1);
  await userSignsIn(h, c5).catch(() => undefined);
  ends.verify = await settle('verify', h5);
  assert.match(ends.verify, /failure/);
  await h.sim.call('DELETE', '/faults');

  // Everything written, searched.
  const secrets = [...(await secretValues(h)), ...ECHOED];
  const auth = `Bearer ${h.config.CODEC_AUTH_TOKEN}`;
  const endpoint = `http://127.0.0.1:${(codec.address() as AddressInfo).port}/codecs`;
  const ids = await allWorkflowIds(h);
  for (const id of ids) {
    written.push({ what: `${id}: history`, text: await exportHistory(h, id) });
    written.push({ what: `${id}: history decoded`, text: await exportHistory(h, id, { endpoint, auth }) });
  }
  written.push({ what: 'worker stdout/stderr', text: worker.output() });
  written.push({ what: 'ingress (this process) console', text: testOutput.join('\n') });
  notifications.forEach((text, i) => written.push({ what: `notification ${i + 1}`, text }));

  const leaks = written.flatMap(({ what, text }) => leaksIn(text, secrets).map((s) => `${what}: ${s}`));
  assert.deepEqual(leaks, []);
  assert.ok(secrets.length >= 10, 'the search covers the issued secrets');
  assert.ok(worker.output().length > 0 && notifications.length > 0, 'there was something to search');
});
