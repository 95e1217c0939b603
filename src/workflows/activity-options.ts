// Retry policies for the activities: transient failures (5xx, 429 with Retry-After honoured via
// nextRetryDelay, timeouts, Entra replication delay) retry with backoff; the failure types that
// mean a bug or bad configuration never do.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_FAILURES } from '../shared/failures';

const retry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 12,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

export const activities = proxyActivities<Activities>({
  // Each activity makes a few HTTP calls (HTTP_TIMEOUT_MS each) and heartbeats while it waits on
  // them, so a crashed worker's attempt is retried elsewhere after the heartbeat timeout.
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry,
});

/**
 * Asking the app's owner for credentials waits until it has them (registering the app may take
 * minutes of Graph retries); the activity heartbeats meanwhile.
 */
export const ownerActivities = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry,
});

/** Asking Microsoft about the customer's tenant: a few tries, then the onboarding goes on without it. */
export const probeActivities = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds',
  retry: { ...retry, maximumAttempts: 4 },
});

/** Links need configuration and a key, which the sandbox must not touch: computed in the worker. */
export const localActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/**
 * Notifications to people, as local activities: one webhook POST needs no task of its own.
 * A few tries, bounded in all, so a dead webhook does not hold the workflow task for long.
 */
export const notifications = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  },
});
