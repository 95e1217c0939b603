// Microsoft's own client, MSAL Node, against the simulated identity platform: it reads the
// simulators' discovery document itself (no hand-fed metadata) through a TLS front, since MSAL
// refuses an http authority, and gets app-only tokens, a user's tokens by code + PKCE, and errors.
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID, verify } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import {
  ConfidentialClientApplication,
  CryptoProvider,
  ServerError,
  type AuthenticationResult,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { generate } from 'selfsigned';
import { Agent, fetch as undiciFetch } from 'undici';
import { startSimulators } from '../simulators/server.js';
import { unescapeHtml } from './helpers/html';

const DYNAMICS = '00000007-0000-0000-c000-000000000000';
const USER_IMPERSONATION = '78ce3f0f-a1ce-49c2-8cde-64b5c0896db4';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * MSAL's HTTP calls with the front's self-signed certificate trusted. MSAL Node 7 has no
 * `proxyUrl`/`customAgentOptions` any more; `system.networkClient` is its documented hook.
 * Every URL it fetches is recorded, so the test can show where the metadata came from.
 */
class TrustingNetworkClient implements INetworkModule {
  readonly requests: string[] = [];
  private readonly dispatcher: Agent;

  constructor(ca: string) {
    this.dispatcher = new Agent({ connect: { ca } });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number) {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions) {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: string,
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    this.requests.push(`${method} ${url}`);
    const res = await undiciFetch(url, {
      method,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
      dispatcher: this.dispatcher,
      signal: timeout ? AbortSignal.timeout(timeout) : undefined,
    });
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { headers, body: (await res.json()) as T, status: res.status };
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

let sims: Awaited<ReturnType<typeof startSimulators>>;
let front: ReturnType<typeof createHttpsServer>;
let ca = '';
/** The front's origin, `https://127.0.0.1:<port>`: the simulators' public URL. */
let origin = '';
/** The simulators' own http address, for the control API and Graph calls made by the test. */
let direct = '';
const clients: TrustingNetworkClient[] = [];

before(async () => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  ca = pems.cert;
  // The front listens first: the simulators need its origin as their public URL.
  front = createHttpsServer({ key: pems.private, cert: pems.cert });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  origin = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  sims = await startSimulators({ port: 0, publicUrl: origin });
  direct = sims.listenUrl;
  // It forwards every request unchanged (method, path, headers, body) to the simulators.
  const target = new URL(sims.listenUrl);
  front.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  front.closeAllConnections();
  await new Promise<void>((resolve) => front.close(() => resolve()));
  await sims.close();
});

// ------------------------------------------------------------------------------- helpers

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    redirect: 'manual',
  });
}

async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const r = await call(method, `${direct}/_sim${path}`, body);
  assert.ok(r.status < 300, `control ${method} ${path} -> ${r.status} ${await r.clone().text()}`);
  return r.status === 204 ? {} : ((await r.json()) as Json);
}

/** A confidential client for one tenant, pointed at the simulators through the front. */
function msalApp(clientId: string, clientSecret: string, tenant: string) {
  const network = new TrustingNetworkClient(ca);
  clients.push(network);
  const app = new ConfidentialClientApplication({
    auth: {
      clientId,
      clientSecret,
      authority: `${origin}/login/${tenant}`,
      // Only tells MSAL not to ask login.microsoftonline.com for instance discovery of this host;
      // the endpoints still come from the simulators' discovery document.
      knownAuthorities: [new URL(origin).host],
    },
    system: { networkClient: network },
  });
  return { app, network };
}

/** What MSAL fetched: the discovery document first, then only the front (never Microsoft). */
function assertDiscoveredThroughFront(network: TrustingNetworkClient, tenant: string) {
  assert.equal(network.requests[0], `GET ${origin}/login/${tenant}/v2.0/.well-known/openid-configuration`);
  for (const r of network.requests) assert.ok(r.split(' ')[1].startsWith(`${origin}/`), r);
}

