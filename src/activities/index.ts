// All activities, built from their dependencies (clients, keys, a Temporal client).
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createCyclrClient } from '../clients/cyclr';
import { GraphClient } from '../clients/graph';
import { GraphTokenProvider, probeTenant } from '../clients/identity';
import type { KeyRing } from '../secrets/keys';
import { appOwnerActivities } from './app-owner';
import { cyclrActivities } from './cyclr';
import { graphActivities } from './graph';
import { identityActivities } from './identity';
import { SecretHolderReports, signalHolders } from './holder-reports';
import { linkActivities } from './links';
import { offboardingActivities } from './offboarding';
import { notificationActivities } from '../notifications/webhook';

export function createActivities(deps: { config: Config; keys: KeyRing; client: Client }) {
  const { config, keys, client } = deps;
  const tokens = new GraphTokenProvider({
    baseUrl: config.IDENTITY_BASE_URL,
    tenantId: config.PARTNER_TENANT_ID,
    clientId: config.GRAPH_CLIENT_ID,
    clientSecret: config.GRAPH_CLIENT_SECRET,
    timeoutMs: config.HTTP_TIMEOUT_MS,
  });
  const graph = new GraphClient(config.GRAPH_BASE_URL, config.HTTP_TIMEOUT_MS, tokens);
  const holderReports = new SecretHolderReports(signalHolders(client));
  const cyclr = createCyclrClient(config);
  return {
    ...graphActivities(graph, keys),
    ...cyclrActivities(cyclr, keys, config.DYNAMICS_CONNECTOR_NAME, (owner, holder) =>
      holderReports.report(owner, holder),
    ),
    ...identityActivities(
      (input) => probeTenant({ baseUrl: config.IDENTITY_BASE_URL, timeoutMs: config.HTTP_TIMEOUT_MS }, input),
      keys,
    ),
    ...linkActivities(config, keys),
    ...appOwnerActivities(client, config),
    ...notificationActivities(config),
    ...offboardingActivities(cyclr, client, config),
  };
}

export type Activities = ReturnType<typeof createActivities>;
