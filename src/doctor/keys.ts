// Keys: set explicitly outside the simulators. Generated ones live in DATA_DIR on one machine and
// differ on every other, so a second worker could not open a sealed secret or check a link.
import type { Config } from '../config';
import { onSimulators, type DoctorDeps } from './context';
import { failed, passed, type DoctorCheck } from './report';

const KEYS: (keyof Config)[] = [
  'SECRET_SEALING_KEYS',
  'STATE_SIGNING_KEY',
  'PAYLOAD_CODEC_KEYS',
  'OPS_TOKEN',
];

export function keyChecks(deps: DoctorDeps): DoctorCheck[] {
  const { config } = deps;
  // With OpenID Connect for the ops page there is no ops token to share.
  const keys = config.OPS_OIDC_ISSUER ? KEYS.filter((k) => k !== 'OPS_TOKEN') : KEYS;
  const unset = keys.filter((k) => !config[k]);
  const name = 'set explicitly';
  if (!unset.length) return [passed('keys', name, `${keys.join(', ')} set`)];
  const where = `generated into ${config.DATA_DIR}/`;
  if (onSimulators(config))
    return [passed('keys', name, `${unset.join(', ')} ${where} (fine on one machine, on the simulators)`)];
  return [
    failed(
      'keys',
      name,
      `${unset.join(', ')} not set: ${where} on this machine only`,
      `set ${unset.join(', ')} for every worker, ingress and CLI (see README "Configuration": e.g. SECRET_SEALING_KEYS=k1:$(openssl rand -base64 32))`,
    ),
  ];
}
