// The onboarding events' signing secret: EVENTS_HMAC_SECRET when set; otherwise, outside production
// (NODE_ENV=production), generated once into DATA_DIR/events-secret (mode 600) like the ops token,
// so events work on the embedded default. The ingress creates it; `send-event` only reads it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config';

export interface EventsSecret {
  secret: string;
  /** Where the generated secret is kept; undefined when EVENTS_HMAC_SECRET is configured. */
  file?: string;
}

const MIN_LENGTH = 32;

export function eventsSecretFile(config: Pick<Config, 'DATA_DIR'>): string {
  return resolve(join(config.DATA_DIR, 'events-secret'));
}

/**
 * The secret events are signed with, or undefined when events are off (production without
 * EVENTS_HMAC_SECRET, or `create` false and no file yet).
 */
export function resolveEventsSecret(
  config: Pick<Config, 'EVENTS_HMAC_SECRET' | 'DATA_DIR'>,
  options: { create?: boolean; env?: NodeJS.ProcessEnv } = {},
): EventsSecret | undefined {
  if (config.EVENTS_HMAC_SECRET) return { secret: config.EVENTS_HMAC_SECRET };
  if ((options.env ?? process.env).NODE_ENV === 'production') return undefined;
  const file = eventsSecretFile(config);
  if (!existsSync(file)) {
    if (options.create === false) return undefined;
    mkdirSync(config.DATA_DIR, { recursive: true });
    try {
      // wx: two processes starting at once must not each write a different secret.
      writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < MIN_LENGTH)
    throw new Error(
      `Invalid configuration: ${file}: the events secret must be at least ${MIN_LENGTH} characters; delete the file to have a new one generated, or set EVENTS_HMAC_SECRET`,
    );
  return { secret, file };
}
