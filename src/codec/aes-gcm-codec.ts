// The payload codec: every payload a Client or Worker of this product writes to Temporal is
// AES-256-GCM encrypted, so histories, the Web UI and exports show ciphertext unless the reader
// holds a key (directly, or through the codec server). Pattern: samples-typescript `encryption`.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKeyRing } from './keys';

export const ENCODING = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const enc = new TextEncoder();
const dec = new TextDecoder();

export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly ring: CodecKeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { currentId, keys } = this.ring;
    const key = keys.get(currentId)!;
    return payloads.map((payload) => ({
      metadata: {
        [METADATA_ENCODING_KEY]: enc.encode(ENCODING),
        [METADATA_KEY_ID]: enc.encode(currentId),
      },
      data: encrypt(key, currentId, temporal.api.common.v1.Payload.encode(payload).finish()),
    }));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      // Plain payloads pass: histories from before the codec, and signals sent by the official
      // CLI without the codec endpoint (the workflow validates what it receives anyway).
      if (!isEncrypted(payload)) return payload;
      const keyId = dec.decode(payload.metadata![METADATA_KEY_ID] ?? new Uint8Array());
      const key = this.ring.keys.get(keyId);
      if (!key) {
        throw new Error(
          `Payload encrypted with key "${keyId}", which is not in PAYLOAD_CODEC_KEYS (keep old keys until no history needs them)`,
        );
      }
      return temporal.api.common.v1.Payload.decode(decrypt(key, keyId, payload.data ?? new Uint8Array()));
    });
  }
}

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && dec.decode(encoding) === ENCODING;
}

// Layout: iv (12) | ciphertext | tag (16). The key id is authenticated data, so a payload cannot
// be relabelled to another key.
function encrypt(key: Buffer, keyId: string, plain: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(keyId));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function decrypt(key: Buffer, keyId: string, data: Uint8Array): Uint8Array {
  const raw = Buffer.from(data);
  if (raw.length < 28) throw new Error('Encrypted payload is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(keyId));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  try {
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
  } catch {
    throw new Error(
      `Encrypted payload failed authentication with key "${keyId}" (altered, or a different key)`,
    );
  }
}
