// `onboard`: starts one account's onboarding, or every account of a file (`--from`), once per
// account (src/onboarding-start.ts).
import type { Command } from 'commander';
import { z } from 'zod';
import { describeExisting, startOnboardingOnce } from '../../onboarding-start';
import { onboardingInputSchema, type OnboardingInput } from '../../shared/validation';
import { parse, UsageError, withClient } from '../program';
import { onboardFromFile } from './onboard-file';

const FLAGS = {
  cyclrAccountId: '--account',
  customerTenant: '--tenant',
  resourceUrl: '--resource-url',
  requester: '--requester',
  'deadlines.consent': '--consent-deadline',
  'deadlines.signIn': '--sign-in-deadline',
  'deadlines.resourceFix': '--resource-fix-deadline',
  reminderInterval: '--reminder-interval',
};

export function onboardCommand(program: Command): void {
  program
    .command('onboard')
    .description(
      "Start onboarding a Cyclr account to the customer's Dynamics org (once per account), or every account of a file",
    )
    .option('--account <id>', 'Cyclr account API ID')
    .option('--tenant <tenant>', "customer's Entra tenant id (GUID) or verified domain")
    .option('--resource-url <url>', "customer's Dynamics org URL, like https://contoso.crm.dynamics.com")
    .option('--requester <who>', 'who asked for it (recorded)')
    .option('--consent-already-granted', "the tenant's admin already consented: skip the consent wait")
    .option(
      '--from <file>',
      'onboard every row of a CSV file (header account,tenant,resource_url[,requester,consent_already_granted]) or JSON Lines file (.jsonl)',
    )
    .option('--skip-invalid', 'with --from: start the valid rows even when some are invalid')
    .option('--json', 'with --from: print the outcome of every row as JSON')
    .option('--consent-deadline <duration>', 'how long to wait for consent, e.g. "14 days"')
    .option('--sign-in-deadline <duration>', 'how long to wait for the sign-in')
    .option('--resource-fix-deadline <duration>', 'how long to wait for a corrected Resource URL')
    .option('--reminder-interval <duration>', 'how often to remind while a person is awaited (default 1 day)')
    .addHelpText(
      'after',
      '\nWith --from, the deadline and reminder flags apply to every row. An account that already has an onboarding (running, or ended whatever its outcome) is never started again; offboard it first to start afresh.',
    )
    .action(async (o) => {
      // Flags that apply to every onboarding, checked alone so a bad one is named as a flag.
      const common: Partial<OnboardingInput> = {
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
      const { deadlines, reminderInterval } = onboardingInputSchema.shape;
      parse(z.object({ deadlines, reminderInterval }), common, FLAGS);

      if (o.from !== undefined) {
        const single = ['account', 'tenant', 'resourceUrl', 'requester', 'consentAlreadyGranted'].find(
          (k) => o[k] !== undefined,
        );
        if (single)
          throw new UsageError(
            `--from: give either --from <file> or --account/--tenant/--resource-url, not both (${FLAGS[single as keyof typeof FLAGS] ?? '--consent-already-granted'} was given too)`,
          );
        return onboardFromFile({ file: o.from, skipInvalid: !!o.skipInvalid, json: !!o.json, common });
      }
      if (o.skipInvalid || o.json)
        throw new UsageError(`${o.skipInvalid ? '--skip-invalid' : '--json'}: only with --from <file>`);
      for (const [key, flag] of [
        ['account', '--account <id>'],
        ['tenant', '--tenant <tenant>'],
        ['resourceUrl', '--resource-url <url>'],
      ])
        if (o[key] === undefined)
          throw new UsageError(`required option '${flag}' not specified (or --from <file>)`);

      const input = parse(
        onboardingInputSchema,
        {
          cyclrAccountId: o.account,
          customerTenant: o.tenant,
          resourceUrl: o.resourceUrl,
          ...(o.requester ? { requester: o.requester } : {}),
          ...(o.consentAlreadyGranted ? { consentAlreadyGranted: true } : {}),
          ...common,
        },
        FLAGS,
      );
      await withClient(async (client) => {
        const outcome = await startOnboardingOnce(client, input);
        if (outcome.started)
          console.log(
            `started ${outcome.workflowId}${outcome.afterOffboarding ? ' (afresh: the account was offboarded)' : ''}`,
          );
        else if (outcome.existing.status === 'RUNNING')
          console.log(
            `already onboarding: ${outcome.workflowId} (${describeExisting(outcome.existing)}); a second one is never started`,
          );
        else
          console.log(
            `already onboarded: ${outcome.workflowId} (${describeExisting(outcome.existing)}); a second one is never started (offboard the account first to start afresh)`,
          );
        console.log(`follow it with: npm run client -- status ${input.cyclrAccountId}`);
      });
    });
}
