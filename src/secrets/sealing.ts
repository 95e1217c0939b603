// AES-256-GCM sealing of client secrets so they can travel through workflow histories.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SealedSecret } from '../shared/app-credentials';
import type { KeyRing } from './keys';

export function sealSecret(ring: KeyRing, plaintext: string): SealedSecret {
  const { currentId, keys } = ring.sealing;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.get(currentId)!, iv);
  cipher.setAAD(Buffer.from(currentId));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: currentId, sealed: Buffer.concat([iv, data, cipher.getAuthTag()]).toString('base64url') };
}

export function openSecret(ring: KeyRing, secret: SealedSecret): string {
  const key = ring.sealing.keys.get(secret.keyId);
  if (!key) {
    throw new Error(
      `No sealing key "${secret.keyId}" is configured: add it to SECRET_SEALING_KEYS (old keys must stay until no workflow uses them)`,
    );
  }
  const raw = Buffer.from(secret.sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(secret.keyId));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}
