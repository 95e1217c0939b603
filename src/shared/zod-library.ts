// Loads the zod library as workflow code imports it (its ES module build), so a workflow bundle can
// preload it once per worker thread (see preloadedWorkflowModules).
import 'zod';
