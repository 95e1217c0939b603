// `cancel`: the onboarding stops cleanly and records what was done.
import type { Command } from 'commander';
import { onboardingWorkflowId } from '../../shared/names';
import { accountArg, withClient } from '../program';

export function cancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('Cancel an onboarding; it stops cleanly and records what was done')
    .argument('<account>', 'Cyclr account API ID')
    .action(async (account: string) => {
      const id = accountArg(account);
      await withClient((client) => client.workflow.getHandle(onboardingWorkflowId(id)).cancel());
      console.log(`cancellation requested for ${onboardingWorkflowId(id)}`);
    });
}
