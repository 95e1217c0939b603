// Key material for sealing client secrets and signing link state. Configured keys win; the
// embedded default generates keys once and keeps them under DATA_DIR so restarts still open them.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';

export interface KeyRing {
  sealing: { currentId: string; keys: Map<string, Buffer> };
  stateSigningKey: Buffer;
}

/** `id:base64(32 bytes)[,id:...]`: the first key is current, all are kept for reading. */
export function parseKeyList(spec: string, variable = 'SECRET_SEALING_KEYS'): KeyRing['sealing'] {
  const keys = new Map<string, Buffer>();
  let currentId = '';
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, b64] = part.split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || key.length !== 32) {
      throw new Error(
        `Invalid configuration: ${variable}: expected id:base64(32 random bytes)[,id:key...], e.g. k1:$(openssl rand -base64 32)`,
      );
    }
    keys.set(id, key);
    currentId ||= id;
  }
  return { currentId, keys };
}

function generatedKeys(dataDir: string): { sealing: string; signing: string } {
  const file = join(dataDir, 'dev-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const keys = {
    sealing: `dev1:${randomBytes(32).toString('base64')}`,
    signing: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

export function loadKeyRing(config: Config): KeyRing {
  const needGenerated = !config.SECRET_SEALING_KEYS || !config.STATE_SIGNING_KEY;
  const generated = needGenerated ? generatedKeys(config.DATA_DIR) : undefined;
  return {
    sealing: parseKeyList(config.SECRET_SEALING_KEYS ?? generated!.sealing),
    stateSigningKey: Buffer.from(config.STATE_SIGNING_KEY ?? generated!.signing),
  };
}
