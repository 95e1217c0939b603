// The HTTP ingress, one process: onboarding events in, the customers' consent and sign-in
// callbacks, the ops page, and health endpoints.
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { CyclrClient } from '../clients/cyclr';
import type { Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import { EVENTS_PATH } from '../shared/events';
import { visible } from '../shared/terminal-text';
import { callbacksRouter } from './callbacks';
import { eventsRouter } from './events';
import { healthRouter } from './health';
import { OpsAuth } from './ops-auth';
import { opsRouter } from './ops';
import { resolveOpsToken } from './ops-token';
import { page } from './pages';

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
  const trustProxy = config.INGRESS_TRUST_PROXY;
  if (trustProxy) app.set('trust proxy', /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy);
  const auth = new OpsAuth(
    resolveOpsToken(config).token,
    keys.stateSigningKey,
    config.PUBLIC_BASE_URL.startsWith('https:'),
  );

  app.use(healthRouter(client));
  app.use(eventsRouter(config, client));
  app.use(callbacksRouter(deps));
  app.use(opsRouter(client, auth));

  app.use((err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    const status = (err as { status?: number }).status;
    const message = err instanceof Error ? err.message : String(err);
    // Body-parser errors (too large, bad encoding) are the caller's; everything else is ours.
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    if (!clientError) console.error(visible(`ingress error on ${req.method} ${req.path}: ${message}`));
    if (req.path === EVENTS_PATH) {
      res.status(clientError ? status : 502).json({
        error: clientError ? `body: ${message}` : 'temporarily unavailable; send the event again later',
      });
      return;
    }
    res
      .status(clientError ? status : 502)
      .type('html')
      .send(
        page('Something went wrong', [
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
