// No-op activities for the baseline workflow: the cost of an activity round trip and nothing more.
export const baselineActivities = {
  async noop(_what: string): Promise<void> {},
  async link(what: string): Promise<string> {
    return `https://example.invalid/${what}`;
  },
};

export type BaselineActivities = typeof baselineActivities;
