// Wire tests for the simulated identity platform's consent, app-only, OpenID Connect and ops
// sign-in behaviour, and the configuration-checker breakages: plain fetch over real HTTP only.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { startSimulators } from '../simulators/server.js';
import { unescapeHtml } from './helpers/html';

const PARTNER = '11111111-1111-4111-8111-111111111111';
const OPS_APP = '33333333-3333-4333-8333-333333333333';
const OPS_GROUP = '44444444-4444-4444-8444-444444444444';
const DYNAMICS = '00000007-0000-0000-c000-000000000000';
const USER_IMPERSONATION = '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4';
const TRAILER_RE =
  /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/;

let sims: Awaited<ReturnType<typeof startSimulators>>;
let base = '';

before(async () => {
  sims = await startSimulators({ port: 0 });
  base = sims.url;
});
after(async () => {
  await sims.close();
});
beforeEach(async () => {
  const r = await fetch(`${base}/_sim/reset`, { method: 'POST' });
  assert.equal(r.status, 200);
});

// ------------------------------------------------------------------------------- helpers

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function postForm(url: string, fields: Record<string, string>) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    redirect: 'manual',
  });
}

const get = (url: string) => fetch(url, { redirect: 'manual' });

async function sim(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await call(method, `${base}/_sim${path}`, body);
  assert.ok(r.status < 300, `control ${method} ${path} -> ${r.status} ${await r.clone().text()}`);
  return r.status === 204 ? {} : ((await r.json()) as Json);
}

interface Form {
  action: string;
  fields: Record<string, string>;
  decisions: string[];
  hasUsername: boolean;
  forOrg: boolean;
}

/** The single form of an interactive page. */
function parseForm(html: string): Form {
  const forms = [...html.matchAll(/<form method="post" action="([^"]*)">/g)];
  assert.equal(forms.length, 1, 'exactly one form');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  }
  return {
    action: unescapeHtml(forms[0][1]),
    fields,
    decisions: [...html.matchAll(/<button type="submit" name="decision" value="([^"]*)">/g)].map((m) => m[1]),
    hasUsername: html.includes('<input type="text" name="username">'),
    forOrg: html.includes('<input type="checkbox" name="consent_for_org" value="true">'),
  };
}

/** Opens an authorize (or admin consent) URL and signs in as `username`: the answer to the POST. */
async function signInAs(url: string, username: string): Promise<Response> {
  const page = await get(url);
  assert.equal(page.status, 200, `sign-in page ${url}`);
  const form = parseForm(await page.text());
  assert.ok(form.hasUsername);
  return postForm(form.action, { ...form.fields, username, decision: 'accept' });
}

async function pageAfterSignIn(r: Response, id: string): Promise<{ html: string; form: Form }> {
  assert.equal(r.status, 200, `expected a page after sign-in (${id})`);
  const html = await r.text();
  assert.ok(html.includes(`<div id="${id}"`), `page ${id}`);
  const form = parseForm(html);
  assert.ok(!form.hasUsername, 'no username input after sign-in');
  assert.ok(form.fields.ctx, 'a ctx hidden input');
  return { html, form };
}

async function press(form: Form, decision: string, extra: Record<string, string> = {}): Promise<Response> {
  assert.ok(form.decisions.includes(decision), `button ${decision} in ${form.decisions.join(',')}`);
  return postForm(form.action, { ...form.fields, ...extra, decision });
}

function location(r: Response): URL {
  assert.equal(r.status, 302, 'a redirect');
  return new URL(r.headers.get('location')!);
}

function assertCancel(u: URL, state: string) {
  assert.deepEqual(
    [...u.searchParams.keys()],
    ['error', 'error_subcode', 'error_description', 'error_uri', 'state'],
  );
  assert.equal(u.searchParams.get('error'), 'access_denied');
  assert.equal(u.searchParams.get('error_subcode'), 'cancel');
  assert.match(
    u.searchParams.get('error_description')!,
    /^AADSTS65004: User declined to consent to access the app\.\r\n/,
  );
  assert.match(u.searchParams.get('error_description')!, TRAILER_RE);
  assert.equal(u.searchParams.get('error_uri'), 'https://login.microsoftonline.com/error?code=65004');
  assert.equal(u.searchParams.get('state'), state);
  assert.equal(u.searchParams.get('code'), null);
}

