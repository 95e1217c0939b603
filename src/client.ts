// The ops CLI: `npm run client -- <verb> ...`. Input is validated before anything is sent; a bad
// value gets one line naming the flag and the expected form, and exit code 2.
import { Command, CommanderError, Option } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { formatStatus } from './cli/format';
import { consentGrantedSignal, resourceCorrectedSignal, statusQuery } from './shared/messages';
import {
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  onboardingWorkflowId,
  TASK_QUEUE,
} from './shared/names';
import { STEPS } from './shared/steps';
import {
  accountIdSchema,
  consentGrantedSchema,
  onboardingInputSchema,
  resourceCorrectedSchema,
  type OnboardingInput,
} from './shared/validation';
import { loadObservabilityConfig } from './observability/config';
import { startTracing } from './observability/tracing';
import { connectClient } from './temporal';
import type { output, ZodMiniType } from 'zod/mini';

class UsageError extends Error {}

/** Parses with a schema; zod paths are reported as the CLI's flag names. */
function parse<S extends ZodMiniType>(schema: S, value: unknown, flags: Record<string, string>): output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path.join('.');
  throw new UsageError(`${flags[path] ?? path}: ${issue.message}`);
}

const accountArg = (account: string) => parse(accountIdSchema, account, { '': '<account>' });

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
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

const program = new Command('client')
  .description(
    'Ops CLI for Dynamics CRM Online onboardings (Temporal workflows on task queue dynamics-onboarding)',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('onboard')
  .description("Start onboarding a Cyclr account to the customer's Dynamics org (once per account)")
  .requiredOption('--account <id>', 'Cyclr account API ID')
  .requiredOption('--tenant <tenant>', "customer's Entra tenant id (GUID) or verified domain")
  .requiredOption(
    '--resource-url <url>',
    "customer's Dynamics org URL, like https://contoso.crm.dynamics.com",
  )
  .option('--requester <who>', 'who asked for it (recorded)')
  .option('--consent-already-granted', "the tenant's admin already consented: skip the consent wait")
  .option('--consent-deadline <duration>', 'how long to wait for consent, e.g. "14 days"')
  .option('--sign-in-deadline <duration>', 'how long to wait for the sign-in')
  .option('--resource-fix-deadline <duration>', 'how long to wait for a corrected Resource URL')
  .action(async (o) => {
    const raw: OnboardingInput = {
      cyclrAccountId: o.account,
      customerTenant: o.tenant,
      resourceUrl: o.resourceUrl,
      ...(o.requester ? { requester: o.requester } : {}),
      ...(o.consentAlreadyGranted ? { consentAlreadyGranted: true } : {}),
      ...(o.consentDeadline || o.signInDeadline || o.resourceFixDeadline
        ? {
            deadlines: {
              consent: o.consentDeadline,
              signIn: o.signInDeadline,
              resourceFix: o.resourceFixDeadline,
            },
          }
        : {}),
    };
    const input = parse(onboardingInputSchema, raw, {
      cyclrAccountId: '--account',
      customerTenant: '--tenant',
      resourceUrl: '--resource-url',
      requester: '--requester',
      'deadlines.consent': '--consent-deadline',
      'deadlines.signIn': '--sign-in-deadline',
      'deadlines.resourceFix': '--resource-fix-deadline',
    });
    const workflowId = onboardingWorkflowId(input.cyclrAccountId);
    await withClient(async (client) => {
      try {
        await client.workflow.start(ONBOARDING_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: TASK_QUEUE,
          args: [input],
        });
        console.log(`started ${workflowId}`);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        console.log(`already onboarding: ${workflowId} (a second one is never started)`);
      }
      console.log(`follow it with: npm run client -- status ${input.cyclrAccountId}`);
    });
  });

program
  .command('consent')
  .description("Record that the customer's admin granted consent (signal consentGranted)")
  .argument('<account>', 'Cyclr account API ID')
  .requiredOption('--by <who>', 'who reports it (recorded in the history)')
  .option('--note <text>', 'a note for the record')
  .action(async (account: string, o) => {
    const id = accountArg(account);
    const payload = parse(
      consentGrantedSchema,
      { by: o.by, ...(o.note ? { note: o.note } : {}) },
      { by: '--by', note: '--note' },
    );
    await withClient((client) =>
      client.workflow.getHandle(onboardingWorkflowId(id)).signal(consentGrantedSignal, payload),
    );
    console.log(`consentGranted sent to ${onboardingWorkflowId(id)}`);
  });

program
  .command('fix-resource')
  .description('Send the corrected Dynamics org URL (signal resourceCorrected), e.g. after AADSTS500011')
  .argument('<account>', 'Cyclr account API ID')
  .requiredOption(
    '--resource-url <url>',
    "the customer's Dynamics org URL, like https://contoso.crm.dynamics.com",
  )
  .requiredOption('--by <who>', 'who reports it (recorded in the history)')
  .action(async (account: string, o) => {
    const id = accountArg(account);
    const payload = parse(
      resourceCorrectedSchema,
      { resourceUrl: o.resourceUrl, by: o.by },
      { resourceUrl: '--resource-url', by: '--by' },
    );
    await withClient((client) =>
      client.workflow.getHandle(onboardingWorkflowId(id)).signal(resourceCorrectedSignal, payload),
    );
    console.log(`resourceCorrected sent to ${onboardingWorkflowId(id)}`);
  });

program
  .command('status')
  .description(
    'Show where an onboarding is, what it waits for, the links to hand out, the last error and the timeline',
  )
  .argument('<account>', 'Cyclr account API ID')
  .option('--json', 'print JSON')
  .action(async (account: string, o) => {
    const id = accountArg(account);
    const status = await withClient((client) =>
      client.workflow.getHandle(onboardingWorkflowId(id)).query(statusQuery),
    );
    console.log(o.json ? JSON.stringify(status, null, 2) : formatStatus(status));
  });

program
  .command('list')
  .description('List onboardings, optionally only those at one step (search attribute OnboardingStep)')
  .addOption(new Option('--step <step>', 'only this step').choices(STEPS))
  .option('--json', 'print JSON')
  .action(async (o) => {
    const query = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'${o.step ? ` AND ${ONBOARDING_STEP_SEARCH_ATTRIBUTE} = '${o.step}'` : ''}`;
    await withClient(async (client) => {
      const rows = [];
      for await (const wf of client.workflow.list({ query })) {
        const step = wf.searchAttributes?.[ONBOARDING_STEP_SEARCH_ATTRIBUTE]?.[0] ?? '';
        rows.push({
          workflowId: wf.workflowId,
          step,
          status: wf.status.name,
          startTime: wf.startTime.toISOString(),
        });
      }
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      if (!rows.length) return console.log('no onboardings match');
      for (const r of rows)
        console.log(
          `${r.workflowId.padEnd(48)} ${String(r.step).padEnd(26)} ${r.status.padEnd(11)} ${r.startTime}`,
        );
    });
  });

program
  .command('cancel')
  .description('Cancel an onboarding; it stops cleanly and records what was done')
  .argument('<account>', 'Cyclr account API ID')
  .action(async (account: string) => {
    const id = accountArg(account);
    await withClient((client) => client.workflow.getHandle(onboardingWorkflowId(id)).cancel());
    console.log(`cancellation requested for ${onboardingWorkflowId(id)}`);
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof WorkflowNotFoundError) {
      console.error(`error: no such onboarding: ${err.workflowId}`);
      process.exit(1);
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

void main();
