// The payload codec: AES-256-GCM with the key id in the metadata, rotation, the codec server's
// protocol, auth and CORS; and a full onboarding's histories, exported with the official CLI,
// hold no secret and no plaintext payload, while the codec endpoint decodes them for its holder.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { AesGcmCodec, ENCODING, METADATA_KEY_ID } from '../src/codec/aes-gcm-codec';
import { loadCodecKeys } from '../src/codec/keys';
import { startCodecServer } from '../src/codec/server';
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
