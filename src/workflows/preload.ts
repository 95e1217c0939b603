// Modules evaluated once per worker thread and shared, frozen, by every workflow run (the SDK's
// `preloadModules`), instead of once per run: the workflows' schemas (schemas.ts), and with them
// zod's mini build, which holds no per-run state. Required by the bundle's entrypoint for its side
// effect; the export only keeps the import from being dropped.
import { workflowSchemas } from './schemas';

export const preloaded = [workflowSchemas];
