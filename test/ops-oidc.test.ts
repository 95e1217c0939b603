// The ops page signing people in with OpenID Connect against the simulated Entra (the partner
// tenant's seeded ops sign-in app, its discovery document and signing keys), over plain HTTP:
// only members of the allowed group or app role get in, every action is recorded with the
// verified name, forged and replayed callbacks are refused, and the token sign-in is off.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { createCyclrClient } from '../src/clients/cyclr';
import { waitUntil } from '../src/demo/sample-onboarding';
import { opsSignInChecks } from '../src/doctor/ingress';
import { startIngress } from '../src/ingress/server';
import { resolveOpsToken } from '../src/ingress/ops-token';
import { statusQuery } from '../src/shared/messages';
import { freePort, startHarness, type Harness } from './helpers/harness';
import { startOnboarding } from './helpers/flow';
import { OpsClient, type OpsReply } from './helpers/ops';
import {
  configWith as harnessConfigWith,
  oidcSettings as harnessOidcSettings,
  startOidcIngress,
  type OidcIngress,
  type OpsSignInApp,
} from './helpers/ops-oidc';
import { unescapeHtml } from './helpers/html';

let h: Harness;
let oidc: OidcIngress;
let app: OpsSignInApp;
/** The ingress with OpenID Connect configured (the harness's own keeps the token sign-in). */
let oidcUrl: string;

before(async () => {
  h = await startHarness('dev-server');
  oidc = await startOidcIngress(h);
  ({ app, url: oidcUrl } = oidc);
});
after(async () => {
  await oidc?.close();
  await h?.close();
});

const configWith = (overrides: Record<string, string>) => harnessConfigWith(h, overrides);
const oidcSettings = (port: number) => harnessOidcSettings(h, app, port);

/** The path and query of a URL of the ingress. */
const local = (url: string) => {
  const u = new URL(url, oidcUrl);
  assert.equal(u.origin, oidcUrl, `a URL of the ingress: ${url}`);
  return u.pathname + u.search;
};

/** Opens the ops page and follows "Sign in with Microsoft" to the identity provider's page. */
async function startSignIn(ops: OpsClient, path = '/ops'): Promise<URL> {
  const first = await ops.request(path);
  assert.equal(first.status, 303, 'no session: to the sign-in page');
  const login = await ops.request(first.location!);
  assert.equal(login.status, 200);
  const link = /id="oidc-sign-in" href="([^"]+)"/.exec(login.body);
  assert.ok(link, 'a "Sign in with Microsoft" link');
  const start = await ops.request(unescapeHtml(link[1]));
  assert.equal(start.status, 302, start.body);
  ops.keep(start.headers.getSetCookie());
  return new URL(start.location!);
}

/** The simulated Entra sign-in page: the user types their name and accepts; its redirect back. */
async function signInAtMicrosoft(authorize: URL, username: string): Promise<string> {
  const page = await fetch(authorize, { redirect: 'manual' });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const action = /<form method="post" action="([^"]*)">/.exec(html)![1];
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  const answer = await fetch(unescapeHtml(action), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, username, decision: 'accept' }).toString(),
  });
  assert.equal(answer.status, 302, await answer.text());
  return answer.headers.get('location')!;
}

/** The whole sign-in as `username`; the answer of our callback. */
async function signIn(ops: OpsClient, username: string, path = '/ops'): Promise<OpsReply> {
  const callback = await signInAtMicrosoft(await startSignIn(ops, path), username);
  const landed = await ops.request(local(callback));
  ops.keep(landed.headers.getSetCookie());
  return landed;
}

test('the sign-in page offers Microsoft only: the token form is off, and the ops token is refused', async () => {
  const ops = new OpsClient(oidcUrl);
  const page = await ops.request('/ops/login?next=%2Fops');
  assert.equal(page.status, 200);
  assert.match(page.body, /Sign in with Microsoft/);
  assert.doesNotMatch(page.body, /name="token"|name="name"/, 'no token or name field');
  const token = resolveOpsToken(h.config).token;
  const refused = await ops.login('Olga Ops', token);
  assert.equal(refused.status, 403);
  assert.match(refused.body, /the ops token sign-in is off here; sign in with Microsoft/);
  assert.equal(refused.setCookie, null);
  // Without OpenID Connect configured the ingress keeps the token sign-in, and has no OIDC routes.
  assert.equal((await new OpsClient(h.ingressUrl).request('/ops/oidc/start')).status, 404);
  assert.equal((await new OpsClient(h.ingressUrl).login('Olga Ops', token)).status, 303);
});

