// Wire-format tests for the simulators, using plain fetch only (no product code).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { startSimulators } from '../simulators/server.js';
import { unescapeHtml } from './helpers/html';

const PARTNER = '11111111-1111-4111-8111-111111111111';
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

function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
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
  assert.ok(r.status < 300, `control ${method} ${path} -> ${r.status}`);
  return r.status === 204 ? {} : ((await r.json()) as Json);
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

async function cyclrToken(): Promise<string> {
  const r = await postForm(`${base}/cyclr-api/oauth/token`, {
    grant_type: 'client_credentials',
    client_id: 'sim-cyclr-client',
    client_secret: 'sim-cyclr-secret',
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as Json).access_token;
}

interface App {
  id: string;
  appId: string;
  secret: string;
  displayName: string;
}

/** Registers a multi-tenant app with the Cyclr callback and the Dynamics permission, plus a secret. */
async function registerApp(gt: string, opts: { multiTenant?: boolean } = {}): Promise<App> {
  const H = { authorization: `Bearer ${gt}`, prefer: 'create-if-missing' };
  const uniqueName = `app-${randomUUID()}`;
  const r = await call(
    'PATCH',
    `${base}/graph/v1.0/applications(uniqueName='${uniqueName}')`,
    {
      displayName: 'Acme Cyclr Dynamics',
      signInAudience: opts.multiTenant === false ? 'AzureADMyOrg' : 'AzureADMultipleOrgs',
      web: { redirectUris: [`${base}/cyclr-app/connector/callback`, 'https://ops.example/consent-done'] },
      requiredResourceAccess: [
        { resourceAppId: DYNAMICS, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] },
      ],
    },
    H,
  );
  assert.equal(r.status, 201);
  const app = (await r.json()) as Json;
  const p = await call(
    'POST',
    `${base}/graph/v1.0/applications/${app.id}/addPassword`,
    {},
    { authorization: `Bearer ${gt}` },
  );
  assert.equal(p.status, 200);
  const pw = (await p.json()) as Json;
  return { id: app.id, appId: app.appId, secret: pw.secretText, displayName: app.displayName };
}

interface Tenant {
  tenantId: string;
  domain: string;
  org: string;
  admin: string;
  user: string;
}

async function createTenant(name = 'fabrikam'): Promise<Tenant> {
  const tenantId = randomUUID();
  const domain = `${name}-${tenantId.slice(0, 8)}.example`;
  const org = `https://${name}-${tenantId.slice(0, 8)}.crm4.dynamics.com`;
  await sim('POST', '/tenants', {
    tenantId,
    domain,
    displayName: `${name} Ltd`,
    orgs: [org],
    users: [
      { username: `admin@${domain}`, admin: true },
      { username: `user@${domain}`, admin: false },
    ],
  });
  return { tenantId, domain, org, admin: `admin@${domain}`, user: `user@${domain}` };
}

/** Plays the human: parses the single form of an interactive page. */
function parseForm(html: string): { action: string; fields: Record<string, string>; decisions: string[] } {
  const forms = [...html.matchAll(/<form method="post" action="([^"]*)">/g)];
  assert.equal(forms.length, 1, 'exactly one form');
  assert.equal((html.match(/<input type="text" name="username">/g) ?? []).length, 1);
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  }
  const decisions = [...html.matchAll(/<button type="submit" name="decision" value="([^"]*)">/g)].map(
    (m) => m[1],
  );
  return { action: unescapeHtml(forms[0][1]), fields, decisions };
}

/** Parses the single form of a page shown after sign-in (consent prompt, approval page): no username. */
function parseAfterSignIn(html: string): {
  action: string;
  fields: Record<string, string>;
  decisions: string[];
  forOrg: boolean;
} {
  const forms = [...html.matchAll(/<form method="post" action="([^"]*)">/g)];
  assert.equal(forms.length, 1, 'exactly one form');
  assert.equal((html.match(/name="username"/g) ?? []).length, 0, 'no username input after sign-in');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  }
  assert.ok(fields.ctx, 'a ctx hidden input');
  const decisions = [...html.matchAll(/<button type="submit" name="decision" value="([^"]*)">/g)].map(
    (m) => m[1],
  );
  const forOrg = html.includes('<input type="checkbox" name="consent_for_org" value="true">');
  return { action: unescapeHtml(forms[0][1]), fields, decisions, forOrg };
}

/** Submits a page parsed by parseAfterSignIn; expects a redirect and returns its Location. */
async function postSubmit(
  form: { action: string; fields: Record<string, string> },
  decision: string,
  extra: Record<string, string> = {},
): Promise<URL> {
  const r = await postForm(form.action, { ...form.fields, ...extra, decision });
  assert.equal(r.status, 302, `expected a redirect after ${decision}`);
  return new URL(r.headers.get('location')!);
}

/** GET an interactive page, then submit it as `username` with `decision`. Returns the 302 Location. */
async function submitPage(pageUrl: string, username: string, decision: 'accept' | 'decline'): Promise<URL> {
  const page = await get(pageUrl);
  assert.equal(page.status, 200, `page ${pageUrl}`);
  const form = parseForm(await page.text());
  assert.ok(form.decisions.includes(decision));
  const r = await postForm(form.action, { ...form.fields, username, decision });
  assert.equal(r.status, 302);
  return new URL(r.headers.get('location')!);
}

