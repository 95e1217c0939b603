// What the ops page reads from Temporal: one onboarding's status, and the onboardings by step
// from visibility (the OnboardingStep search attribute).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { statusQuery } from '../shared/messages';
import { offboardedSince } from '../onboarding-start';
import {
  OFFBOARDING_WORKFLOW_TYPE,
  ONBOARDING_STEP_SEARCH_ATTRIBUTE,
  ONBOARDING_WORKFLOW_TYPE,
  onboardingWorkflowId,
} from '../shared/names';
import type { Step } from '../shared/steps';
import type { OnboardingRow } from './ops-pages';
import { temporalGate, type TemporalGate } from './temporal-gate';

const MAX_LISTED = 200;

export async function statusOf(
  client: Client,
  account: string,
  temporal: TemporalGate = temporalGate(client),
) {
  const handle = client.workflow.getHandle(onboardingWorkflowId(account));
  try {
    const described = await temporal(() => handle.describe());
    const status = await temporal(() => handle.query(statusQuery));
    return { status, runStatus: described.status.name };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export async function listOnboardings(
  client: Client,
  step: Step | undefined,
  temporal: TemporalGate = temporalGate(client),
): Promise<OnboardingRow[]> {
  return temporal(() => listed(client, step), 15_000);
}

async function listed(client: Client, step: Step | undefined): Promise<OnboardingRow[]> {
  const query = `WorkflowType = '${ONBOARDING_WORKFLOW_TYPE}'${step ? ` AND ${ONBOARDING_STEP_SEARCH_ATTRIBUTE} = '${step}'` : ''}`;
  const rows: OnboardingRow[] = [];
  const pending: Promise<void>[] = [];
  const offboarded = await offboardedAccounts(client);
  const seen = new Set<string>();
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    // An account onboarded again after an offboarding has two runs: the newest one is listed.
    if (seen.has(wf.workflowId)) continue;
    seen.add(wf.workflowId);
    const account = wf.workflowId.replace(/^dynamics-onboarding-/, '');
    const attr = wf.searchAttributes?.[ONBOARDING_STEP_SEARCH_ATTRIBUTE] as string[] | undefined;
    const row: OnboardingRow = {
      account,
      step: (attr?.[0] as Step | undefined) ?? 'starting',
      runStatus: offboardedSince(wf.startTime, offboarded.get(account)) ? 'OFFBOARDED' : wf.status.name,
      startTime: wf.startTime,
      waitingReason: null,
      lastError: null,
    };
    rows.push(row);
    // Only moving onboardings are asked for their status (a query on a closed one replays it).
    if (wf.status.name === 'RUNNING')
      pending.push(
        client
          .withDeadline(Date.now() + 5000, () =>
            client.workflow.getHandle(wf.workflowId, wf.runId).query(statusQuery),
          )
          .then((s) => {
            row.waitingReason = s.waitingFor
              ? `${s.waitingFor}${s.waitDeadline ? ` (until ${s.waitDeadline.slice(0, 10)})` : ''}`
              : null;
            row.lastError = s.lastError
              ? `${s.lastError.code ? `AADSTS${s.lastError.code} ` : ''}${s.lastError.name}`
              : null;
          })
          .catch(() => {
            row.waitingReason = 'status unavailable (is a worker running?)';
          }),
      );
    if (rows.length >= MAX_LISTED) break;
  }
  await Promise.all(pending);
  return rows;
}

/** When each account was last offboarded (completed offboardings, from visibility). */
async function offboardedAccounts(client: Client): Promise<Map<string, Date>> {
  const at = new Map<string, Date>();
  const query = `WorkflowType = '${OFFBOARDING_WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'`;
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    const account = wf.workflowId.replace(/^dynamics-offboarding-/, '');
    const known = at.get(account);
    if (wf.closeTime && (!known || wf.closeTime > known)) at.set(account, wf.closeTime);
  }
  return at;
}