test('an operator signs in through Microsoft; the page and every action carry the verified name', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const detail = `/ops/onboardings/${customer.accountId}`;

  const ops = new OpsClient(oidcUrl);
  const authorize = await startSignIn(ops, detail);
  // Authorization code with PKCE (S256), state and nonce, at the tenant's own endpoint.
  assert.equal(
    authorize.origin + authorize.pathname,
    `${h.simUrl}/login/${app.tenantId}/oauth2/v2.0/authorize`,
  );
  assert.equal(authorize.searchParams.get('client_id'), app.appId);
  assert.equal(authorize.searchParams.get('response_type'), 'code');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${oidcUrl}/ops/oidc/callback`);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorize.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));
  assert.match(authorize.searchParams.get('scope')!, /\bopenid\b/);
  assert.match(ops.cookie, /ops_oidc=/, 'the sign-in under way is kept in its cookie');

  const callback = await signInAtMicrosoft(authorize, app.operator);
  const landed = await ops.request(local(callback));
  ops.keep(landed.headers.getSetCookie());
  assert.equal(landed.status, 200, landed.body);
  assert.match(landed.body, /Signed in as <b>Olive Operator &lt;ops@partner\.example&gt;<\/b>/);
  const session = landed.headers.getSetCookie().find((c) => c.startsWith('ops_session='))!;
  assert.match(session, /HttpOnly/i);
  assert.match(session, /SameSite=Strict/i);
  assert.doesNotMatch(ops.cookie, /ops_oidc=/, 'the sign-in cookie is used up');
  // On to the page asked for first, from our own page (so the Strict session cookie goes along).
  const onward = unescapeHtml(/id="continue" href="([^"]+)"/.exec(landed.body)![1]);
  assert.equal(onward, detail);
  assert.match(landed.body, new RegExp(`http-equiv="refresh" content="0;url=${detail}"`));

  // The id token was checked with the tenant's discovery document and its signing keys.
  const fetched = (await h.sim.call<{ service: string; path: string }[]>('GET', '/requests'))
    .filter((r) => r.service === 'identity')
    .map((r) => r.path);
  assert.ok(fetched.includes(`/${app.tenantId}/v2.0/.well-known/openid-configuration`), fetched.join(' '));
  assert.ok(fetched.includes(`/${app.tenantId}/discovery/v2.0/keys`), fetched.join(' '));
  assert.ok(fetched.includes(`/${app.tenantId}/oauth2/v2.0/token`), fetched.join(' '));

  const page = await ops.request(onward);
  assert.equal(page.status, 200);
  assert.match(page.body, /Signed in as <b>Olive Operator &lt;ops@partner\.example&gt;<\/b>/);

  // Mark consent granted: CSRF, a confirmation naming who sends it, then the signal. A `by` in the
  // form changes nothing: the name is the verified one.
  await h.sim.grantConsent(customer.tenantId, (await handle.query(statusQuery)).appId!);
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
  const refused = await ops.request(`${detail}/consent`, { confirm: 'yes', by: 'Mallory' });
  assert.equal(refused.status, 403, 'no CSRF token, nothing sent');
  const asked = await ops.request(`${detail}/consent`, {
    csrf,
    note: 'granted in the portal',
    by: 'Mallory',
  });
  assert.equal(asked.status, 200);
  assert.match(asked.body, /Sent as <b>Olive Operator &lt;ops@partner\.example&gt;<\/b>/);
  const sent = await ops.request(`${detail}/consent`, {
    csrf,
    note: 'granted in the portal',
    by: 'Mallory',
    confirm: 'yes',
  });
  assert.equal(sent.status, 303, sent.body);
  const moved = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  const entry = moved.timeline.find((t) => t.event === 'consent granted');
  assert.equal(
    entry?.detail,
    'reported by Olive Operator <ops@partner.example> (ops page): granted in the portal; confirmed by Microsoft',
  );
  const history = await handle.fetchHistory();
  assert.ok(
    history.events!.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'consentGranted'),
  );
  await handle.cancel();
});

test('a tenant user outside the group and the app role is told so (403), and gets no session', async () => {
  const staff = new OpsClient(oidcUrl);
  const landed = await signIn(staff, app.nonOperator);
  assert.equal(landed.status, 403);
  assert.match(
    landed.body,
    /Signed in as Sam Staff &lt;staff@partner\.example&gt;, but not in the group or app role that may use this page/,
  );
  assert.match(
    landed.body,
    new RegExp(`add you to the group ${app.groupId}, or the app role ${app.appRole}`),
  );
  assert.match(landed.body, /prompt=select_account/, 'a way to sign in with another account');
  assert.doesNotMatch(staff.cookie, /ops_session=/);
  assert.equal((await staff.request('/ops')).status, 303);

  // Added to the group in Entra: the next sign-in gets in.
  await h.sim.call('PUT', `/tenants/${app.tenantId}/users/${app.nonOperator}`, { groups: [app.groupId] });
  try {
    const again = await signIn(new OpsClient(oidcUrl), app.nonOperator);
    assert.equal(again.status, 200);
    assert.match(again.body, /Signed in as <b>Sam Staff &lt;staff@partner\.example&gt;<\/b>/);
  } finally {
    await h.sim.call('PUT', `/tenants/${app.tenantId}/users/${app.nonOperator}`, { groups: [] });
  }
});

test('forged, mismatched and replayed callbacks are refused, and sign no one in', async () => {
  // No sign-in started from this browser.
  const stranger = new OpsClient(oidcUrl);
  const cold = await stranger.request('/ops/oidc/callback?code=abc&state=xyz');
  assert.equal(cold.status, 400);
  assert.match(cold.body, /no sign-in was started from this browser/);

  // A sign-in cookie with a made-up signature.
  const forger = new OpsClient(oidcUrl);
  await startSignIn(forger);
  forger.cookie = forger.cookie.replace(/ops_oidc=([^;.]+)\.[^;]+/, 'ops_oidc=$1.forged');
  const forged = await forger.request('/ops/oidc/callback?code=abc&state=xyz');
  assert.equal(forged.status, 400);
  assert.match(forged.body, /no sign-in was started from this browser/);

  // A real code, with another state: refused, and the sign-in is used up (the real answer after
  // it finds no sign-in under way).
  const ops = new OpsClient(oidcUrl);
  const callback = new URL(await signInAtMicrosoft(await startSignIn(ops), app.operator));
  const other = new URL(callback);
  other.searchParams.set('state', 'x'.repeat(43));
  const mismatch = await ops.request(local(other.href));
  ops.keep(mismatch.headers.getSetCookie());
  assert.equal(mismatch.status, 400);
  assert.match(mismatch.body, /does not belong to the sign-in started from this browser \(state mismatch\)/);
  const late = await ops.request(local(callback.href));
  assert.equal(late.status, 400);
  assert.match(late.body, /no sign-in was started from this browser/);
  assert.doesNotMatch(ops.cookie, /ops_session=/);

  // A captured callback and sign-in cookie, replayed after the real sign-in: refused.
  const olive = new OpsClient(oidcUrl);
  const authorize = await startSignIn(olive);
  const flowCookie = olive.cookie;
  const real = await signInAtMicrosoft(authorize, app.operator);
  const first = await olive.request(local(real));
  assert.equal(first.status, 200);
  const replay = new OpsClient(oidcUrl);
  replay.cookie = flowCookie;
  const replayed = await replay.request(local(real));
  assert.equal(replayed.status, 400);
  assert.match(replayed.body, /this answer was already used/);
  assert.equal(replayed.headers.getSetCookie().filter((c) => c.startsWith('ops_session=')).length, 0);

  // Microsoft's error answer (the user cancelled): shown, nobody signed in.
  const cancel = new OpsClient(oidcUrl);
  const started = await startSignIn(cancel);
  const declined = await cancel.request(
    `/ops/oidc/callback?${new URLSearchParams({
      error: 'access_denied',
      error_description: 'AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1',
      state: started.searchParams.get('state')!,
    })}`,
  );
  assert.equal(declined.status, 400);
  assert.match(declined.body, /Microsoft did not sign you in: AADSTS65004: User declined to consent/);
  assert.doesNotMatch(declined.body, /Trace ID/);
});

test("an id token that the tenant's keys did not sign is refused, whatever it claims", async () => {
  const ops = new OpsClient(oidcUrl);
  const authorize = await startSignIn(ops);
  const issuer = `${h.simUrl}/login/${app.tenantId}/v2.0`;
  const { keys } = (await (await fetch(`${h.simUrl}/login/${app.tenantId}/discovery/v2.0/keys`)).json()) as {
    keys: { kid: string }[];
  };
  // Every claim as the real one would be (the right issuer, audience, nonce, group and role, the
  // key id of the tenant's key), signed with another key.
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signed = `${part({ alg: 'RS256', typ: 'JWT', kid: keys[0].kid })}.${part({
    iss: issuer,
    aud: app.appId,
    sub: 'x'.repeat(43),
    tid: app.tenantId,
    oid: '55555555-5555-4555-8555-555555555555',
    name: 'Mallory',
    preferred_username: 'mallory@partner.example',
    groups: [app.groupId],
    roles: [app.appRole],
    nonce: authorize.searchParams.get('nonce'),
    iat: now,
    nbf: now,
    exp: now + 3600,
    ver: '2.0',
  })}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const idToken = `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
  await h.sim.call('POST', '/faults', {
    match: { service: 'identity', method: 'POST', path: `^/${app.tenantId}/oauth2/v2\\.0/token$` },
    times: 1,
    action: {
      type: 'status',
      status: 200,
      body: {
        token_type: 'Bearer',
        scope: 'openid profile',
        expires_in: 3599,
        access_token: 'x',
        id_token: idToken,
      },
    },
  });
  const landed = await ops.request(local(await signInAtMicrosoft(authorize, app.operator)));
  assert.equal(landed.status, 400, landed.body);
  assert.match(landed.body, /the answer from Microsoft was not accepted/);
  assert.equal(landed.headers.getSetCookie().filter((c) => c.startsWith('ops_session=')).length, 0);
  assert.doesNotMatch(landed.body, /Mallory/);
});

test('signing out ends the session on the server and offers to sign out of Microsoft too', async () => {
  const ops = new OpsClient(oidcUrl);
  assert.equal((await signIn(ops, app.operator)).status, 200);
  const session = ops.cookie;
  const csrf = await ops.csrf();
  const out = await ops.request('/ops/logout', { csrf });
  assert.equal(out.status, 303);
  assert.equal(out.location, '/ops/login?signed-out=1');
  const page = await ops.request(out.location!);
  assert.match(page.body, /You are signed out of the ops page/);
  const end = new URL(unescapeHtml(/id="end-session" href="([^"]+)"/.exec(page.body)![1]));
  assert.equal(end.origin + end.pathname, `${h.simUrl}/login/${app.tenantId}/oauth2/v2.0/logout`);
  assert.equal(end.searchParams.get('post_logout_redirect_uri'), `${oidcUrl}/ops/login`);
  const replayed = new OpsClient(oidcUrl);
  replayed.cookie = session;
  assert.equal((await replayed.request('/ops')).status, 303, 'the old session cookie is refused');
});

test('an unreachable identity provider: "try again shortly", nothing kept', async () => {
  const port = await freePort();
  const deadIssuer = `http://127.0.0.1:${await freePort()}/login/${app.tenantId}/v2.0`;
  const config = configWith({ ...oidcSettings(port), OPS_OIDC_ISSUER: deadIssuer });
  const dead = await startIngress({
    config,
    keys: h.keys,
    client: h.env.client,
    cyclr: createCyclrClient(config),
  });
  try {
    const answer = await new OpsClient(`http://127.0.0.1:${port}`).request('/ops/oidc/start?next=%2Fops');
    assert.equal(answer.status, 503);
    assert.match(answer.body, /did not answer; try again shortly/);
    assert.equal(answer.headers.getSetCookie().length, 0);
  } finally {
    dead.closeAllConnections();
    await new Promise((r) => dead.close(r));
  }
});

