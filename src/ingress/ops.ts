// The ops page: /ops. Sign in with the partner's Entra tenant (OpenID Connect, ops-oidc.ts) when
// configured, else with the ops token; list onboardings by step (visibility query on
// OnboardingStep); open one for its status, links, last error and timeline; send consentGranted or
// resourceCorrected after a confirmation. Signals carry `by` = the signed-in person, so the
// workflow history records who did what.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { OPS_OIDC_CALLBACK_PATH, opsOidcSettings, type Config } from '../config';
import { visible } from '../shared/terminal-text';
import { consentGrantedSignal, resourceCorrectedSignal } from '../shared/messages';
import { onboardingWorkflowId } from '../shared/names';
import { STEPS } from '../shared/steps';
import {
  accountIdSchema,
  consentGrantedSchema,
  describeIssues,
  resourceCorrectedSchema,
} from '../shared/validation';
import { RateLimit } from './link-limits';
import { LoginThrottle, type LoginAttempt } from './login-throttle';
import { onboardingActions, registerOpsActions } from './ops-actions';
import { registerOpsDoctor } from './ops-doctor';
import type { OpsAuth, OpsSession } from './ops-auth';
import { OpsOidc, type OpsIdentity } from './ops-oidc';
import { OPS_CSS, OPS_JS } from './ops-assets';
import { listOnboardings, statusOf } from './ops-queries';
import {
  confirmPage,
  detailPage,
  detailPath,
  listPage,
  loginPage,
  messagePage,
  oidcLoginPage,
  oidcProblemPage,
  oidcStartPath,
  signedInPage,
  statusVersion,
  type PageContext,
} from './ops-pages';
import { temporalGate, type TemporalGate } from './temporal-gate';

const loginNameSchema = consentGrantedSchema.shape.by;
const stepSchema = z.enum(STEPS, { error: `expected one of ${STEPS.join(', ')}` }).optional();

type Authed = Request & { ops: { session: OpsSession; ctx: PageContext } };

