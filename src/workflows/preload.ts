// Modules evaluated once per worker thread and shared, frozen, by every workflow run (the SDK's
// `preloadModules`), instead of once per run: zod's mini build (schemas and checks) holds no
// per-run state, and the workflows' schemas are built here once (schemas.ts). Required by the
// bundle's entrypoint for its side effect; the export only keeps the imports from being dropped,
// since zod declares itself free of side effects.
import { object, string } from 'zod/mini';
import { workflowSchemas } from './schemas';

export const preloaded = [object, string, workflowSchemas];
