// The input and signal schemas built once for the code outside the workflow sandbox: the CLI and the
// HTTP ingress. The workflows build their own set (src/workflows/schemas.ts).
import type { z } from 'zod';
import { buildSchemas, describeIssues } from './schemas';

export {
  describeIssues,
  type ConsentGranted,
  type OnboardingInput,
  type ResourceCorrected,
  type SignInCompleted,
  type SignInErrorReported,
  type SignInReturned,
  type ValidOnboardingInput,
} from './schemas';

export const {
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
} = buildSchemas();

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, message: describeIssues(result.error) };
}