/** Checks an RS256 JWT against the JWKS the discovery document names; returns its claims. */
async function verifiedClaims(token: string, tenant: string): Promise<Json> {
  const disco = (await (
    await fetch(`${direct}/login/${tenant}/v2.0/.well-known/openid-configuration`)
  ).json()) as Json;
  assert.ok(String(disco.jwks_uri).startsWith(`${origin}/`), 'the JWKS is named at the public URL');
  const jwks = (await (await fetch(String(disco.jwks_uri).replace(origin, direct))).json()) as Json;
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

function assertFresh(result: AuthenticationResult | null): AuthenticationResult {
  assert.ok(result, 'MSAL returned a result');
  assert.equal(result.tokenType, 'Bearer');
  assert.equal(result.fromCache, false);
  assert.ok(result.expiresOn && result.expiresOn.getTime() > Date.now() + 3000_000);
  return result;
}

async function graphClientToken(cfg: Json): Promise<AuthenticationResult> {
  const { app, network } = msalApp(cfg.graphClientId, cfg.graphClientSecret, cfg.partnerTenantId);
  const result = assertFresh(
    await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
  );
  assertDiscoveredThroughFront(network, cfg.partnerTenantId);
  return result;
}

/** The shared multi-tenant app, created through the simulators' Graph with MSAL's token. */
async function createSharedApp(graphToken: string): Promise<{ appId: string; secret: string }> {
  const H = { authorization: `Bearer ${graphToken}` };
  const created = await call(
    'POST',
    `${direct}/graph/v1.0/applications`,
    {
      displayName: 'Acme Cyclr Dynamics',
      uniqueName: `msal-${randomUUID()}`,
      signInAudience: 'AzureADMultipleOrgs',
      requiredResourceAccess: [
        { resourceAppId: DYNAMICS, resourceAccess: [{ id: USER_IMPERSONATION, type: 'Scope' }] },
      ],
    },
    H,
  );
  assert.equal(created.status, 201, await created.clone().text());
  const app = (await created.json()) as Json;
  const pw = await call('POST', `${direct}/graph/v1.0/applications/${app.id}/addPassword`, {}, H);
  assert.equal(pw.status, 200);
  return { appId: app.appId, secret: ((await pw.json()) as Json).secretText };
}

async function createTenant(): Promise<{ tenantId: string; org: string }> {
  const tenantId = randomUUID();
  const domain = `fabrikam-${tenantId.slice(0, 8)}.example`;
  const org = `https://fabrikam-${tenantId.slice(0, 8)}.crm4.dynamics.com`;
  await control('POST', '/tenants', {
    tenantId,
    domain,
    displayName: 'Fabrikam',
    orgs: [org],
    users: [{ username: `admin@${domain}`, admin: true }],
  });
  return { tenantId, org };
}

async function rejection(p: Promise<unknown>): Promise<ServerError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ServerError, `a ServerError, got ${String(err)}`);
    return err;
  }
  assert.fail('MSAL returned a token');
}

/** The sign-in page's single form: its action and hidden fields (README "Conventions"). */
function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form method="post" action="([^"]*)">/g)];
  assert.equal(forms.length, 1, 'exactly one form');
  assert.ok(html.includes('<input type="text" name="username">'), 'a username input');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[unescapeHtml(m[1])] = unescapeHtml(m[2]);
  }
  return { action: unescapeHtml(forms[0][1]), fields };
}

// --------------------------------------------------------------------------------- tests

test('publicUrl must be an http(s) origin', async () => {
  await assert.rejects(startSimulators({ port: 0, publicUrl: 'https://sims.example/base' }), /no path/);
  await assert.rejects(startSimulators({ port: 0, publicUrl: 'sims.example' }), /absolute http\(s\) URL/);
});

test('the discovery document behind the front names the front', async () => {
  const cfg = await control('GET', '/config');
  assert.equal(cfg.baseUrl, origin);
  assert.equal(sims.url, origin);
  const disco = (await (await fetch(cfg.openidConfiguration.replace(origin, direct))).json()) as Json;
  assert.equal(disco.issuer, `${origin}/login/${cfg.partnerTenantId}/v2.0`);
  for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'end_session_endpoint'])
    assert.ok(String(disco[k]).startsWith(`${origin}/login/${cfg.partnerTenantId}/`), k);
});

