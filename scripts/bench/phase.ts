// What a driven phase (product or baseline) hands back for the report.
import type { TimelineLike } from './stats';

export interface PhaseOutcome {
  startedAt: number;
  /** When the driver saw the last one close (visibility poll granularity). */
  closedAt: number;
  verified: number;
  failed: number;
  driverRetries: number;
  timelines: TimelineLike[][];
  /** The history of one of them, summarised (history-shape.ts). */
  shape: string;
}
