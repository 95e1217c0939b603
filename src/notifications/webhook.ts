// The notification activity: POSTs one JSON notification to the configured webhook. The
// receiver (chat bridge, ticketing, e-mail relay) deduplicates retries by `id` (also sent as
// Idempotency-Key). Without NOTIFY_WEBHOOK_URL it only logs that it would have notified.
import { log } from '@temporalio/activity';
import { failureFor, send } from '../clients/http';
import { HttpClient } from '../clients/http-client';
import type { Config } from '../config';
import type { Notification } from './notification';

export function notificationActivities(config: Config) {
  const url = config.NOTIFY_WEBHOOK_URL;
  const http: HttpClient | undefined = url ? new HttpClient(url, config.HTTP_TIMEOUT_MS) : undefined;
  return {
    async notify(notification: Notification): Promise<{ delivered: boolean }> {
      if (!http) {
        log.info('Notification not sent: NOTIFY_WEBHOOK_URL is not set', {
          id: notification.id,
          kind: notification.kind,
          workflowId: notification.workflowId,
        });
        return { delivered: false };
      }
      const res = await send('webhook', `notification ${notification.kind}`, () =>
        http.post('', notification, {
          headers: {
            'Content-Type': 'application/json',
            'Idempotency-Key': notification.id,
            ...(config.NOTIFY_WEBHOOK_AUTHORIZATION
              ? { Authorization: config.NOTIFY_WEBHOOK_AUTHORIZATION }
              : {}),
          },
        }),
      );
      if (res.status >= 200 && res.status < 300) return { delivered: true };
      throw failureFor('webhook', `notification ${notification.kind}`, res);
    },
  };
}