/** Sign-in through the v1 authorize endpoint; returns the code. */
async function signIn(app: App, username: string, resource: string, redirectUri: string): Promise<string> {
  const q = new URLSearchParams({
    client_id: app.appId,
    response_type: 'code',
    redirect_uri: redirectUri,
    ...(resource ? { resource } : {}),
    state: 's1',
  });
  const loc = await submitPage(`${base}/login/common/oauth2/authorize?${q}`, username, 'accept');
  assert.equal(loc.searchParams.get('state'), 's1');
  assert.match(loc.searchParams.get('session_state') ?? '', /^[0-9a-f-]{36}$/);
  return loc.searchParams.get('code')!;
}

function assertAadError(body: Json, error: string, code: number, opts: { errorUri?: boolean } = {}) {
  assert.equal(body.error, error);
  assert.deepEqual(body.error_codes, [code]);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
  assert.match(body.error_description, TRAILER_RE);
  assert.match(body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(body.trace_id, /^[0-9a-f-]{36}$/);
  assert.match(body.correlation_id, /^[0-9a-f-]{36}$/);
  assert.ok(body.error_description.includes(`Trace ID: ${body.trace_id}`));
  if (opts.errorUri !== false)
    assert.equal(body.error_uri, `https://login.microsoftonline.com/error?code=${code}`);
}

// ------------------------------------------------------------------------------- identity

test('v2 client_credentials: numbers, ext_expires_in; invalid_scope and bad secret errors', async () => {
  const url = `${base}/login/${PARTNER}/oauth2/v2.0/token`;
  const ok = await postForm(url, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as Json;
  assert.equal(body.token_type, 'Bearer');
  assert.equal(typeof body.expires_in, 'number');
  assert.equal(typeof body.ext_expires_in, 'number');
  assert.equal(typeof body.access_token, 'string');
  assert.equal(body.refresh_token, undefined);

  const scope = await postForm(url, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    scope: 'https://graph.microsoft.com/User.Read',
  });
  assert.equal(scope.status, 400);
  assertAadError((await scope.json()) as Json, 'invalid_scope', 70011);

  const secret = await postForm(url, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'nope',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(secret.status, 401);
  assertAadError((await secret.json()) as Json, 'invalid_client', 7000215);

  const noType = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(noType.status, 400);
  const nt = (await noType.json()) as Json;
  assertAadError(nt, 'invalid_request', 900144);
  assert.match(nt.error_description, /'grant_type'/);
});

test('v1 client_credentials: string numbers and resource', async () => {
  const r = await postForm(`${base}/login/partner.example/oauth2/token`, {
    grant_type: 'client_credentials',
    client_id: 'sim-graph-admin-client',
    client_secret: 'sim-graph-admin-secret',
    resource: 'https://graph.microsoft.com/',
  });
  assert.equal(r.status, 200);
  const b = (await r.json()) as Json;
  for (const k of ['expires_in', 'ext_expires_in', 'expires_on', 'not_before'])
    assert.equal(typeof b[k], 'string', k);
  assert.equal(b.resource, 'https://graph.microsoft.com/');
  assert.equal(b.token_type, 'Bearer');
  // A v1 Graph token works against Graph too.
  const g = await get(`${base}/graph/v1.0/applications`);
  assert.equal(g.status, 401);
  const g2 = await call('GET', `${base}/graph/v1.0/applications`, undefined, {
    authorization: `Bearer ${b.access_token}`,
  });
  assert.equal(g2.status, 200);
});

test('authorization_code at v1: 7000215, 65001, 500011, success shape, then 54005', async () => {
  const gt = await graphToken();
  const app = await registerApp(gt);
  const t = await createTenant();
  const redirect = `${base}/cyclr-app/connector/callback`;
  // Consent covers the user at sign-in, then is revoked before the code is redeemed.
  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });
  const code = await signIn(app, t.user, t.org, redirect);
  await sim('DELETE', `/tenants/${t.tenantId}/consents/${app.appId}`);
  const token = (fields: Record<string, string>) =>
    postForm(`${base}/login/common/oauth2/token`, {
      grant_type: 'authorization_code',
      client_id: app.appId,
      client_secret: app.secret,
      code,
      redirect_uri: redirect,
      resource: t.org,
      ...fields,
    });

  const unknownClient = await token({ client_id: randomUUID() });
  assert.equal(unknownClient.status, 400);
  assertAadError((await unknownClient.json()) as Json, 'unauthorized_client', 700016);

  const badSecret = await token({ client_secret: 'wrong' });
  assert.equal(badSecret.status, 401);
  const bs = (await badSecret.json()) as Json;
  assertAadError(bs, 'invalid_client', 7000215);
  assert.ok(bs.error_description.includes(`for a secret added to app '${app.appId}'`));

  const noConsent = await token({});
  assert.equal(noConsent.status, 400);
  const nc = (await noConsent.json()) as Json;
  assertAadError(nc, 'invalid_grant', 65001);
  assert.equal(nc.suberror, 'consent_required');
  assert.ok(
    nc.error_description.startsWith(
      `AADSTS65001: The user or administrator has not consented to use the application with ID '${app.appId}' named '${app.displayName}'. Send an interactive authorization request for this user and resource.\r\n`,
    ),
  );

  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });

  // A wrong resource named only at the token endpoint (authorize refuses it, see below).
  const wrongOrg = 'https://elsewhere.crm.dynamics.com';
  const badResource = await postForm(`${base}/login/common/oauth2/token`, {
    grant_type: 'authorization_code',
    client_id: app.appId,
    client_secret: app.secret,
    code: await signIn(app, t.user, '', redirect),
    redirect_uri: redirect,
    resource: wrongOrg,
  });
  assert.equal(badResource.status, 400);
  const br = (await badResource.json()) as Json;
  assertAadError(br, 'invalid_resource', 500011);
  assert.ok(
    br.error_description.startsWith(
      `AADSTS500011: The resource principal named ${wrongOrg} was not found in the tenant named fabrikam Ltd. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.\r\n`,
    ),
  );

  const mismatch = await token({ redirect_uri: 'https://evil.example/cb' });
  assert.equal(mismatch.status, 400);
  assert.equal(((await mismatch.json()) as Json).error, 'invalid_grant');

  // Trailing slash and host case are normalised.
  const ok = await token({ resource: `${t.org.toUpperCase().replace('HTTPS', 'https')}/` });
  assert.equal(ok.status, 200);
  const b = (await ok.json()) as Json;
  for (const k of ['expires_in', 'ext_expires_in', 'expires_on', 'not_before'])
    assert.equal(typeof b[k], 'string', k);
  assert.equal(b.token_type, 'Bearer');
  assert.equal(typeof b.access_token, 'string');
  assert.equal(typeof b.refresh_token, 'string');

  const again = await token({});
  assert.equal(again.status, 400);
  const ag = (await again.json()) as Json;
  assert.equal(ag.error, 'invalid_grant');
  assert.deepEqual(ag.error_codes, [54005]);
  assert.ok(
    ag.error_description.startsWith(
      'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    ),
  );

  const unknownCode = await token({ code: 'nope' });
  assert.equal(unknownCode.status, 400);
  assertAadError((await unknownCode.json()) as Json, 'invalid_grant', 70008);
});

