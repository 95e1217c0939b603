// `offboard`: the account's Dynamics connector deauthenticated and deleted in Cyclr, the app's
// owner told to forget it, and who did it and when recorded (workflow dynamics-offboarding-<account>).
import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { describeExisting } from '../../onboarding-start';
import { offboardAccount } from '../../offboarding-start';
import { offboardingWorkflowId, onboardingWorkflowId } from '../../shared/names';
import { buildOffboardingInputSchema, type OffboardingRecord } from '../../shared/offboarding';
import { accountIdSchema, personSchema } from '../../shared/validation';
import { parse, withClient } from '../program';
import { formatJson } from '../format';
import { printable } from '../text';

export function offboardCommand(program: Command): void {
  program
    .command('offboard')
    .description(
      "Offboard an account: deauthenticate and delete its Dynamics connector in Cyclr, stop the app's secret rotation writing there, record who did it",
    )
    .argument('<account>', 'Cyclr account API ID')
    .requiredOption('--by <who>', 'who offboards (recorded in the history)')
    .option(
      '--cancel-running',
      "cancel the account's running onboarding first (otherwise refused while it runs)",
    )
    .option('--json', 'print the offboarding record as JSON')
    .action(async (account: string, o) => {
      const input = parse(
        buildOffboardingInputSchema({ accountIdSchema, personSchema }),
        { cyclrAccountId: account, by: o.by, ...(o.cancelRunning ? { cancelRunning: true } : {}) },
        { cyclrAccountId: '<account>', by: '--by' },
      );
      await withClient(async (client) => {
        const outcome = await offboardAccount(client, input);
        if (outcome.kind === 'none') {
          console.error(
            `error: no onboarding for ${input.cyclrAccountId} (${onboardingWorkflowId(input.cyclrAccountId)}); nothing to offboard`,
          );
          process.exitCode = 1;
          return;
        }
        if (outcome.kind === 'refused') {
          console.error(
            `error: refused: the onboarding ${onboardingWorkflowId(input.cyclrAccountId)} is ${describeExisting(outcome.onboarding)}; nothing was changed. To cancel it and offboard: npm run client -- offboard ${input.cyclrAccountId} --by "${input.by}" --cancel-running`,
          );
          process.exitCode = 1;
          return;
        }
        if (outcome.kind === 'already') {
          if (o.json) return console.log(formatJson({ already: true, ...outcome.record }));
          console.log(
            `already offboarded: ${input.cyclrAccountId} by ${printable(outcome.record.by)} at ${outcome.record.at}; nothing to do (a new onboard of it starts afresh)`,
          );
          return;
        }
        if (!o.json)
          console.log(
            outcome.kind === 'joined'
              ? `an offboarding of ${input.cyclrAccountId} is already under way; waiting for it...`
              : `offboarding ${input.cyclrAccountId} (Cyclr calls are retried until they answer)...`,
          );
        let record: OffboardingRecord;
        try {
          record = (await outcome.handle.result()) as OffboardingRecord;
        } catch (err) {
          if (!(err instanceof WorkflowFailedError)) throw err;
          const cause = (err.cause as Error | undefined)?.cause ?? err.cause;
          console.error(
            `error: the offboarding failed: ${printable((cause as Error | undefined)?.message ?? err.message)}; run offboard again once it is fixed (what was removed stays removed)`,
          );
          process.exitCode = 1;
          return;
        }
        if (o.json) return console.log(formatJson(record));
        console.log(formatRecord(record, outcome.handle.workflowId));
      });
    });
}

export function formatRecord(
  r: OffboardingRecord,
  workflowId = offboardingWorkflowId(r.cyclrAccountId),
): string {
  const removed = r.removedAccountConnectorIds;
  const lines = [
    `offboarded ${r.cyclrAccountId} by ${printable(r.by)} at ${r.at}`,
    `  onboarding     ${
      r.onboarding
        ? `${r.onboarding.workflowId} ${r.cancelledOnboarding ? 'was running: cancelled first' : describeExisting(r.onboarding)}`
        : 'none'
    }`,
    `  in Cyclr       ${
      !r.cyclrAccountFound
        ? 'the account no longer exists there: nothing to remove'
        : removed.length
          ? `Dynamics account connector${removed.length > 1 ? 's' : ''} ${removed.join(', ')} deauthenticated and deleted${r.alreadyGoneAccountConnectorIds.length ? ` (${r.alreadyGoneAccountConnectorIds.join(', ')} already gone)` : ''}`
          : 'no Dynamics account connector installed: nothing to remove'
    }`,
    `  shared app     ${r.ownerNotified ? 'its owner no longer replaces the secret in this account' : 'no app registration yet: nothing to tell'}`,
    `  record         ${workflowId} (input and result in its history)`,
    `a new onboard of ${r.cyclrAccountId} starts afresh`,
  ];
  return lines.join('\n');
}