async function graphToken(): Promise<string> {
  const r = await postForm(`${base}/login/${PARTNER}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as Json).access_token;
}

interface App {
  id: string;
  appId: string;
  secret: string;
}

const REDIRECT = 'https://ops.example/consent-done';

/** The partner's shared multi-tenant app (Graph-registered), with a secret. */
async function registerApp(): Promise<App> {
  const gt = await graphToken();
  const H = { authorization: `Bearer ${gt}` };
  const r = await call(
    'PATCH',
    `${base}/graph/v1.0/applications(uniqueName='app-${randomUUID()}')`,
    {
      displayName: 'Acme Cyclr Dynamics',
      signInAudience: 'AzureADMultipleOrgs',
      web: { redirectUris: [`${base}/cyclr-app/connector/callback`, REDIRECT] },
      requiredResourceAccess: [
        { resourceAppId: DYNAMICS, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] },
      ],
    },
    { ...H, prefer: 'create-if-missing' },
  );
  assert.equal(r.status, 201);
  const app = (await r.json()) as Json;
  const pw = (await (
    await call('POST', `${base}/graph/v1.0/applications/${app.id}/addPassword`, {}, H)
  ).json()) as Json;
  return { id: app.id, appId: app.appId, secret: pw.secretText };
}

interface Tenant {
  tenantId: string;
  domain: string;
  org: string;
  admin: string;
  user: string;
}

async function createTenant(opts: { usersMayConsent?: boolean; adminConsentWorkflow?: boolean } = {}) {
  const tenantId = randomUUID();
  const domain = `fabrikam-${tenantId.slice(0, 8)}.example`;
  const org = `https://fabrikam-${tenantId.slice(0, 8)}.crm4.dynamics.com`;
  const created = await sim('POST', '/tenants', {
    tenantId,
    domain,
    displayName: 'Fabrikam',
    orgs: [org],
    users: [
      { username: `admin@${domain}`, admin: true },
      { username: `user@${domain}`, admin: false },
    ],
    ...opts,
  });
  assert.equal(created.usersMayConsent, !!opts.usersMayConsent);
  assert.equal(created.adminConsentWorkflow, !!opts.adminConsentWorkflow);
  return { tenantId, domain, org, admin: `admin@${domain}`, user: `user@${domain}` } satisfies Tenant;
}

function v1Authorize(app: App, resource: string, state: string, tenant = 'common'): string {
  return `${base}/login/${tenant}/oauth2/authorize?${new URLSearchParams({
    client_id: app.appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    resource,
    state,
  })}`;
}

async function redeemV1(app: App, code: string, resource: string): Promise<Response> {
  return postForm(`${base}/login/common/oauth2/token`, {
    grant_type: 'authorization_code',
    client_id: app.appId,
    client_secret: app.secret,
    code,
    redirect_uri: REDIRECT,
    resource,
  });
}

async function appOnly(app: App, tenant: string, scope: string): Promise<Response> {
  return postForm(`${base}/login/${tenant}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: app.secret,
    scope,
  });
}

/** Checks an RS256 JWT against the JWKS and returns its payload. */
async function verifiedClaims(token: string, jwksUrl: string): Promise<Json> {
  const jwks = (await (await get(jwksUrl)).json()) as Json;
  const [h, p, sig] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Json;
  assert.equal(header.alg, 'RS256');
  const jwk = (jwks.keys as Json[]).find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  assert.ok(
    verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url')),
    'signature verifies',
  );
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Json;
}

const state = () => sim('GET', '/state');

// ------------------------------------------------------------------------------- consent

test('non-admin without consent: Need admin approval, back to app cancels (65004); no code', async () => {
  const app = await registerApp();
  const t = await createTenant();
  const r = await signInAs(v1Authorize(app, t.org, 's-user'), t.user);
  const { html, form } = await pageAfterSignIn(r, 'admin-approval');
  assert.match(html, /data-workflow="false"/);
  assert.match(html, /<h1>Need admin approval<\/h1>/);
  assert.match(html, /Acme Cyclr Dynamics/);
  assert.deepEqual(form.decisions, ['cancel']);
  assertCancel(location(await press(form, 'cancel')), 's-user');
  const s = await state();
  assert.equal((s.consents as Json[]).filter((c) => c.appId === app.appId).length, 0);
  assert.equal((s.servicePrincipals as Json[]).filter((sp) => sp.tenantId === t.tenantId).length, 0);
  // The flow id is spent: the same page cannot be answered twice.
  const again = await press(form, 'cancel');
  assert.equal(again.status, 400);
  assert.match(await again.text(), /AADSTS50089: /);
});

test('admin consent workflow: Request approval records a request, then back to app', async () => {
  const app = await registerApp();
  const t = await createTenant({ adminConsentWorkflow: true });
  const r = await signInAs(v1Authorize(app, t.org, 's-wf'), t.user);
  const { html, form } = await pageAfterSignIn(r, 'admin-approval');
  assert.match(html, /data-workflow="true"/);
  assert.deepEqual(form.decisions, ['request', 'cancel']);
  const requested = await press(form, 'request', { justification: 'I run our CRM sync' });
  const sent = await pageAfterSignIn(requested, 'approval-requested');
  assert.deepEqual(sent.form.decisions, ['cancel']);
  const s = await state();
  assert.equal(s.approvalRequests.length, 1);
  const req = s.approvalRequests[0] as Json;
  assert.equal(req.tenantId, t.tenantId);
  assert.equal(req.appId, app.appId);
  assert.equal(req.username, t.user);
  assert.equal(req.justification, 'I run our CRM sync');
  assert.equal(req.status, 'pending');
  assert.match(sent.html, new RegExp(`data-request-id="${req.id}"`));
  assertCancel(location(await press(sent.form, 'cancel')), 's-wf');
});

test('admin during sign-in: consent prompt; decline cancels; accept for self or for the organization', async () => {
  const app = await registerApp();
  const t = await createTenant();

  const first = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 's-a1'), t.admin),
    'consent-prompt',
  );
  assert.match(first.html, /data-kind="admin"/);
  assert.ok(first.form.forOrg, 'the "Consent on behalf of your organization" checkbox');
  assert.match(first.html, /Consent on behalf of your organization/);
  assert.match(first.html, /user_impersonation/);
  assert.deepEqual(first.form.decisions, ['accept', 'decline']);
  assertCancel(location(await press(first.form, 'decline')), 's-a1');

  // Accept without the box: consent for the admin alone.
  const self = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 's-a2'), t.admin),
    'consent-prompt',
  );
  const code = location(await press(self.form, 'accept'));
  assert.equal(code.searchParams.get('state'), 's-a2');
  assert.equal(code.searchParams.get('admin_consent'), null);
  const ok = await redeemV1(app, code.searchParams.get('code')!, t.org);
  assert.equal(ok.status, 200);
  let s = await state();
  let mine = (s.consents as Json[]).filter((c) => c.appId === app.appId);
  assert.deepEqual(
    mine.map((c) => [c.tenantId, c.user]),
    [[t.tenantId, t.admin]],
  );
  const sps = (s.servicePrincipals as Json[]).filter(
    (sp) => sp.appId === app.appId && sp.tenantId === t.tenantId,
  );
  assert.equal(sps.length, 1, 'consent made a service principal in the tenant');
  // The admin's own consent does not cover the user.
  await pageAfterSignIn(await signInAs(v1Authorize(app, t.org, 's-u1'), t.user), 'admin-approval');

  // Covered now: the admin signs in straight to a code.
  assert.ok(location(await signInAs(v1Authorize(app, t.org, 's-a3'), t.admin)).searchParams.get('code'));

  // With the box ticked: tenant-wide; the user then signs in straight to a code too.
  await sim('DELETE', `/tenants/${t.tenantId}/consents/${app.appId}`);
  const org = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 's-a4'), t.admin),
    'consent-prompt',
  );
  assert.ok(location(await press(org.form, 'accept', { consent_for_org: 'true' })).searchParams.get('code'));
  s = await state();
  mine = (s.consents as Json[]).filter((c) => c.appId === app.appId);
  assert.deepEqual(
    mine.map((c) => [c.tenantId, c.user, c.by]),
    [[t.tenantId, null, t.admin]],
  );
  const user = location(await signInAs(v1Authorize(app, t.org, 's-u2'), t.user));
  assert.equal(user.searchParams.get('state'), 's-u2');
  const redeemed = await redeemV1(app, user.searchParams.get('code')!, t.org);
  assert.equal(redeemed.status, 200);
});

test('a user who may consent: prompt for the delegated permission alone, consent for self only', async () => {
  const app = await registerApp();
  const t = await createTenant({ usersMayConsent: true });
  const { html, form } = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 's-self'), t.user),
    'consent-prompt',
  );
  assert.match(html, /data-kind="user"/);
  assert.ok(!form.forOrg, 'no organization checkbox for a user');
  assert.deepEqual(
    [...html.matchAll(/<li class="permission">([^<]*)<\/li>/g)].map((m) => m[1]),
    ['Dynamics CRM: Access Dynamics 365 as organization users (user_impersonation)'],
  );
  // The box is ignored for a user even if posted.
  const code = location(await press(form, 'accept', { consent_for_org: 'true' }));
  const ok = await redeemV1(app, code.searchParams.get('code')!, t.org);
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as Json;
  assert.equal(typeof body.id_token, 'string');
  const s = await state();
  assert.deepEqual(
    (s.consents as Json[]).filter((c) => c.appId === app.appId).map((c) => [c.user, c.by]),
    [[t.user, t.user]],
  );
  assert.equal(
    (s.servicePrincipals as Json[]).filter((sp) => sp.appId === app.appId && sp.tenantId === t.tenantId)
      .length,
    1,
  );
  // The admin is not covered by the user's consent.
  await pageAfterSignIn(await signInAs(v1Authorize(app, t.org, 's-adm'), t.admin), 'consent-prompt');
  // A per-user consent revoked between sign-in and redemption: 65001.
  const again = location(await signInAs(v1Authorize(app, t.org, 's-self2'), t.user));
  await sim('DELETE', `/tenants/${t.tenantId}/consents/${app.appId}`);
  const late = await redeemV1(app, again.searchParams.get('code')!, t.org);
  assert.equal(late.status, 400);
  const lb = (await late.json()) as Json;
  assert.deepEqual(lb.error_codes, [65001]);
  assert.equal(lb.suberror, 'consent_required');
});

test('authorize refuses a resource that is not an org of the user tenant (500011); v2.0 too', async () => {
  const app = await registerApp();
  const t = await createTenant();
  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });
  const wrong = 'https://elsewhere.crm.dynamics.com';
  const u = location(await signInAs(v1Authorize(app, wrong, 's-res'), t.user));
  assert.equal(u.origin + u.pathname, REDIRECT);
  assert.deepEqual([...u.searchParams.keys()], ['error', 'error_description', 'error_uri', 'state']);
  assert.equal(u.searchParams.get('error'), 'invalid_resource');
  assert.ok(
    u.searchParams
      .get('error_description')!
      .startsWith(
        `AADSTS500011: The resource principal named ${wrong} was not found in the tenant named Fabrikam. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\n`,
      ),
  );
  assert.equal(u.searchParams.get('error_uri'), 'https://login.microsoftonline.com/error?code=500011');
  assert.equal(u.searchParams.get('state'), 's-res');

  const v2 = `${base}/login/organizations/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: app.appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: `${wrong}/.default offline_access`,
    state: 's-v2',
  })}`;
  const u2 = location(await signInAs(v2, t.user));
  assert.equal(u2.searchParams.get('error'), 'invalid_resource');
  assert.match(u2.searchParams.get('error_description')!, /^AADSTS500011: /);
  // Graph is always there.
  const g = `${base}/login/common/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: app.appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'openid User.Read',
    state: 's-g',
  })}`;
  assert.ok(location(await signInAs(g, t.user)).searchParams.get('code'));
});

test('admin consent links opened by a non-admin: Need admin approval, back cancels (65004)', async () => {
  const app = await registerApp();
  const t = await createTenant();
  const links = [
    `${base}/login/${t.tenantId}/adminconsent?${new URLSearchParams({ client_id: app.appId, redirect_uri: REDIRECT, state: 'L' })}`,
    `${base}/login/${t.tenantId}/v2.0/adminconsent?${new URLSearchParams({ client_id: app.appId, redirect_uri: REDIRECT, scope: `${t.org}/.default`, state: 'V2' })}`,
  ];
  for (const link of links) {
    const { form } = await pageAfterSignIn(await signInAs(link, t.user), 'admin-approval');
    // Accept is not an answer on this page: it stays.
    await pageAfterSignIn(await press({ ...form, decisions: ['accept'] }, 'accept'), 'admin-approval');
    const u = location(await press(form, 'cancel'));
    assertCancel(u, new URL(link).searchParams.get('state')!);
  }
  const s = await state();
  assert.equal((s.consents as Json[]).filter((c) => c.appId === app.appId).length, 0);
});

test('token endpoint: 65001 until consent propagated; a user consent counts for that user only', async () => {
  const app = await registerApp();
  const t = await createTenant({ usersMayConsent: true });
  await sim('PUT', '/settings', { consentPropagationMs: 60_000 });
  const { form } = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 'p1'), t.user),
    'consent-prompt',
  );
  const code = location(await press(form, 'accept')).searchParams.get('code')!;
  const early = await redeemV1(app, code, t.org);
  assert.equal(early.status, 400);
  assert.deepEqual(((await early.json()) as Json).error_codes, [65001]);
  await sim('POST', '/clock', { advanceMs: 61_000 });
  assert.equal((await redeemV1(app, code, t.org)).status, 200);
});

// ------------------------------------------------------------------------------- app-only

test('app-only token in a customer tenant: 7000229 without a service principal, 500011, 90002, then a token', async () => {
  const app = await registerApp();
  const t = await createTenant();
  const noSp = await appOnly(app, t.tenantId, `${t.org}/.default`);
  assert.equal(noSp.status, 401);
  const b = (await noSp.json()) as Json;
  assert.equal(b.error, 'invalid_client');
  assert.deepEqual(b.error_codes, [7000229]);
  assert.ok(
    b.error_description.startsWith(
      `AADSTS7000229: The client application ${app.appId} is missing service principal in the tenant ${t.tenantId}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119\r\n`,
    ),
  );
  assert.match(b.error_description, TRAILER_RE);
  assert.equal(b.error_uri, 'https://login.microsoftonline.com/error?code=7000229');
  // v1 (resource=) and the tenant's domain name answer the same.
  const v1 = await postForm(`${base}/login/${t.domain}/oauth2/token`, {
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: app.secret,
    resource: t.org,
  });
  assert.equal(v1.status, 401);
  assert.deepEqual(((await v1.json()) as Json).error_codes, [7000229]);

  const unknown = await appOnly(app, randomUUID(), `${t.org}/.default`);
  assert.equal(unknown.status, 400);
  assert.deepEqual(((await unknown.json()) as Json).error_codes, [90002]);
  // The secret is checked before the service principal.
  const badSecret = await postForm(`${base}/login/${t.tenantId}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: 'wrong',
    scope: `${t.org}/.default`,
  });
  assert.equal(badSecret.status, 401);
  assert.deepEqual(((await badSecret.json()) as Json).error_codes, [7000215]);

  // Consent (here through the control API) makes the service principal; it counts once propagated.
  await sim('PUT', '/settings', { consentPropagationMs: 30_000 });
  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });
  assert.equal((await appOnly(app, t.tenantId, `${t.org}/.default`)).status, 401);
  await sim('POST', '/clock', { advanceMs: 31_000 });

  const wrong = await appOnly(app, t.tenantId, 'https://elsewhere.crm.dynamics.com/.default');
  assert.equal(wrong.status, 400);
  const wb = (await wrong.json()) as Json;
  assert.equal(wb.error, 'invalid_resource');
  assert.match(
    wb.error_description,
    /^AADSTS500011: The resource principal named https:\/\/elsewhere\.crm\.dynamics\.com was not found in the tenant named Fabrikam\./,
  );

  const ok = await appOnly(app, t.tenantId, `${t.org}/.default`);
  assert.equal(ok.status, 200);
  const tok = (await ok.json()) as Json;
  const claims = await verifiedClaims(tok.access_token, `${base}/login/${t.tenantId}/discovery/v2.0/keys`);
  assert.equal(claims.aud, t.org);
  assert.equal(claims.tid, t.tenantId);
  assert.equal(claims.appid, app.appId);
  assert.deepEqual(claims.roles, []);
  assert.equal(claims.scp, undefined);

  // The enterprise app deleted in the tenant: 7000229 again. Revoking consent alone keeps the SP.
  await sim('DELETE', `/tenants/${t.tenantId}/consents/${app.appId}`);
  assert.equal((await appOnly(app, t.tenantId, `${t.org}/.default`)).status, 200);
  await sim('DELETE', `/tenants/${t.tenantId}/servicePrincipals/${app.appId}`);
  assert.equal((await appOnly(app, t.tenantId, `${t.org}/.default`)).status, 401);
  // The partner's own Graph view does not list customer-tenant service principals.
  const list = (await (
    await call('GET', `${base}/graph/v1.0/servicePrincipals`, undefined, {
      authorization: `Bearer ${await graphToken()}`,
    })
  ).json()) as Json;
  assert.ok((list.value as Json[]).every((sp) => sp.appId !== app.appId));
});

