// `status` and `list`: where onboardings are, read from the workflows and from visibility.
import { Option, type Command } from 'commander';
import { statusQuery } from '../../shared/messages';
import {
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  onboardingWorkflowId,
} from '../../shared/names';
import { STEPS } from '../../shared/steps';
import { visible } from '../../shared/terminal-text';
import { formatJson, formatStatus } from '../format';
import { accountArg, withClient } from '../program';

export function inspectCommands(program: Command): void {
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
      console.log(o.json ? formatJson(status) : formatStatus(status));
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
        if (o.json) return console.log(formatJson(rows));
        if (!rows.length) return console.log('no onboardings match');
        for (const r of rows)
          console.log(
            `${visible(r.workflowId).padEnd(48)} ${visible(r.step).padEnd(26)} ${r.status.padEnd(11)} ${r.startTime}`,
          );
      });
    });
}
