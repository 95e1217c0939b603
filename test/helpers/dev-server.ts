// A Temporal dev server started as its own process (as an operator would run a cluster), on a
// free port, with the given namespace; and a TLS front for it (the dev server has no TLS flags).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { temporalCliPath } from '../../src/embedded/binaries';
import { ONBOARDING_STEP_SEARCH_ATTRIBUTE } from '../../src/shared/names';
import { freePort } from './harness';

export interface DevServer {
  address: string;
  stop(): Promise<void>;
}

export async function startDevServer(namespace: string): Promise<DevServer> {
  const port = await freePort();
  const child = spawn(
    temporalCliPath(),
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--namespace',
      namespace,
      '--search-attribute',
      `${ONBOARDING_STEP_SEARCH_ATTRIBUTE}=Keyword`,
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  const address = `127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2 seconds' });
      await connection.workflowService.describeNamespace({ namespace });
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > until || child.exitCode !== null)
        throw new Error(`dev server did not start: ${err}`, { cause: err });
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    address,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Certificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate (openssl). */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'onboarding-tls-'));
  const path = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test-ca',
    ...['-keyout', path('ca.key'), '-out', path('ca.pem')],
  );
  writeFileSync(path('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  writeFileSync(path('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [
    ['server', 'server.ext'],
    ['client', 'client.ext'],
  ]) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name === 'server' ? 'localhost' : 'onboarding-worker'}`,
      ...['-keyout', path(`${name}.key`), '-out', path(`${name}.csr`)],
    );
    ssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path('ca.pem'),
      '-CAkey',
      path('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      path(ext),
      '-out',
      path(`${name}.pem`),
    );
  }
  return {
    dir,
    ca: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
  };
}

/** Terminates mutual TLS (client certificate required) and passes the gRPC bytes to `upstream`. */
export async function startTlsFront(upstream: string, certs: Certificates): Promise<DevServer> {
  const [host, port] = upstream.split(':');
  const sockets = new Set<Socket | TLSSocket>();
  const server = createTlsServer(
    {
      key: readFileSync(certs.serverKey),
      cert: readFileSync(certs.serverCert),
      ca: readFileSync(certs.ca),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const backend = connect(Number(port), host);
      for (const s of [socket, backend]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          socket.destroy();
          backend.destroy();
        });
      }
      socket.pipe(backend).pipe(socket);
    },
  );
  server.on('tlsClientError', () => undefined); // a client without a certificate is refused; fine
  const tlsPort = await freePort();
  await new Promise<void>((resolve) => server.listen(tlsPort, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${tlsPort}`,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
