// `report-signin-error`: the error text the customer's user saw during the sign-in, sent to the
// onboarding (signal signInErrorReported), which classifies it and says what to do.
import type { Command } from 'commander';
import { signInErrorReportedSignal, statusQuery } from '../../shared/messages';
import { onboardingWorkflowId } from '../../shared/names';
import { signInErrorReportedSchema } from '../../shared/validation';
import { describeLatest, describeExisting, existingOnboarding } from '../../onboarding-start';
import { accountArg, parse, withClient } from '../program';
import { printable } from '../text';

/** How long to wait for the onboarding's classification before leaving it to `status`. */
const CLASSIFY_WAIT_MS = 10_000;

export function signInErrorCommand(program: Command): void {
  program
    .command('report-signin-error')
    .description(
      "Report the error text the customer's user saw during the sign-in (signal signInErrorReported); prints how it was classified",
    )
    .argument('<account>', 'Cyclr account API ID')
    .requiredOption('--error <text>', 'the error text the user saw, such as "AADSTS65001: ..."')
    .requiredOption('--by <who>', 'who reports it (recorded in the history)')
    .option('--attempt <n>', 'the sign-in attempt it belongs to (default: the current one)')
    .action(async (account: string, o) => {
      const id = accountArg(account);
      const payload = parse(
        signInErrorReportedSchema,
        {
          text: o.error,
          by: o.by,
          ...(o.attempt !== undefined
            ? { attempt: /^\d+$/.test(o.attempt) ? Number(o.attempt) : o.attempt }
            : {}),
        },
        { text: '--error', by: '--by', attempt: '--attempt' },
      );
      const workflowId = onboardingWorkflowId(id);
      await withClient(async (client) => {
        const described = await describeLatest(client, workflowId);
        if (!described) {
          console.error(`error: no such onboarding: ${workflowId}`);
          process.exitCode = 1;
          return;
        }
        const existing = existingOnboarding(described);
        if (existing.status !== 'RUNNING') {
          console.error(
            `error: the onboarding ${workflowId} has ${describeExisting(existing)}; nothing was sent`,
          );
          process.exitCode = 1;
          return;
        }
        const handle = client.workflow.getHandle(workflowId);
        const before = await handle.query(statusQuery);
        await handle.signal(signInErrorReportedSignal, payload);
        console.log(`signInErrorReported sent to ${workflowId}`);
        // The onboarding classifies it (at once, or after checking Cyclr when it awaited the sign-in).
        const until = Date.now() + CLASSIFY_WAIT_MS;
        for (;;) {
          const now = await handle.query(statusQuery);
          const err = now.lastError;
          if (err && err.at !== before.lastError?.at) {
            console.log(
              `classified as ${err.code ? `AADSTS${err.code} ` : ''}${err.name} (${err.class})\n  what to do     ${printable(err.remediation)}\n  step now       ${now.step}${now.waitingFor ? ` (waiting for ${now.waitingFor})` : ''}`,
            );
            return;
          }
          if (Date.now() > until) {
            console.log(`not classified yet; see: npm run client -- status ${id}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 300));
        }
      });
    });
}
