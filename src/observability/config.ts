// How the worker process is observed, from the environment: logs, the Prometheus endpoint, traces,
// the health server and the shutdown grace. Everything is off or quiet unless set, except JSON logs.
// The OTEL_* names are OpenTelemetry's own; the OTLP exporter reads its endpoint and headers itself.
import { z } from 'zod';
import { describeIssues } from '../shared/validation';

const port = z.coerce.number().int().min(0).max(65535);

const schema = z.object({
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  /** json: one JSON object a line (production); text: for a person at a terminal. */
  LOG_FORMAT: z.enum(['json', 'text']).default('json'),
  /** The SDK runtime's Prometheus endpoint (`/metrics`); off when unset. */
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** The worker's /healthz and /readyz; off when unset. */
  HEALTH_PORT: port.optional(),
  HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
  /** otlp (OTLP over HTTP), console, or none; otlp by default when an OTLP endpoint is set. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('dynamics-onboarding'),
  /** On SIGTERM, how long in-flight activities may run to completion before they are handed back. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(25_000),
});

export type ObservabilityConfig = z.output<typeof schema> & { tracesExporter: 'otlp' | 'console' | 'none' };

export function loadObservabilityConfig(env: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  const raw = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const result = schema.safeParse(raw);
  if (!result.success) throw new Error(`Invalid configuration: ${describeIssues(result.error)}`);
  const otlpSet = Boolean(
    result.data.OTEL_EXPORTER_OTLP_ENDPOINT || result.data.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  );
  return { ...result.data, tracesExporter: result.data.OTEL_TRACES_EXPORTER ?? (otlpSet ? 'otlp' : 'none') };
}
