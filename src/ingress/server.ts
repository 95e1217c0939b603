// The HTTP ingress, one process: onboarding events in, the customers' consent and sign-in
// callbacks, the ops page, and health endpoints.
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { CyclrClient } from '../clients/cyclr';
import { opsOidcSettings, type Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import { EVENTS_PATH } from '../shared/events';
import { visible } from '../shared/terminal-text';
import { callbacksRouter } from './callbacks';
import { eventsRouter } from './events';
import { resolveEventsSecret } from './events-secret';
import { healthRouter } from './health';
import { OpsAuth } from './ops-auth';
import { opsRouter } from './ops';
import { resolveOpsToken } from './ops-token';
import { page } from './pages';
import { securityHeaders } from './security-headers';
import { temporalGate, TemporalUnavailable } from './temporal-gate';

export interface IngressDeps {
  config: Config;
  keys: KeyRing;
  client: Client;
  cyclr: CyclrClient;
}

export function createIngressApp(deps: IngressDeps): express.Express {
  const { config, keys, client } = deps;
  const app = express();
  app.disable('x-powered-by');
  if (config.INGRESS_TRUST_PROXY !== undefined) app.set('trust proxy', config.INGRESS_TRUST_PROXY);
  // With OpenID Connect configured the shared ops token is not used (nor generated).
  const oidc = opsOidcSettings(config);
  const auth = new OpsAuth(
    oidc
      ? { kind: 'oidc', issuer: oidc.issuer, clientId: oidc.clientId }
      : { kind: 'token', token: resolveOpsToken(config).token },
    keys.stateSigningKey,
    config.PUBLIC_BASE_URL.startsWith('https:'),
  );
  // Every Temporal call made for a request has a deadline, and none is tried while Temporal is down.
  const temporal = temporalGate(client);

  app.use(securityHeaders(config.PUBLIC_BASE_URL));
  app.use(healthRouter(client));
  // Outside production a missing EVENTS_HMAC_SECRET is generated into DATA_DIR (events-secret.ts).
  app.use(
    eventsRouter({ ...config, EVENTS_HMAC_SECRET: resolveEventsSecret(config)?.secret }, client, temporal),
  );
  app.use(callbacksRouter({ ...deps, temporal }));
  app.use(opsRouter(client, auth, config, temporal));

  app.use((err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    const status = (err as { status?: number }).status;
    const message = err instanceof Error ? err.message : String(err);
    const unavailable = err instanceof TemporalUnavailable;
    // Body-parser errors (too large, bad encoding) are the caller's; everything else is ours.
    const clientError = !unavailable && typeof status === 'number' && status >= 400 && status < 500;
    if (!clientError) console.error(visible(`ingress error on ${req.method} ${req.path}: ${message}`));
    const code = clientError ? status : unavailable ? 503 : 502;
    if (unavailable) res.set('Retry-After', String(Math.max(err.retryAfterSeconds, 5)));
    if (req.path === EVENTS_PATH) {
      res.status(code).json({
        error: clientError ? `body: ${message}` : 'temporarily unavailable; send the event again later',
      });
      return;
    }
    res
      .status(code)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        page(unavailable ? 'Please try again shortly' : 'Something went wrong', [
          clientError ? `Refused: ${message}.` : 'Please try again in a minute.',
        ]),
      );
  });
  return app;
}

export async function startIngress(
  deps: IngressDeps,
  port = deps.config.INGRESS_PORT,
  host = deps.config.INGRESS_HOST,
): Promise<Server> {
  const app = createIngressApp(deps);
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, () => resolve(server));
    server.once('error', reject);
  });
}
