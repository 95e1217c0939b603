// Codec keys and the codec server's token. Configured values win; the embedded default generates
// them once into DATA_DIR/codec-keys.json (like src/secrets/keys.ts), so the worker, the CLI and
// the ingress on this machine share them and restarts still decrypt old histories.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';
import { parseKeyList } from '../secrets/keys';

export interface CodecKeyRing {
  /** Encrypts new payloads. */
  currentId: string;
  /** Every key that still decrypts (rotation: prepend the new key, keep the old ones). */
  keys: Map<string, Buffer>;
}

type CodecConfig = Pick<Config, 'PAYLOAD_CODEC_KEYS' | 'CODEC_AUTH_TOKEN' | 'DATA_DIR'>;

function generated(dataDir: string): { keys: string; token: string } {
  const file = join(dataDir, 'codec-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  mkdirSync(dataDir, { recursive: true });
  const made = {
    keys: `dev1:${randomBytes(32).toString('base64')}`,
    token: randomBytes(32).toString('base64url'),
  };
  // wx: two processes starting at once must not each write a different key.
  try {
    writeFileSync(file, JSON.stringify(made), { mode: 0o600, flag: 'wx' });
    return made;
  } catch {
    return JSON.parse(readFileSync(file, 'utf8'));
  }
}

export function loadCodecKeys(config: CodecConfig): CodecKeyRing {
  const ring = parseKeyList(
    config.PAYLOAD_CODEC_KEYS ?? generated(config.DATA_DIR).keys,
    'PAYLOAD_CODEC_KEYS',
  );
  if (!ring.keys.size) throw new Error('Invalid configuration: PAYLOAD_CODEC_KEYS: no key given');
  return ring;
}

/** The token the codec server requires (`Authorization: Bearer <token>`). */
export function loadCodecToken(config: CodecConfig): string {
  return config.CODEC_AUTH_TOKEN ?? generated(config.DATA_DIR).token;
}
