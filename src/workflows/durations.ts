import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';

export function durationMs(duration: Duration): number {
  return msToNumber(duration);
}
