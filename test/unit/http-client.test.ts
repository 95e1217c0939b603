// The service clients' HTTP layer (axios) against a real local server: how URLs are joined, how
// bodies are sent and read, that every status is an answer, that connections are kept alive, and
// that a failed exchange says what failed without any request detail.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpClient, TransportError } from '../../src/clients/http-client';
import { freePort } from '../../scripts/bench/free-port';

const SECRET = 'client-secret-value-do-not-leak';

describe('HttpClient', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; method: string; body: string; headers: IncomingMessage['headers'] }[] = [];
  const sockets = new Set<Socket>();

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url!, method: req.method!, body, headers: req.headers });
        if (req.url!.startsWith('/slow')) return; // never answers
        if (req.url!.startsWith('/trickle')) {
          // Headers at once, then the body a byte at a time, never ending within the timeout.
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const timer = setInterval(() => res.write(' '), 50);
          res.on('close', () => clearInterval(timer));
          return;
        }
        if (req.url!.startsWith('/text')) return res.end('plain words');
        if (req.url!.startsWith('/empty')) return res.writeHead(204).end();
        if (req.url!.startsWith('/moved')) {
          return res.writeHead(302, { Location: `${base}/elsewhere` }).end();
        }
        if (req.url!.startsWith('/busy')) {
          res.writeHead(503, { 'Retry-After': '7', 'Content-Type': 'application/json' });
          return res.end('{"error":{"code":"busy"}}');
        }
        if (req.url!.startsWith('/cookies')) {
          res.setHeader('Set-Cookie', ['a=1', 'b=2']);
          return res.end();
        }
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ ok: true, url: req.url }));
      });
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('joins paths to the base URL, and keeps a webhook URL exactly as configured', async () => {
    await new HttpClient(`${base}/v1.0/`, 2000).request({ url: '/applications' });
    await new HttpClient(`${base}/v1.0`, 2000).request({ url: "/applications(appId='x')" });
    await new HttpClient(`${base}/hooks/abc/?key=1`, 2000).post('', { kind: 'x' });
    assert.deepEqual(
      seen.slice(-3).map((s) => s.url),
      ['/v1.0/applications', "/v1.0/applications(appId='x')", '/hooks/abc/?key=1'],
    );
  });

  it('never takes a path for an absolute URL: it stays under the base URL', async () => {
    await new HttpClient(`${base}/api`, 2000).request({ url: 'http://elsewhere.example/x' });
    assert.ok(seen.at(-1)!.url.startsWith('/api/'), seen.at(-1)!.url);
  });

  it('sends objects as JSON and strings as they are, with the given method and headers', async () => {
    const http = new HttpClient(base, 2000);
    const json = await http.post('/a', { n: 1 }, { headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual(json.data, { ok: true, url: '/a' });
    assert.equal(seen.at(-1)!.body, '{"n":1}');
    assert.equal(seen.at(-1)!.headers['content-type'], 'application/json');
    await http.post('/b', 'grant_type=x', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(seen.at(-1)!.body, 'grant_type=x');
    assert.equal(seen.at(-1)!.headers['content-type'], 'application/x-www-form-urlencoded');
    await http.request({ method: 'DELETE', url: '/c', headers: { 'X-Cyclr-Account': 'acme' } });
    assert.equal(seen.at(-1)!.method, 'DELETE');
    assert.equal(seen.at(-1)!.headers['x-cyclr-account'], 'acme');
    await http.request({ method: 'PUT', url: '/d' });
    assert.equal(seen.at(-1)!.method, 'PUT');
    assert.equal(seen.at(-1)!.body, '');
  });

  it('parses JSON answers only; text stays text, an empty body is ""', async () => {
    const http = new HttpClient(base, 2000);
    assert.equal((await http.request({ url: '/text' })).data, 'plain words');
    const empty = await http.request({ url: '/empty' });
    assert.equal(empty.status, 204);
    assert.equal(empty.data, '');
  });

  it('returns every status as an answer, with lower-case headers; a redirect is not followed', async () => {
    const http = new HttpClient(base, 2000);
    const busy = await http.request({ url: '/busy' });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers['retry-after'], '7');
    assert.deepEqual(busy.data, { error: { code: 'busy' } });
    const moved = await http.request({ url: '/moved' });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers.location, `${base}/elsewhere`);
    assert.ok(!seen.some((s) => s.url === '/elsewhere'));
    const cookies = await http.request({ url: '/cookies' });
    assert.deepEqual(cookies.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('keeps connections alive between requests', async () => {
    const http = new HttpClient(base, 2000);
    await http.request({ url: '/warm' });
    const before = sockets.size;
    for (let i = 0; i < 5; i++) await http.request({ url: `/again-${i}` });
    assert.equal(sockets.size, before, 'no new connection for requests made one after another');
  });

  it('fails a silent server with a timeout, naming only what failed', async () => {
    const err = await new HttpClient(base, 300)
      .post('/slow', { secret: SECRET }, { headers: { Authorization: `Bearer ${SECRET}` } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TransportError, String(err));
    assert.equal(err.code, 'timeout');
    assert.equal(err.message, 'timeout');
    assert.deepEqual(Object.keys(err).sort(), ['code', 'name']);
    assert.equal((err as { cause?: unknown }).cause, undefined);
    assert.ok(!JSON.stringify({ message: err.message, stack: err.stack }).includes(SECRET));
  });

  it('fails a body that never ends with a timeout too: it bounds the whole exchange', async () => {
    const err = await new HttpClient(base, 300)
      .request({ url: '/trickle', headers: { Authorization: `Bearer ${SECRET}` } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TransportError, String(err));
    assert.equal(err.code, 'timeout');
    assert.ok(!String(err.stack).includes(SECRET));
  });

  it('fails a refused connection as a transport error with its code', async () => {
    const port = await freePort();
    const err = await new HttpClient(`http://127.0.0.1:${port}`, 2000)
      .request({ url: '/x', headers: { Authorization: `Bearer ${SECRET}` }, data: { secret: SECRET } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TransportError, String(err));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.ok(!String(err.stack).includes(SECRET));
    assert.ok(!JSON.stringify(err).includes(SECRET));
  });

  it('fails a connection the server drops as a transport error', async () => {
    const dropper = createServer((req) => req.socket.destroy());
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    try {
      const err = await new HttpClient(`http://127.0.0.1:${(dropper.address() as AddressInfo).port}`, 2000)
        .request({ url: '/x', headers: { Authorization: `Bearer ${SECRET}` } })
        .catch((e: unknown) => e);
      assert.ok(err instanceof TransportError, String(err));
      assert.equal(err.code, 'ECONNRESET');
      assert.ok(!String(err.stack).includes(SECRET));
    } finally {
      dropper.close();
    }
  });
});