test('MSAL client credentials: the Graph management client, then the shared app in a consenting tenant', async () => {
  await control('POST', '/reset');
  const cfg = await control('GET', '/config');

  // (a) The partner's Graph management client.
  const graph = await graphClientToken(cfg);
  assert.deepEqual(graph.scopes, ['https://graph.microsoft.com/.default']);
  const gc = await verifiedClaims(graph.accessToken, cfg.partnerTenantId);
  assert.equal(gc.aud, 'https://graph.microsoft.com');
  assert.equal(gc.appid, cfg.graphClientId);
  assert.equal(gc.tid, cfg.partnerTenantId);
  assert.deepEqual(gc.roles, ['Application.ReadWrite.All']);
  // (b) The shared multi-tenant app, made through Graph with that token, in a customer tenant.
  const shared = await createSharedApp(graph.accessToken);
  const t = await createTenant();
  await control('POST', `/tenants/${t.tenantId}/consents`, { appId: shared.appId });
  const { app, network } = msalApp(shared.appId, shared.secret, t.tenantId);
  const result = assertFresh(await app.acquireTokenByClientCredential({ scopes: [`${t.org}/.default`] }));
  assertDiscoveredThroughFront(network, t.tenantId);
  const claims = await verifiedClaims(result.accessToken, t.tenantId);
  assert.equal(claims.aud, t.org);
  assert.equal(claims.appid, shared.appId);
  assert.equal(claims.tid, t.tenantId);
  assert.deepEqual(claims.roles, []);
  // The same request again comes from MSAL's cache.
  const cached = await app.acquireTokenByClientCredential({ scopes: [`${t.org}/.default`] });
  assert.equal(cached?.fromCache, true);
  assert.equal(cached?.accessToken, result.accessToken);
});

test('MSAL parses the errors: no consent in the tenant (AADSTS7000229), a wrong secret (AADSTS7000215)', async () => {
  await control('POST', '/reset');
  const cfg = await control('GET', '/config');
  const shared = await createSharedApp((await graphClientToken(cfg)).accessToken);
  const t = await createTenant();

  const { app: noConsent } = msalApp(shared.appId, shared.secret, t.tenantId);
  const e1 = await rejection(noConsent.acquireTokenByClientCredential({ scopes: [`${t.org}/.default`] }));
  assert.equal(e1.errorCode, 'invalid_client');
  assert.equal(String(e1.errorNo), '7000229');
  assert.equal(e1.status, 401);
  assert.match(
    e1.errorMessage,
    new RegExp(
      `AADSTS7000229: The client application ${shared.appId} is missing service principal in the tenant ${t.tenantId}\\.`,
    ),
  );

  await control('POST', `/tenants/${t.tenantId}/consents`, { appId: shared.appId });
  const { app: wrongSecret } = msalApp(shared.appId, 'not-the-secret', t.tenantId);
  const e2 = await rejection(wrongSecret.acquireTokenByClientCredential({ scopes: [`${t.org}/.default`] }));
  assert.equal(e2.errorCode, 'invalid_client');
  assert.equal(String(e2.errorNo), '7000215');
  assert.equal(e2.status, 401);
  assert.match(e2.errorMessage, /AADSTS7000215: Invalid client secret provided\./);

  // The Graph management client with a wrong secret: the same error through MSAL.
  const { app: badGraph } = msalApp(cfg.graphClientId, 'wrong', cfg.partnerTenantId);
  const e3 = await rejection(
    badGraph.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
  );
  assert.equal(String(e3.errorNo), '7000215');
});

/** Opens MSAL's authorize URL as a browser would and signs in as `username`; returns the redirect. */
async function signInThroughFront(authUrl: string, username: string): Promise<URL> {
  const browser = new Agent({ connect: { ca } });
  try {
    const page = await undiciFetch(authUrl, { dispatcher: browser });
    assert.equal(page.status, 200);
    const form = parseForm(await page.text());
    assert.ok(form.action.startsWith(`${origin}/login/`), 'the form posts to the public URL');
    const answer = await undiciFetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form.fields, username, decision: 'accept' }).toString(),
      redirect: 'manual',
      dispatcher: browser,
    });
    assert.equal(answer.status, 302);
    return new URL(answer.headers.get('location')!);
  } finally {
    await browser.close();
  }
}

