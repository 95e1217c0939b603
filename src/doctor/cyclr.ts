// Cyclr: the API credentials work, the connector named DYNAMICS_CONNECTOR_NAME is in the library
// and can be installed, and the user the one-time sign-in tokens are made for is set.
import { ApplicationFailure } from '@temporalio/common';
import { createCyclrClient } from '../clients/cyclr';
import { FailureTypes } from '../shared/failures';
import { onSimulators, type DoctorDeps } from './context';
import { failed, messageOf, passed, skipped, type DoctorCheck } from './report';

const GROUP = 'Cyclr';
const unreachableFix =
  'check CYCLR_API_BASE_URL is your Cyclr API domain (e.g. https://api.eu.cyclr.com) and that this machine reaches it';

export async function cyclrChecks(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { config } = deps;
  const env = deps.env ?? {};
  const names = ['API credentials', `connector "${config.DYNAMICS_CONNECTOR_NAME}"`, 'sign-in user'];
  const cyclr = createCyclrClient({ ...config, HTTP_TIMEOUT_MS: deps.timeoutMs ?? 10_000 });
  const checks: DoctorCheck[] = [];

  try {
    await cyclr.checkCredentials();
    checks.push(passed(GROUP, names[0], `CYCLR_CLIENT_ID ${config.CYCLR_CLIENT_ID} got an API token`));
  } catch (err) {
    const refused = err instanceof ApplicationFailure && err.type === FailureTypes.configuration;
    checks.push(
      failed(
        GROUP,
        names[0],
        refused ? messageOf(err).replace(/: check CYCLR_CLIENT_ID.*$/, '') : messageOf(err),
        refused
          ? 'check CYCLR_CLIENT_ID and CYCLR_CLIENT_SECRET (Cyclr console > Settings > OAuth Client Credentials)'
          : unreachableFix,
      ),
    );
    checks.push(skipped(GROUP, names[1], 'no Cyclr API token'));
  }

  if (checks.length === 1) {
    try {
      const found = await cyclr.lookupConnector(config.DYNAMICS_CONNECTOR_NAME);
      if (!found.found) {
        checks.push(
          failed(
            GROUP,
            names[1],
            `no connector named "${config.DYNAMICS_CONNECTOR_NAME}" in the connector library`,
            `set DYNAMICS_CONNECTOR_NAME to the connector's exact name in Cyclr's library (default "Dynamics CRM Online"), or add the Dynamics CRM Online connector to your library in the Cyclr console`,
          ),
        );
      } else if (!found.installable) {
        checks.push(
          failed(
            GROUP,
            names[1],
            `Id ${found.id}, status ${found.status}: only an Approved connector can be installed`,
            'use an Approved version of the connector (Cyclr console > Connectors), or set DYNAMICS_CONNECTOR_NAME to one',
          ),
        );
      } else {
        checks.push(
          passed(
            GROUP,
            names[1],
            `Id ${found.id}${found.version ? `, version ${found.version}` : ''}, ${found.status ?? 'no status given'}: installable`,
          ),
        );
      }
    } catch (err) {
      checks.push(
        failed(GROUP, names[1], `the connector library could not be read: ${messageOf(err)}`, unreachableFix),
      );
    }
  }

  // Cyclr creates the user with the first sign-in token, so only the setting itself can be checked.
  const user = config.CYCLR_SIGNIN_USERNAME;
  if (env.CYCLR_SIGNIN_USERNAME || onSimulators(config))
    checks.push(
      passed(
        GROUP,
        names[2],
        `CYCLR_SIGNIN_USERNAME ${user}${env.CYCLR_SIGNIN_USERNAME ? '' : ' (default)'}`,
      ),
    );
  else
    checks.push(
      failed(
        GROUP,
        names[2],
        `CYCLR_SIGNIN_USERNAME is not set (the default "${user}" would be used)`,
        'set CYCLR_SIGNIN_USERNAME to the Cyclr user the one-time sign-in tokens are made for (Cyclr creates it on first use)',
      ),
    );
  return checks;
}