test('doctor: the issuer answers its discovery document, or the check says what to fix', async () => {
  const temporal = () => Promise.resolve(h.env.client);
  const [good] = await opsSignInChecks({ config: oidc.config, temporal });
  assert.equal(good.ok, true, good.found);
  assert.match(good.found, new RegExp(`must have the redirect URI ${oidcUrl}/ops/oidc/callback`));
  const elsewhere = configWith({
    ...oidcSettings(8088),
    OPS_OIDC_ISSUER: `http://127.0.0.1:${await freePort()}/login/${app.tenantId}/v2.0`,
  });
  const [dead] = await opsSignInChecks({ config: elsewhere, temporal });
  assert.equal(dead.ok, false);
  assert.match(
    dead.found,
    /no answer from http:\/\/127\.0\.0\.1:\d+\/login\/.*\/v2\.0\/\.well-known\/openid-configuration/,
  );
  assert.match(
    dead.fix!,
    /set OPS_OIDC_ISSUER to https:\/\/login\.microsoftonline\.com\/<Directory \(tenant\) ID>\/v2\.0/,
  );
  const other = configWith({
    ...oidcSettings(8088),
    OPS_OIDC_ISSUER: `${h.simUrl}/login/partner.example/v2.0`,
  });
  const [named] = await opsSignInChecks({ config: other, temporal });
  assert.equal(named.ok, false, 'the document names the tenant by its id');
  assert.match(named.found, new RegExp(`names the issuer ${h.simUrl}/login/${app.tenantId}/v2\\.0`));
  assert.deepEqual(
    await opsSignInChecks({ config: h.config, temporal }),
    [],
    'nothing to check without OIDC',
  );
});

