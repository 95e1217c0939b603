// Requests the Temporal server answered, by operation, from its Prometheus endpoint
// (`service_requests`, frontend and history alike): what each onboarding costs the server in calls,
// a figure that does not depend on the machine.
export type OperationCounts = Record<string, number>;

export async function serverRequests(metricsUrl: string): Promise<OperationCounts> {
  const text = await (await fetch(metricsUrl)).text();
  const counts: OperationCounts = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('service_requests{')) continue;
    const operation = /operation="([^"]+)"/.exec(line)?.[1];
    const service = /service_name="([^"]+)"/.exec(line)?.[1];
    if (!operation || service !== 'frontend') continue;
    counts[operation] = (counts[operation] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

export function countsSince(before: OperationCounts, after: OperationCounts): OperationCounts {
  return Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op, n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}
