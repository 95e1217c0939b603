// Temporal: the cluster answers, the namespace exists, the OnboardingStep search attribute is
// registered (as a Keyword), and a worker polls the task queue.
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE, TASK_QUEUE } from '../shared/names';
import type { DoctorDeps, DoctorState } from './context';
import { failed, messageOf, passed, skipped, type DoctorCheck } from './report';

const GROUP = 'Temporal';
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
/**
 * A polling worker renews its poll at least about once a minute (the server holds a poll up to
 * 60 s): a poller not seen for longer has gone.
 */
const POLLER_FRESH_MS = 90_000;

const { TaskQueueType, TaskQueueKind, IndexedValueType, WorkerStatus } = temporal.api.enums.v1;

const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null =>
  t?.seconds === undefined || t.seconds === null ? null : Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;

export async function temporalChecks(deps: DoctorDeps, state: DoctorState): Promise<DoctorCheck[]> {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const target = deps.temporalTarget ? ` (${deps.temporalTarget})` : '';
  const checks: DoctorCheck[] = [];
  const names = [
    'cluster answers',
    'namespace exists',
    `${ONBOARDING_STEP_SEARCH_ATTRIBUTE} search attribute`,
  ];
  const workerName = `a worker polls ${TASK_QUEUE}`;

  let client: Client;
  let version: string;
  try {
    client = await deps.temporal();
    const info = await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflowService.getSystemInfo({}),
    );
    version = info.serverVersion ? `Temporal server ${info.serverVersion}` : 'Temporal answers';
  } catch (err) {
    checks.push(
      failed(
        GROUP,
        names[0],
        `no answer${target}: ${messageOf(err)}`,
        'start Temporal (npm start runs a local one), or point TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_* / TEMPORAL_PROFILE at your cluster',
      ),
    );
    for (const name of [...names.slice(1), workerName])
      checks.push(skipped(GROUP, name, 'Temporal does not answer'));
    return checks;
  }
  const namespace = client.options.namespace;
  checks.push(passed(GROUP, names[0], `${version}${target}`));

  try {
    await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflowService.describeNamespace({ namespace }),
    );
    checks.push(passed(GROUP, names[1], `namespace "${namespace}"`));
  } catch (err) {
    const missing = isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND;
    checks.push(
      failed(
        GROUP,
        names[1],
        missing
          ? `no namespace "${namespace}"`
          : `namespace "${namespace}" could not be read: ${messageOf(err)}`,
        missing
          ? `create it (temporal operator namespace create --namespace ${namespace}) or set TEMPORAL_NAMESPACE to the right one`
          : 'check the client may read the namespace (API key or certificate permissions)',
      ),
    );
    for (const name of [names[2], workerName])
      checks.push(skipped(GROUP, name, 'the namespace is not usable'));
    return checks;
  }
  state.client = client;
  state.namespace = namespace;

  checks.push(await searchAttributeCheck(client, namespace, timeoutMs));
  checks.push(await workerCheck(client, namespace, timeoutMs, state));
  return checks;
}

async function searchAttributeCheck(
  client: Client,
  namespace: string,
  timeoutMs: number,
): Promise<DoctorCheck> {
  const name = `${ONBOARDING_STEP_SEARCH_ATTRIBUTE} search attribute`;
  const fix = `register it once per namespace: temporal operator search-attribute create --namespace ${namespace} --name ${ONBOARDING_STEP_SEARCH_ATTRIBUTE} --type Keyword`;
  try {
    const listed = await client.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.operatorService.listSearchAttributes({ namespace }),
    );
    const type = listed.customAttributes?.[ONBOARDING_STEP_SEARCH_ATTRIBUTE];
    if (type === undefined || type === null)
      return failed('Temporal', name, `not registered in namespace "${namespace}"`, fix);
    if (type !== IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD)
      return failed(
        'Temporal',
        name,
        `registered as ${IndexedValueType[type] ?? type}, not Keyword`,
        `it must be a Keyword: remove it and ${fix}`,
      );
    return passed('Temporal', name, `registered (Keyword) in namespace "${namespace}"`);
  } catch {
    // Some clusters (Temporal Cloud keys) may not list search attributes: a query naming it says
    // whether visibility knows it.
  }
  try {
    await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflowService.countWorkflowExecutions({
        namespace,
        query: `${ONBOARDING_STEP_SEARCH_ATTRIBUTE} = 'verified'`,
      }),
    );
    return passed('Temporal', name, `known to visibility in namespace "${namespace}"`);
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === GRPC_INVALID_ARGUMENT)
      return failed('Temporal', name, `not registered in namespace "${namespace}" (${messageOf(err)})`, fix);
    return failed('Temporal', name, `could not be checked: ${messageOf(err)}`, fix);
  }
}

