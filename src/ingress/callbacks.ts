// The pages customers' browsers reach: the admin-consent callback, the sign-in link launcher and
// the sign-in callback (Cyclr's targetOrigin). Each checks the signed state, then that the link is
// the one the onboarding publishes right now, then that it has not been used, before it signals.
import express, { type Request, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CyclrClient } from '../clients/cyclr';
import type { Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import { stateOfLink, verifyLinkState, type LinkPurpose, type LinkState } from '../secrets/link-state';
import { classifyAadsts } from '../shared/aadsts';
import {
  consentFailedSignal,
  consentGrantedSignal,
  signInErrorReportedSignal,
  signInReturnedSignal,
  statusQuery,
} from '../shared/messages';
import type { OnboardingStatus } from '../shared/status';
import { FINAL_STEPS } from '../shared/steps';
import { page, signInLandingPage } from './pages';
import { SeenOnce } from './seen-once';

export interface CallbackDeps {
  config: Config;
  keys: KeyRing;
  client: Client;
  cyclr: CyclrClient;
}

export const first = (value: unknown): string | undefined =>
  Array.isArray(value) ? first(value[0]) : typeof value === 'string' ? value : undefined;

const send = (res: Response, status: number, title: string, paragraphs: string[]) =>
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page(title, paragraphs));

interface Link {
  raw: string;
  state: LinkState;
  status: OnboardingStatus;
}

