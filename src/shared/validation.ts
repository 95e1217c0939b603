// Input and signal schemas, shared by the CLI, the HTTP ingress and the workflow itself (which
// re-validates signals, since anyone with the official `temporal` CLI can send one).
import { z } from 'zod';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** Hosts of Dynamics 365 orgs in the public and sovereign clouds. */
const DYNAMICS_HOST =
  /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.(api\.)?crm\d*\.(dynamics\.com|dynamics\.cn|microsoftdynamics\.us|appsplatform\.us|microsoftdynamics\.de)$/i;
const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/i;

export const accountIdSchema = z
  .string({ error: 'required: the Cyclr account API ID' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    error:
      'expected the Cyclr account API ID: 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

export const tenantSchema = z
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
export const resourceUrlSchema = z
  .string({ error: "required: the customer's Dynamics org URL, like https://contoso.crm.dynamics.com" })
  .trim()
  .transform((value, ctx) => {
    const fail = (why: string) => {
      ctx.addIssue({
        code: 'custom',
        message: `${why}; expected the customer's Dynamics org URL, like https://contoso.crm.dynamics.com (copy it from the browser's address bar)`,
      });
      return z.NEVER;
    };
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(`"${value.slice(0, 80)}" is not a URL`);
    }
    if (url.protocol !== 'https:') return fail('must use https');
    if (url.username || url.password) return fail('must not contain credentials');
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
      return fail('must be the org root, with no path, query or fragment');
    if (url.port) return fail('must not have a port');
    if (!DYNAMICS_HOST.test(url.hostname))
      return fail(`host "${url.hostname}" is not a Dynamics 365 org host`);
    return `https://${url.hostname.toLowerCase()}`;
  });

const personSchema = z
  .string({ error: 'required: who did it (a name or e-mail), recorded in the history' })
  .trim()
  .min(1, { error: 'must not be empty: who did it (a name or e-mail)' })
  .max(200, { error: 'at most 200 characters' });

const durationSchema = z
  .string()
  .trim()
  .regex(DURATION, { error: 'expected a duration such as "30 minutes", "14 days" or "12h"' });

export const onboardingInputSchema = z.object({
  cyclrAccountId: accountIdSchema,
  customerTenant: tenantSchema,
  resourceUrl: resourceUrlSchema,
  requester: z.string().trim().max(200, { error: 'at most 200 characters' }).optional(),
  /** The tenant's admin already granted consent (e.g. for another account): skip the consent wait. */
  consentAlreadyGranted: z.boolean({ error: 'expected true or false' }).optional(),
  /** How long each human wait may last before the onboarding ends as expired. */
  deadlines: z
    .object({
      consent: durationSchema.optional(),
      signIn: durationSchema.optional(),
      resourceFix: durationSchema.optional(),
    })
    .optional(),
  /** How often a person is reminded (webhook notification) while a human wait lasts; default 1 day. */
  reminderInterval: durationSchema.optional(),
});

export type OnboardingInput = z.input<typeof onboardingInputSchema>;
export type ValidOnboardingInput = z.output<typeof onboardingInputSchema>;

export const consentGrantedSchema = z.object({
  by: personSchema,
  note: z.string().max(1000, { error: 'at most 1000 characters' }).optional(),
});
export type ConsentGranted = z.input<typeof consentGrantedSchema>;

export const resourceCorrectedSchema = z.object({ resourceUrl: resourceUrlSchema, by: personSchema });
export type ResourceCorrected = z.input<typeof resourceCorrectedSchema>;

export const signInCompletedSchema = z.object({
  ok: z.boolean({ error: 'required: true when the sign-in succeeded' }),
  error: z.string().max(200).optional(),
  errorDescription: z.string().max(4000).optional(),
  /** The sign-in attempt the outcome belongs to; an outcome for an older attempt is ignored. */
  attempt: z.number().int().positive().optional(),
  by: z.string().max(200).optional(),
});
export type SignInCompleted = z.input<typeof signInCompletedSchema>;

/** One line: `field: problem; field: problem`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, message: describeIssues(result.error) };
}
