// The shape of one workflow's history: how many events, workflow tasks, activities, timers and
// signals it took, and its size (what the server stores and sends on every replay). Shows whether the baseline really mirrors the product, and where tasks go.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const T = temporal.api.enums.v1.EventType;

export async function historyShape(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (type: temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === type).length;
  return [
    `${events.length} events`,
    `${count(T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)} workflow tasks`,
    `${count(T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)} activities`,
    `${count(T.EVENT_TYPE_MARKER_RECORDED)} local activities`,
    `${count(T.EVENT_TYPE_TIMER_STARTED)} timers`,
    `${count(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)} signals`,
    `${count(T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)} search-attribute upserts`,
    `${(temporal.api.history.v1.History.encode(history).finish().length / 1024).toFixed(1)} KiB`,
  ].join(', ');
}
