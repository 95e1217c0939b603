// `check-tenant`: asks Microsoft, with the shared app's own credentials and without any person,
// whether a customer's tenant consented to the app and holds the Dynamics org. One line: the
// verdict and, when it is not "consented", the fix. Exit code 0 when consented, 1 otherwise.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { probeTenant } from '../../clients/identity';
import { loadConfig, type Config } from '../../config';
import { loadKeyRing } from '../../secrets/keys';
import { openSecret } from '../../secrets/sealing';
import { tenantCheckRemediation } from '../../shared/aadsts';
import type { AppCredentialsDelivery } from '../../shared/app-credentials';
import { appCredentialsQuery } from '../../shared/messages';
import { appRegistrationWorkflowId } from '../../shared/names';
import { resourceUrlSchema, tenantSchema } from '../../shared/validation';
import { parse, withClient } from '../program';
import { visible } from '../../shared/terminal-text';

const NO_CREDENTIALS =
  'the shared app has no credentials yet: start any onboarding (npm run client -- onboard ...), which registers the app and its secret, with a worker running (npm run worker); then check again';

/** The owner's credentials; null when there is no owner or it has none ready. */
async function ownerCredentials(client: Client, config: Config): Promise<AppCredentialsDelivery | null> {
  const handle = client.workflow.getHandle(appRegistrationWorkflowId(config.APP_UNIQUE_NAME));
  try {
    return await client.withDeadline(Date.now() + 15_000, () => handle.query(appCredentialsQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw new Error(
      `the app-registration owner (${handle.workflowId}) did not answer: ${(err as Error).message}; is a worker running? (npm run worker)`,
      { cause: err },
    );
  }
}

export function checkTenantCommand(program: Command): void {
  program
    .command('check-tenant')
    .description(
      "Ask Microsoft, with the shared app's credentials, whether a customer's tenant consented to the app and holds the Dynamics org",
    )
    .requiredOption('--tenant <tenant>', "customer's Entra tenant id (GUID) or verified domain")
    .requiredOption(
      '--resource-url <url>',
      "customer's Dynamics org URL, like https://contoso.crm.dynamics.com",
    )
    .action(async (o) => {
      const tenant = parse(tenantSchema, o.tenant, { '': '--tenant' });
      const resourceUrl = parse(resourceUrlSchema, o.resourceUrl, { '': '--resource-url' });
      const config = loadConfig();
      const delivery = await withClient((client) => ownerCredentials(client, config));
      if (!delivery) {
        console.log(NO_CREDENTIALS);
        process.exitCode = 1;
        return;
      }
      if (!delivery.ok) {
        console.log(`the shared app's owner has no usable credentials: ${visible(delivery.message)}`);
        process.exitCode = 1;
        return;
      }
      const { credentials } = delivery;
      const probe = await probeTenant(
        { baseUrl: config.IDENTITY_BASE_URL, timeoutMs: config.HTTP_TIMEOUT_MS },
        {
          tenant,
          resourceUrl,
          clientId: credentials.appId,
          clientSecret: openSecret(loadKeyRing(config), credentials.secret),
        },
      );
      if (probe.verdict === 'consented') {
        console.log(
          `consented: tenant ${tenant} has consented to the app ${credentials.appId}, and ${resourceUrl} is a Dynamics org there`,
        );
        return;
      }
      const fix = tenantCheckRemediation(probe.verdict, probe.code, {
        customerTenant: tenant,
        resourceUrl,
        appId: credentials.appId,
      });
      // Microsoft's words are outside text: shown with control characters escaped.
      console.log(`${probe.verdict}: ${visible(probe.message)} -- fix: ${visible(fix)}`);
      process.exitCode = 1;
    });
}
