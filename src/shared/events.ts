// The onboarding event: what a partner's system POSTs to start onboarding one Cyclr account, and
// how it is signed. The body fields are the onboarding input's own names, so the workflow gets
// the event as it came (validated field by field with the same schema the CLI uses).
import { z } from 'zod';
import { onboardingInputSchema } from './validation';

export const EVENTS_PATH = '/events/onboarding';

/** Unix time in seconds when the sender signed the event. */
export const EVENT_TIMESTAMP_HEADER = 'X-Onboarding-Timestamp';
/** `sha256=` + hex HMAC-SHA256(EVENTS_HMAC_SECRET, signedString(timestamp, rawBody)). */
export const EVENT_SIGNATURE_HEADER = 'X-Onboarding-Signature';

/** The exact bytes that are signed: the timestamp header's value, a dot, the raw request body. */
export function signedString(timestamp: string, rawBody: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(rawBody)]);
}

export const onboardingEventSchema = onboardingInputSchema.safeExtend({
  /** The sender's id for the event, echoed back and recorded; optional. */
  eventId: z
    .string({ error: "expected a string: the sender's id for this event" })
    .trim()
    .min(1, { error: 'must not be empty when given' })
    .max(200, { error: 'at most 200 characters' })
    .optional(),
});

export type OnboardingEvent = z.input<typeof onboardingEventSchema>;