test("a user's own consent also creates the service principal the app-only probe needs", async () => {
  const app = await registerApp();
  const t = await createTenant({ usersMayConsent: true });
  const { form } = await pageAfterSignIn(
    await signInAs(v1Authorize(app, t.org, 'sp'), t.user),
    'consent-prompt',
  );
  location(await press(form, 'accept'));
  assert.equal((await appOnly(app, t.tenantId, `${t.org}/.default`)).status, 200);
});

// ------------------------------------------------------------------------------- OpenID Connect

test('discovery documents (v2.0 and v1) for a GUID, a domain, common and organizations; unknown tenant', async () => {
  for (const tenant of [PARTNER, 'partner.example', 'PARTNER.EXAMPLE']) {
    const d = (await (
      await get(`${base}/login/${tenant}/v2.0/.well-known/openid-configuration`)
    ).json()) as Json;
    assert.equal(d.issuer, `${base}/login/${PARTNER}/v2.0`);
    assert.equal(d.authorization_endpoint, `${base}/login/${PARTNER}/oauth2/v2.0/authorize`);
    assert.equal(d.token_endpoint, `${base}/login/${PARTNER}/oauth2/v2.0/token`);
    assert.equal(d.jwks_uri, `${base}/login/${PARTNER}/discovery/v2.0/keys`);
    assert.equal(d.end_session_endpoint, `${base}/login/${PARTNER}/oauth2/v2.0/logout`);
    assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256']);
    assert.deepEqual(d.response_types_supported, ['code']);
    assert.deepEqual(d.subject_types_supported, ['pairwise']);
    assert.ok(d.scopes_supported.includes('openid'));
  }
  for (const multi of ['common', 'organizations']) {
    const d = (await (
      await get(`${base}/login/${multi}/v2.0/.well-known/openid-configuration`)
    ).json()) as Json;
    assert.equal(d.issuer, `${base}/login/{tenantid}/v2.0`);
    assert.equal(d.token_endpoint, `${base}/login/${multi}/oauth2/v2.0/token`);
    assert.equal(d.jwks_uri, `${base}/login/${multi}/discovery/v2.0/keys`);
  }
  const v1 = (await (
    await get(`${base}/login/partner.example/.well-known/openid-configuration`)
  ).json()) as Json;
  assert.equal(v1.issuer, `https://sts.windows.net/${PARTNER}/`);
  assert.equal(v1.authorization_endpoint, `${base}/login/${PARTNER}/oauth2/authorize`);
  assert.equal(v1.token_endpoint, `${base}/login/${PARTNER}/oauth2/token`);
  assert.equal(v1.jwks_uri, `${base}/login/${PARTNER}/discovery/keys`);
  assert.equal(v1.end_session_endpoint, `${base}/login/${PARTNER}/oauth2/logout`);
  const v1common = (await (
    await get(`${base}/login/common/.well-known/openid-configuration`)
  ).json()) as Json;
  assert.equal(v1common.issuer, 'https://sts.windows.net/{tenantid}/');

  const unknown = await get(`${base}/login/nowhere.example/v2.0/.well-known/openid-configuration`);
  assert.equal(unknown.status, 400);
  const ub = (await unknown.json()) as Json;
  assert.equal(ub.error, 'invalid_tenant');
  assert.deepEqual(ub.error_codes, [90002]);

  const keys = (await (await get(`${base}/login/common/discovery/keys`)).json()) as Json;
  assert.ok(keys.keys.length >= 1);
  for (const k of keys.keys as Json[]) {
    assert.equal(k.kty, 'RSA');
    assert.equal(k.use, 'sig');
    assert.match(k.kid, /^[A-Za-z0-9_-]{27}$/);
    assert.equal(k.e, 'AQAB');
  }
});

