// Input and signal schemas, as a factory: the CLI, the HTTP ingress (through validation.ts) and the
// workflow itself (which re-validates signals, since anyone with the official `temporal` CLI can
// send one) each build a set. The workflow sandbox builds one per workflow thread and shares it
// across runs (src/workflows/schemas.ts), so nothing here may build a schema at module level: the
// sandbox would evaluate it, and freeze it, where it is shared.
//
// zod/mini rather than zod's classic API: classic zod cost about 10 ms of the workflow thread per
// build, mini about 1. Mini loads no locale, so every check names its own message.
import * as z from 'zod/mini';
import type { $ZodError } from 'zod/v4/core';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** Hosts of Dynamics 365 orgs in the public and sovereign clouds. */
const DYNAMICS_HOST =
  /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.(api\.)?crm\d*\.(dynamics\.com|dynamics\.cn|microsoftdynamics\.us|appsplatform\.us|microsoftdynamics\.de)$/i;

const EXPECTED_STRING = 'expected a string';
const atMost = (n: number) => z.maxLength(n, { error: `at most ${n} characters` });
/** An optional free-text field of at most `n` characters. */
const text = (n: number) => z.optional(z.string({ error: EXPECTED_STRING }).check(atMost(n)));

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

/** Builds every schema, fresh. The RegExps zod checks are built here too: zod writes their lastIndex. */
export function buildSchemas() {
  const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/i;

  const accountIdSchema = z.string({ error: 'required: the Cyclr account API ID' }).check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
      error:
        'expected the Cyclr account API ID: 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
    }),
  );

  const tenantSchema = z.pipe(
    z.string({ error: "required: the customer's Entra tenant id (GUID) or verified domain" }).check(
      z.trim(),
      z.refine((v) => !['common', 'organizations', 'consumers'].includes(v.toLowerCase()), {
        error:
          "expected the customer's own tenant (GUID or domain such as contoso.onmicrosoft.com), not common/organizations/consumers",
        abort: true,
      }),
      z.refine((v) => GUID.test(v) || DOMAIN.test(v), {
        error:
          "expected the customer's Entra tenant id (a GUID) or verified domain such as contoso.onmicrosoft.com",
      }),
    ),
    z.transform((v: string) => v.toLowerCase()),
  );

  /** Normalised to `https://host` (lower case, no trailing slash): the form Cyclr's Resource property takes. */
  const resourceUrlSchema = z.pipe(
    z
      .string({ error: "required: the customer's Dynamics org URL, like https://contoso.crm.dynamics.com" })
      .check(
        z.trim(),
        z.superRefine((value, ctx) => {
          const problem = resourceUrlProblem(value);
          if (problem)
            ctx.addIssue({
              code: 'custom',
              message: `${problem}; expected the customer's Dynamics org URL, like https://contoso.crm.dynamics.com (copy it from the browser's address bar)`,
            });
        }),
      ),
    z.transform((value: string) => `https://${new URL(value).hostname.toLowerCase()}`),
  );

  const personSchema = z
    .string({ error: 'required: who did it (a name or e-mail), recorded in the history' })
    .check(
      z.trim(),
      z.minLength(1, { error: 'must not be empty: who did it (a name or e-mail)' }),
      atMost(200),
    );

  const durationSchema = z
    .string({ error: EXPECTED_STRING })
    .check(
      z.trim(),
      z.regex(DURATION, { error: 'expected a duration such as "30 minutes", "14 days" or "12h"' }),
    );

  const onboardingInputSchema = z.object(
    {
      cyclrAccountId: accountIdSchema,
      customerTenant: tenantSchema,
      resourceUrl: resourceUrlSchema,
      requester: z.optional(z.string({ error: EXPECTED_STRING }).check(z.trim(), atMost(200))),
      /** The tenant's admin already granted consent (e.g. for another account): skip the consent wait. */
      consentAlreadyGranted: z.optional(z.boolean({ error: 'expected true or false' })),
      /** How long each human wait may last before the onboarding ends as expired. */
      deadlines: z.optional(
        z.object(
          {
            consent: z.optional(durationSchema),
            signIn: z.optional(durationSchema),
            resourceFix: z.optional(durationSchema),
          },
          { error: 'expected an object such as {"consent": "14 days"}' },
        ),
      ),
      /** How often a person is reminded (webhook notification) while a human wait lasts; default 1 day. */
      reminderInterval: z.optional(durationSchema),
    },
    { error: 'expected an object with cyclrAccountId, customerTenant and resourceUrl' },
  );

  const consentGrantedSchema = z.object(
    { by: personSchema, note: text(1000) },
    { error: 'expected an object such as {"by": "jane@partner.example"}' },
  );

  const resourceCorrectedSchema = z.object(
    { resourceUrl: resourceUrlSchema, by: personSchema },
    { error: 'expected an object with resourceUrl and by' },
  );

  const signInCompletedSchema = z.object(
    {
      ok: z.boolean({ error: 'required: true when the sign-in succeeded' }),
      error: text(200),
      errorDescription: text(4000),
      /** The sign-in attempt the outcome belongs to; an outcome for an older attempt is ignored. */
      attempt: z.optional(
        z.int({ error: 'expected a whole number' }).check(z.positive({ error: 'expected a number above 0' })),
      ),
      by: text(200),
    },
    { error: 'expected an object with ok (true or false)' },
  );

  return {
    accountIdSchema,
    tenantSchema,
    resourceUrlSchema,
    onboardingInputSchema,
    consentGrantedSchema,
    resourceCorrectedSchema,
    signInCompletedSchema,
  };
}

export type Schemas = ReturnType<typeof buildSchemas>;

export type OnboardingInput = z.input<Schemas['onboardingInputSchema']>;
export type ValidOnboardingInput = z.output<Schemas['onboardingInputSchema']>;
export type ConsentGranted = z.input<Schemas['consentGrantedSchema']>;
export type ResourceCorrected = z.input<Schemas['resourceCorrectedSchema']>;
export type SignInCompleted = z.input<Schemas['signInCompletedSchema']>;

/** One line: `field: problem; field: problem`. */
export function describeIssues(error: $ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
