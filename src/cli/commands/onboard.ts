// `onboard`: starts one account's onboarding (once per account).
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ONBOARDING_WORKFLOW_TYPE, onboardingWorkflowId, TASK_QUEUE } from '../../shared/names';
import { onboardingInputSchema, type OnboardingInput } from '../../shared/validation';
import { parse, withClient } from '../program';

export function onboardCommand(program: Command): void {
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
    .option('--reminder-interval <duration>', 'how often to remind while a person is awaited (default 1 day)')
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
        ...(o.reminderInterval ? { reminderInterval: o.reminderInterval } : {}),
      };
      const input = parse(onboardingInputSchema, raw, {
        cyclrAccountId: '--account',
        customerTenant: '--tenant',
        resourceUrl: '--resource-url',
        requester: '--requester',
        'deadlines.consent': '--consent-deadline',
        'deadlines.signIn': '--sign-in-deadline',
        'deadlines.resourceFix': '--resource-fix-deadline',
        reminderInterval: '--reminder-interval',
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
}