test('authorize: unknown client (700016) and unregistered redirect_uri (50011) are pages, not redirects', async () => {
  const gt = await graphToken();
  const app = await registerApp(gt);
  const unknown = await get(
    `${base}/login/common/oauth2/authorize?client_id=${randomUUID()}&response_type=code`,
  );
  assert.equal(unknown.status, 400);
  assert.equal(unknown.headers.get('location'), null);
  assert.match(await unknown.text(), /AADSTS700016: Application with identifier/);

  const q = new URLSearchParams({
    client_id: app.appId,
    response_type: 'code',
    redirect_uri: 'https://evil.example/cb',
  });
  const bad = await get(`${base}/login/common/oauth2/authorize?${q}`);
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('location'), null);
  const html = await bad.text();
  assert.ok(
    html.includes(
      `AADSTS50011: The redirect URI &#39;https://evil.example/cb&#39; specified in the request does not match the redirect URIs configured for the application &#39;${app.appId}&#39;.`,
    ),
  );

  // A single-tenant app cannot use /common.
  const single = await registerApp(gt, { multiTenant: false });
  const st = await get(`${base}/login/common/oauth2/authorize?client_id=${single.appId}&response_type=code`);
  assert.equal(st.status, 400);
  assert.match(await st.text(), /AADSTS50194/);
});

test('admin consent (v2.0 and legacy): accept, decline, wrong tenant user, non-admin', async () => {
  const gt = await graphToken();
  const app = await registerApp(gt);
  const t = await createTenant();
  const other = await createTenant('northwind');
  const redirect = 'https://ops.example/consent-done';
  const v2 = (state: string) =>
    `${base}/login/${t.tenantId}/v2.0/adminconsent?${new URLSearchParams({
      client_id: app.appId,
      scope: `${t.org}/.default`,
      redirect_uri: redirect,
      state,
    })}`;

  // The consent page names the app and the permissions, with accept and decline.
  const page = await get(v2('x'));
  const html = await page.text();
  assert.match(html, /Acme Cyclr Dynamics/);
  assert.match(html, /user_impersonation/);
  assert.deepEqual(parseForm(html).decisions, ['accept', 'decline']);

  const declined = await submitPage(v2('st-decline'), t.admin, 'decline');
  assert.equal(declined.origin + declined.pathname, redirect);
  assert.equal(declined.searchParams.get('error'), 'access_denied');
  assert.match(
    declined.searchParams.get('error_description')!,
    /^AADSTS65004: User declined to consent to access the app\./,
  );
  assert.match(declined.searchParams.get('error_description')!, TRAILER_RE);
  assert.equal(declined.searchParams.get('error_uri'), 'https://login.microsoftonline.com/error?code=65004');
  assert.equal(declined.searchParams.get('admin_consent'), 'True');
  assert.equal(declined.searchParams.get('state'), 'st-decline');
  assert.equal(declined.searchParams.get('tenant'), null);
  assert.match(declined.search, /error_description=AADSTS65004%3A\+User\+declined/);
  assert.match(declined.search, /%0D%0ATrace\+ID%3A\+/);

  const stranger = await submitPage(v2('st-other'), other.admin, 'accept');
  assert.equal(stranger.searchParams.get('error'), 'access_denied');
  assert.match(
    stranger.searchParams.get('error_description')!,
    /^AADSTS50020: User account '.*' from identity provider '.*' does not exist in tenant/,
  );
  assert.equal(stranger.searchParams.get('tenant'), null);
  assert.equal(stranger.searchParams.get('state'), 'st-other');

  // A non-admin gets "Need admin approval"; back to the app is a cancel with AADSTS65004.
  const userPage = await get(v2('st-user'));
  const userForm = parseForm(await userPage.text());
  const approval = await postForm(userForm.action, {
    ...userForm.fields,
    username: t.user,
    decision: 'accept',
  });
  assert.equal(approval.status, 200);
  const approvalHtml = await approval.text();
  assert.match(approvalHtml, /<div id="admin-approval" data-workflow="false">/);
  const back = parseAfterSignIn(approvalHtml);
  assert.deepEqual(back.decisions, ['cancel']);
  const nonAdmin = await postSubmit(back, 'cancel');
  assert.equal(nonAdmin.origin + nonAdmin.pathname, redirect);
  assert.equal(nonAdmin.searchParams.get('error'), 'access_denied');
  assert.equal(nonAdmin.searchParams.get('error_subcode'), 'cancel');
  assert.match(
    nonAdmin.searchParams.get('error_description')!,
    /^AADSTS65004: User declined to consent to access the app\.\r\n/,
  );
  assert.match(nonAdmin.searchParams.get('error_description')!, TRAILER_RE);
  assert.equal(nonAdmin.searchParams.get('state'), 'st-user');
  assert.equal(nonAdmin.searchParams.get('tenant'), null);

  const appConsents = (st: Json) => (st.consents as Json[]).filter((c) => c.appId === app.appId);
  let state = await sim('GET', '/state');
  assert.equal(appConsents(state).length, 0);

  const ok = await submitPage(v2('st-ok'), t.admin, 'accept');
  assert.equal(ok.searchParams.get('admin_consent'), 'True');
  assert.equal(ok.searchParams.get('tenant'), t.tenantId);
  assert.equal(ok.searchParams.get('scope'), `${t.org}/.default`);
  assert.equal(ok.searchParams.get('state'), 'st-ok');
  assert.equal(ok.searchParams.get('error'), null);
  state = await sim('GET', '/state');
  assert.equal(appConsents(state).length, 1);
  assert.equal(appConsents(state)[0].tenantId, t.tenantId);
  assert.equal(appConsents(state)[0].user, null);
  assert.equal(state.counts.consentsGranted, 1);

  // Legacy /adminconsent via /common: the tenant is the admin's.
  const legacy = `${base}/login/common/adminconsent?${new URLSearchParams({ client_id: app.appId, state: 'L1', redirect_uri: redirect })}`;
  const lok = await submitPage(legacy, other.admin, 'accept');
  assert.deepEqual([...lok.searchParams.keys()], ['tenant', 'state', 'admin_consent']);
  assert.equal(lok.searchParams.get('tenant'), other.tenantId);
});