/** The ops app's v2.0 authorize URL with PKCE (S256) and a nonce. */
function opsAuthorize(redirectUri: string, verifier: string, state: string, nonce = 'n-1'): string {
  return `${base}/login/${PARTNER}/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: OPS_APP,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile offline_access',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
}

async function opsRedeem(code: string, redirectUri: string, verifier?: string): Promise<Response> {
  return postForm(`${base}/login/${PARTNER}/oauth2/v2.0/token`, {
    grant_type: 'authorization_code',
    client_id: OPS_APP,
    client_secret: 'sim-ops-secret',
    code,
    redirect_uri: redirectUri,
    ...(verifier !== undefined ? { code_verifier: verifier } : {}),
  });
}

test('ops sign-in (partner tenant, OpenID Connect + PKCE): signed id token with groups and roles', async () => {
  const cfg = await sim('GET', '/config');
  assert.equal(cfg.opsSignIn.appId, OPS_APP);
  assert.equal(cfg.opsSignIn.tenantId, PARTNER);
  assert.equal(cfg.opsSignIn.groupId, OPS_GROUP);
  assert.equal(cfg.opsSignIn.appRole, 'Onboarding.Operator');
  const callback = 'http://127.0.0.1:8088/ops/auth/callback';
  // Nothing registered yet: the redirect URI is refused on the page.
  const none = await get(opsAuthorize(callback, 'v'.repeat(43), 'x'));
  assert.equal(none.status, 400);
  assert.match(await none.text(), /AADSTS50011/);
  const reg = await sim('POST', `/tenants/${PARTNER}/applications`, {
    appId: OPS_APP,
    redirectUris: [callback],
  });
  assert.deepEqual(reg.redirectUris, [callback]);
  assert.equal(reg.clientSecret, undefined, 'an update does not hand out a secret');

  const verifier = 'k'.repeat(20) + randomUUID();
  const u = location(
    await signInAs(opsAuthorize(callback, verifier, 'st-ops', 'nonce-42'), cfg.opsSignIn.operator),
  );
  assert.equal(u.origin + u.pathname, callback);
  assert.equal(u.searchParams.get('state'), 'st-ops');
  const code = u.searchParams.get('code')!;

  const wrongVerifier = await opsRedeem(code, callback, 'x'.repeat(43));
  assert.equal(wrongVerifier.status, 400);
  const wv = (await wrongVerifier.json()) as Json;
  assert.equal(wv.error, 'invalid_grant');
  assert.deepEqual(wv.error_codes, [501481]);
  assert.ok(
    wv.error_description.startsWith(
      'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.\r\n',
    ),
  );
  const noVerifier = await opsRedeem(code, callback);
  assert.deepEqual(((await noVerifier.json()) as Json).error_codes, [501481]);

  const ok = await opsRedeem(code, callback, verifier);
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as Json;
  assert.equal(typeof body.refresh_token, 'string', 'offline_access named at authorize');
  const disco = (await (
    await get(`${base}/login/${PARTNER}/v2.0/.well-known/openid-configuration`)
  ).json()) as Json;
  const id = await verifiedClaims(body.id_token, disco.jwks_uri);
  assert.equal(id.iss, disco.issuer);
  assert.equal(id.aud, OPS_APP);
  assert.equal(id.tid, PARTNER);
  assert.equal(id.ver, '2.0');
  assert.equal(id.nonce, 'nonce-42');
  assert.equal(id.preferred_username, cfg.opsSignIn.operator);
  assert.equal(id.name, 'Olive Operator');
  assert.match(id.oid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(id.sub, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(id.groups, [OPS_GROUP]);
  assert.deepEqual(id.roles, ['Onboarding.Operator']);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(id.iat - now) < 60 && id.nbf === id.iat && id.exp > now + 3000);
  // The access token is signed by the same keys.
  await verifiedClaims(body.access_token, disco.jwks_uri);

  // A partner user with neither group nor role: no groups/roles claims.
  const v2 = 'z'.repeat(43);
  const plain = location(await signInAs(opsAuthorize(callback, v2, 'st-2'), cfg.opsSignIn.nonOperator));
  const pb = (await (await opsRedeem(plain.searchParams.get('code')!, callback, v2)).json()) as Json;
  const pid = await verifiedClaims(pb.id_token, disco.jwks_uri);
  assert.equal(pid.groups, undefined);
  assert.equal(pid.roles, undefined);
  assert.notEqual(pid.oid, id.oid);

  // Memberships change through the control API and show in the next id token.
  await sim('PUT', `/tenants/partner.example/users/${cfg.opsSignIn.nonOperator}`, {
    groups: ['99999999-9999-4999-8999-999999999999'],
    appRoles: [{ appId: OPS_APP, value: 'Onboarding.Viewer' }],
  });
  const again = location(await signInAs(opsAuthorize(callback, v2, 'st-3'), cfg.opsSignIn.nonOperator));
  const ab = (await (await opsRedeem(again.searchParams.get('code')!, callback, v2)).json()) as Json;
  const aid = await verifiedClaims(ab.id_token, disco.jwks_uri);
  assert.deepEqual(aid.groups, ['99999999-9999-4999-8999-999999999999']);
  assert.deepEqual(aid.roles, ['Onboarding.Viewer']);

  // A customer-tenant user cannot sign in to the partner's single-tenant app.
  const t = await createTenant();
  const stranger = location(await signInAs(opsAuthorize(callback, v2, 'st-4'), t.user));
  assert.match(stranger.searchParams.get('error_description')!, /^AADSTS50020: /);

  // Sign-out returns to post_logout_redirect_uri.
  const out = location(
    await get(
      `${disco.end_session_endpoint}?post_logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:8088/ops')}&state=bye`,
    ),
  );
  assert.equal(out.toString(), 'http://127.0.0.1:8088/ops?state=bye');
});

