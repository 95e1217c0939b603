// Workflow interceptor modules: tracing and the product's metrics and log attributes. They run in
// the workflow sandbox, so they are bundled with the workflows (every bundle must list them).
export const workflowInterceptorModules = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  require.resolve('./workflow-interceptors'),
];
