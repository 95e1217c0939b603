// The HTTP ingress customers' browsers reach: the admin-consent callback, the sign-in link
// launcher and the sign-in callback (Cyclr's targetOrigin). Each checks the signed state before
// it signals the workflow.
import type { Server } from 'node:http';
import express, { type Request, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CyclrClient } from '../clients/cyclr';
import type { Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import { verifyLinkState, type LinkPurpose } from '../secrets/link-state';
import { classifyAadsts } from '../shared/aadsts';
import {
  consentFailedSignal,
  consentGrantedSignal,
  signInCompletedSignal,
  statusQuery,
} from '../shared/messages';
import { page } from './pages';

export interface IngressDeps {
  config: Config;
  keys: KeyRing;
  client: Client;
  cyclr: CyclrClient;
}

const first = (value: unknown): string | undefined =>
  Array.isArray(value) ? first(value[0]) : typeof value === 'string' ? value : undefined;

export function createIngressApp(deps: IngressDeps): express.Express {
  const { config, keys, client, cyclr } = deps;
  const app = express();
  app.disable('x-powered-by');

  const stateOf = (req: Request, res: Response, purpose: LinkPurpose) => {
    const verified = verifyLinkState(keys.stateSigningKey, first(req.query.state), purpose);
    if (!verified.ok) {
      res
        .status(400)
        .type('html')
        .send(
          page('This link is not valid', [
            `Refused: ${verified.reason}.`,
            'Ask your contact for the current link.',
          ]),
        );
      return undefined;
    }
    return verified.state;
  };

  const gone = (res: Response) =>
    res
      .status(410)
      .type('html')
      .send(page('This onboarding has ended', ['There is nothing left to do with this link.']));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  // Microsoft redirects the customer's admin here after the admin-consent prompt.
  app.get('/callbacks/consent', async (req, res) => {
    const state = stateOf(req, res, 'consent');
    if (!state) return;
    const handle = client.workflow.getHandle(state.workflowId);
    const error = first(req.query.error);
    try {
      if (error) {
        const errorDescription = first(req.query.error_description);
        await handle.signal(consentFailedSignal, { error, errorDescription });
        const classified = classifyAadsts(errorDescription, {}, error);
        res
          .status(200)
          .type('html')
          .send(page('Consent was not granted', [classified.verbatim, classified.remediation]));
        return;
      }
      if (first(req.query.admin_consent)?.toLowerCase() !== 'true') {
        res
          .status(400)
          .type('html')
          .send(
            page('Consent was not granted', [
              'Microsoft did not report admin consent (admin_consent is not True).',
            ]),
          );
        return;
      }
      // Microsoft warns never to trust `tenant` here: it is recorded, not relied on.
      const tenant = first(req.query.tenant) ?? 'unknown tenant';
      await handle.signal(consentGrantedSignal, {
        by: `customer admin (consent callback, tenant ${tenant.slice(0, 64)})`,
      });
      res
        .status(200)
        .type('html')
        .send(page('Thank you: consent granted', ['The onboarding continues. You can close this window.']));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return gone(res);
      throw err;
    }
  });

  // The customer's user opens our sign-in link; we mint Cyclr's one-time token only now (it lives
  // five minutes) and send the browser on to Cyclr's UpdateAccountConnectorOAuth page.
  app.get('/signin', async (req, res) => {
    const state = stateOf(req, res, 'sign-in');
    if (!state) return;
    let status;
    try {
      status = await client.workflow.getHandle(state.workflowId).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return gone(res);
      throw err;
    }
    if (status.step === 'verified') {
      res
        .status(200)
        .type('html')
        .send(page('Already connected', ['Dynamics CRM is connected. Nothing left to do.']));
      return;
    }
    if (
      status.waitingFor !== 'sign-in' ||
      status.signInAttempt !== state.attempt ||
      status.accountConnectorId === null
    ) {
      res
        .status(409)
        .type('html')
        .send(page('This sign-in link is not current', ['Ask your contact for the current sign-in link.']));
      return;
    }
    const { token } = await cyclr.createSignInToken(status.cyclrAccountId, config.CYCLR_SIGNIN_USERNAME);
    const targetOrigin = `${config.PUBLIC_BASE_URL}/callbacks/signin?state=${encodeURIComponent(first(req.query.state)!)}`;
    const query = new URLSearchParams({ id: String(status.accountConnectorId), token, targetOrigin });
    res
      .set('Cache-Control', 'no-store')
      .redirect(302, `${config.CYCLR_SERVICE_BASE_URL}/connectorauth/updateaccountconnectoroauth?${query}`);
  });

  // Cyclr sends the browser back here when the OAuth round trip ends.
  app.get('/callbacks/signin', async (req, res) => {
    const state = stateOf(req, res, 'sign-in');
    if (!state) return;
    const ok = first(req.query.success)?.toLowerCase() === 'true' && !first(req.query.error);
    const error = first(req.query.error);
    const errorDescription = first(req.query.error_description);
    try {
      await client.workflow.getHandle(state.workflowId).signal(signInCompletedSignal, {
        ok,
        ...(error ? { error: error.slice(0, 200) } : {}),
        ...(errorDescription ? { errorDescription: errorDescription.slice(0, 4000) } : {}),
        attempt: state.attempt,
        by: 'sign-in callback',
      });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return gone(res);
      throw err;
    }
    if (ok) {
      res
        .status(200)
        .type('html')
        .send(page('Connected', ['Dynamics CRM is connected. You can close this window.']));
      return;
    }
    const classified = classifyAadsts(errorDescription, {}, error);
    res
      .status(200)
      .type('html')
      .send(page('The sign-in did not complete', [classified.verbatim, classified.remediation]));
  });

  app.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    console.error('ingress error:', err instanceof Error ? err.message : err);
    res
      .status(502)
      .type('html')
      .send(page('Something went wrong', ['Please try the link again in a minute.']));
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
