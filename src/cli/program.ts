// What every verb of the ops CLI shares: a connected client, input parsed with the product's
// schemas (a bad value is one line naming the flag, exit code 2), and the account argument.
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import { loadObservabilityConfig } from '../observability/config';
import { startTracing } from '../observability/tracing';
import { accountIdSchema } from '../shared/validation';
import { connectClient } from '../temporal';

/** Bad input: printed as `error: <message>`, exit code 2, nothing sent. */
export class UsageError extends Error {}

/** Parses with a schema; zod paths are reported as the CLI's flag names. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  flags: Record<string, string>,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.join('.');
  throw new UsageError(`${flags[path] ?? path}: ${issue.message}`);
}

export const accountArg = (account: string): string => parse(accountIdSchema, account, { '': '<account>' });

export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  // Traces on by config: a CLI start is the root of the onboarding's trace.
  const tracing = startTracing(loadObservabilityConfig());
  const client = await connectClient();
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
    await tracing?.shutdown();
  }
}
