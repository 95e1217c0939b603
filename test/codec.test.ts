// The payload codec: AES-256-GCM with the key id in the metadata, rotation, the codec server's
// protocol, auth and CORS; and a full onboarding's histories, exported with the official CLI,
// hold no secret and no plaintext payload, while the codec endpoint decodes them for its holder.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { AesGcmCodec, ENCODING, METADATA_KEY_ID } from '../src/codec/aes-gcm-codec';
import { loadCodecKeys } from '../src/codec/keys';
import { codecServerOptions, embeddedLocalUi, startCodecServer } from '../src/codec/server';
import { loadConfig } from '../src/config';
import { appRegistrationWorkflowId } from '../src/shared/names';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { startHarness, workflowBundle, type Harness } from './helpers/harness';
import { exportHistory, leaksIn, secretValues } from './helpers/leaks';

const key = () => randomBytes(32).toString('base64');
const ring = (spec: string) => loadCodecKeys({ PAYLOAD_CODEC_KEYS: spec, DATA_DIR: '' });
const json = (value: unknown): Payload => ({
  metadata: { [METADATA_ENCODING_KEY]: new TextEncoder().encode('json/plain') },
  data: new TextEncoder().encode(JSON.stringify(value)),
});
/** The harness's configuration as the strings loadConfig takes. */
const stringConfig = (h: Harness) =>
  Object.fromEntries(
    Object.entries(h.config)
      .filter(([, v]) => v !== undefined && typeof v !== 'object')
      .map(([k, v]) => [k, String(v)]),
  );
const text = (bytes?: Uint8Array | null) => new TextDecoder().decode(bytes ?? new Uint8Array());

describe('AES-GCM payload codec', () => {
  const k1 = `k1:${key()}`;
  const k2 = `k2:${key()}`;

  test('encrypts with the first key, names it in the metadata, and decrypts back', async () => {
    const codec = new AesGcmCodec(ring(`${k1},${k2}`));
    const [sealed] = await codec.encode([json({ secret: 'hunter2-plaintext' })]);
    assert.equal(text(sealed.metadata![METADATA_ENCODING_KEY]), ENCODING);
    assert.equal(text(sealed.metadata![METADATA_KEY_ID]), 'k1');
    assert.ok(!Buffer.from(sealed.data!).toString('latin1').includes('hunter2'), 'ciphertext only');
    const [opened] = await codec.decode([sealed]);
    assert.deepEqual(JSON.parse(text(opened.data)), { secret: 'hunter2-plaintext' });
  });

  test('after a rotation old payloads still decrypt; new ones use the new key', async () => {
    const before = new AesGcmCodec(ring(k1));
    const [old] = await before.encode([json('old')]);
    const rotated = new AesGcmCodec(ring(`${k2},${k1}`));
    assert.equal(text((await rotated.decode([old]))[0].data), '"old"');
    const [fresh] = await rotated.encode([json('new')]);
    assert.equal(text(fresh.metadata![METADATA_KEY_ID]), 'k2');
    // A ring that dropped k1 cannot read the old payload, and says which key is missing.
    await assert.rejects(new AesGcmCodec(ring(k2)).decode([old]), /"k1", which is not in PAYLOAD_CODEC_KEYS/);
  });

  test('an altered or relabelled payload is refused; plain payloads pass unchanged', async () => {
    const codec = new AesGcmCodec(ring(`${k1},${k2}`));
    const [sealed] = await codec.encode([json('x')]);
    const flipped = Buffer.from(sealed.data!);
    flipped[20] ^= 1;
    await assert.rejects(codec.decode([{ ...sealed, data: flipped }]), /failed authentication/);
    const relabelled = {
      ...sealed,
      metadata: { ...sealed.metadata, [METADATA_KEY_ID]: new TextEncoder().encode('k2') },
    };
    await assert.rejects(codec.decode([relabelled]), /failed authentication/);
    const plain = json({ by: 'ops' });
    assert.deepEqual(await codec.decode([plain]), [plain]);
  });

  test('a malformed PAYLOAD_CODEC_KEYS is refused at start-up', () => {
    assert.throws(() => ring('k1:c2hvcnQ='), /PAYLOAD_CODEC_KEYS: expected id:base64\(32 random bytes\)/);
    assert.throws(() => ring(','), /PAYLOAD_CODEC_KEYS/);
  });
});

