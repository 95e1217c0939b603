// The ops page's newer actions, each behind the session, its CSRF token and a confirmation, and
// done as the signed-in person: report the sign-in error a customer's user saw (signal
// signInErrorReported), offboard an account (workflow dynamicsOffboarding), and the shared app's
// status with "renew the secret now" (query appRegistrationStatus, update renewAppSecret).
import type express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { appRegistrationStatus, renewAppSecret } from '../app-registration-client';
import type { Config } from '../config';
import { offboardAccount } from '../offboarding-start';
import { accountRuns, completedAt, offboardedSince } from '../onboarding-start';
import { signInErrorReportedSignal } from '../shared/messages';
import { offboardingWorkflowId, onboardingWorkflowId } from '../shared/names';
import { buildOffboardingInputSchema, type OffboardingRecord } from '../shared/offboarding';
import {
  accountIdSchema,
  describeIssues,
  personSchema,
  signInErrorReportedSchema,
} from '../shared/validation';
import type { OpsSession } from './ops-auth';
import {
  actionsPanel,
  APP_PATH,
  appPage,
  confirmActionPage,
  type OffboardingView,
} from './ops-actions-pages';
import { detailPath, messagePage, type PageContext } from './ops-pages';
import { statusOf } from './ops-queries';

/** How long an offboarding started from the page is awaited before the page shows it under way. */
const OFFBOARD_WAIT_MS = 15_000;

export interface OpsActionsDeps {
  client: Client;
  config: Config;
  /** The form body parser and the session check (with CSRF) of the ops router. */
  form: RequestHandler;
  requireOps: RequestHandler;
  /** Who actions are recorded as: the signed-in person, and where it came from. */
  byOf: (session: OpsSession) => string;
}

type Authed = Request & { ops: { session: OpsSession; ctx: PageContext } };

const html = (res: Response, status: number, body: string) =>
  res.status(status).set('Cache-Control', 'no-store').type('html').send(body);

const str = (value: unknown) => (typeof value === 'string' ? value : undefined);

const offboardingSchema = buildOffboardingInputSchema({ accountIdSchema, personSchema });

