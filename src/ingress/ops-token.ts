// The ops page's login token: OPS_TOKEN when set; otherwise generated once into DATA_DIR/ops-token
// (mode 600), like the embedded default's dev keys. Its value is never logged, only its file.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { opsOidcSettings, type Config } from '../config';

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

/**
 * How ops sign in, for the start-up lines: with OpenID Connect, the issuer, the app and the
 * redirect URI that must be registered on it; otherwise where the token is (never the token).
 */
export function describeOpsSignIn(config: Config): string {
  const oidc = opsOidcSettings(config);
  if (oidc)
    return `sign in with Microsoft: OpenID Connect at ${oidc.issuer}, app ${oidc.clientId}, redirect URI ${oidc.redirectUri} (register it on the app)`;
  const token = resolveOpsToken(config);
  return `sign in with ${token.file ? `the token in ${token.file}` : 'OPS_TOKEN'}`;
}
