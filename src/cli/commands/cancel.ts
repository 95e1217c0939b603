// `cancel`: the onboarding stops cleanly and records what was done. An onboarding that has already
// ended says how it ended instead of failing.
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
      const workflowId = onboardingWorkflowId(id);
      const ended = await withClient(async (client) => {
        const handle = client.workflow.getHandle(workflowId);
        const { status } = await handle.describe();
        if (status.name !== 'RUNNING') return status.name.toLowerCase();
        await handle.cancel();
        return null;
      });
      console.log(
        ended
          ? `${workflowId} has already ended (${ended}); nothing to cancel`
          : `cancellation requested for ${workflowId}`,
      );
    });
}
