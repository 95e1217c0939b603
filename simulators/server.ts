// One HTTP server hosting all simulated external services under path prefixes, plus /_sim.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import { SimContext, type Service } from './context.js';
import { controlRouter } from './control.js';
import { cyclrApiRouter } from './cyclr-api.js';
import { cyclrAppRouter } from './cyclr-app.js';
import { Faults } from './faults.js';
import { graphRouter } from './graph.js';
import { identityRouter } from './identity.js';
import { Persistence } from './persistence.js';
import { RequestLog } from './reqlog.js';
import { guid } from './util.js';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  stateFile?: string;
  seed?: boolean;
  /**
   * The origin the simulators write into every URL they hand out (discovery, issuer, redirects,
   * form actions, `/_sim/config`) when a front, e.g. a TLS terminator, forwards to them with paths
   * unchanged. Default: the listening address `http://<host>:<port>`.
   */
  publicUrl?: string;
}

export interface RunningSimulators {
  /** The base URL of every URL the simulators hand out: `publicUrl` when given. */
  url: string;
  /** Where the server itself listens, `http://<host>:<port>` (what a front forwards to). */
  listenUrl: string;
  port: number;
  close(): Promise<void>;
}

const PREFIXES: [string, Service][] = [
  ['/login', 'identity'],
  ['/graph', 'graph'],
  ['/cyclr-api', 'cyclr-api'],
  ['/cyclr-app', 'cyclr-app'],
];

/** Tags each request with its service and its path without the prefix. */
function classify(req: Request, res: Response, next: NextFunction): void {
  for (const [prefix, service] of PREFIXES) {
    if (req.path === prefix || req.path.startsWith(`${prefix}/`)) {
      res.locals.service = service;
      res.locals.subPath = req.path.slice(prefix.length) || '/';
      break;
    }
  }
  next();
}

/** Headers every response of a service carries (so injected faults carry them too). */
function serviceHeaders(req: Request, res: Response, next: NextFunction): void {
  const service = res.locals.service as Service | undefined;
  if (service === 'cyclr-api' || service === 'cyclr-app') {
    res.set('X-Content-Type-Options', 'nosniff');
  } else if (service === 'graph') {
    const requestId = guid();
    res.set('x-ms-resource-unit', '1');
    res.set('request-id', requestId);
    res.set('client-request-id', req.get('client-request-id') ?? requestId);
  } else if (service === 'identity') {
    res.set('x-ms-request-id', guid());
    res.set('X-Content-Type-Options', 'nosniff');
  }
  next();
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `publicUrl` as an origin; anything with a path, query or credentials is refused up front. */
function publicOrigin(publicUrl: string): string {
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    throw new Error(
      `publicUrl must be an absolute http(s) URL like https://sims.example:8443 (got '${publicUrl}')`,
    );
  }
  if (
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    u.pathname !== '/' ||
    u.search ||
    u.hash ||
    u.username ||
    u.password
  ) {
    throw new Error(
      `publicUrl must be an http(s) origin with no path, like https://sims.example:8443 (got '${publicUrl}')`,
    );
  }
  return u.origin;
}

export async function startSimulators(opts: SimulatorOptions = {}): Promise<RunningSimulators> {
  const host = opts.host ?? '127.0.0.1';
  const publicUrl = opts.publicUrl === undefined ? undefined : publicOrigin(opts.publicUrl);
  const sim = new SimContext(opts.seed !== false);
  const persistence = opts.stateFile ? new Persistence(opts.stateFile, sim) : undefined;
  persistence?.load();
  if (persistence) sim.setChangeListener(() => persistence.schedule());

  const faults = new Faults();
  const log = new RequestLog();
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');

  app.use(classify);
  app.use(log.middleware());
  app.use(serviceHeaders);
  app.use(faults.middleware(sim));
  app.use('/login', identityRouter(sim));
  app.use('/graph', graphRouter(sim));
  app.use('/cyclr-api', cyclrApiRouter(sim));
  app.use('/cyclr-app', cyclrAppRouter(sim));
  app.use('/_sim', controlRouter(sim, faults, log));
  app.get('/', (_req, res) => {
    res.json({
      simulators: PREFIXES.map(([prefix, service]) => ({ service, url: sim.url(prefix) })),
      control: sim.url('/_sim'),
    });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    console.error('[simulators] unhandled error', err);
    if (!res.headersSent) res.status(500).json({ error: 'internal simulator error' });
  });

  const server = app.listen(opts.port ?? 0, host);
  // Idle keep-alive connections live 120 s, as behind Azure's and most cloud front doors, not
  // Node's 5 s: a client reusing a connection the server is just closing gets ECONNRESET.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  sim.listenUrl = `http://${formatHost(host)}:${port}`;
  sim.baseUrl = publicUrl ?? sim.listenUrl;
  persistence?.schedule();

  let closed = false;
  return {
    url: sim.baseUrl,
    listenUrl: sim.listenUrl,
    port,
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
      persistence?.flush();
    },
  };
}
