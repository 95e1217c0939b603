// Input and signal schemas, as a factory: the CLI, the HTTP ingress (through validation.ts) and the
// workflows (which re-validate input and signals: anyone with the official `temporal` CLI can send
// one) each build a set. The workflow sandbox builds its set once per worker thread
// (src/workflows/schemas.ts), so nothing here builds a schema at module level.
import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** Hosts of Dynamics 365 orgs in the public and sovereign clouds. */
const DYNAMICS_HOST =
  /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.(api\.)?crm\d*\.(dynamics\.com|dynamics\.cn|microsoftdynamics\.us|appsplatform\.us|microsoftdynamics\.de)$/i;
const DURATION = /^\d{1,6}(\.\d{1,3})?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/i;

const HOUR_MS = 3_600_000;
/** A human wait may last from an hour to a year: shorter gives nobody time to act, longer is a typo. */
export const DEADLINE_BOUNDS = { minMs: HOUR_MS, maxMs: 365 * 24 * HOUR_MS } as const;
/** Reminders at most hourly: each one is a notification and a few history events. */
export const REMINDER_MIN_MS = HOUR_MS;

const EXPECTED_STRING = 'expected a string';
/** An optional free-text field of at most `n` characters. */
const text = (n: number) =>
  z
    .string({ error: EXPECTED_STRING })
    .max(n, { error: `at most ${n} characters` })
    .optional();

/** Why `value` is not a Dynamics org URL, or null when it is one. */
function resourceUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value.slice(0, 80)}" is not a URL`;
  }
  if (url.protocol !== 'https:') return 'must use https';
  if (url.username || url.password) return 'must not contain credentials';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    return 'must be the org root, with no path, query or fragment';
  if (url.port) return 'must not have a port';
  if (!DYNAMICS_HOST.test(url.hostname)) return `host "${url.hostname}" is not a Dynamics 365 org host`;
  return null;
}

/** A duration such as "14 days", between `minMs` and `maxMs`; the bounds are named when refused. */
function duration(minMs: number, maxMs: number, bounds: string) {
  return z
    .string({ error: EXPECTED_STRING })
    .trim()
    .regex(DURATION, {
      error: `expected a duration such as "12 hours", "14 days" or "2w" (${bounds})`,
      abort: true,
    })
    .refine(
      (value) => {
        let ms: number;
        try {
          ms = msToNumber(value as `${number} ms`);
        } catch {
          return true; // not a duration at all: the regex above said so
        }
        return Number.isFinite(ms) && ms >= minMs && ms <= maxMs;
      },
      { error: `out of range: ${bounds}` },
    );
}

