// Modules evaluated once per worker thread and shared, frozen, by every workflow run (the SDK's
// `preloadModules`), instead of once per run: the workflows' schemas (schemas.ts), and with them
// zod's mini build, which holds no per-run state; and the sandbox's stack-trace limit
// (stack-trace-limit.ts), which must be set before the SDK freezes the sandbox's globals. Required
// by the bundle's entrypoint for its side effects; the export only keeps the imports from being
// dropped.
import { workflowSchemas } from './schemas';
import { WORKFLOW_STACK_TRACE_LIMIT } from './stack-trace-limit';

export const preloaded = [workflowSchemas, WORKFLOW_STACK_TRACE_LIMIT];