test('a bad OpenID Connect configuration is refused at start, naming the variable', async () => {
  const good = oidcSettings(8088);
  const message = (overrides: Record<string, string>) => {
    try {
      configWith({ ...good, ...overrides });
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('accepted');
  };
  assert.equal(configWith(good).OPS_OIDC_ALLOWED_GROUPS?.[0], app.groupId);
  assert.match(
    message({ OPS_OIDC_ALLOWED_GROUPS: '', OPS_OIDC_ALLOWED_ROLES: '' }),
    /OPS_OIDC_ALLOWED_GROUPS: set OPS_OIDC_ALLOWED_GROUPS \(group object ids\) or OPS_OIDC_ALLOWED_ROLES/,
  );
  assert.match(message({ OPS_OIDC_ISSUER: 'login.microsoftonline.com' }), /OPS_OIDC_ISSUER: not a URL/);
  assert.match(
    message({ OPS_OIDC_ISSUER: 'http://login.microsoftonline.com/x/v2.0' }),
    /OPS_OIDC_ISSUER: must use https/,
  );
  assert.match(
    message({ OPS_OIDC_ISSUER: 'https://login.microsoftonline.com/common/v2.0' }),
    /OPS_OIDC_ISSUER: must name your own tenant/,
  );
  assert.match(
    message({ OPS_OIDC_CLIENT_SECRET: '' }),
    /OPS_OIDC_CLIENT_SECRET: needed for the ops page's sign-in/,
  );

  // `npm run ingress` stops at once with that line; with a good one it says which redirect URI
  // to register.
  const run = async (overrides: Record<string, string>) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: h.env.address,
      TEMPORAL_NAMESPACE: 'default',
    };
    for (const [key, value] of Object.entries(h.config)) if (value !== undefined) env[key] = String(value);
    Object.assign(env, overrides);
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
    const until = Date.now() + 60_000;
    while (!output.includes('ops page') && child.exitCode === null && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    if (child.exitCode === null) child.kill('SIGTERM');
    return { code: await exited, output };
  };
  const bad = await run({ ...good, OPS_OIDC_ALLOWED_GROUPS: '', OPS_OIDC_ALLOWED_ROLES: '' });
  assert.equal(bad.code, 1, bad.output);
  assert.match(bad.output, /Invalid configuration: OPS_OIDC_ALLOWED_GROUPS: /);
  const port = await freePort();
  const ok = await run(oidcSettings(port));
  assert.match(
    ok.output,
    new RegExp(`redirect URI http://127\\.0\\.0\\.1:${port}/ops/oidc/callback \\(register it on the app\\)`),
    ok.output,
  );
  assert.ok(!ok.output.includes(app.clientSecret), 'the client secret is not printed');
});
