// The SDK runtime's metrics: a Prometheus endpoint served by the runtime itself, on which the
// SDK's own series and the product's (emitted through the workflow and activity metricMeter) land.
import type { RuntimeOptions } from '@temporalio/worker';
import type { ObservabilityConfig } from './config';
import { HUMAN_WAIT_BUCKETS, Metrics } from './metric-names';

type TelemetryOptions = NonNullable<RuntimeOptions['telemetryOptions']>;

export function prometheusMetrics(
  config: Pick<ObservabilityConfig, 'METRICS_HOST' | 'METRICS_PORT'>,
): TelemetryOptions['metrics'] {
  if (config.METRICS_PORT === undefined) return undefined;
  return {
    prometheus: {
      bindAddress: `${config.METRICS_HOST}:${config.METRICS_PORT}`,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: {
        [Metrics.humanWait]: HUMAN_WAIT_BUCKETS,
        [Metrics.stepDuration]: [1, 10, ...HUMAN_WAIT_BUCKETS], // strictly increasing, or the series is dropped
      },
    },
  };
}
