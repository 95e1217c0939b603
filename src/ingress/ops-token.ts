// The ops page's login token: OPS_TOKEN when set; otherwise generated once into DATA_DIR/ops-token
// (mode 600), like the embedded default's dev keys. Its value is never logged, only its file.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config';

export interface OpsToken {
  token: string;
  /** Where the generated token is kept; undefined when OPS_TOKEN is configured. */
  file?: string;
}

export function resolveOpsToken(config: Config): OpsToken {
  if (config.OPS_TOKEN) return { token: config.OPS_TOKEN };
  const file = resolve(join(config.DATA_DIR, 'ops-token'));
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), file };
  mkdirSync(config.DATA_DIR, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}
