// The Temporal dev server as a child process on a free port (never 7233), in memory unless a
// SQLite file is given. Its pid is kept so the report can show the server's CPU beside the worker's.
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { temporalCliPath } from '../../src/embedded/binaries';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from '../../src/shared/names';
import { adopt } from './children';
import { freePort } from './free-port';

export interface DevServer {
  address: string;
  pid: number;
  /** Prometheus metrics of the server (requests by operation). */
  metricsUrl: string;
  client: Client;
  stop(): Promise<void>;
}

export async function startDevServer(dataConverter: DataConverter, dbFilename?: string): Promise<DevServer> {
  const port = await freePort();
  const metricsPort = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--metrics-port', String(metricsPort));
  args.push('--search-attribute', `${ONBOARDING_STEP_SEARCH_ATTRIBUTE}=Keyword`, '--log-level', 'error');
  if (dbFilename) args.push('--db-filename', dbFilename);
  const child = adopt(spawn(temporalCliPath(), args, { stdio: ['ignore', 'ignore', 'inherit'] }));
  const until = Date.now() + 60_000;
  let connection: Connection | undefined;
  while (!connection) {
    try {
      connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
      await connection.workflowService.getSystemInfo({});
    } catch (err) {
      connection = undefined;
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`dev server did not start: ${err}`, { cause: err });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const client = new Client({ connection, namespace: 'default', dataConverter });
  return {
    address,
    pid: child.pid!,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    client,
    async stop() {
      await connection.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
