// A second ingress beside the harness's, with the ops page signing in through the simulated
// Entra: the partner tenant's seeded ops sign-in app, its callback registered through the
// simulators' control API, and the OPS_OIDC_* settings pointing at the tenant's v2.0 issuer.
import type { Server } from 'node:http';
import { createCyclrClient } from '../../src/clients/cyclr';
import { loadConfig, type Config } from '../../src/config';
import { startIngress } from '../../src/ingress/server';
import { freePort, type Harness } from './harness';

/** `GET /_sim/config` → `opsSignIn`: the seeded app and its two people. */
export interface OpsSignInApp {
  tenantId: string;
  appId: string;
  clientSecret: string;
  appRole: string;
  groupId: string;
  operator: string;
  nonOperator: string;
}

export interface OidcIngress {
  url: string;
  config: Config;
  app: OpsSignInApp;
  close(): Promise<void>;
}

export const opsSignInApp = async (h: Harness) =>
  (await h.sim.call<{ opsSignIn: OpsSignInApp }>('GET', '/config')).opsSignIn;

/** The harness's configuration as environment strings, with `overrides`. */
export function configWith(h: Harness, overrides: Record<string, string>): Config {
  const values = Object.fromEntries(
    Object.entries(h.config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
  return loadConfig({}, { ...values, ...overrides });
}

/** The OPS_OIDC_* settings (and port, public URL) of an ingress on `port`. */
export const oidcSettings = (h: Harness, app: OpsSignInApp, port: number) => ({
  INGRESS_PORT: String(port),
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  OPS_OIDC_ISSUER: `${h.simUrl}/login/${app.tenantId}/v2.0`,
  OPS_OIDC_CLIENT_ID: app.appId,
  OPS_OIDC_CLIENT_SECRET: app.clientSecret,
  OPS_OIDC_ALLOWED_GROUPS: app.groupId,
  OPS_OIDC_ALLOWED_ROLES: app.appRole,
});

export async function startOidcIngress(h: Harness): Promise<OidcIngress> {
  const app = await opsSignInApp(h);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The callback must be registered on the app, as in the Entra admin center.
  await h.sim.call('POST', `/tenants/${app.tenantId}/applications`, {
    appId: app.appId,
    redirectUris: [`${url}/ops/oidc/callback`],
  });
  const config = configWith(h, oidcSettings(h, app, port));
  const server: Server = await startIngress({
    config,
    keys: h.keys,
    client: h.env.client,
    cyclr: createCyclrClient(config),
  });
  return {
    url,
    config,
    app,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