const html = (res: Response, status: number, body: string) =>
  res.status(status).set('Cache-Control', 'no-store').type('html').send(body);

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function opsRouter(
  client: Client,
  auth: OpsAuth,
  config: Config,
  temporal: TemporalGate = temporalGate(client),
): express.Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const throttle = new LoginThrottle();
  // With OpenID Connect configured, people sign in with their work account and nothing else.
  const oidcSettings = opsOidcSettings(config);
  const oidc = oidcSettings ? new OpsOidc(oidcSettings, config.HTTP_TIMEOUT_MS) : undefined;
  // Signals the page sends one onboarding, whoever sends them: a stuck button or a script cannot
  // grow its history without bound.
  const actions = new RateLimit(ACTIONS_PER_ONBOARDING, 10 * 60_000);
  const tooOften = (res: Response, ctx: PageContext, account: string): boolean => {
    const wait = actions.take(account);
    if (!wait) return false;
    html(
      res.set('Retry-After', String(wait)),
      429,
      messagePage(
        ctx,
        'Not sent',
        [
          `Refused: ${ACTIONS_PER_ONBOARDING} actions were sent to this onboarding in the last 10 minutes; try again in ${waitText(wait)}.`,
        ],
        detailPath(account),
      ),
    );
    return true;
  };

  router.use('/ops', (_req, res, next) => {
    res.set(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get('/ops/assets/ops.css', (_req, res) => res.type('css').send(OPS_CSS));
  router.get('/ops/assets/ops.js', (_req, res) => res.type('js').send(OPS_JS));

  router.get('/ops/login', async (req, res) => {
    const next = safeNext(str(req.query.next));
    if (!oidc) return html(res, 200, loginPage({ next }));
    const signedOut =
      req.query['signed-out'] === '1'
        ? { endSessionUrl: await oidc.endSessionUrl(`${config.PUBLIC_BASE_URL}/ops/login`) }
        : undefined;
    html(res, 200, oidcLoginPage({ issuer: oidc.settings.issuer, next, signedOut }));
  });
  router.post('/ops/login', form, (req, res) => {
    if (oidc)
      return html(
        res,
        403,
        oidcLoginPage({
          issuer: oidc.settings.issuer,
          problem: 'Refused: the ops token sign-in is off here; sign in with Microsoft.',
        }),
      );
    const next = safeNext(str(req.body?.next));
    const name = loginNameSchema.safeParse(str(req.body?.name) ?? '');
    if (!name.success)
      return html(res, 400, loginPage({ problem: `name: ${name.error.issues[0].message}`, next }));
    // Failures count per browser that signed in before, else per address and name and per
    // address: a correct token is never refused because of failures other people made.
    const device = auth.device(req);
    const attempt: LoginAttempt = {
      address: req.ip ?? 'unknown',
      name: name.data,
      ...(device ? { device } : {}),
    };
    const wait = throttle.blockedFor(attempt);
    // Trying again before the wait is over counts as a failure too: a script that keeps trying
    // stays out; a person is told how long to wait.
    if (wait) throttle.refused(attempt, wait);
    if (wait)
      return html(
        res.set('Retry-After', String(wait.seconds)),
        429,
        loginPage({
          problem: `Too many failed sign-ins ${WHOSE[wait.because]}: try again in ${waitText(wait.seconds)}.`,
          name: name.data,
          next,
        }),
      );
    if (!auth.tokenMatches(str(req.body?.token) ?? '')) {
      throttle.failed(attempt);
      return html(
        res,
        401,
        loginPage({
          problem: 'token: not the ops token (OPS_TOKEN, or the file the ingress printed at start)',
          name: name.data,
          next,
        }),
      );
    }
    throttle.succeeded(attempt);
    auth.startSession(res, name.data);
    auth.rememberDevice(res, device);
    res.redirect(303, next);
  });

  // Everything else under /ops needs a session; forms also need the session's CSRF token.
  const requireOps = (req: Request, res: Response, next: NextFunction) => {
    const session = auth.session(req);
    if (!session) {
      if (req.method === 'GET')
        return res.redirect(303, `/ops/login?next=${encodeURIComponent(req.originalUrl)}`);
      return html(
        res,
        401,
        messagePage(
          {},
          'Signed out',
          ['Refused: sign in first (your session is missing or has expired).'],
          '/ops/login',
        ),
      );
    }
    const ctx: PageContext = { session, csrf: auth.csrfToken(session) };
    if (req.method === 'POST' && !auth.csrfMatches(session, req.body?.csrf))
      return html(
        res,
        403,
        messagePage(
          ctx,
          'Refused',
          ['Refused: csrf: the form is stale or did not come from this page; reload the page and try again.'],
          '/ops',
        ),
      );
    (req as Authed).ops = { session, ctx };
    next();
  };

  router.post('/ops/logout', form, requireOps, (req, res) => {
    auth.endSession(req, res);
    res.redirect(303, oidc ? '/ops/login?signed-out=1' : '/ops/login');
  });

  // OpenID Connect: off (404) unless configured.
  const notConfigured = (res: Response) =>
    html(
      res,
      404,
      messagePage(
        {},
        'Not found',
        ['OpenID Connect sign-in is not configured here: sign in with the ops token.'],
        '/ops/login',
      ),
    );
  router.get('/ops/oidc/start', async (req, res) => {
    if (!oidc) return notConfigured(res);
    const next = safeNext(str(req.query.next));
    const started = await oidc.start(
      next,
      req.query.prompt === 'select_account' ? 'select_account' : undefined,
    );
    if ('problem' in started)
      return html(
        res.set('Retry-After', '30'),
        503,
        oidcLoginPage({ issuer: oidc.settings.issuer, next, problem: started.problem }),
      );
    auth.startFlow(res, started.flow);
    res.set('Cache-Control', 'no-store').redirect(302, started.url);
  });
  router.get(OPS_OIDC_CALLBACK_PATH, async (req, res) => {
    if (!oidc) return notConfigured(res);
    // The cookie is cleared whatever the outcome: each sign-in's answer is taken once.
    const flow = auth.takeFlow(req, res);
    const query = new URL(req.originalUrl, 'http://callback').searchParams;
    const outcome = await oidc.callback(query, flow);
    if (outcome.kind === 'refused')
      return html(
        res,
        outcome.status,
        oidcProblemPage('Not signed in', [outcome.problem], {
          href: oidcStartPath(flow?.next ?? '/ops'),
          label: 'Sign in again',
        }),
      );
    const who = describe(outcome.who);
    if (outcome.kind === 'not-allowed') {
      console.warn(visible(`ops sign-in refused: ${who}: not in an allowed group or app role`));
      return html(
        res,
        403,
        oidcProblemPage('Not allowed', notAllowed(outcome.who, oidc.settings), {
          href: oidcStartPath('/ops', 'select_account'),
          label: 'Sign in with another account',
        }),
      );
    }
    console.log(visible(`ops sign-in: ${who}`));
    const session = auth.startSession(res, outcome.who.by, outcome.who);
    html(res, 200, signedInPage({ session, csrf: auth.csrfToken(session) }, outcome.next));
  });

  router.get('/ops', requireOps, async (req, res) => {
    const { ctx } = (req as Authed).ops;
    const step = stepSchema.safeParse(str(req.query.step) || undefined);
    if (!step.success)
      return html(
        res,
        400,
        messagePage(ctx, 'Bad filter', [`step: ${step.error.issues[0].message}`], '/ops'),
      );
    const rows = await listOnboardings(client, step.data, temporal);
    html(res, 200, listPage({ ...ctx, refresh: 10 }, step.data, rows));
  });

  router.get('/ops/onboardings/:account', requireOps, async (req, res) => {
    const { ctx } = (req as Authed).ops;
    const account = accountParam(req, res, ctx);
    if (!account) return;
    const found = await statusOf(client, account, temporal);
    if (!found)
      return html(
        res,
        404,
        messagePage(ctx, 'Not found', [`account: no onboarding for "${account}"`], '/ops'),
      );
    const watch =
      found.runStatus === 'RUNNING'
        ? { url: `${detailPath(account)}/version`, version: statusVersion(found.status) }
        : undefined;
    const sent = str(req.query.sent);
    const actions = await onboardingActions(client, ctx, account, found, sent);
    html(res, 200, detailPage({ ...ctx, watch }, account, found.status, found.runStatus, sent, actions));
  });

  // Polled by the onboarding's page, which reloads when the answer changes.
  router.get('/ops/onboardings/:account/version', requireOps, async (req, res) => {
    const { ctx } = (req as Authed).ops;
    const account = accountParam(req, res, ctx);
    if (!account) return;
    const found = await statusOf(client, account, temporal);
    res
      .set('Cache-Control', 'no-store')
      .type('text')
      .send(found ? statusVersion(found.status) : 'gone');
  });

  router.post('/ops/onboardings/:account/consent', form, requireOps, async (req, res) => {
    const { ctx, session } = (req as Authed).ops;
    const account = accountParam(req, res, ctx);
    if (!account) return;
    const note = str(req.body.note)?.trim();
    const payload = consentGrantedSchema.safeParse({ by: byOf(session), ...(note ? { note } : {}) });
    if (!payload.success) return refuse(res, ctx, account, describeIssues(payload.error));
    const found = await statusOf(client, account, temporal);
    if (!found)
      return html(
        res,
        404,
        messagePage(ctx, 'Not found', [`account: no onboarding for "${account}"`], '/ops'),
      );
    if (found.status.waitingFor !== 'consent')
      return refuse(
        res,
        ctx,
        account,
        `not waiting for consent (step ${found.status.step}); nothing was sent`,
        409,
      );
    if (req.body.confirm !== 'yes')
      return html(
        res,
        200,
        confirmPage(
          ctx,
          account,
          'consent',
          `Signal consentGranted to ${onboardingWorkflowId(account)}: the customer's admin has granted consent${note ? ` (note: ${note})` : ''}.`,
          note ? { note } : {},
        ),
      );
    if (tooOften(res, ctx, account)) return;
    await temporal(() =>
      client.workflow.getHandle(onboardingWorkflowId(account)).signal(consentGrantedSignal, payload.data),
    );
    res.redirect(303, `${detailPath(account)}?sent=consentGranted`);
  });

  router.post('/ops/onboardings/:account/resource', form, requireOps, async (req, res) => {
    const { ctx, session } = (req as Authed).ops;
    const account = accountParam(req, res, ctx);
    if (!account) return;
    const payload = resourceCorrectedSchema.safeParse({
      resourceUrl: str(req.body.resourceUrl) ?? '',
      by: byOf(session),
    });
    if (!payload.success) return refuse(res, ctx, account, describeIssues(payload.error));
    const found = await statusOf(client, account, temporal);
    if (!found)
      return html(
        res,
        404,
        messagePage(ctx, 'Not found', [`account: no onboarding for "${account}"`], '/ops'),
      );
    if (found.status.waitingFor !== 'resource-fix' && found.status.waitingFor !== 'sign-in')
      return refuse(
        res,
        ctx,
        account,
        `not waiting for a resource fix or a sign-in (step ${found.status.step}); nothing was sent`,
        409,
      );
    if (req.body.confirm !== 'yes')
      return html(
        res,
        200,
        confirmPage(
          ctx,
          account,
          'resource',
          `Signal resourceCorrected to ${onboardingWorkflowId(account)}: change the Resource URL from ${found.status.resourceUrl} to ${payload.data.resourceUrl}, then set it in Cyclr and offer a new sign-in.`,
          { resourceUrl: payload.data.resourceUrl },
        ),
      );
    if (tooOften(res, ctx, account)) return;
    await temporal(() =>
      client.workflow.getHandle(onboardingWorkflowId(account)).signal(resourceCorrectedSignal, payload.data),
    );
    res.redirect(303, `${detailPath(account)}?sent=resourceCorrected`);
  });

  // A reported sign-in error is a signal too: once confirmed, counted with the other actions.
  router.post('/ops/onboardings/:account/signin-error', form, requireOps, (req, res, next) => {
    const account = accountIdSchema.safeParse(req.params.account);
    const confirmed = req.body?.confirm === 'yes';
    if (confirmed && account.success && tooOften(res, (req as Authed).ops.ctx, account.data)) return;
    next();
  });
  // Report a sign-in error, offboard, the shared app and its renewal (ops-actions.ts).
  registerOpsActions(router, { client, config, form, requireOps, byOf });
  registerOpsDoctor(router, { client, config, requireOps });

  return router;
}

/** Actions (signals) the page sends one onboarding in 10 minutes. */
const ACTIONS_PER_ONBOARDING = 10;

const WHOSE = {
  browser: 'from this browser',
  name: 'with this name from your address',
  address: 'from your address (a browser that has signed in here before is not held back by them)',
} as const;

const waitText = (seconds: number) =>
  seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;

/** Who the signal records: the signed-in person, and where it came from. */
const byOf = (session: OpsSession) => `${session.by} (ops page)`.slice(0, 200);

/** A verified identity for the ingress log. */
const describe = (who: OpsIdentity) => `${who.by} (oid ${who.oid ?? 'none'}, tenant ${who.tid ?? 'none'})`;

/** Why a verified person may not use the page, and who can change that. */
function notAllowed(who: OpsIdentity, settings: NonNullable<ReturnType<typeof opsOidcSettings>>): string[] {
  const what = [
    ...(settings.allowedGroups.length
      ? [`the group${settings.allowedGroups.length > 1 ? 's' : ''} ${settings.allowedGroups.join(', ')}`]
      : []),
    ...(settings.allowedRoles.length
      ? [
          `the app role${settings.allowedRoles.length > 1 ? 's' : ''} ${settings.allowedRoles.join(', ')} of the ops page's app (${settings.clientId})`,
        ]
      : []),
  ].join(', or ');
  return [
    `Signed in as ${who.by}, but not in the group or app role that may use this page.`,
    `Ask an administrator of your Microsoft Entra tenant to add you to ${what}, then sign in again.`,
    ...(who.groupsOverage
      ? [
          'Microsoft left your groups out of the sign-in (you are in more groups than a token carries): an app role works whatever the number of groups.',
        ]
      : []),
  ];
}

/** Only our own pages are redirect targets after sign-in. */
function safeNext(next: string | undefined): string {
  return next && /^\/ops(\/|\?|$)/.test(next) && !next.startsWith('//') ? next : '/ops';
}

function accountParam(req: Request, res: Response, ctx: PageContext): string | undefined {
  const parsed = accountIdSchema.safeParse(req.params.account);
  if (parsed.success) return parsed.data;
  html(res, 400, messagePage(ctx, 'Bad account', [`account: ${parsed.error.issues[0].message}`], '/ops'));
  return undefined;
}

function refuse(res: Response, ctx: PageContext, account: string, why: string, status = 400) {
  html(res, status, messagePage(ctx, 'Not sent', [`Refused: ${why}.`], detailPath(account)));
}
