// Connecting to Temporal through the standard conventions (@temporalio/envconfig): TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the config file.
// With nothing set: the embedded dev server on 127.0.0.1:7233, namespace "default".
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { dataConverter as codecDataConverter } from './codec/data-converter';
import { loadConfig } from './config';
import { tracingClientInterceptors } from './observability/tracing';

export interface TemporalTarget {
  connectionOptions: ConnectionOptions;
  namespace: string;
}

export function temporalTarget(): TemporalTarget {
  const { connectionOptions, namespace } = loadClientConnectConfig({ profile: process.env.TEMPORAL_PROFILE });
  return {
    connectionOptions: {
      ...connectionOptions,
      address: connectionOptions.address ?? '127.0.0.1:7233',
    } as ConnectionOptions,
    namespace: namespace ?? 'default',
  };
}

/** What was tried, in words an operator can check against their settings (never the key itself). */
export function describeTarget(target: TemporalTarget, env: NodeJS.ProcessEnv = process.env): string {
  const { address, tls, apiKey } = target.connectionOptions;
  const clientCert = typeof tls === 'object' && tls !== null && tls.clientCertPair !== undefined;
  const source = env.TEMPORAL_ADDRESS
    ? 'TEMPORAL_ADDRESS'
    : env.TEMPORAL_PROFILE || env.TEMPORAL_CONFIG_FILE
      ? 'the profile'
      : 'the embedded default';
  return [
    `address ${address} (from ${source})`,
    `namespace ${target.namespace}`,
    tls ? `TLS on${clientCert ? ' with a client certificate' : ''}` : 'TLS off',
    apiKey ? 'API key set' : 'no API key',
    `profile ${env.TEMPORAL_PROFILE || 'default'}${env.TEMPORAL_CONFIG_FILE ? ` from ${env.TEMPORAL_CONFIG_FILE}` : ''}`,
  ].join(', ');
}

function unreachable(target: TemporalTarget, err: unknown): Error {
  return new Error(
    `Cannot reach Temporal with ${describeTarget(target)}: ${(err as Error).message}. ` +
      'Start it (npm start runs a local one) or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_* / TEMPORAL_PROFILE (see docs/operations.md).',
    { cause: err },
  );
}

/**
 * Every client encrypts payloads with the codec (keys from configuration, see src/codec). Given a
 * worker's NativeConnection, the client shares it: its calls then go through the SDK's Rust core
 * instead of a second, JavaScript gRPC connection on the thread that runs the activities.
 */
export async function connectClient(
  target = temporalTarget(),
  dataConverter: DataConverter = codecDataConverter(loadConfig()),
  shared?: NativeConnection,
): Promise<Client> {
  try {
    const connection =
      shared ?? (await Connection.connect({ ...target.connectionOptions, connectTimeout: '10 seconds' }));
    // Tracing interceptors are inert until a process registers a tracer provider (startTracing).
    return new Client({
      connection,
      namespace: target.namespace,
      dataConverter,
      interceptors: tracingClientInterceptors(),
    });
  } catch (err) {
    throw unreachable(target, err);
  }
}

export async function connectWorker(target = temporalTarget()): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(
      target.connectionOptions as Parameters<typeof NativeConnection.connect>[0],
    );
  } catch (err) {
    throw unreachable(target, err);
  }
}
