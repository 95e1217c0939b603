// What every service client does around its HTTP calls (http-client.ts): heartbeats and
// cancellation while waiting, and the mapping from HTTP outcomes to the ApplicationFailure types
// the workflows act on. Never echoes request bodies: they carry secrets.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { recordExternalCall } from '../observability/external-calls';
import { redactText, redactValue } from '../secrets/redact';
import { FailureTypes } from '../shared/failures';
import { TransportError, type HttpResponse } from './http-client';

export type ServiceName = 'identity' | 'graph' | 'cyclr' | 'webhook';

/** Retry-After in seconds or as an HTTP date, as milliseconds (capped at 10 minutes). */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || !header.trim()) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 600_000) : undefined;
}

export function transientFailure(
  message: string,
  retryAfter?: number,
  details?: unknown,
): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureTypes.transient,
    message,
    nextRetryDelay: retryAfter,
    details: details === undefined ? undefined : [details],
  });
}

export function nonRetryable(type: string, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: true,
    details: details === undefined ? undefined : [details],
  });
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // not in an activity (the HTTP ingress)
  }
}

const HEARTBEAT_EVERY_MS = 1000;
const lastHeartbeat = new WeakMap<Context, number>();

/**
 * Heartbeats at most once a second per activity, and not at its start: an activity whose requests
 * answer quickly never heartbeats (each heartbeat is a call to the server), while one that waits,
 * or makes many requests in a row, does well within its heartbeat timeout.
 */
function heartbeatIfDue(ctx: Context): void {
  const now = Date.now();
  const last = lastHeartbeat.get(ctx);
  if (last === undefined) lastHeartbeat.set(ctx, now);
  else if (now - last >= HEARTBEAT_EVERY_MS) {
    lastHeartbeat.set(ctx, now);
    ctx.heartbeat();
  }
}

/**
 * Runs one request; transport failures (timeout, reset, refused) become transient failures.
 * Inside an activity it heartbeats while waiting, so a worker that dies mid-request is noticed
 * within the heartbeat timeout rather than the whole start-to-close timeout.
 */
export async function send<T = unknown>(
  service: ServiceName,
  what: string,
  call: () => Promise<HttpResponse<T>>,
): Promise<HttpResponse<T>> {
  const ctx = activityContext();
  if (ctx) heartbeatIfDue(ctx);
  const beat = ctx ? setInterval(() => heartbeatIfDue(ctx), HEARTBEAT_EVERY_MS) : undefined;
  try {
    const request = call();
    request.catch(() => undefined); // if cancellation wins the race below, its failure is moot
    // A cancelled activity (workflow cancelled, or this worker draining past its shutdown grace)
    // stops waiting, so the attempt is handed back and retried, idempotently, elsewhere.
    const res = await (ctx ? Promise.race([request, ctx.cancelled]) : request);
    recordExternalCall(service, res.status);
    return res;
  } catch (err) {
    if (err instanceof TransportError) {
      recordExternalCall(service, 'error');
      throw transientFailure(`${service}: ${what} failed before an answer (${err.code})`, undefined, {
        transport: true,
      });
    }
    throw err;
  } finally {
    clearInterval(beat);
  }
}

/** No answer came (dropped, timed out, refused): a write may or may not have been applied. */
export function isTransportFailure(err: unknown): boolean {
  return (
    err instanceof ApplicationFailure &&
    (err.details?.[0] as { transport?: boolean } | undefined)?.transport === true
  );
}

/**
 * A short, secret-free summary of an error body for messages. Redacted: an unexpected answer
 * (say a 201 where 200 was expected) may carry a secret or token.
 */
export function summariseBody(data: unknown): string {
  return redactText(summary(data));
}

function summary(data: unknown): string {
  if (data === undefined || data === null || data === '') return '';
  if (typeof data === 'string') return data.slice(0, 300);
  const obj = data as Record<string, unknown>;
  const graph = obj.error as { code?: string; message?: string } | undefined;
  if (graph && typeof graph === 'object') return `${graph.code ?? ''}: ${graph.message ?? ''}`.slice(0, 300);
  if (typeof obj.Message === 'string') return obj.Message.slice(0, 300);
  if (typeof obj.error_description === 'string') return obj.error_description.split(/\r?\n/)[0].slice(0, 300);
  if (typeof obj.error === 'string') return obj.error;
  return JSON.stringify(redactValue(data)).slice(0, 300);
}

/** The default reading of an unexpected status: retry what is transient, fail fast on the rest. */
export function failureFor(service: ServiceName, what: string, res: HttpResponse): ApplicationFailure {
  const summary = summariseBody(res.data);
  const text = `${service}: ${what} answered HTTP ${res.status}${summary ? ` (${summary})` : ''}`;
  if (res.status === 429 || res.status === 408 || res.status >= 500) {
    return transientFailure(text, retryAfterMs(res.headers['retry-after']), { status: res.status });
  }
  if (res.status === 401 || res.status === 403) {
    return nonRetryable(
      FailureTypes.configuration,
      `${text}: check the ${service} credentials and their permissions`,
      { status: res.status },
    );
  }
  return nonRetryable(FailureTypes.rejected, text, { status: res.status });
}
