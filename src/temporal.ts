// Connecting to Temporal through the standard conventions (@temporalio/envconfig): TEMPORAL_ADDRESS,
// TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the config file.
// With nothing set: the embedded dev server on 127.0.0.1:7233, namespace "default".
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { dataConverter as codecDataConverter } from './codec/data-converter';
import { loadConfig } from './config';

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

function unreachable(target: TemporalTarget, err: unknown): Error {
  return new Error(
    `Cannot reach Temporal at ${target.connectionOptions.address} (namespace ${target.namespace}${target.connectionOptions.tls ? ', TLS' : ''}): ${(err as Error).message}. ` +
      'Start it (npm start runs a local one) or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TEMPORAL_API_KEY / TEMPORAL_TLS_* (see README).',
  );
}

/** Every client encrypts payloads with the codec (keys from configuration, see src/codec). */
export async function connectClient(
  target = temporalTarget(),
  dataConverter: DataConverter = codecDataConverter(loadConfig()),
): Promise<Client> {
  try {
    const connection = await Connection.connect({
      ...target.connectionOptions,
      connectTimeout: '10 seconds',
    });
    return new Client({ connection, namespace: target.namespace, dataConverter });
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
