// The worker process's health endpoints, for an orchestrator's probes:
//   GET /healthz  200 while the worker has not failed or stopped (liveness: restart me if not)
//   GET /readyz   200 when the worker is polling and the Temporal server answers (readiness);
//                 503 while starting, draining after SIGTERM, or when the server is unreachable.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NativeConnection, Worker } from '@temporalio/worker';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export interface HealthTarget {
  worker: () => Worker | undefined;
  connection: NativeConnection;
  namespace: string;
}

async function serverAnswers(target: HealthTarget): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 3000).unref());
  const call = target.connection.workflowService
    .describeNamespace({ namespace: target.namespace })
    .then(() => true as const)
    .catch(() => false as const);
  return Promise.race([call, timeout]);
}

export async function startHealthServer(
  target: HealthTarget,
  host: string,
  port: number,
): Promise<HealthServer> {
  const server: Server = createServer(async (req, res) => {
    const reply = (code: number, body: object) => {
      res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const state = target.worker()?.getState() ?? 'INITIALIZED';
    if (req.method !== 'GET') return reply(405, { error: 'method not allowed' });
    if (req.url === '/healthz') {
      const alive = state !== 'FAILED' && state !== 'STOPPED';
      return reply(alive ? 200 : 503, { status: alive ? 'ok' : 'down', worker: state });
    }
    if (req.url === '/readyz') {
      const polling = state === 'RUNNING';
      const connected = polling && (await serverAnswers(target));
      return reply(polling && connected ? 200 : 503, {
        status: polling && connected ? 'ready' : 'not ready',
        worker: state,
        temporal: connected ? 'reachable' : polling ? 'unreachable' : 'not checked',
      });
    }
    reply(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
