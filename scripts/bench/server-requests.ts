// Requests the Temporal server answered, and those it made of its persistence, by operation, from
// its Prometheus endpoint: what each onboarding costs the server in calls, a figure that does not
// depend on the machine.
export type OperationCounts = Record<string, number>;

/**
 * `service_requests` (frontend: what clients and workers asked) and `persistence_requests` (what
 * the server then asked of its database: execution updates, task and visibility writes), by
 * operation.
 */
export async function serverRequests(
  metricsUrl: string,
): Promise<{ frontend: OperationCounts; persistence: OperationCounts }> {
  const text = await (await fetch(metricsUrl)).text();
  const frontend: OperationCounts = {};
  const persistence: OperationCounts = {};
  for (const line of text.split('\n')) {
    let counts: OperationCounts | undefined;
    if (line.startsWith('persistence_requests{')) counts = persistence;
    else if (line.startsWith('service_requests{') && line.includes('service_name="frontend"'))
      counts = frontend;
    const operation = counts && /operation="([^"]+)"/.exec(line)?.[1];
    if (!counts || !operation) continue;
    counts[operation] = (counts[operation] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return { frontend, persistence };
}

export function countsSince(before: OperationCounts, after: OperationCounts): OperationCounts {
  return Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op, n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
