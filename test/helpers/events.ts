// Sends onboarding events the way a partner's system would: HMAC-signed raw JSON over HTTP.
import { signEvent } from '../../src/ingress/event-signature';
import { EVENT_SIGNATURE_HEADER, EVENT_TIMESTAMP_HEADER, EVENTS_PATH } from '../../src/shared/events';

export interface SentEvent {
  status: number;
  body: { error?: string; workflowId?: string; runId?: string; ended?: string; issues?: unknown[] };
  headers: Record<string, string>;
}

export interface EventRequest {
  body: string;
  headers: Record<string, string>;
}

export function signedEvent(
  secret: string,
  event: unknown,
  timestamp = Math.floor(Date.now() / 1000),
): EventRequest {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const ts = String(timestamp);
  return {
    body,
    headers: {
      'Content-Type': 'application/json',
      [EVENT_TIMESTAMP_HEADER]: ts,
      [EVENT_SIGNATURE_HEADER]: signEvent(secret, ts, body),
    },
  };
}

export async function postEvent(ingressUrl: string, request: EventRequest): Promise<SentEvent> {
  const res = await fetch(`${ingressUrl}${EVENTS_PATH}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return {
    status: res.status,
    body: (await res.json()) as SentEvent['body'],
    headers: Object.fromEntries(res.headers),
  };
}
