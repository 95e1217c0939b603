// `doctor`: checks in order that the product can work in this configuration, and says what to fix.
// Temporal, then Microsoft, the shared app, Cyclr, the ingress and the keys; a check that needs an
// earlier one that failed is reported as skipped, with why.
import type { Config } from '../config';
import type { DoctorDeps, DoctorState } from './context';
import { cyclrChecks } from './cyclr';
import { ingressChecks } from './ingress';
import { keyChecks } from './keys';
import { microsoftChecks } from './microsoft';
import { failures, type DoctorCheck, type DoctorReport } from './report';
import { sharedAppChecks } from './shared-app';
import { temporalChecks } from './temporal';

export type { DoctorDeps } from './context';
export { formatDoctorReport, type DoctorCheck, type DoctorGroup, type DoctorReport } from './report';

/** Settings whose values must never be printed. */
const SECRET_SETTINGS: (keyof Config)[] = [
  'GRAPH_CLIENT_SECRET',
  'CYCLR_CLIENT_SECRET',
  'SECRET_SEALING_KEYS',
  'STATE_SIGNING_KEY',
  'PAYLOAD_CODEC_KEYS',
  'CODEC_AUTH_TOKEN',
  'OPS_TOKEN',
  'OPS_OIDC_CLIENT_SECRET',
  'EVENTS_HMAC_SECRET',
  'NOTIFY_WEBHOOK_AUTHORIZATION',
];

/** Every secret of the configuration (and its parts, for key lists) replaced, and any bearer token or JWT. */
function scrubber(config: Config, env: NodeJS.ProcessEnv): (text: string) => string {
  const values = new Set<string>();
  for (const key of SECRET_SETTINGS) {
    const value = config[key];
    if (typeof value !== 'string' || !value) continue;
    values.add(value);
    for (const part of value.split(',')) {
      const key = part.split(':')[1];
      if (key && key.length >= 16) values.add(key.trim());
    }
  }
  if (env.TEMPORAL_API_KEY) values.add(env.TEMPORAL_API_KEY);
  const secrets = [...values].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of secrets) out = out.split(s).join('[redacted]');
    return out
      .replace(/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, '[redacted]')
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]');
  };
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const state: DoctorState = {};
  const checks: DoctorCheck[] = [
    ...(await temporalChecks(deps, state)),
    ...(await microsoftChecks(deps, state)),
    ...(await sharedAppChecks(deps, state)),
    ...(await cyclrChecks(deps)),
    ...(await ingressChecks(deps)),
    ...keyChecks(deps),
  ];
  const scrub = scrubber(deps.config, deps.env ?? {});
  const clean = checks.map((c) => ({
    ...c,
    found: scrub(c.found),
    ...(c.fix === undefined ? {} : { fix: scrub(c.fix) }),
  }));
  return { checks: clean, ok: failures(clean).length === 0 };
}