test('MSAL authorization code + PKCE for the ops sign-in app: state, nonce, account, signed tokens', async () => {
  await control('POST', '/reset');
  const cfg = await control('GET', '/config');
  const ops = cfg.opsSignIn as Json;
  const redirectUri = 'https://ops.partner.example/auth/callback';
  await control('POST', `/tenants/${ops.tenantId}/applications`, {
    appId: ops.appId,
    redirectUris: [redirectUri],
  });

  const { app, network } = msalApp(ops.appId, ops.clientSecret, ops.tenantId);
  const crypto = new CryptoProvider();
  const scopes = ['User.Read'];
  /** One sign-in: MSAL builds the authorize URL, the operator signs in, the code comes back. */
  const signIn = async () => {
    const pkce = await crypto.generatePkceCodes();
    const state = crypto.createNewGuid();
    const nonce = crypto.createNewGuid();
    const authUrl = await app.getAuthCodeUrl({
      scopes,
      redirectUri,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256',
      state,
      nonce,
    });
    const u = new URL(authUrl);
    assert.equal(u.origin + u.pathname, `${origin}/login/${ops.tenantId}/oauth2/v2.0/authorize`);
    const back = await signInThroughFront(authUrl, ops.operator);
    assert.equal(back.origin + back.pathname, redirectUri);
    assert.equal(back.searchParams.get('state'), state);
    const code = back.searchParams.get('code');
    assert.ok(code, `a code in ${back.search}`);
    return { code, state, nonce, verifier: pkce.verifier };
  };

  const s = await signIn();
  assertDiscoveredThroughFront(network, ops.tenantId);
  // MSAL redeems it: checks the returned state against the request's, sends the verifier, and
  // holds the id token's nonce to the request's (a confidential client takes it from the request).
  const result = assertFresh(
    await app.acquireTokenByCode(
      { code: s.code, redirectUri, scopes, codeVerifier: s.verifier, state: s.state, nonce: s.nonce },
      { code: s.code, state: s.state },
    ),
  );
  assert.ok(result.idToken, 'an id token');
  assert.equal((result.idTokenClaims as Json).nonce, s.nonce);
  assert.equal(result.account?.username, ops.operator);
  assert.equal(result.account?.tenantId, ops.tenantId);
  assert.equal(result.account?.name, 'Olive Operator');
  const id = await verifiedClaims(result.idToken, ops.tenantId);
  assert.equal(id.iss, `${origin}/login/${ops.tenantId}/v2.0`);
  assert.equal(id.aud, ops.appId);
  assert.deepEqual(id.groups, [ops.groupId]);
  assert.deepEqual(id.roles, [ops.appRole]);
  const at = await verifiedClaims(result.accessToken, ops.tenantId);
  assert.equal(at.aud, 'https://graph.microsoft.com');
  assert.equal(at.upn, ops.operator);
  assert.equal(at.appid, ops.appId);
  assert.equal(at.scp, 'user_impersonation');

  // MSAL holds the nonce to the id token: another sign-in's code redeemed with a different
  // expected nonce is refused by MSAL itself.
  const s2 = await signIn();
  await assert.rejects(
    app.acquireTokenByCode(
      {
        code: s2.code,
        redirectUri,
        scopes,
        codeVerifier: s2.verifier,
        state: s2.state,
        nonce: crypto.createNewGuid(),
      },
      { code: s2.code, state: s2.state },
    ),
    (err: Error & { errorCode?: string }) => err.errorCode === 'nonce_mismatch',
  );
  // And a wrong verifier is refused by the simulators, as AADSTS501481, parsed by MSAL.
  const s3 = await signIn();
  const e = await rejection(
    app.acquireTokenByCode(
      { code: s3.code, redirectUri, scopes, codeVerifier: 'v'.repeat(43), state: s3.state, nonce: s3.nonce },
      { code: s3.code, state: s3.state },
    ),
  );
  assert.equal(e.errorCode, 'invalid_grant');
  assert.equal(String(e.errorNo), '501481');
});
