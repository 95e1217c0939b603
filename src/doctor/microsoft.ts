// Microsoft: the Graph management client gets a token in PARTNER_TENANT_ID (each refusal turned
// into the setting to fix), and it may manage the shared app (a 403 names the permission to grant
// and says an admin must consent to it).
import { ApplicationFailure } from '@temporalio/common';
import { GraphClient, graphPermissionFix } from '../clients/graph';
import { GraphTokenProvider } from '../clients/identity';
import { FailureTypes } from '../shared/failures';
import type { DoctorDeps, DoctorState } from './context';
import { failed, messageOf, passed, skipped, type DoctorCheck } from './report';

const GROUP = 'Microsoft';

/** An ApplicationFailure's message without its "Fix: ..." tail, and the fix from its details. */
function split(err: unknown): { found: string; fix?: string } {
  const message = messageOf(err);
  const at = message.indexOf('. Fix: ');
  const details =
    err instanceof ApplicationFailure ? (err.details?.[0] as { fix?: string } | undefined) : undefined;
  const found = (at >= 0 ? message.slice(0, at) : message).replace(
    /^identity: Graph token for GRAPH_CLIENT_ID in PARTNER_TENANT_ID failed: /,
    'refused: ',
  );
  const fix = details?.fix ?? (at >= 0 ? message.slice(at + '. Fix: '.length) : undefined);
  return { found, fix };
}

const unreachableFix =
  'check IDENTITY_BASE_URL and GRAPH_BASE_URL (https://login.microsoftonline.com, https://graph.microsoft.com) and that this machine reaches them';

export async function microsoftChecks(deps: DoctorDeps, state: DoctorState): Promise<DoctorCheck[]> {
  const { config } = deps;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const tokenName = 'Graph token in PARTNER_TENANT_ID';
  const manageName = 'may manage the shared app';
  const tokens = new GraphTokenProvider({
    baseUrl: config.IDENTITY_BASE_URL,
    tenantId: config.PARTNER_TENANT_ID,
    clientId: config.GRAPH_CLIENT_ID,
    clientSecret: config.GRAPH_CLIENT_SECRET,
    timeoutMs,
  });
  try {
    await tokens.token();
  } catch (err) {
    const { found, fix } = split(err);
    const transient = err instanceof ApplicationFailure && err.type === FailureTypes.transient;
    return [
      failed(
        GROUP,
        tokenName,
        found,
        transient
          ? `Microsoft did not answer usefully; retry, and ${unreachableFix}`
          : (fix ?? unreachableFix),
      ),
      skipped(GROUP, manageName, 'no Graph token'),
    ];
  }
  const checks = [
    passed(
      GROUP,
      tokenName,
      `GRAPH_CLIENT_ID ${config.GRAPH_CLIENT_ID} got a token in ${config.PARTNER_TENANT_ID}`,
    ),
  ];

  const graph = new GraphClient(config.GRAPH_BASE_URL, timeoutMs, tokens);
  const handRegistered = Boolean(config.APP_ID);
  try {
    const app = config.APP_ID
      ? await graph.getApplicationByAppId(config.APP_ID)
      : await graph.findApplication(config.APP_UNIQUE_NAME);
    state.graph = graph;
    state.app = app;
    const which = config.APP_ID ? `APP_ID ${config.APP_ID}` : `uniqueName ${config.APP_UNIQUE_NAME}`;
    checks.push(
      passed(
        GROUP,
        manageName,
        app ? `Graph lets it read the app (${which})` : `Graph lets it look for the app (${which}; none yet)`,
      ),
    );
  } catch (err) {
    const forbidden =
      err instanceof ApplicationFailure && (err.details?.[0] as { status?: number })?.status === 403;
    const { found } = split(err);
    checks.push(
      failed(
        GROUP,
        manageName,
        found,
        forbidden
          ? graphPermissionFix(handRegistered)
          : `Graph did not answer usefully; retry, and ${unreachableFix}`,
      ),
    );
  }
  return checks;
}