export function registerOpsActions(router: express.Router, deps: OpsActionsDeps): void {
  const { client, config, form, requireOps, byOf } = deps;

  const account = (req: Request, res: Response, ctx: PageContext): string | undefined => {
    const parsed = accountIdSchema.safeParse(req.params.account);
    if (parsed.success) return parsed.data;
    html(res, 400, messagePage(ctx, 'Bad account', [`account: ${parsed.error.issues[0].message}`], '/ops'));
    return undefined;
  };
  const refuse = (res: Response, ctx: PageContext, back: string, why: string, status = 400) =>
    html(res, status, messagePage(ctx, 'Not done', [`Refused: ${why}.`], back));

  router.post('/ops/onboardings/:account/signin-error', form, requireOps, async (req, res) => {
    const { ctx, session } = (req as Authed).ops;
    const id = account(req, res, ctx);
    if (!id) return;
    const payload = signInErrorReportedSchema.safeParse({
      text: str(req.body.text) ?? '',
      by: byOf(session),
    });
    if (!payload.success) return refuse(res, ctx, detailPath(id), describeIssues(payload.error));
    const found = await statusOf(client, id);
    if (!found)
      return html(res, 404, messagePage(ctx, 'Not found', [`account: no onboarding for "${id}"`], '/ops'));
    if (found.runStatus !== 'RUNNING')
      return refuse(
        res,
        ctx,
        detailPath(id),
        `the onboarding has ended (${found.runStatus.toLowerCase()}, step ${found.status.step}); nothing was sent`,
        409,
      );
    if (req.body.confirm !== 'yes')
      return html(
        res,
        200,
        confirmActionPage(
          ctx,
          `${detailPath(id)}/signin-error`,
          `Signal signInErrorReported to ${onboardingWorkflowId(id)} with the error text the user saw: "${payload.data.text}"`,
          { text: payload.data.text },
          detailPath(id),
        ),
      );
    await client.workflow.getHandle(onboardingWorkflowId(id)).signal(signInErrorReportedSignal, payload.data);
    res.redirect(303, `${detailPath(id)}?sent=signInErrorReported`);
  });

  router.post('/ops/onboardings/:account/offboard', form, requireOps, async (req, res) => {
    const { ctx, session } = (req as Authed).ops;
    const id = account(req, res, ctx);
    if (!id) return;
    const cancelRunning = req.body.cancelRunning === 'yes';
    const input = offboardingSchema.safeParse({
      cyclrAccountId: id,
      by: byOf(session),
      ...(cancelRunning ? { cancelRunning } : {}),
    });
    if (!input.success) return refuse(res, ctx, detailPath(id), describeIssues(input.error));
    const runs = await accountRuns(client, id);
    if (!runs.onboarding)
      return html(res, 404, messagePage(ctx, 'Not found', [`account: no onboarding for "${id}"`], '/ops'));
    if (runs.onboarding.status.name === 'RUNNING' && !cancelRunning)
      return refuse(
        res,
        ctx,
        detailPath(id),
        `the onboarding is running; nothing was changed. To cancel it and offboard, tick "Cancel the running onboarding first"`,
        409,
      );
    if (req.body.confirm !== 'yes')
      return html(
        res,
        200,
        confirmActionPage(
          ctx,
          `${detailPath(id)}/offboard`,
          `Offboard ${id}: ${cancelRunning ? `cancel its running onboarding first, then ` : ''}deauthenticate and delete its Dynamics connector in Cyclr, and tell the shared app's owner to stop replacing the secret there.`,
          cancelRunning ? { cancelRunning: 'yes' } : {},
          detailPath(id),
        ),
      );
    const outcome = await offboardAccount(client, input.data);
    if (outcome.kind === 'none')
      return html(res, 404, messagePage(ctx, 'Not found', [`account: no onboarding for "${id}"`], '/ops'));
    if (outcome.kind === 'refused')
      return refuse(res, ctx, detailPath(id), 'the onboarding is running; nothing was changed', 409);
    if (outcome.kind === 'already') return res.redirect(303, `${detailPath(id)}?sent=offboarded`);
    const done = await Promise.race([
      outcome.handle.result().then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), OFFBOARD_WAIT_MS)),
    ]);
    res.redirect(303, `${detailPath(id)}?sent=${done ? 'offboarded' : 'offboarding'}`);
  });

  router.get(APP_PATH, requireOps, async (req, res) => {
    const { ctx } = (req as Authed).ops;
    const status = await appRegistrationStatus(client, config.APP_UNIQUE_NAME);
    html(res, 200, appPage(ctx, status, str(req.query.sent)));
  });

  router.post(`${APP_PATH}/renew`, form, requireOps, async (req, res) => {
    const { ctx, session } = (req as Authed).ops;
    const status = await appRegistrationStatus(client, config.APP_UNIQUE_NAME);
    if (!status?.appId)
      return refuse(
        res,
        ctx,
        APP_PATH,
        'no app registration yet: the first onboarding registers the shared app',
        409,
      );
    if (req.body.confirm !== 'yes')
      return html(
        res,
        200,
        confirmActionPage(
          ctx,
          `${APP_PATH}/renew`,
          `Renew the client secret of app ${status.appId} now: add a new secret, put it into the ${status.holders} account connector(s) holding the current one (${status.secretKeyId ?? 'none'}), then remove the current one.`,
          {},
          APP_PATH,
        ),
      );
    const renewed = await renewAppSecret(client, config.APP_UNIQUE_NAME, byOf(session));
    if (!renewed.ok) return refuse(res, ctx, APP_PATH, renewed.message, 502);
    res.redirect(303, `${APP_PATH}?sent=renewed`);
  });
}

/** The actions part of an onboarding's page (see actionsPanel). */
export async function onboardingActions(
  client: Client,
  ctx: PageContext,
  account: string,
  found: NonNullable<Awaited<ReturnType<typeof statusOf>>>,
  sent: string | undefined,
): Promise<string> {
  return actionsPanel(
    ctx,
    account,
    found.status,
    found.runStatus,
    await offboardingView(client, account),
    sent,
  );
}

/** The account's offboarding, as far as it concerns its latest onboarding. */
async function offboardingView(client: Client, account: string): Promise<OffboardingView> {
  const runs = await accountRuns(client, account);
  const off = runs.offboarding;
  if (!runs.onboarding || !off) return { state: 'none' };
  if (off.status.name === 'RUNNING') return { state: 'running' };
  const handle = client.workflow.getHandle(offboardingWorkflowId(account), off.runId);
  if (offboardedSince(runs.onboarding.startTime, completedAt(off)))
    return { state: 'done', record: (await handle.result()) as OffboardingRecord };
  if (off.status.name !== 'COMPLETED' && off.startTime > runs.onboarding.startTime) {
    const message = await handle.result().then(
      () => '',
      (err: unknown) =>
        err instanceof WorkflowFailedError
          ? ((err.cause as Error | undefined)?.message ?? err.message)
          : String(err),
    );
    return { state: 'failed', message };
  }
  return { state: 'none' };
}