// ------------------------------------------------------------------------------- graph

test('graph: auth, upsert 201 then 204, 404 without Prefer, passwordCredentials rejected, SP 201/409/400', async () => {
  const gt = await graphToken();
  const H = { authorization: `Bearer ${gt}` };
  const unauth = await call('GET', `${base}/graph/v1.0/applications(uniqueName='x')`);
  assert.equal(unauth.status, 401);
  const ue = (await unauth.json()) as Json;
  assert.equal(ue.error.code, 'InvalidAuthenticationToken');
  assert.ok(ue.error.innerError['request-id']);
  assert.ok(ue.error.innerError.date);
  assert.equal(unauth.headers.get('x-ms-resource-unit'), '1');

  const path = `${base}/graph/v1.0/applications(uniqueName='acme-cyclr')`;
  const missing = await call('PATCH', path, { displayName: 'Acme' }, H);
  assert.equal(missing.status, 404);
  assert.equal(((await missing.json()) as Json).error.code, 'Request_ResourceNotFound');

  const created = await call(
    'PATCH',
    path,
    { displayName: 'Acme', signInAudience: 'AzureADMultipleOrgs' },
    { ...H, prefer: 'create-if-missing' },
  );
  assert.equal(created.status, 201);
  assert.ok(created.headers.get('x-ms-resource-unit'));
  const app = (await created.json()) as Json;
  assert.equal(app['@odata.context'], 'https://graph.microsoft.com/v1.0/$metadata#applications/$entity');
  assert.equal(app.uniqueName, 'acme-cyclr');
  assert.match(app.id, /^[0-9a-f-]{36}$/);
  assert.match(app.appId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(app.passwordCredentials, []);
  assert.deepEqual(app.web.redirectUris, []);

  const updated = await call(
    'PATCH',
    path,
    { web: { redirectUris: ['https://x.example/cb'] } },
    { ...H, prefer: 'create-if-missing' },
  );
  assert.equal(updated.status, 204);
  assert.equal(await updated.text(), '');

  const withPw = await call('PATCH', path, { passwordCredentials: [{ displayName: 'x' }] }, H);
  assert.equal(withPw.status, 400);

  const pw = await call(
    'POST',
    `${base}/graph/v1.0/applications(appId='${app.appId}')/addPassword`,
    { passwordCredential: { displayName: 'cyclr' } },
    H,
  );
  assert.equal(pw.status, 200);
  const p = (await pw.json()) as Json;
  assert.equal(p.secretText.length, 40);
  assert.equal(p.hint, p.secretText.slice(0, 3));
  assert.equal(p.displayName, 'cyclr');
  assert.match(p.keyId, /^[0-9a-f-]{36}$/);
  assert.match(p.endDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  assert.equal(new Date(p.endDateTime).getUTCFullYear() - new Date(p.startDateTime).getUTCFullYear(), 2);

  for (const url of [
    path,
    `${base}/graph/v1.0/applications/${app.id}`,
    `${base}/graph/v1.0/applications(appId='${app.appId}')`,
  ]) {
    const g = await call('GET', url, undefined, H);
    assert.equal(g.status, 200);
    const ga = (await g.json()) as Json;
    assert.deepEqual(ga.web.redirectUris, ['https://x.example/cb']);
    assert.equal(ga.passwordCredentials.length, 1);
    assert.equal(ga.passwordCredentials[0].secretText, null);
    assert.equal(ga.passwordCredentials[0].keyId, p.keyId);
  }

  const sp = await call('POST', `${base}/graph/v1.0/servicePrincipals`, { appId: app.appId }, H);
  assert.equal(sp.status, 201);
  assert.equal(((await sp.json()) as Json).appId, app.appId);
  const dup = await call('POST', `${base}/graph/v1.0/servicePrincipals`, { appId: app.appId }, H);
  assert.equal(dup.status, 409);
  const de = (await dup.json()) as Json;
  assert.equal(de.error.code, 'Request_MultipleObjectsWithSameKeyValue');
  assert.equal(
    de.error.message,
    `The service principal cannot be created, updated, or restored because the service principal name ${app.appId} is already in use.`,
  );
  const noApp = await call('POST', `${base}/graph/v1.0/servicePrincipals`, { appId: randomUUID() }, H);
  assert.equal(noApp.status, 400);
  const na = (await noApp.json()) as Json;
  assert.equal(na.error.code, 'Request_BadRequest');
  assert.equal(na.error.details[0].code, 'NoBackingApplicationObject');
  const spGet = await call('GET', `${base}/graph/v1.0/servicePrincipals(appId='${app.appId}')`, undefined, H);
  assert.equal(spGet.status, 200);

  const rm = await call(
    'POST',
    `${base}/graph/v1.0/applications/${app.id}/removePassword`,
    { keyId: p.keyId },
    H,
  );
  assert.equal(rm.status, 204);
  const state = await sim('GET', '/state');
  assert.deepEqual(
    {
      a: state.counts.applicationsCreated,
      s: state.counts.servicePrincipalsCreated,
      add: state.counts.passwordsAdded,
      rm: state.counts.passwordsRemoved,
    },
    { a: 1, s: 1, add: 1, rm: 1 },
  );
  assert.ok(state.secretsIssued.includes(p.secretText));
});

// ------------------------------------------------------------------------------- cyclr api

test('cyclr api: token, 401, connectors, non-idempotent install, properties, sign-in token', async () => {
  const bad = await postForm(`${base}/cyclr-api/oauth/token`, {
    grant_type: 'client_credentials',
    client_id: 'x',
    client_secret: 'y',
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'invalid_client' });
  assert.equal(bad.headers.get('x-content-type-options'), 'nosniff');

  const tr = await postForm(`${base}/cyclr-api/oauth/token`, {
    grant_type: 'client_credentials',
    client_id: 'sim-cyclr-client',
    client_secret: 'sim-cyclr-secret',
  });
  const tb = (await tr.json()) as Json;
  assert.deepEqual(Object.keys(tb), ['token_type', 'access_token', 'expires_in', 'clientId']);
  assert.equal(tb.token_type, 'bearer');
  assert.equal(tb.expires_in, 1209599);
  assert.equal(tb.clientId, 'sim-cyclr-client');

  const denied = await get(`${base}/cyclr-api/v1.0/connectors`);
  assert.equal(denied.status, 401);
  assert.deepEqual(await denied.json(), { Message: 'Authorization has been denied for this request.' });
  assert.equal(denied.headers.get('x-content-type-options'), 'nosniff');

  await sim('POST', '/cyclr/accounts', { accountId: 'acct-1', name: 'Fabrikam' });
  const H = { authorization: `Bearer ${tb.access_token}`, 'x-cyclr-account': 'acct-1' };
  const list = await call(
    'GET',
    `${base}/cyclr-api/v1.0/connectors?query=dynamics&pageSize=10&page=1`,
    undefined,
    H,
  );
  assert.equal(list.status, 200);
  const connectors = (await list.json()) as Json[];
  assert.equal(connectors.length, 1);
  const dyn = connectors[0];
  assert.equal(dyn.Id, 3400);
  assert.equal(dyn.Name, 'Dynamics CRM Online');
  assert.deepEqual(
    dyn.Parameters.filter((p: Json) => p.IsAccountConnectorProperty).map((p: Json) => p.Name),
    ['Resource', 'ClientId', 'ClientSecret'],
  );

  const noAccount = await call('GET', `${base}/cyclr-api/v1.0/account/connectors`, undefined, {
    authorization: H.authorization,
  });
  assert.equal(noAccount.status, 400);
  assert.ok(((await noAccount.json()) as Json).Message);
  const unknownAccount = await call('GET', `${base}/cyclr-api/v1.0/account/connectors`, undefined, {
    ...H,
    'x-cyclr-account': 'nope',
  });
  assert.equal(unknownAccount.status, 404);

  const install = () =>
    call(
      'POST',
      `${base}/cyclr-api/v1.0/connectors/3400/install`,
      { Name: 'Dynamics', Description: 'd', AuthenticationId: 0, AuthValue: '', Properties: [] },
      H,
    );
  const i1 = await install();
  assert.equal(i1.status, 200);
  assert.equal(i1.headers.get('x-content-type-options'), 'nosniff');
  const ac = (await i1.json()) as Json;
  assert.equal(typeof ac.Id, 'number');
  assert.equal(ac.Authenticated, false);
  assert.equal(ac.AuthValue, null);
  assert.equal(ac.Connector.Id, 3400);
  assert.equal(ac.Connector.Status, 'Approved');
  assert.equal(ac.IsPartnerIntegrationConnector, false);
  assert.deepEqual(ac.Properties, []);
  assert.deepEqual(ac.CustomFields, []);
  const i2 = await call(
    'POST',
    `${base}/cyclr-api/v1.0/connectors/${encodeURIComponent('Dynamics CRM Online')}/install`,
    {},
    H,
  );
  assert.equal(i2.status, 200);
  assert.notEqual(((await i2.json()) as Json).Id, ac.Id);
  const mine = (await (
    await call('GET', `${base}/cyclr-api/v1.0/account/connectors`, undefined, H)
  ).json()) as Json[];
  assert.equal(mine.length, 2);

  const props = `${base}/cyclr-api/v1.0/account/connectors/${ac.Id}/properties`;
  const p1 = await call('POST', props, { Name: 'Resource', Value: 'https://x.crm.dynamics.com' }, H);
  assert.equal(p1.status, 200);
  const prop = (await p1.json()) as Json;
  assert.deepEqual(Object.keys(prop).sort(), ['AccountConnectorId', 'Id', 'Name', 'Value']);
  assert.equal(prop.AccountConnectorId, ac.Id);
  const dupe = await call('POST', props, { Name: 'Resource', Value: 'https://y.crm.dynamics.com' }, H);
  assert.equal(dupe.status, 400);
  assert.deepEqual(await dupe.json(), { Message: "Account connector property 'Resource' already exists." });
  const unknown = await call('POST', props, { Name: 'Dont exist', Value: 'x' }, H);
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), {
    Message: "There is not a connector property that matches name 'Dont exist'.",
  });
  const secret = await call('POST', props, { Name: 'ClientSecret', Value: 'super-secret' }, H);
  assert.equal(((await secret.json()) as Json).Value, '********');
  const put = await call(
    'PUT',
    `${props}/${prop.Id}`,
    { Name: 'Resource', Value: 'https://z.crm.dynamics.com' },
    H,
  );
  assert.equal(put.status, 200);
  assert.equal(((await put.json()) as Json).Value, 'https://z.crm.dynamics.com');
  const all = (await (await call('GET', props, undefined, H)).json()) as Json[];
  assert.deepEqual(
    all.map((p) => [p.Name, p.Value]),
    [
      ['Resource', 'https://z.crm.dynamics.com'],
      ['ClientSecret', '********'],
    ],
  );
  assert.equal((await call('GET', `${props}/999999`, undefined, H)).status, 404);
  assert.equal(
    (await call('GET', `${base}/cyclr-api/v1.0/account/connectors/999999`, undefined, H)).status,
    404,
  );

  const st = await call(
    'POST',
    `${base}/cyclr-api/v1.0/accounts/acct-1/signintoken`,
    { Username: 'someone' },
    { authorization: H.authorization },
  );
  assert.equal(st.status, 200);
  const sb = (await st.json()) as Json;
  assert.match(sb.Token, /^[A-Za-z0-9+/]+=$/);
  assert.match(sb.ExpiresAtUtc, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  const expiresIn = Date.parse(sb.ExpiresAtUtc) - Date.now();
  assert.ok(expiresIn > 4 * 60_000 && expiresIn <= 5 * 60_000 + 1000);
  const st404 = await call(
    'POST',
    `${base}/cyclr-api/v1.0/accounts/nope/signintoken`,
    { Username: 'x' },
    { authorization: H.authorization },
  );
  assert.equal(st404.status, 404);

  const deauth = await call(
    'PUT',
    `${base}/cyclr-api/v1.0/account/connectors/${ac.Id}/deauthenticate`,
    undefined,
    H,
  );
  assert.deepEqual(await deauth.json(), { Message: "Connector 'Dynamics' successfully de-authenticated." });

  const state = await sim('GET', '/state');
  assert.equal(state.counts.connectorsInstalled, 2);
  assert.equal(state.counts.propertyWrites, 3);
  assert.equal(state.counts.signInTokensIssued, 1);
  assert.equal(state.accountConnectors.find((a: Json) => a.Id === ac.Id).properties.ClientSecret, '********');
  assert.ok(!JSON.stringify(state.accountConnectors).includes('super-secret'));
});

// ------------------------------------------------------------------------------- browser round trip

async function onboardCyclr(app: App, t: Tenant, accountId: string) {
  const ct = await cyclrToken();
  await sim('POST', '/cyclr/accounts', { accountId, name: t.domain });
  const H = { authorization: `Bearer ${ct}`, 'x-cyclr-account': accountId };
  const ac = (await (
    await call('POST', `${base}/cyclr-api/v1.0/connectors/3400/install`, {}, H)
  ).json()) as Json;
  for (const [Name, Value] of [
    ['Resource', t.org],
    ['ClientId', app.appId],
    ['ClientSecret', app.secret],
  ]) {
    const r = await call(
      'POST',
      `${base}/cyclr-api/v1.0/account/connectors/${ac.Id}/properties`,
      { Name, Value },
      H,
    );
    assert.equal(r.status, 200);
  }
  const signIn = async () =>
    (
      (await (
        await call(
          'POST',
          `${base}/cyclr-api/v1.0/accounts/${accountId}/signintoken`,
          { Username: 'u' },
          { authorization: `Bearer ${ct}` },
        )
      ).json()) as Json
    ).Token as string;
  return { acId: ac.Id as number, H, signIn };
}

/** The customer's browser: Cyclr link -> Microsoft sign-in -> Cyclr callback. Returns the final response. */
async function browserFlow(link: string, username: string): Promise<Response> {
  const start = await get(link);
  assert.equal(start.status, 302);
  const authorize = new URL(start.headers.get('location')!);
  assert.equal(authorize.origin + authorize.pathname, `${base}/login/common/oauth2/authorize`);
  assert.equal(authorize.searchParams.get('response_type'), 'code');
  assert.equal(authorize.searchParams.get('redirect_uri'), `${base}/cyclr-app/connector/callback`);
  const back = await submitPage(authorize.toString(), username, 'accept');
  assert.equal(back.origin + back.pathname, `${base}/cyclr-app/connector/callback`);
  return get(back.toString());
}

test('round trip: updateaccountconnectoroauth -> sign-in -> callback -> targetOrigin (success, failure, postMessage)', async () => {
  const gt = await graphToken();
  const app = await registerApp(gt);
  const t = await createTenant();
  const { acId, H, signIn } = await onboardCyclr(app, t, 'acct-rt');
  const target = 'https://onboarding.example/cyclr-done?wf=abc';
  const link = (token: string, extra = '') =>
    `${base}/cyclr-app/connectorauth/updateaccountconnectoroauth?id=${acId}&token=${encodeURIComponent(token)}&targetOrigin=${encodeURIComponent(target)}${extra}`;

  // No consent yet: the user gets "Need admin approval", goes back to the app, and Cyclr hands the
  // access_denied (AADSTS65004) on to targetOrigin.
  const start = await get(link(await signIn()));
  const authorize = new URL(start.headers.get('location')!);
  const page = await get(authorize.toString());
  const form = parseForm(await page.text());
  const approval = await postForm(form.action, { ...form.fields, username: t.user, decision: 'accept' });
  assert.equal(approval.status, 200);
  const back = await postSubmit(parseAfterSignIn(await approval.text()), 'cancel');
  assert.equal(back.origin + back.pathname, `${base}/cyclr-app/connector/callback`);
  const failed = await get(back.toString());
  assert.equal(failed.status, 302);
  const f = new URL(failed.headers.get('location')!);
  assert.equal(f.origin + f.pathname, 'https://onboarding.example/cyclr-done');
  assert.equal(f.searchParams.get('wf'), 'abc');
  assert.equal(f.searchParams.get('success'), 'false');
  assert.equal(f.searchParams.get('error'), 'access_denied');
  assert.match(f.searchParams.get('error_description')!, /^AADSTS65004: /);

  // Consent granted but not yet propagated: Cyclr's redemption fails with 65001.
  await sim('PUT', '/settings', { consentPropagationMs: 60_000 });
  await sim('POST', `/tenants/${t.tenantId}/consents`, { appId: app.appId });
  const early = await browserFlow(link(await signIn()), t.user);
  const e = new URL(early.headers.get('location')!);
  assert.equal(e.searchParams.get('error'), 'invalid_grant');
  assert.match(e.searchParams.get('error_description')!, /^AADSTS65001: /);
  await sim('PUT', '/settings', { consentPropagationMs: 0 });
  let ac = (await (
    await call('GET', `${base}/cyclr-api/v1.0/account/connectors/${acId}`, undefined, H)
  ).json()) as Json;
  assert.equal(ac.Authenticated, false);

  const token = await signIn();
  const ok = await browserFlow(link(token), t.user);
  assert.equal(ok.status, 302);
  const s = new URL(ok.headers.get('location')!);
  assert.equal(s.searchParams.get('wf'), 'abc');
  assert.equal(s.searchParams.get('success'), 'true');
  assert.equal(s.searchParams.get('accountConnectorId'), String(acId));
  ac = (await (
    await call('GET', `${base}/cyclr-api/v1.0/account/connectors/${acId}`, undefined, H)
  ).json()) as Json;
  assert.equal(ac.Authenticated, true);
  assert.equal(ac.AuthValue, null);

  // The sign-in token is single use.
  const reuse = await get(link(token));
  assert.equal(reuse.status, 400);
  assert.match(await reuse.text(), /The sign-in token is invalid or has expired/);

  // callbackMessage: a page that posts to the opener instead of a redirect.
  const pm = await browserFlow(
    link(await signIn(), `&callbackMessage=${encodeURIComponent('done!')}`),
    t.user,
  );
  assert.equal(pm.status, 200);
  const html = await pm.text();
  assert.match(html, /window\.opener/);
  assert.match(html, /postMessage\("done!", "https:\/\/onboarding\.example\/cyclr-done\?wf=abc"\)/);
  assert.match(html, new RegExp(`data-success="true" data-account-connector-id="${acId}"`));

  const state = await sim('GET', '/state');
  assert.equal(state.counts.tokenRedemptions, 2);
  assert.equal(state.counts.tokenRedemptionFailures, 1);
  assert.equal(state.accountConnectors[0].lastAuthError, null);
  const log = (await sim('GET', '/requests')) as unknown as Json[];
  assert.ok(
    log.some((e) => e.service === 'identity' && e.path === '/common/oauth2/token' && e.status === 400),
  );
  assert.ok(
    log.some((e) => e.service === 'cyclr-app' && e.path === '/connector/callback' && e.status === 302),
  );
  // No secret the sims issued leaks into the browser-visible redirects.
  for (const secret of state.secretsIssued as string[]) {
    if (secret.startsWith('0.A')) continue; // auth codes travel in the browser by design
    assert.ok(!f.toString().includes(secret) && !s.toString().includes(secret));
  }
});

// ------------------------------------------------------------------------------- faults

test('faults: status (once), delay after (write applied), drop; request log summary', async () => {
  const gt = await graphToken();
  const H = { authorization: `Bearer ${gt}` };
  await sim('POST', '/faults', {
    match: { service: 'graph', method: 'GET', path: '^/v1\\.0/applications' },
    action: { type: 'status', status: 429, headers: { 'Retry-After': '2' } },
  });
  const throttled = await call('GET', `${base}/graph/v1.0/applications`, undefined, H);
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get('retry-after'), '2');
  assert.equal(throttled.headers.get('x-ms-resource-unit'), '1');
  const tb = (await throttled.json()) as Json;
  assert.equal(tb.error.code, 'TooManyRequests');
  assert.equal((await call('GET', `${base}/graph/v1.0/applications`, undefined, H)).status, 200);
  const listed = (await sim('GET', '/faults')) as unknown as Json[];
  assert.equal(listed[0].remaining, 0);

  // Delay after: the write is applied although the client gave up before the answer.
  const ct = await cyclrToken();
  await sim('POST', '/cyclr/accounts', { accountId: 'acct-f' });
  const CH = { authorization: `Bearer ${ct}`, 'x-cyclr-account': 'acct-f' };
  const ac = (await (
    await call('POST', `${base}/cyclr-api/v1.0/connectors/3400/install`, {}, CH)
  ).json()) as Json;
  await sim('POST', '/faults', {
    match: { service: 'cyclr-api', method: 'POST', path: '/properties$' },
    action: { type: 'delay', ms: 400, when: 'after' },
  });
  await assert.rejects(
    fetch(`${base}/cyclr-api/v1.0/account/connectors/${ac.Id}/properties`, {
      method: 'POST',
      headers: { ...CH, 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'Resource', Value: 'https://a.crm.dynamics.com' }),
      signal: AbortSignal.timeout(100),
    }),
  );
  const props = (await (
    await call('GET', `${base}/cyclr-api/v1.0/account/connectors/${ac.Id}/properties`, undefined, CH)
  ).json()) as Json[];
  assert.deepEqual(
    props.map((p) => p.Name),
    ['Resource'],
  );

  // A delayed answer does arrive if the client waits.
  await sim('POST', '/faults', {
    match: { service: 'cyclr-api', path: '^/v1\\.0/account/connectors$' },
    action: { type: 'delay', ms: 150, when: 'after' },
  });
  const t0 = Date.now();
  const slow = await call('GET', `${base}/cyclr-api/v1.0/account/connectors`, undefined, CH);
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - t0 >= 140);

  // Drop: the connection dies without a response.
  await sim('POST', '/faults', { match: { service: 'identity' }, times: 2, action: { type: 'drop' } });
  await assert.rejects(graphToken());
  await assert.rejects(graphToken());
  await graphToken();

  const summary = await sim('GET', '/requests/summary');
  assert.equal(summary.services.graph.statuses['429'], 1);
  assert.equal(summary.services.identity.statuses['0'], 2);
  await sim('DELETE', '/faults');
  assert.deepEqual(await sim('GET', '/faults'), []);
});

