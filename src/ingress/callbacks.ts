// The pages customers' browsers reach: the admin-consent callback, the sign-in link launcher and
// the sign-in callback (Cyclr's targetOrigin). Each checks the signed state, then that the link is
// the one the onboarding publishes right now, then that it has not been used, before it signals.
// Holding a link buys a bounded amount of anything (docs/threat-model.md): per consent link one
// granted consent (a few if Microsoft denies them) and a few error outcomes, per sign-in link one
// landing and one error report, capped Cyclr tokens and requests per minute. A repeat is answered
// 409 without asking Temporal and without a signal.
import express, { type Request, type Response } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { CyclrClient } from '../clients/cyclr';
import type { Config } from '../config';
import type { KeyRing } from '../secrets/keys';
import {
  linkKey,
  stateOfLink,
  verifyLinkState,
  type LinkPurpose,
  type LinkState,
} from '../secrets/link-state';
import { classifyAadsts } from '../shared/aadsts';
import {
  consentFailedSignal,
  consentGrantedSignal,
  signInErrorReportedSignal,
  signInReturnedSignal,
  statusQuery,
} from '../shared/messages';
import type { OnboardingStatus } from '../shared/status';
import { plainText } from '../shared/terminal-text';
import { ConsentReports, ErrorOutcomes, RateLimit, SignInTokens } from './link-limits';
import { FINAL_STEPS } from '../shared/steps';
import { page, signInLandingPage } from './pages';
import { SeenOnce } from './seen-once';
import { temporalGate, type TemporalGate } from './temporal-gate';

export interface CallbackDeps {
  config: Config;
  keys: KeyRing;
  client: Client;
  cyclr: CyclrClient;
  /** Temporal calls with a deadline (shared with the rest of the ingress). */
  temporal?: TemporalGate;
}

export const first = (value: unknown): string | undefined =>
  Array.isArray(value) ? first(value[0]) : typeof value === 'string' ? value : undefined;

const send = (res: Response, status: number, title: string, paragraphs: string[]) =>
  res.status(status).set('Cache-Control', 'no-store').type('html').send(page(title, paragraphs));

/** When to try again, for a person: "14:05 UTC (in 3 minutes)". */
export function tryAgainAt(seconds: number, now = Date.now()): string {
  const at = new Date(now + seconds * 1000).toISOString().slice(11, 16);
  const minutes = Math.ceil(seconds / 60);
  return `${at} UTC (in ${seconds < 60 ? `${seconds} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`})`;
}

const tooMany = (res: Response, seconds: number, what: string) =>
  send(res.set('Retry-After', String(seconds)), 429, 'Please wait a moment', [
    `Refused: ${what}. Try again at ${tryAgainAt(seconds)}.`,
  ]);

/**
 * The tenant Microsoft appends to the consent callback. Microsoft warns it is not to be trusted;
 * it is only recorded, and only when it looks like a tenant id or domain.
 */
export function tenantOf(value: string | undefined): string {
  const text = value?.trim().toLowerCase() ?? '';
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text)) return text;
  if (/^(?=.{4,100}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(text)) return text;
  return text ? 'not a tenant id' : 'not given';
}

interface Link {
  raw: string;
  /** The link whatever else its URL carries (its signed body). */
  key: string;
  state: LinkState;
}

interface CurrentLink extends Link {
  status: OnboardingStatus;
}

interface SharedStatus {
  at: number;
  answer: Promise<OnboardingStatus>;
  /** Asked again because a shared answer would have refused: shared, never asked again. */
  askedAgain: boolean;
}

/** How long one status answer serves every request for its onboarding. */
const STATUS_SHARED_MS = 1_000;
/** Per sign-in link: how often it may be opened, or its status page asked for, per minute. */
const REQUESTS_PER_LINK_PER_MINUTE = 30;
/** Distinct error outcomes a consent link passes on (a decline, then a wrong account...). */
const ERROR_KINDS_PER_CONSENT_LINK = 3;
/** Granted consents a consent link passes on (more only after Microsoft denied the previous one). */
const CONSENTS_PER_CONSENT_LINK = 3;

