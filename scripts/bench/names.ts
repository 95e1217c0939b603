// Names the bench driver and its baseline worker agree on.
export const BASELINE_TASK_QUEUE = 'bench-baseline';
export const BASELINE_WORKFLOW_TYPE = 'benchBaseline';
