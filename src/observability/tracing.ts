// OpenTelemetry tracing through client, workflow and activities with the SDK's own interceptors
// (@temporalio/interceptors-opentelemetry). The exporter is chosen by configuration: OTLP over
// HTTP (endpoint and headers from the standard OTEL_EXPORTER_OTLP_* variables), the console, or a
// given one (tests pass an in-memory exporter).
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { ObservabilityConfig } from './config';

export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/** Registers a global tracer provider when traces are on (or an exporter is given); else undefined. */
export function startTracing(
  config: Pick<ObservabilityConfig, 'tracesExporter' | 'OTEL_SERVICE_NAME'>,
  exporter?: SpanExporter,
): Tracing | undefined {
  if (!exporter && config.tracesExporter === 'none') return undefined;
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME });
  const spanProcessor = exporter
    ? new SimpleSpanProcessor(exporter)
    : config.tracesExporter === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register(); // also the AsyncLocalStorage context manager, so spans nest across awaits
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}

/** Client interceptors: a span per client call, its context passed on in the headers. */
export const tracingClientInterceptors = () => ({ workflow: [new OpenTelemetryWorkflowClientInterceptor()] });

export const tracingActivityInterceptors: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/**
 * Workflow spans are made in the sandbox by the interceptors' own OpenTelemetry 1.x, whose spans
 * name their parent `parentSpanId` and their scope `instrumentationLibrary`; this SDK (2.x) reads
 * `parentSpanContext` and `instrumentationScope`. Without this, workflow spans lose their parent.
 */
function acceptingV1Spans(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: () => undefined,
    forceFlush: () => processor.forceFlush(),
    shutdown: () => processor.shutdown(),
    onEnd(span) {
      const v1 = span as ReadableSpan & {
        parentSpanId?: string;
        instrumentationLibrary?: ReadableSpan['instrumentationScope'];
      };
      const context = v1.spanContext();
      processor.onEnd({
        ...v1,
        spanContext: () => context,
        parentSpanContext:
          v1.parentSpanContext ??
          (v1.parentSpanId
            ? {
                traceId: context.traceId,
                spanId: v1.parentSpanId,
                traceFlags: context.traceFlags,
                isRemote: true,
              }
            : undefined),
        instrumentationScope: v1.instrumentationScope ??
          v1.instrumentationLibrary ?? { name: 'temporal-workflow' },
      });
    },
  };
}

/**
 * The sink the workflow interceptors export their spans through. The interceptors are always in
 * the workflow bundle, so the sink is always there too; with traces off its spans go nowhere.
 */
export function workflowSpanSinks(tracing: Tracing | undefined): NonNullable<WorkerOptions['sinks']> {
  const resource = tracing?.resource ?? resourceFromAttributes({});
  const processor = tracing ? acceptingV1Spans(tracing.spanProcessor) : new NoopSpanProcessor();
  // The interceptors package pins its own copy of the OTel SDK: same shapes, distinct types.
  return { exporter: makeWorkflowExporter(processor as never, resource as never) };
}
