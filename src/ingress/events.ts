// POST /events/onboarding: a partner's system asks to onboard one Cyclr account. The signature is
// checked on the raw bytes first, then the JSON is validated field by field, then the workflow is
// started idempotently: one onboarding per account, whatever arrives twice.
import express, { type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import {
  EVENT_SIGNATURE_HEADER,
  EVENT_TIMESTAMP_HEADER,
  EVENTS_PATH,
  onboardingEventSchema,
} from '../shared/events';
import { startOnboardingOnce } from '../onboarding-start';
import { visible } from '../shared/terminal-text';
import { checkEventSignature } from './event-signature';
import { SeenOnce } from './seen-once';
import { temporalGate, type TemporalGate } from './temporal-gate';

const reject = (res: Response, status: number, error: string, extra: object = {}) =>
  res.status(status).json({ error, ...extra });

export function eventsRouter(
  config: Config,
  client: Client,
  temporal: TemporalGate = temporalGate(client),
): express.Router {
  const router = express.Router();
  const seenSignatures = new SeenOnce();

  router.post(EVENTS_PATH, express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const secret = config.EVENTS_HMAC_SECRET;
    if (!secret)
      return reject(res, 503, 'onboarding events are turned off: set EVENTS_HMAC_SECRET on the ingress');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const skew = config.EVENTS_MAX_SKEW_SECONDS;
    const check = checkEventSignature(
      secret,
      { timestamp: req.get(EVENT_TIMESTAMP_HEADER), signature: req.get(EVENT_SIGNATURE_HEADER) },
      raw,
      skew,
    );
    if (!check.ok) return reject(res, check.status, check.message);
    // A signature is good only once while its timestamp is within the window; afterwards it is stale.
    if (!seenSignatures.firstUse(check.signature, (check.timestampSeconds + skew) * 1000))
      return reject(
        res,
        409,
        `${EVENT_SIGNATURE_HEADER}: replayed: this exact signed request was already received; to send the event again, sign it again with a fresh ${EVENT_TIMESTAMP_HEADER}`,
      );

    if (!req.is('application/json')) return reject(res, 415, 'Content-Type: expected application/json');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return reject(res, 400, `body: not valid JSON (${(err as Error).message})`);
    }
    const parsed = onboardingEventSchema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({
        field: i.path.length ? i.path.join('.') : 'body',
        message: i.message,
      }));
      return reject(res, 400, issues.map((i) => `${i.field}: ${i.message}`).join('; '), { issues });
    }

    const { eventId, ...input } = parsed.data;
    // Once per account (src/onboarding-start.ts): an account that has an onboarding, running or
    // ended whatever its outcome, is answered with it and never started again.
    const outcome = await temporal(
      () => startOnboardingOnce(client, input, eventId ? { memo: { eventId } } : {}),
      15_000,
    );
    if (outcome.started) {
      console.log(
        `event ${eventId ? visible(eventId) : '(no id)'}: onboarding ${outcome.workflowId} run ${outcome.runId}`,
      );
      res
        .status(202)
        .json({ workflowId: outcome.workflowId, runId: outcome.runId, eventId: eventId ?? null });
      return;
    }
    const { existing } = outcome;
    res.status(202).json({
      workflowId: outcome.workflowId,
      runId: existing.runId,
      eventId: eventId ?? null,
      step: existing.step,
      ...(existing.status === 'RUNNING'
        ? {}
        : {
            ended: existing.status,
            note: 'this account was already onboarded (that onboarding has ended); a second one is never started unless the account is offboarded first',
          }),
    });
  });
  return router;
}