export function callbacksRouter(deps: CallbackDeps): express.Router {
  const { config, keys, client, cyclr } = deps;
  const temporal = deps.temporal ?? temporalGate(client);
  const router = express.Router();
  const usedStates = new SeenOnce();
  const reportedErrors = new SeenOnce();
  const errorOutcomes = new ErrorOutcomes(ERROR_KINDS_PER_CONSENT_LINK);
  const consentReports = new ConsentReports(CONSENTS_PER_CONSENT_LINK);
  const requests = new RateLimit(REQUESTS_PER_LINK_PER_MINUTE, 60_000);
  const statuses = new Map<string, SharedStatus>();
  const tokens = new SignInTokens(
    config.SIGNIN_TOKEN_REUSE_SECONDS * 1000,
    config.SIGNIN_TOKENS_PER_LINK,
    15 * 60_000,
  );

  /** The verified state, or undefined once a page has been sent. Asks nothing of Temporal. */
  function linkOf(req: Request, res: Response, purpose: LinkPurpose, raw = first(req.query.state)) {
    const verified = verifyLinkState(keys.stateSigningKey, raw, purpose);
    if (!verified.ok) {
      send(res, 400, 'This link is not valid', [
        `Refused: ${verified.reason}.`,
        'Ask your contact for the current link.',
      ]);
      return undefined;
    }
    return { raw: raw!, key: linkKey(raw!), state: verified.state } satisfies Link;
  }

  /**
   * The onboarding's status for a verified link, or undefined once a page has been sent. Requests
   * for one onboarding within a second share one answer, so a flood of callbacks costs Temporal
   * about a query a second per onboarding; an answer that would refuse (`wanted` false) is asked
   * for again if it was shared, so nobody is refused on an answer a moment old. A signal sent
   * for the onboarding ends the sharing.
   */
  async function statusFor(
    res: Response,
    link: Link,
    wanted: (current: CurrentLink) => boolean = () => true,
  ): Promise<CurrentLink | undefined> {
    const { workflowId } = link.state;
    const ask = (stale?: SharedStatus): SharedStatus => {
      const shared = statuses.get(workflowId);
      if (shared && shared !== stale && Date.now() - shared.at < STATUS_SHARED_MS) return shared;
      const entry: SharedStatus = {
        at: Date.now(),
        answer: temporal(() => client.workflow.getHandle(workflowId).query(statusQuery)),
        askedAgain: stale !== undefined,
      };
      statuses.delete(workflowId);
      statuses.set(workflowId, entry);
      if (statuses.size > 10_000) statuses.delete(statuses.keys().next().value!);
      entry.answer.catch(() => statuses.get(workflowId) === entry && statuses.delete(workflowId));
      return entry;
    };
    try {
      const shared = statuses.get(workflowId);
      const first = ask();
      let current: CurrentLink = { ...link, status: await first.answer };
      if (first === shared && !first.askedAgain && !wanted(current))
        current = { ...link, status: await ask(first).answer };
      return current;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      send(res, 410, 'This onboarding has ended', ['There is nothing left to do with this link.']);
      return undefined;
    }
  }

  /** The link is the one published for the current wait (a superseded link is refused). */
  const isCurrent = ({ raw, state, status }: CurrentLink) =>
    state.purpose === 'consent'
      ? status.waitingFor === 'consent' && stateOfLink(status.consentUrl) === raw
      : status.waitingFor === 'sign-in' &&
        status.signInAttempt === state.attempt &&
        stateOfLink(status.signInUrl) === raw;

  /** The sign-in link opens Cyclr's page: it is current and the connector exists (or all is done). */
  const opensSignIn = (c: CurrentLink) =>
    c.status.step === 'verified' || (isCurrent(c) && c.status.accountConnectorId !== null);

  /**
   * An error report from the landing page of this attempt or of the one before, while the
   * onboarding has not ended (it may be checking the sign-in, or have moved on to another wait).
   */
  const recent = (c: CurrentLink) =>
    !FINAL_STEPS.includes(c.status.step) && c.state.attempt >= c.status.signInAttempt - 1;

  const notCurrent = (res: Response, link: CurrentLink, what: string) =>
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

  /** A repeat, answered without asking Temporal. */
  const alreadyUsed = (res: Response, what: string, paragraphs: string[] = []) =>
    send(res, 409, `This ${what} was already used or is no longer current`, [
      'Refused: this link has already been used for this; nothing was changed and nobody was told again.',
      ...paragraphs,
      'If something is still to do, ask your contact for the current link.',
    ]);

  /** Signals for a link, undoing `undo` (the link's use) if the signal does not get through. */
  const signal = async (workflowId: string, deliver: (id: string) => Promise<void>, undo: () => void) => {
    try {
      await temporal(() => deliver(workflowId));
      statuses.delete(workflowId);
    } catch (err) {
      undo();
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
    const link = linkOf(req, res, 'consent');
    if (!link) return;
    const expiresAt = link.state.exp * 1000;
    const error = first(req.query.error);
    if (error) {
      // Each kind of error once per link (a decline does not use the link up: the admin may go
      // back and accept), a few kinds at most.
      const errorText = plainText(error, 200);
      const description = first(req.query.error_description);
      const errorDescription = description ? plainText(description, 4000) : undefined;
      const kind = String(classifyAadsts(errorDescription, {}, errorText).code ?? 'other');
      if (!errorOutcomes.wouldAccept(link.key, kind))
        return alreadyUsed(res, 'consent link', [
          'Microsoft reported a problem with the consent again; your contact already has what Microsoft said.',
        ]);
      const current = await statusFor(res, link, isCurrent);
      if (!current) return;
      if (!isCurrent(current)) return notCurrent(res, current, 'consent link');
      if (!errorOutcomes.claim(link.key, kind, expiresAt)) return alreadyUsed(res, 'consent link');
      await signal(
        link.state.workflowId,
        (id) =>
          client.workflow.getHandle(id).signal(consentFailedSignal, {
            error: errorText,
            ...(errorDescription ? { errorDescription } : {}),
          }),
        () => errorOutcomes.release(link.key, kind),
      );
      const classified = classifyAadsts(errorDescription, context(current.status), errorText);
      return send(res, 200, 'Consent was not granted', [
        classified.verbatim,
        `What to do: ${classified.remediation}`,
      ]);
    }
    if (first(req.query.admin_consent)?.toLowerCase() !== 'true')
      return send(res, 400, 'Consent was not granted', [
        'Refused: admin_consent: Microsoft did not report admin consent (expected admin_consent=True).',
      ]);
    if (!consentReports.mayReport(link.key)) return alreadyUsed(res, 'consent link');
    const current = await statusFor(res, link, isCurrent);
    if (!current) return;
    if (!isCurrent(current)) return notCurrent(res, current, 'consent link');
    // Once per link; again only if Microsoft found no consent after the last report (it was
    // reported by someone else holding the link, before the admin's real one).
    const check = current.status.tenantCheck;
    const noConsentAt = check?.verdict === 'no-consent' ? Date.parse(check.at) : null;
    if (!consentReports.claim(link.key, expiresAt, noConsentAt)) return alreadyUsed(res, 'consent link');
    // Microsoft warns never to trust `tenant` here: it is recorded when it looks like one, never
    // relied on (the onboarding asks Microsoft itself whether consent exists).
    const tenant = tenantOf(first(req.query.tenant));
    await signal(
      link.state.workflowId,
      (id) =>
        client.workflow.getHandle(id).signal(consentGrantedSignal, {
          by: `customer admin (consent callback, tenant ${tenant})`,
        }),
      () => consentReports.release(link.key),
    );
    send(res, 200, 'Thank you: consent granted', ['The onboarding continues. You can close this window.']);
  });

  // The customer's user opens our sign-in link; we mint Cyclr's one-time token only now (it lives
  // five minutes) and send the browser on to Cyclr's UpdateAccountConnectorOAuth page. Opening the
  // link again within a minute hands out the same token; new tokens are capped per link.
  router.get('/signin', async (req, res) => {
    const link = linkOf(req, res, 'sign-in');
    if (!link) return;
    const wait = requests.take(`signin:${link.key}`);
    if (wait) return tooMany(res, wait, 'this sign-in link was opened too often');
    const current = await statusFor(res, link, opensSignIn);
    if (!current) return;
    const { status } = current;
    if (status.step === 'verified')
      return send(res, 200, 'Already connected', ['Dynamics CRM is connected. Nothing left to do.']);
    const accountConnectorId = status.accountConnectorId;
    if (!opensSignIn(current) || accountConnectorId === null)
      return send(res, 409, 'This sign-in link is not current', [
        'Ask your contact for the current sign-in link.',
      ]);
    const answer = await tokens.get(link.key, async () => {
      const { token } = await cyclr.createSignInToken(status.cyclrAccountId, config.CYCLR_SIGNIN_USERNAME);
      return { token, accountConnectorId };
    });
    if (!answer.ok)
      return tooMany(res, answer.retryAfterSeconds, 'too many sign-ins were started with this link');
    const targetOrigin = `${config.PUBLIC_BASE_URL}/callbacks/signin?state=${encodeURIComponent(link.raw)}`;
    const query = new URLSearchParams({
      id: String(answer.token.accountConnectorId),
      token: answer.token.token,
      targetOrigin,
    });
    res
      .set('Cache-Control', 'no-store')
      .redirect(302, `${config.CYCLR_SERVICE_BASE_URL}/connectorauth/updateaccountconnectoroauth?${query}`);
  });

  // Cyclr sends the browser back here (targetOrigin) when the sign-in ends. What Cyclr appends, if
  // anything, is only a hint: the workflow is told the user is back and checks Cyclr and Microsoft
  // itself. The page offers a box for the error the user saw. Told once per attempt.
  router.get('/callbacks/signin', async (req, res) => {
    const link = linkOf(req, res, 'sign-in');
    if (!link) return;
    // Whatever follows, Cyclr has taken the token this link handed out: the next open mints anew.
    tokens.spent(link.key);
    if (usedStates.seen(link.key)) return alreadyUsed(res, 'sign-in page');
    const current = await statusFor(res, link, isCurrent);
    if (!current) return;
    if (!isCurrent(current)) return notCurrent(res, current, 'sign-in page');
    if (!usedStates.firstUse(link.key, link.state.exp * 1000)) return alreadyUsed(res, 'sign-in page');
    const success = first(req.query.success);
    const error = first(req.query.error);
    const errorDescription = first(req.query.error_description);
    const errorSubcode = first(req.query.error_subcode);
    const hint = {
      ...(success ? { success: success.toLowerCase() === 'true' } : {}),
      ...(error ? { error: plainText(error, 200) } : {}),
      ...(errorDescription ? { errorDescription: plainText(errorDescription, 4000) } : {}),
      ...(errorSubcode ? { errorSubcode: plainText(errorSubcode, 100) } : {}),
    };
    await signal(
      link.state.workflowId,
      (id) =>
        client.workflow.getHandle(id).signal(signInReturnedSignal, { attempt: link.state.attempt, ...hint }),
      () => usedStates.release(link.key),
    );
    // What the user is told comes from Cyclr itself, as the workflow's decision does.
    if (await connectorAuthenticated(current.status))
      return send(res, 200, 'Connected', ['Dynamics CRM is connected. You can close this window.']);
    const hinted =
      hint.error || hint.errorDescription
        ? classifyAadsts(hint.errorDescription, context(current.status), hint.error)
        : null;
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
    const link = linkOf(req, res, 'sign-in');
    if (!link) return;
    const wait = requests.take(`status:${link.key}`);
    if (wait) return tooMany(res, wait, 'this page was asked for too often');
    const current = await statusFor(res, link);
    if (!current) return;
    const { status } = current;
    if (status.step === 'verified')
      return send(res, 200, 'Connected', ['Dynamics CRM is connected. You can close this window.']);
    const paragraphs = [
      status.lastError
        ? `${status.lastError.message} What to do: ${status.lastError.remediation}`
        : 'Still checking the sign-in.',
    ];
    send(res, 200, 'The sign-in is not complete yet', paragraphs);
  });

  // The error text the user saw during the sign-in, pasted on the landing page. Once per link.
  router.post(
    '/callbacks/signin/report',
    express.urlencoded({ extended: false, limit: '8kb' }),
    async (req, res) => {
      const link = linkOf(req, res, 'sign-in', first(req.body?.state));
      if (!link) return;
      const text = first(req.body?.error_text)?.trim();
      if (!text)
        return send(res, 400, 'Nothing to report', ['Refused: error_text: paste the error text you saw.']);
      if (reportedErrors.seen(link.key)) return alreadyUsed(res, 'error report');
      const current = await statusFor(res, link, recent);
      if (!current) return;
      if (!recent(current)) return notCurrent(res, current, 'error report');
      if (!reportedErrors.firstUse(link.key, link.state.exp * 1000)) return alreadyUsed(res, 'error report');
      const reported = plainText(text, 4000);
      await signal(
        link.state.workflowId,
        (id) =>
          client.workflow.getHandle(id).signal(signInErrorReportedSignal, {
            text: reported,
            by: 'the customer user (sign-in page)',
            attempt: link.state.attempt,
          }),
        () => reportedErrors.release(link.key),
      );
      const classified = classifyAadsts(reported, { ...context(current.status), signInUrl: null });
      send(res, 200, 'Thank you: the error was reported', [
        classified.verbatim,
        `What to do: ${classified.remediation}`,
        'Your contact has been told; you may close this window.',
      ]);
    },
  );

  return router;
}