test('a new sign-in app through the control API: secret, app roles, role assignment', async () => {
  const callback = 'https://ops.partner.example/callback';
  const reg = await sim('POST', `/tenants/${PARTNER}/applications`, {
    displayName: 'Partner ops (staging)',
    redirectUris: [callback],
    appRoles: [{ value: 'Onboarding.Operator', displayName: 'Operator' }],
  });
  assert.match(reg.appId, /^[0-9a-f-]{36}$/);
  assert.equal(typeof reg.clientSecret, 'string');
  assert.equal(reg.appRoles[0].value, 'Onboarding.Operator');
  const user = await sim('PUT', `/tenants/${PARTNER}/users/lee@partner.example`, {
    displayName: 'Lee',
    appRoles: [{ appId: reg.appId, value: 'Onboarding.Operator' }],
  });
  assert.equal(user.username, 'lee@partner.example');
  const s = await state();
  assert.ok((s.signInApplications as Json[]).some((a) => a.appId === reg.appId));
  assert.ok(
    (s.applications as Json[]).every((a) => a.appId !== reg.appId),
    'not among the Graph apps',
  );
  assert.ok(s.secretsIssued.includes(reg.clientSecret));

  const url = `${base}/login/partner.example/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: reg.appId,
    response_type: 'code',
    redirect_uri: callback,
    scope: 'openid',
    state: 's',
  })}`;
  const code = location(await signInAs(url, 'lee@partner.example')).searchParams.get('code')!;
  const r = await postForm(`${base}/login/${PARTNER}/oauth2/v2.0/token`, {
    grant_type: 'authorization_code',
    client_id: reg.appId,
    client_secret: reg.clientSecret,
    code,
    redirect_uri: callback,
  });
  assert.equal(r.status, 200);
  const body = (await r.json()) as Json;
  assert.equal(body.refresh_token, undefined);
  const id = await verifiedClaims(body.id_token, `${base}/login/${PARTNER}/discovery/v2.0/keys`);
  assert.deepEqual(id.roles, ['Onboarding.Operator']);
  assert.equal(id.name, 'Lee');
  assert.equal(id.nonce, undefined);
});