describe('codec server and a full onboarding', () => {
  let h: Harness;
  let server: Server;
  let endpoint: string;
  let auth: string;
  const uiOrigin = 'http://127.0.0.1:8233';

  before(async () => {
    h = await startHarness('dev-server');
    auth = `Bearer ${h.config.CODEC_AUTH_TOKEN}`;
    server = await startCodecServer(
      {
        codec: new AesGcmCodec(loadCodecKeys(h.config)),
        tokens: [h.config.CODEC_AUTH_TOKEN!],
        namespace: 'default',
        corsOrigins: [uiOrigin],
      },
      0,
      '127.0.0.1',
    );
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/codecs`;
  });
  after(async () => {
    server?.close();
    await h?.close();
  });

  const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${endpoint}/${op}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body: JSON.stringify(body),
    });

  test('speaks the remote codec protocol to a token holder, and to no one else', async () => {
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"hi"').toString('base64'),
    };
    const encoded = await post('encode', { payloads: [plain] }, { Authorization: auth });
    assert.equal(encoded.status, 200);
    const { payloads } = (await encoded.json()) as { payloads: { metadata: Record<string, string> }[] };
    assert.equal(Buffer.from(payloads[0].metadata.encoding, 'base64').toString(), ENCODING);
    const decoded = await post('decode', { payloads }, { Authorization: auth });
    assert.deepEqual(await decoded.json(), { payloads: [plain] });

    assert.equal((await post('decode', { payloads })).status, 401, 'no token');
    assert.equal((await post('decode', { payloads }, { Authorization: 'Bearer wrong' })).status, 401);
    assert.equal(
      (await post('decode', { payloads }, { Authorization: auth, 'X-Namespace': 'other' })).status,
      403,
      'no keys for another namespace',
    );
    assert.equal((await post('decode', { payloads: 'nope' }, { Authorization: auth })).status, 400);
    const garbled = [
      { ...payloads[0], data: Buffer.from('garbage-garbage-garbage-garbage').toString('base64') },
    ];
    const refused = await post('decode', { payloads: garbled }, { Authorization: auth });
    assert.equal(refused.status, 400);
  });

  test('answers the Web UI preflight for its origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${endpoint}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(uiOrigin);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), uiOrigin);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const evil = await preflight('https://evil.example');
    assert.equal(evil.status, 403);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
  });

  test('its own token only: OPS_TOKEN does not open it; failed tokens from an address wait', async () => {
    const opsToken = randomBytes(24).toString('base64url');
    const config = loadConfig({}, { ...stringConfig(h), OPS_TOKEN: opsToken });
    const own = await startCodecServer(codecServerOptions(config, 'default'), 0, '127.0.0.1');
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/codecs/decode`;
    const call = (authorization?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(authorization ? { Authorization: authorization } : {}),
        },
        body: '{"payloads":[]}',
      });
    try {
      assert.equal((await call(`Bearer ${config.CODEC_AUTH_TOKEN}`)).status, 200);
      assert.equal((await call(`Bearer ${opsToken}`)).status, 401, 'the ops token is not a codec token');
      for (let i = 0; i < 20; i++) await call();
      assert.equal(
        (await call(`Bearer ${config.CODEC_AUTH_TOKEN}`)).status,
        200,
        'no token tried: nothing counted',
      );
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push((await call(`Bearer guess-${i}`)).status);
      assert.deepEqual(answers.slice(0, 9), Array(9).fill(401), 'ten free failures');
      assert.ok(answers.filter((s) => s === 429).length >= 8, answers.join(','));
      const held = await call(`Bearer guess-x`);
      assert.equal(held.status, 429);
      assert.ok(Number(held.headers.get('retry-after')) > 0);
      assert.match(
        ((await held.json()) as { message: string }).message,
        /too many failed tokens from your address/,
      );
    } finally {
      own.close();
    }
  });

  test("the embedded default's Web UI: its own origin on loopback, no token; nobody else", async () => {
    const uiOrigin = 'http://127.0.0.1:18233';
    const ui = embeddedLocalUi(
      { CODEC_AUTH_TOKEN: undefined, CODEC_HOST: '127.0.0.1' },
      { devServerStarted: true, uiPort: 18233 },
    );
    assert.deepEqual(ui, { origins: [uiOrigin, 'http://localhost:18233'] });
    for (const [why, config, started] of [
      ['a configured codec token', { CODEC_AUTH_TOKEN: 'x'.repeat(32), CODEC_HOST: '127.0.0.1' }, true],
      ['listening beyond loopback', { CODEC_AUTH_TOKEN: undefined, CODEC_HOST: '0.0.0.0' }, true],
      ['a cluster it did not start', { CODEC_AUTH_TOKEN: undefined, CODEC_HOST: '127.0.0.1' }, false],
    ] as const)
      assert.equal(embeddedLocalUi(config, { devServerStarted: started, uiPort: 18233 }), undefined, why);

    const local = await startCodecServer(
      {
        codec: new AesGcmCodec(loadCodecKeys(h.config)),
        tokens: [h.config.CODEC_AUTH_TOKEN!],
        namespace: 'default',
        corsOrigins: [],
        localUi: ui,
      },
      0,
      '127.0.0.1',
    );
    const port = (local.address() as AddressInfo).port;
    const [sealed] = await new AesGcmCodec(loadCodecKeys(h.config)).encode([json({ hello: 'ui' })]);
    const body = JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(sealed.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(sealed.data!).toString('base64'),
        },
      ],
    });
    const decode = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${port}/codecs/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
        body,
      });
    try {
      const preflight = await fetch(`http://127.0.0.1:${port}/codecs/decode`, {
        method: 'OPTIONS',
        headers: { Origin: uiOrigin, 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(preflight.status, 204);
      const decoded = await decode({ Origin: uiOrigin });
      assert.equal(decoded.status, 200);
      assert.equal(decoded.headers.get('access-control-allow-origin'), uiOrigin);
      const out = (await decoded.json()) as { payloads: { data: string }[] };
      assert.deepEqual(JSON.parse(Buffer.from(out.payloads[0].data, 'base64').toString()), { hello: 'ui' });
      assert.equal((await decode({ Origin: 'http://localhost:18233' })).status, 200);
      for (const [why, headers] of [
        ['no origin (not a browser of the UI)', {}],
        ['another web page', { Origin: 'https://evil.example' }],
        ['another port of this machine', { Origin: 'http://127.0.0.1:9999' }],
        ['a wrong token from the UI', { Origin: uiOrigin, Authorization: 'Bearer nope' }],
      ] as const)
        assert.equal((await decode(headers)).status, 401, why);
      // DNS rebinding: a page of another site whose name now points at 127.0.0.1 (fetch cannot
      // set Host, so node:http plays the browser).
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/codecs/decode',
            method: 'POST',
            headers: { Host: `evil.example:${port}`, Origin: uiOrigin, 'Content-Type': 'application/json' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(rebound, 401, 'a rebinding host name');
    } finally {
      local.close();
    }
    // Without the embedded default's setting, the UI's origin alone opens nothing.
    assert.equal((await post('decode', { payloads: [] }, { Origin: uiOrigin })).status, 401);
  });

  test('histories of a full onboarding: no secret, no plaintext payload; the codec endpoint decodes them', async () => {
    const customer = await h.sim.seedCustomer();
    const handle = await startOnboarding(h, customer);
    await adminConsents(h, customer);
    await userSignsIn(h, customer);
    assert.equal((await handle.result()).outcome, 'verified');

    const secrets = await secretValues(h);
    assert.ok(secrets.length >= 8, `secrets to search for: ${secrets.length}`);
    const ids = [handle.workflowId, appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME)];
    for (const id of ids) {
      const raw = await exportHistory(h, id);
      assert.deepEqual(leaksIn(raw, secrets), [], `${id}: no secret in the plain export`);
      assert.ok(!leaksIn(raw, [customer.org]).length, `${id}: payloads are ciphertext (no org URL)`);
      const decoded = await exportHistory(h, id, { endpoint, auth });
      assert.deepEqual(leaksIn(decoded, secrets), [], `${id}: no secret even decoded (sealed inside)`);
      if (id === handle.workflowId) {
        assert.ok(leaksIn(decoded, [customer.org]).length, 'the codec endpoint decodes the payloads');
        assert.doesNotMatch(decoded, /binary\/encrypted|YmluYXJ5L2VuY3J5cHRlZA/, 'every payload decoded');
        // The decoded export replays without any key: what `npm run record-histories` saves.
        const { code } = await workflowBundle();
        await Worker.runReplayHistory({ workflowBundle: { code } }, historyFromJSON(JSON.parse(decoded)));
      }
    }
    // Without the token the official CLI cannot decode through the endpoint.
    await assert.rejects(exportHistory(h, handle.workflowId, { endpoint, auth: 'Bearer nope' }));
  });
});