export function callbacksRouter(deps: CallbackDeps): express.Router {
  const { config, keys, client, cyclr } = deps;
  const router = express.Router();
  const usedStates = new SeenOnce();
  const reportedErrors = new SeenOnce();

  /** The verified state and the onboarding's status, or undefined once a page has been sent. */
  async function linkOf(
    req: Request,
    res: Response,
    purpose: LinkPurpose,
    raw = first(req.query.state),
  ): Promise<Link | undefined> {
    const verified = verifyLinkState(keys.stateSigningKey, raw, purpose);
    if (!verified.ok) {
      send(res, 400, 'This link is not valid', [
        `Refused: ${verified.reason}.`,
        'Ask your contact for the current link.',
      ]);
      return undefined;
    }
    try {
      const status = await client.workflow.getHandle(verified.state.workflowId).query(statusQuery);
      return { raw: raw!, state: verified.state, status };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      send(res, 410, 'This onboarding has ended', ['There is nothing left to do with this link.']);
      return undefined;
    }
  }

  /** The link is the one published for the current wait (a superseded link is refused). */
  const isCurrent = ({ raw, state, status }: Link) =>
    state.purpose === 'consent'
      ? status.waitingFor === 'consent' && stateOfLink(status.consentUrl) === raw
      : status.waitingFor === 'sign-in' &&
        status.signInAttempt === state.attempt &&
        stateOfLink(status.signInUrl) === raw;

  const notCurrent = (res: Response, link: Link, what: string) =>
    send(res, 409, `This ${what} was already used or is no longer current`, [
      `Refused: the onboarding is now at step "${link.status.step}"${link.status.waitingFor ? `, waiting for ${link.status.waitingFor}` : ''}; nothing was changed.`,
      'If something is still to do, ask your contact for the current link.',
    ]);

  /** Cyclr's own Authenticated flag; false when it cannot be read now (the workflow checks again). */
  const connectorAuthenticated = async (status: OnboardingStatus): Promise<boolean> => {
    if (status.accountConnectorId === null) return false;
    try {
      const connector = await cyclr.getAccountConnector(status.cyclrAccountId, status.accountConnectorId);
      return connector.Authenticated === true;
    } catch {
      return false;
    }
  };

  /** Marks the state used; false when it already was (a replayed callback). */
  const useOnce = (link: Link) => usedStates.firstUse(link.raw, link.state.exp * 1000);
  /** Signals for a link marked used; if the signal fails, the link is not spent and may be retried. */
  const signalOnce = async (link: Link, signal: () => Promise<void>) => {
    try {
      await signal();
    } catch (err) {
      usedStates.release(link.raw);
      throw err;
    }
  };

  const context = (status: OnboardingStatus) => ({
    customerTenant: status.customerTenant,
    resourceUrl: status.resourceUrl,
    appId: status.appId ?? undefined,
    consentUrl: status.consentUrl,
    signInUrl: status.signInUrl,
  });

  // Microsoft redirects the customer's admin here after the admin-consent prompt.
  router.get('/callbacks/consent', async (req, res) => {
    const link = await linkOf(req, res, 'consent');
    if (!link) return;
    if (!isCurrent(link)) return notCurrent(res, link, 'consent link');
    const handle = client.workflow.getHandle(link.state.workflowId);
    const error = first(req.query.error);
    if (error) {
      // Not marked used: the admin may go back and accept with the same link.
      const errorDescription = first(req.query.error_description);
      await handle.signal(consentFailedSignal, {
        error: error.slice(0, 200),
        ...(errorDescription ? { errorDescription: errorDescription.slice(0, 4000) } : {}),
      });
      const classified = classifyAadsts(errorDescription, context(link.status), error);
      return send(res, 200, 'Consent was not granted', [
        classified.verbatim,
        `What to do: ${classified.remediation}`,
      ]);
    }
    if (first(req.query.admin_consent)?.toLowerCase() !== 'true')
      return send(res, 400, 'Consent was not granted', [
        'Refused: admin_consent: Microsoft did not report admin consent (expected admin_consent=True).',
      ]);
    if (!useOnce(link)) return notCurrent(res, link, 'consent link');
    // Microsoft warns never to trust `tenant` here: it is recorded, not relied on.
    const tenant = first(req.query.tenant) ?? 'unknown tenant';
    await signalOnce(link, () =>
      handle.signal(consentGrantedSignal, {
        by: `customer admin (consent callback, tenant ${tenant.slice(0, 64)})`,
      }),
    );
    send(res, 200, 'Thank you: consent granted', ['The onboarding continues. You can close this window.']);
  });

  // The customer's user opens our sign-in link; we mint Cyclr's one-time token only now (it lives
  // five minutes) and send the browser on to Cyclr's UpdateAccountConnectorOAuth page.
  router.get('/signin', async (req, res) => {
    const link = await linkOf(req, res, 'sign-in');
    if (!link) return;
    const { status } = link;
    if (status.step === 'verified')
      return send(res, 200, 'Already connected', ['Dynamics CRM is connected. Nothing left to do.']);
    if (!isCurrent(link) || status.accountConnectorId === null)
      return send(res, 409, 'This sign-in link is not current', [
        'Ask your contact for the current sign-in link.',
      ]);
    const { token } = await cyclr.createSignInToken(status.cyclrAccountId, config.CYCLR_SIGNIN_USERNAME);
    const targetOrigin = `${config.PUBLIC_BASE_URL}/callbacks/signin?state=${encodeURIComponent(link.raw)}`;
    const query = new URLSearchParams({ id: String(status.accountConnectorId), token, targetOrigin });
    res
      .set('Cache-Control', 'no-store')
      .redirect(302, `${config.CYCLR_SERVICE_BASE_URL}/connectorauth/updateaccountconnectoroauth?${query}`);
  });

  // Cyclr sends the browser back here (targetOrigin) when the sign-in ends. What Cyclr appends, if
  // anything, is only a hint: the workflow is told the user is back and checks Cyclr and Microsoft
  // itself. The page offers a box for the error the user saw. Told once per attempt.
  router.get('/callbacks/signin', async (req, res) => {
    const link = await linkOf(req, res, 'sign-in');
    if (!link) return;
    if (!isCurrent(link) || !useOnce(link)) return notCurrent(res, link, 'sign-in page');
    const success = first(req.query.success);
    const error = first(req.query.error);
    const errorDescription = first(req.query.error_description);
    const errorSubcode = first(req.query.error_subcode);
    await signalOnce(link, () =>
      client.workflow.getHandle(link.state.workflowId).signal(signInReturnedSignal, {
        attempt: link.state.attempt,
        ...(success ? { success: success.toLowerCase() === 'true' } : {}),
        ...(error ? { error: error.slice(0, 200) } : {}),
        ...(errorDescription ? { errorDescription: errorDescription.slice(0, 4000) } : {}),
        ...(errorSubcode ? { errorSubcode: errorSubcode.slice(0, 100) } : {}),
      }),
    );
    // What the user is told comes from Cyclr itself, as the workflow's decision does.
    if (await connectorAuthenticated(link.status))
      return send(res, 200, 'Connected', ['Dynamics CRM is connected. You can close this window.']);
    const hinted =
      error || errorDescription ? classifyAadsts(errorDescription, context(link.status), error) : null;
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        signInLandingPage({
          state: link.raw,
          statusUrl: `/callbacks/signin/status?state=${encodeURIComponent(link.raw)}`,
          ...(hinted ? { hint: `${hinted.verbatim} What to do: ${hinted.remediation}` } : {}),
        }),
      );
  });

  // Where the sign-in stands now, for the user who came back (the onboarding's own view).
  router.get('/callbacks/signin/status', async (req, res) => {
    const link = await linkOf(req, res, 'sign-in');
    if (!link) return;
    const { status } = link;
    if (status.step === 'verified')
      return send(res, 200, 'Connected', ['Dynamics CRM is connected. You can close this window.']);
    const paragraphs = [
      status.lastError
        ? `${status.lastError.message} What to do: ${status.lastError.remediation}`
        : 'Still checking the sign-in.',
    ];
    send(res, 200, 'The sign-in is not complete yet', paragraphs);
  });

  // The error text the user saw during the sign-in, pasted on the landing page.
  router.post(
    '/callbacks/signin/report',
    express.urlencoded({ extended: false, limit: '8kb' }),
    async (req, res) => {
      const link = await linkOf(req, res, 'sign-in', first(req.body?.state));
      if (!link) return;
      const text = first(req.body?.error_text)?.trim().slice(0, 4000);
      if (!text)
        return send(res, 400, 'Nothing to report', ['Refused: error_text: paste the error text you saw.']);
      // The landing page of this attempt or of the one just before it (the onboarding may have moved on).
      const recent =
        !FINAL_STEPS.includes(link.status.step) && link.state.attempt >= link.status.signInAttempt - 1;
      if (!recent || !reportedErrors.firstUse(link.raw, link.state.exp * 1000))
        return notCurrent(res, link, 'error report');
      await client.workflow.getHandle(link.state.workflowId).signal(signInErrorReportedSignal, {
        text,
        by: 'the customer user (sign-in page)',
        attempt: link.state.attempt,
      });
      const classified = classifyAadsts(text, { ...context(link.status), signInUrl: null });
      send(res, 200, 'Thank you: the error was reported', [
        classified.verbatim,
        `What to do: ${classified.remediation}`,
        'Your contact has been told; you may close this window.',
      ]);
    },
  );

  return router;
}
