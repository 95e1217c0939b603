// `status` and `list`: where onboardings are, read from the workflows and from visibility; both
// refresh with --watch until Ctrl-C.
import { Option, type Command } from 'commander';
import type { Client } from '@temporalio/client';
import { accountRuns, offboardedSince } from '../../onboarding-start';
import { statusQuery } from '../../shared/messages';
import {
  accountIdFromWorkflowId,
  OFFBOARDING_WORKFLOW_TYPE,
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  offboardingWorkflowId,
  onboardingWorkflowId,
} from '../../shared/names';
import type { OffboardingRecord } from '../../shared/offboarding';
import { STEPS } from '../../shared/steps';
import { visible } from '../../shared/terminal-text';
import { formatJson, formatStatus } from '../format';
import { accountArg, withClient } from '../program';
import { watch, watchSeconds } from '../watch';

const WATCH_HELP = 'refresh every few seconds (default 5) until Ctrl-C';

export function inspectCommands(program: Command): void {
  program
    .command('status')
    .description(
      'Show where an onboarding is, what it waits for, the links to hand out, the last error and the timeline',
    )
    .argument('<account>', 'Cyclr account API ID')
    .option('--json', 'print JSON')
    .option('--watch [seconds]', WATCH_HELP)
    .action(async (account: string, o) => {
      const id = accountArg(account);
      const every = watchSeconds(o.watch);
      await withClient(async (client) => {
        const render = async () => {
          const { status, offboarded } = await statusOf(client, id);
          if (o.json) return formatJson(offboarded ? { ...status, offboarded } : status);
          const text = formatStatus(status);
          return offboarded
            ? `${text}\n  offboarded     by ${visible(offboarded.by)} at ${visible(offboarded.at)} (account connectors removed: ${offboarded.removedAccountConnectorIds.join(', ') || 'none'}); a new onboard starts afresh`
            : text;
        };
        if (every) await watch(every, render);
        else console.log(await render());
      });
    });

  program
    .command('list')
    .description(
      'List onboardings with a count per step, optionally only those at one step (search attribute OnboardingStep)',
    )
    .addOption(new Option('--step <step>', 'only this step').choices(STEPS))
    .option('--json', 'print JSON: {total, byStep, onboardings}')
    .option('--watch [seconds]', WATCH_HELP)
    .action(async (o) => {
      const every = watchSeconds(o.watch);
      await withClient(async (client) => {
        const render = async () => {
          const rows = await listRows(client, o.step);
          const byStep = countByStep(rows);
          if (o.json) return formatJson({ total: rows.length, byStep, onboardings: rows });
          if (!rows.length) return 'no onboardings match';
          return [
            ...rows.map(
              (r) =>
                `${visible(r.workflowId).padEnd(48)} ${visible(r.step).padEnd(26)} ${r.status.padEnd(11)} ${r.startTime}`,
            ),
            '',
            `${rows.length} onboarding${rows.length === 1 ? '' : 's'} by step:`,
            ...Object.entries(byStep).map(
              ([step, n]) => `  ${visible(step).padEnd(26)} ${String(n).padStart(6)}`,
            ),
          ].join('\n');
        };
        if (every) await watch(every, render);
        else console.log(await render());
      });
    });
}

interface ListRow {
  workflowId: string;
  /** The OnboardingStep; `starting` before the run's first step, `offboarded` once offboarded. */
  step: string;
  status: string;
  startTime: string;
}

/** Each account's latest onboarding run; an offboarded one shows as `offboarded`. */
async function listRows(client: Client, step: string | undefined): Promise<ListRow[]> {
  const query = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'${step ? ` AND ${ONBOARDING_STEP_SEARCH_ATTRIBUTE} = '${step}'` : ''}`;
  const latest = new Map<string, ListRow & { start: Date }>();
  for await (const wf of client.workflow.list({ query })) {
    const known = latest.get(wf.workflowId);
    if (known && known.start >= wf.startTime) continue;
    latest.set(wf.workflowId, {
      workflowId: wf.workflowId,
      step: String(wf.searchAttributes?.[ONBOARDING_STEP_SEARCH_ATTRIBUTE]?.[0] ?? 'starting'),
      status: wf.status.name,
      startTime: wf.startTime.toISOString(),
      start: wf.startTime,
    });
  }
  const offboarded = new Map<string, Date>();
  if (latest.size)
    for await (const wf of client.workflow.list({
      query: `WorkflowType = '${OFFBOARDING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'`,
    })) {
      const account = wf.workflowId.replace(/^dynamics-offboarding-/, '');
      const known = offboarded.get(account);
      if (wf.closeTime && (!known || wf.closeTime > known)) offboarded.set(account, wf.closeTime);
    }
  const rows: ListRow[] = [];
  for (const { start, ...row } of latest.values()) {
    if (offboardedSince(start, offboarded.get(accountIdFromWorkflowId(row.workflowId) ?? ''))) {
      if (step) continue; // no longer at that step
      row.step = 'offboarded';
    }
    rows.push(row);
  }
  return rows;
}

function countByStep(rows: ListRow[]): Record<string, number> {
  const order = ['starting', ...STEPS, 'offboarded'];
  const counts: Record<string, number> = {};
  for (const step of order) {
    const n = rows.filter((r) => r.step === step).length;
    if (n) counts[step] = n;
  }
  return counts;
}

/** The onboarding's status, and the offboarding record when the account was offboarded since. */
async function statusOf(client: Client, account: string) {
  const runs = await accountRuns(client, account);
  const status = await client.workflow.getHandle(onboardingWorkflowId(account)).query(statusQuery);
  let offboarded: OffboardingRecord | undefined;
  if (runs.onboarding && runs.offboarding && !runs.hasOnboarding)
    offboarded = (await client.workflow
      .getHandle(offboardingWorkflowId(account), runs.offboarding.runId)
      .result()) as OffboardingRecord;
  return { status, offboarded };
}