/** Builds every schema, fresh. */
export function buildSchemas() {
  const accountIdSchema = z
    .string({ error: 'required: the Cyclr account API ID' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
      error:
        'expected the Cyclr account API ID: 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    });

  const tenantSchema = z
    .string({ error: "required: the customer's Entra tenant id (GUID) or verified domain" })
    .trim()
    .refine((v) => !['common', 'organizations', 'consumers'].includes(v.toLowerCase()), {
      error:
        "expected the customer's own tenant (GUID or domain such as contoso.onmicrosoft.com), not common/organizations/consumers",
      abort: true,
    })
    .refine((v) => GUID.test(v) || DOMAIN.test(v), {
      error:
        "expected the customer's Entra tenant id (a GUID) or verified domain such as contoso.onmicrosoft.com",
    })
    .transform((v) => v.toLowerCase());

  /** Normalised to `https://host` (lower case, no trailing slash): the form Cyclr's Resource property takes. */
  const resourceUrlSchema = z
    .string({ error: "required: the customer's Dynamics org URL, like https://contoso.crm.dynamics.com" })
    .trim()
    .superRefine((value, ctx) => {
      const problem = resourceUrlProblem(value);
      if (problem)
        ctx.addIssue({
          code: 'custom',
          message: `${problem}; expected the customer's Dynamics org URL, like https://contoso.crm.dynamics.com (copy it from the browser's address bar)`,
        });
    })
    .transform((value) => `https://${new URL(value).hostname.toLowerCase()}`);

  const personSchema = z
    .string({ error: 'required: who did it (a name or e-mail), recorded in the history' })
    .trim()
    .min(1, { error: 'must not be empty: who did it (a name or e-mail)' })
    .max(200, { error: 'at most 200 characters' });

  const deadlineSchema = duration(DEADLINE_BOUNDS.minMs, DEADLINE_BOUNDS.maxMs, 'from 1 hour to 365 days');

  const onboardingInputSchema = z
    .object(
      {
        cyclrAccountId: accountIdSchema,
        customerTenant: tenantSchema,
        resourceUrl: resourceUrlSchema,
        requester: z
          .string({ error: EXPECTED_STRING })
          .trim()
          .max(200, { error: 'at most 200 characters' })
          .optional(),
        /** The tenant's admin already granted consent (e.g. for another account): skip the consent wait. */
        consentAlreadyGranted: z.boolean({ error: 'expected true or false' }).optional(),
        /**
         * Users of the tenant may consent for themselves, or an admin signs in: hand out the sign-in
         * link at once and let consent happen there, instead of waiting for admin consent first.
         */
        consentAtSignIn: z.boolean({ error: 'expected true or false' }).optional(),
        /** How long each human wait may last before the onboarding ends as expired. */
        deadlines: z
          .object(
            {
              consent: deadlineSchema.optional(),
              signIn: deadlineSchema.optional(),
              resourceFix: deadlineSchema.optional(),
            },
            { error: 'expected an object such as {"consent": "14 days"}' },
          )
          .optional(),
        /** How often a person is reminded (webhook notification) while a human wait lasts; default 1 day. */
        reminderInterval: duration(
          REMINDER_MIN_MS,
          DEADLINE_BOUNDS.maxMs,
          'at least 1 hour, at most 365 days',
        ).optional(),
      },
      { error: 'expected an object with cyclrAccountId, customerTenant and resourceUrl' },
    )
    .refine((input) => !(input.consentAlreadyGranted && input.consentAtSignIn), {
      error:
        'consentAlreadyGranted and consentAtSignIn: choose one (already granted, or granted while signing in)',
      path: ['consentAtSignIn'],
    });

  const consentGrantedSchema = z.object(
    {
      by: personSchema,
      note: text(1000),
      /** Count it even if Microsoft does not confirm consent (when its answer is known to be wrong). */
      force: z.boolean({ error: 'expected true or false' }).optional(),
    },
    { error: 'expected an object such as {"by": "jane@partner.example"}' },
  );

  const resourceCorrectedSchema = z.object(
    { resourceUrl: resourceUrlSchema, by: personSchema },
    { error: 'expected an object with resourceUrl and by' },
  );

  const attemptSchema = z
    .int({ error: 'expected a whole number' })
    .positive({ error: 'expected a number above 0' })
    .max(10_000, { error: 'at most 10000' });

  const signInCompletedSchema = z.object(
    {
      ok: z.boolean({ error: 'required: true when the sign-in succeeded' }),
      error: text(200),
      errorDescription: text(4000),
      /** The sign-in attempt the outcome belongs to; an outcome for an older attempt is ignored. */
      attempt: attemptSchema.optional(),
      by: text(200),
    },
    { error: 'expected an object with ok (true or false)' },
  );

  const signInReturnedSchema = z.object(
    {
      attempt: attemptSchema,
      /** What Cyclr appended to the landing page's URL, if anything: a hint, never the outcome. */
      success: z.boolean({ error: 'expected true or false' }).optional(),
      error: text(200),
      errorDescription: text(4000),
      errorSubcode: text(100),
    },
    { error: 'expected an object with attempt (the sign-in attempt)' },
  );

  const signInErrorReportedSchema = z.object(
    {
      text: z
        .string({ error: 'required: the error text the user saw' })
        .trim()
        .min(1, { error: 'must not be empty: paste the error text the user saw' })
        .max(4000, { error: 'at most 4000 characters' }),
      by: personSchema,
      attempt: attemptSchema.optional(),
    },
    { error: 'expected an object with text and by' },
  );

  return {
    accountIdSchema,
    tenantSchema,
    resourceUrlSchema,
    personSchema,
    onboardingInputSchema,
    consentGrantedSchema,
    resourceCorrectedSchema,
    signInCompletedSchema,
    signInReturnedSchema,
    signInErrorReportedSchema,
  };
}

export type Schemas = ReturnType<typeof buildSchemas>;

export type OnboardingInput = z.input<Schemas['onboardingInputSchema']>;
export type ValidOnboardingInput = z.output<Schemas['onboardingInputSchema']>;
export type ConsentGranted = z.input<Schemas['consentGrantedSchema']>;
export type ResourceCorrected = z.input<Schemas['resourceCorrectedSchema']>;
export type SignInCompleted = z.input<Schemas['signInCompletedSchema']>;
export type SignInReturned = z.input<Schemas['signInReturnedSchema']>;
export type SignInErrorReported = z.input<Schemas['signInErrorReportedSchema']>;

/** One line: `field: problem; field: problem`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
