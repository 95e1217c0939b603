// The schemas the workflows validate input and signals with, built once per workflow thread and
// shared by every run in it. Preloaded (preload.ts), so it is evaluated before any workflow runs;
// otherwise the sandbox evaluates a workflow's modules again for every run and every replay after
// eviction, and building these cost about 0.7 ms of the workflow thread and 49 KiB of heap held
// per cached run.
//
// Held in this module's scope, not exported: the SDK deep-freezes what preloaded modules export,
// and zod writes to a schema on its first use (methods and derived fields it materialises, a
// regex's lastIndex), which a frozen schema refuses. For the same reason no workflow module may
// import src/shared/validation.ts, whose schemas are built at module level. The schemas hold no
// per-run state (what zod writes are caches of what the schema already says), so sharing them
// changes no workflow's behaviour.
import { buildSchemas, type Schemas } from '../shared/schemas';

const schemas: Schemas = buildSchemas();

export const workflowSchemas = (): Schemas => schemas;
