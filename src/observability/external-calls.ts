// Counts calls to external services by service and HTTP status (or `error` when no answer came),
// through the SDK's metric meter: inside an activity the activity's (tagged with the activity
// type), elsewhere the process meter set at start-up (none: not counted).
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import { Metrics } from './metric-names';

let processMeter: MetricMeter | undefined;

export function setProcessMeter(meter: MetricMeter | undefined): void {
  processMeter = meter;
}

function currentMeter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return processMeter; // not in an activity
  }
}

export function recordExternalCall(service: string, status: number | 'error'): void {
  currentMeter()
    ?.createCounter(Metrics.externalCalls, '1', 'Calls to external services by service and status')
    .add(1, { service, status: String(status) });
}
