// The service clients' HTTP layer against a real local server: how URLs are joined, how bodies
// are read, and that a failed exchange says what failed without any request detail.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpClient, TransportError } from '../src/clients/http-client';
import { freePort } from '../scripts/bench/free-port';

const SECRET = 'client-secret-value-do-not-leak';

describe('HttpClient', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; body: string }[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url!, body });
        if (req.url!.startsWith('/slow')) return; // never answers
        if (req.url!.startsWith('/text')) return res.end('plain words');
        if (req.url!.startsWith('/busy')) {
          res.writeHead(503, { 'Retry-After': '7', 'Content-Type': 'application/json' });
          return res.end('{"error":{"code":"busy"}}');
        }
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ ok: true, url: req.url }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('joins paths as axios did, and keeps a webhook URL exactly as configured', async () => {
    await new HttpClient(`${base}/v1.0/`, 2000).request({ url: '/applications' });
    await new HttpClient(`${base}/hooks/abc/?key=1`, 2000).post('', { kind: 'x' });
    assert.deepEqual(
      seen.slice(-2).map((s) => s.url),
      ['/v1.0/applications', '/hooks/abc/?key=1'],
    );
  });

  it('sends objects as JSON and strings as they are; parses JSON answers only', async () => {
    const http = new HttpClient(base, 2000);
    const json = await http.post('/a', { n: 1 }, { headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual(json.data, { ok: true, url: '/a' });
    assert.equal(seen.at(-1)!.body, '{"n":1}');
    await http.post('/b', 'grant_type=x', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(seen.at(-1)!.body, 'grant_type=x');
    assert.equal((await http.request({ url: '/text' })).data, 'plain words');
  });

  it('returns an error status as an answer, with its headers', async () => {
    const res = await new HttpClient(base, 2000).request({ url: '/busy' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '7');
    assert.deepEqual(res.data, { error: { code: 'busy' } });
  });

  it('fails a silent server after the timeout, naming only what failed', async () => {
    const started = Date.now();
    const err = await new HttpClient(base, 300)
      .post('/slow', { secret: SECRET }, { headers: { Authorization: `Bearer ${SECRET}` } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TransportError, String(err));
    assert.equal(err.code, 'timeout');
    assert.ok(Date.now() - started < 2000, 'the timeout covers the whole exchange');
    assert.ok(!JSON.stringify({ message: err.message, stack: err.stack }).includes(SECRET));
  });

  it('fails a refused connection as a transport error with its code', async () => {
    const port = await freePort();
    const err = await new HttpClient(`http://127.0.0.1:${port}`, 2000)
      .request({ url: '/x', headers: { Authorization: `Bearer ${SECRET}` } })
      .catch((e: unknown) => e);
    assert.ok(err instanceof TransportError, String(err));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.ok(!String(err.stack).includes(SECRET));
  });
});
