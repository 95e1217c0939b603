// A tiny local HTTP server that receives the product's notification webhooks (NOTIFY_WEBHOOK_URL).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Notification } from '../../src/notifications/notification';

export interface WebhookReceiver {
  url: string;
  received: Notification[];
  /** Notifications for one onboarding, deduplicated by id (the sender may retry). */
  of(workflowId: string): Notification[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Notification[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body) as Notification);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/onboarding`,
    received,
    of(workflowId) {
      const seen = new Set<string>();
      return received.filter((n) => n.workflowId === workflowId && !seen.has(n.id) && seen.add(n.id));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