/**
 * Pollers of the task queue seen within the last 90 s, minus workers that reported their own
 * shutdown after their last poll (the server lists a poller for minutes after it has gone).
 */
async function workerCheck(
  client: Client,
  namespace: string,
  timeoutMs: number,
  state: DoctorState,
): Promise<DoctorCheck> {
  const name = `a worker polls ${TASK_QUEUE}`;
  const fix = `start a worker on the same Temporal namespace: npm run worker (or npm start); it polls task queue ${TASK_QUEUE}`;
  try {
    const pollers = new Map<string, number>();
    for (const taskQueueType of [
      TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    ]) {
      const described = await client.withDeadline(Date.now() + timeoutMs, () =>
        client.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: TASK_QUEUE, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        }),
      );
      for (const p of described.pollers ?? []) {
        const at = tsMs(p.lastAccessTime) ?? 0;
        const identity = p.identity ?? '';
        pollers.set(identity, Math.max(at, pollers.get(identity) ?? 0));
      }
    }
    const stoppedAt = await shutdowns(client, namespace, timeoutMs);
    const now = Date.now();
    const live = [...pollers].filter(
      ([identity, at]) => now - at < POLLER_FRESH_MS && !((stoppedAt.get(identity) ?? -1) >= at),
    );
    if (live.length) {
      state.workerPolls = true;
      return passed(
        'Temporal',
        name,
        `${live.length} worker${live.length === 1 ? '' : 's'} polling (${live.map(([id]) => id).join(', ')})`,
      );
    }
    return failed(
      'Temporal',
      name,
      pollers.size
        ? `no worker has polled ${TASK_QUEUE} lately (the last ones stopped)`
        : `no worker has polled ${TASK_QUEUE}`,
      fix,
    );
  } catch (err) {
    return failed('Temporal', name, `could not describe task queue ${TASK_QUEUE}: ${messageOf(err)}`, fix);
  }
}

/** When each worker identity last reported shutting down (worker heartbeats; empty if unsupported). */
async function shutdowns(client: Client, namespace: string, timeoutMs: number): Promise<Map<string, number>> {
  const stopped = new Map<string, number>();
  const running = new Set<string>();
  try {
    const listed = await client.withDeadline(Date.now() + timeoutMs, () =>
      client.workflowService.listWorkers({ namespace, pageSize: 500, query: `TaskQueue = '${TASK_QUEUE}'` }),
    );
    for (const info of listed.workersInfo ?? []) {
      const hb = info.workerHeartbeat;
      if (!hb?.workerIdentity) continue;
      if (hb.status === WorkerStatus.WORKER_STATUS_RUNNING) running.add(hb.workerIdentity);
      else if (
        hb.status === WorkerStatus.WORKER_STATUS_SHUTTING_DOWN ||
        hb.status === WorkerStatus.WORKER_STATUS_SHUTDOWN
      ) {
        const at = tsMs(hb.heartbeatTime) ?? Date.now();
        stopped.set(hb.workerIdentity, Math.max(at, stopped.get(hb.workerIdentity) ?? 0));
      }
    }
  } catch {
    // A server without worker heartbeats: the pollers' last access alone decides.
  }
  for (const identity of running) stopped.delete(identity);
  return stopped;
}
