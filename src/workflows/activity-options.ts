// Retry policies for the activities: transient failures (5xx, 429 with Retry-After honoured via
// nextRetryDelay, timeouts, Entra replication delay) retry with backoff; the failure types that
// mean a bug or bad configuration never do.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../shared/failures';

export const activities = proxyActivities<Activities>({
  // Each activity makes a few HTTP calls (HTTP_TIMEOUT_MS each) and heartbeats while it waits on
  // them, so a crashed worker's attempt is retried elsewhere after the heartbeat timeout.
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 12,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  },
});

export const localActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

const notificationRetry = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

/** Notifications to people: a few tries, then the workflow notes the failure and carries on. */
export const notifications = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: notificationRetry,
});

/**
 * The same, as local activities (patch 'notify-local'): one webhook POST needs no task of its own,
 * so a human wait starts in the workflow task that announces it. Retries stay in the worker
 * (backoffs under a minute), bounded in all so a dead webhook does not hold the task for long.
 */
export const localNotifications = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: notificationRetry,
});
