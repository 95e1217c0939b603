// `consent` and `fix-resource`: the two things ops tell a waiting onboarding.
import type { Command } from 'commander';
import { consentGrantedSignal, resourceCorrectedSignal } from '../../shared/messages';
import { onboardingWorkflowId } from '../../shared/names';
import { consentGrantedSchema, resourceCorrectedSchema } from '../../shared/validation';
import { accountArg, parse, withClient } from '../program';

export function signalCommands(program: Command): void {
  program
    .command('consent')
    .description("Record that the customer's admin granted consent (signal consentGranted)")
    .argument('<account>', 'Cyclr account API ID')
    .requiredOption('--by <who>', 'who reports it (recorded in the history)')
    .option('--note <text>', 'a note for the record')
    .option(
      '--force',
      "count it even if Microsoft does not confirm consent (only when Microsoft's answer is known to be wrong)",
    )
    .action(async (account: string, o) => {
      const id = accountArg(account);
      const payload = parse(
        consentGrantedSchema,
        { by: o.by, ...(o.note ? { note: o.note } : {}), ...(o.force ? { force: true } : {}) },
        { by: '--by', note: '--note', force: '--force' },
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
}