// ------------------------------------------------------------------------------- persistence

test('persistence: a reloaded state file keeps apps, secrets, accounts and tokens usable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-state-'));
  const stateFile = join(dir, 'state.json');
  try {
    const first = await startSimulators({ port: 0, stateFile });
    const tokenUrl = (b: string) => `${b}/login/${PARTNER}/oauth2/v2.0/token`;
    const gtr = await postForm(tokenUrl(first.url), {
      grant_type: 'client_credentials',
      client_id: 'sim-graph-admin-client',
      client_secret: 'sim-graph-admin-secret',
      scope: 'https://graph.microsoft.com/.default',
    });
    const gt = ((await gtr.json()) as Json).access_token as string;
    const H = { authorization: `Bearer ${gt}` };
    const created = await call(
      'PATCH',
      `${first.url}/graph/v1.0/applications(uniqueName='persisted')`,
      { displayName: 'P' },
      { ...H, prefer: 'create-if-missing' },
    );
    const app = (await created.json()) as Json;
    const pw = (await (
      await call('POST', `${first.url}/graph/v1.0/applications/${app.id}/addPassword`, {}, H)
    ).json()) as Json;
    await first.close();

    const second = await startSimulators({ port: 0, stateFile });
    try {
      // The old Graph token and the app survive.
      const g = await call(
        'GET',
        `${second.url}/graph/v1.0/applications(uniqueName='persisted')`,
        undefined,
        H,
      );
      assert.equal(g.status, 200);
      // The app's secret still authenticates (client_credentials in its home tenant).
      const cc = await postForm(tokenUrl(second.url), {
        grant_type: 'client_credentials',
        client_id: app.appId,
        client_secret: pw.secretText,
        scope: 'https://graph.microsoft.com/.default',
      });
      assert.equal(cc.status, 200);
      const wrong = await postForm(tokenUrl(second.url), {
        grant_type: 'client_credentials',
        client_id: app.appId,
        client_secret: 'x',
        scope: 'https://graph.microsoft.com/.default',
      });
      assert.equal(wrong.status, 401);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('expired secret gives 7000222; clock and replication delay knobs', async () => {
  const gt = await graphToken();
  const H = { authorization: `Bearer ${gt}` };
  const app = (await (
    await call(
      'PATCH',
      `${base}/graph/v1.0/applications(uniqueName='exp')`,
      { displayName: 'E' },
      { ...H, prefer: 'create-if-missing' },
    )
  ).json()) as Json;
  const pw = (await (
    await call(
      'POST',
      `${base}/graph/v1.0/applications/${app.id}/addPassword`,
      { passwordCredential: { endDateTime: new Date(Date.now() + 60_000).toISOString() } },
      H,
    )
  ).json()) as Json;
  await sim('POST', '/clock', { advanceMs: 120_000 });
  const r = await postForm(`${base}/login/${PARTNER}/oauth2/v2.0/token`, {
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: pw.secretText,
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(r.status, 401);
  assertAadError((await r.json()) as Json, 'invalid_client', 7000222);

  await sim('PUT', '/settings', { replicationDelayMs: 60_000 });
  const fresh = (await (
    await call(
      'PATCH',
      `${base}/graph/v1.0/applications(uniqueName='slow')`,
      { displayName: 'S' },
      { ...H, prefer: 'create-if-missing' },
    )
  ).json()) as Json;
  assert.equal((await call('GET', `${base}/graph/v1.0/applications/${fresh.id}`, undefined, H)).status, 404);
  const sp = await call('POST', `${base}/graph/v1.0/servicePrincipals`, { appId: fresh.appId }, H);
  assert.equal(sp.status, 400);
  await sim('POST', '/clock', { advanceMs: 61_000 });
  assert.equal((await call('GET', `${base}/graph/v1.0/applications/${fresh.id}`, undefined, H)).status, 200);
});
