// Every Temporal call the ingress makes for a request, with a deadline, so a browser or a sender
// gets an answer at once when Temporal cannot be reached instead of waiting out the client's
// retries (about 20 s): refused at once while the connection is down, and for a few seconds after
// a call found it unreachable.
import { isGrpcDeadlineError, isGrpcServiceError, type Client } from '@temporalio/client';

/** Temporal did not answer: the request may be tried again later (503). */
export class TemporalUnavailable extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Temporal is unreachable or did not answer in time');
  }
}

const GRPC_UNAVAILABLE = 14;
/** grpc-js ConnectivityState.TRANSIENT_FAILURE: the channel could not connect. */
const TRANSIENT_FAILURE = 3;

export interface TemporalGate {
  <T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T>;
}

export function temporalGate(client: Client, timeoutMs = 5_000, coolOffMs = 5_000): TemporalGate {
  let downUntil = 0;
  const channelDown = () => {
    // The connection's gRPC channel (not part of the SDK's typed API): a channel in transient
    // failure answers nothing until it reconnects. Without it, the deadline still bounds the wait.
    const grpc = (client.connection as unknown as { client?: { getChannel?: () => unknown } }).client;
    const channel = grpc?.getChannel?.() as
      { getConnectivityState?: (connect: boolean) => number } | undefined;
    return channel?.getConnectivityState?.(true) === TRANSIENT_FAILURE;
  };
  return async <T>(fn: () => Promise<T>, callTimeoutMs = timeoutMs): Promise<T> => {
    const now = Date.now();
    if (now < downUntil) throw new TemporalUnavailable(Math.ceil((downUntil - now) / 1000));
    if (channelDown()) {
      downUntil = now + coolOffMs;
      throw new TemporalUnavailable(Math.ceil(coolOffMs / 1000));
    }
    try {
      return await client.withDeadline(now + callTimeoutMs, fn);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const unreachable = [err, cause].some((e) => isGrpcServiceError(e) && e.code === GRPC_UNAVAILABLE);
      if (unreachable) downUntil = Date.now() + coolOffMs;
      if (unreachable || isGrpcDeadlineError(err) || isGrpcDeadlineError(cause))
        throw new TemporalUnavailable(Math.ceil(coolOffMs / 1000));
      throw err;
    }
  };
}