test('signing keys live in the state file: tokens verify against the JWKS after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-keys-'));
  const stateFile = join(dir, 'state.json');
  try {
    const first = await startSimulators({ port: 0, stateFile });
    const r = await postForm(`${first.url}/login/${PARTNER}/oauth2/v2.0/token`, {
      grant_type: 'client_credentials',
      client_id: 'sim-graph-admin-client',
      client_secret: 'sim-graph-admin-secret',
      scope: 'https://graph.microsoft.com/.default',
    });
    const token = ((await r.json()) as Json).access_token as string;
    const before = (await (await get(`${first.url}/login/common/discovery/keys`)).json()) as Json;
    await first.close();
    const second = await startSimulators({ port: 0, stateFile });
    try {
      const after = (await (await get(`${second.url}/login/common/discovery/keys`)).json()) as Json;
      assert.deepEqual(after, before);
      const claims = await verifiedClaims(token, `${second.url}/login/common/discovery/keys`);
      assert.deepEqual(claims.roles, ['Application.ReadWrite.All']);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------------------- Cyclr and breakages

test('cyclrRedirectOutcome none: Cyclr returns to targetOrigin with nothing appended', async () => {
  const settings = await sim('GET', '/settings');
  assert.equal(settings.cyclrRedirectOutcome, 'query');
  assert.equal(
    (await sim('PUT', '/settings', { cyclrRedirectOutcome: 'none' })).cyclrRedirectOutcome,
    'none',
  );
  const bad = await call('PUT', `${base}/_sim/settings`, { cyclrRedirectOutcome: 'fragment' });
  assert.equal(bad.status, 400);

  const app = await registerApp();
  const t = await createTenant();
  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });
  await sim('POST', '/cyclr/accounts', { accountId: 'acct-none' });
  const ct = (await (
    await postForm(`${base}/cyclr-api/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: 'sim-cyclr-client',
      client_secret: 'sim-cyclr-secret',
    })
  ).json()) as Json;
  const H = { authorization: `Bearer ${ct.access_token}`, 'x-cyclr-account': 'acct-none' };
  const ac = (await (
    await call(
      'POST',
      `${base}/cyclr-api/v1.0/connectors/3400/install`,
      {
        Properties: [
          { Name: 'Resource', Value: t.org },
          { Name: 'ClientId', Value: app.appId },
          { Name: 'ClientSecret', Value: app.secret },
        ],
      },
      H,
    )
  ).json()) as Json;
  const tok = (await (
    await call('POST', `${base}/cyclr-api/v1.0/accounts/acct-none/signintoken`, { Username: 'u' }, H)
  ).json()) as Json;
  const target = 'https://onboarding.example/done?wf=1';
  const start = location(
    await get(
      `${base}/cyclr-app/connectorauth/updateaccountconnectoroauth?id=${ac.Id}&token=${encodeURIComponent(tok.Token)}&targetOrigin=${encodeURIComponent(target)}`,
    ),
  );
  const back = location(await signInAs(start.toString(), t.user));
  const done = location(await get(back.toString()));
  assert.equal(done.toString(), target);
  const s = await state();
  assert.equal((s.accountConnectors as Json[])[0].Authenticated, true);
});

test('breakages: Graph client without permission (403), its secret expired (7000222), Dynamics connector removed or not Approved', async () => {
  const gc = await sim('GET', '/graph-client');
  assert.deepEqual(gc, {
    appId: 'sim-graph-admin-client',
    tenantId: PARTNER,
    canManageApplications: true,
    secretExpired: false,
  });
  const gt = await graphToken();
  await sim('PUT', '/graph-client', { canManageApplications: false });
  const denied = await call('GET', `${base}/graph/v1.0/applications`, undefined, {
    authorization: `Bearer ${gt}`,
  });
  assert.equal(denied.status, 403);
  const db = (await denied.json()) as Json;
  assert.equal(db.error.code, 'Authorization_RequestDenied');
  assert.equal(db.error.message, 'Insufficient privileges to complete the operation.');
  const fresh = await graphToken();
  const claims = await verifiedClaims(fresh, `${base}/login/${PARTNER}/discovery/v2.0/keys`);
  assert.deepEqual(claims.roles, []);
  await sim('PUT', '/graph-client', { canManageApplications: true });
  assert.equal(
    (await call('GET', `${base}/graph/v1.0/applications`, undefined, { authorization: `Bearer ${gt}` }))
      .status,
    200,
  );

  await sim('PUT', '/graph-client', { secretExpired: true });
  const expired = await postForm(`${base}/login/${PARTNER}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(expired.status, 401);
  const eb = (await expired.json()) as Json;
  assert.equal(eb.error, 'invalid_client');
  assert.deepEqual(eb.error_codes, [7000222]);
  assert.match(
    eb.error_description,
    /^AADSTS7000222: The provided client secret keys for app 'sim-graph-admin-client' are expired\./,
  );
  await sim('PUT', '/graph-client', { secretExpired: false });
  await graphToken();

  const ct = (await (
    await postForm(`${base}/cyclr-api/oauth/token`, {
      grant_type: 'client_credentials',
      client_id: 'sim-cyclr-client',
      client_secret: 'sim-cyclr-secret',
    })
  ).json()) as Json;
  await sim('POST', '/cyclr/accounts', { accountId: 'acct-cat' });
  const H = { authorization: `Bearer ${ct.access_token}`, 'x-cyclr-account': 'acct-cat' };
  const listed = async () =>
    ((await (await call('GET', `${base}/cyclr-api/v1.0/connectors`, undefined, H)).json()) as Json[]).map(
      (c) => c.Name,
    );
  assert.ok((await listed()).includes('Dynamics CRM Online'));

  const removed = await sim('PUT', '/cyclr/connectors/Dynamics CRM Online/catalog', { removed: true });
  assert.deepEqual(removed, { Id: 3400, Name: 'Dynamics CRM Online', Status: 'Approved', removed: true });
  assert.ok(!(await listed()).includes('Dynamics CRM Online'));
  assert.deepEqual(
    await (await call('GET', `${base}/cyclr-api/v1.0/connectors/3400`, undefined, H)).json(),
    [],
  );
  const install404 = await call('POST', `${base}/cyclr-api/v1.0/connectors/3400/install`, {}, H);
  assert.equal(install404.status, 404);
  assert.deepEqual(await install404.json(), { Message: "Connector '3400' not found." });

  await sim('PUT', '/cyclr/connectors/3400/catalog', { removed: false, Status: 'Draft' });
  const drafts = (await (
    await call('GET', `${base}/cyclr-api/v1.0/connectors?query=dynamics`, undefined, H)
  ).json()) as Json[];
  assert.equal(drafts[0].Status, 'Draft');
  const install400 = await call('POST', `${base}/cyclr-api/v1.0/connectors/3400/install`, {}, H);
  assert.equal(install400.status, 400);
  assert.deepEqual(await install400.json(), {
    Message: 'Connector 3400 is a draft and cannot be installed.',
  });
  const s = await state();
  assert.deepEqual(s.catalogOverrides, { 3400: { removed: false, Status: 'Draft' } });
  await sim('PUT', '/cyclr/connectors/3400/catalog', { Status: 'Approved' });
  assert.equal((await call('POST', `${base}/cyclr-api/v1.0/connectors/3400/install`, {}, H)).status, 200);
  // reset restores everything
  await sim('POST', '/reset');
  assert.deepEqual((await state()).catalogOverrides, {});
});

test('a state file written before these features loads: ops app and users, keys, service principal tenants filled in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-old-'));
  const stateFile = join(dir, 'state.json');
  try {
    const first = await startSimulators({ port: 0, stateFile });
    // A Graph-created service principal, as older files hold them (no tenantId).
    const gt = (
      (await (
        await postForm(`${first.url}/login/${PARTNER}/oauth2/v2.0/token`, {
          grant_type: 'client_credentials',
          client_id: 'sim-graph-admin-client',
          client_secret: 'sim-graph-admin-secret',
          scope: 'https://graph.microsoft.com/.default',
        })
      ).json()) as Json
    ).access_token as string;
    const H = { authorization: `Bearer ${gt}` };
    const app = (await (
      await call(
        'PATCH',
        `${first.url}/graph/v1.0/applications(uniqueName='old')`,
        { displayName: 'Old' },
        {
          ...H,
          prefer: 'create-if-missing',
        },
      )
    ).json()) as Json;
    assert.equal(
      (await call('POST', `${first.url}/graph/v1.0/servicePrincipals`, { appId: app.appId }, H)).status,
      201,
    );
    await first.close();

    const { readFileSync, writeFileSync } = await import('node:fs');
    const old = JSON.parse(readFileSync(stateFile, 'utf8')) as Json;
    old.applications = (old.applications as Json[]).filter((a) => a.appId !== OPS_APP);
    old.servicePrincipals = (old.servicePrincipals as Json[])
      .filter((sp) => sp.appId !== OPS_APP)
      .map(({ tenantId: _t, ...sp }) => sp);
    old.consents = [];
    old.tenants[0].users = [{ username: 'admin@partner.example', admin: true }];
    delete old.tenants[0].groups;
    for (const k of ['signingKeys', 'interactions', 'approvalRequests']) delete old[k];
    delete old.cyclr.catalogOverrides;
    delete old.settings.cyclrRedirectOutcome;
    writeFileSync(stateFile, JSON.stringify(old));

    const second = await startSimulators({ port: 0, stateFile });
    try {
      const st = (await (await get(`${second.url}/_sim/state`)).json()) as Json;
      assert.ok((st.signInApplications as Json[]).some((a) => a.appId === OPS_APP));
      assert.deepEqual(
        (st.tenants[0].users as Json[]).map((u) => u.username),
        ['admin@partner.example', 'ops@partner.example', 'staff@partner.example'],
      );
      assert.deepEqual(
        (st.servicePrincipals as Json[]).find((sp) => sp.appId === app.appId)!.tenantId,
        PARTNER,
      );
      assert.equal(st.settings.cyclrRedirectOutcome, 'query');
      const keys = (await (await get(`${second.url}/login/common/discovery/keys`)).json()) as Json;
      assert.equal(keys.keys.length, 1);
      // Graph still sees its own service principal (the 409 on a second POST proves it).
      assert.equal(
        (await call('POST', `${second.url}/graph/v1.0/servicePrincipals`, { appId: app.appId }, H)).status,
        409,
      );
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
