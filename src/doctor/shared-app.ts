// The shared app registration: it exists (or will be created by the first onboarding), is
// multi-tenant, has both redirect URIs and the Dynamics CRM user_impersonation permission, and
// its client secret is not expired. The secret's end comes from the app's owner workflow when it
// runs, else from Graph.
import { appSpecFrom } from '../activities/app-owner';
import {
  DYNAMICS_CRM_APP_ID,
  DYNAMICS_USER_IMPERSONATION_SCOPE_ID,
  MULTI_TENANT_AUDIENCES,
} from '../clients/graph';
import { appRegistrationStatusQuery } from '../shared/messages';
import { appRegistrationWorkflowId } from '../shared/names';
import type { DoctorDeps, DoctorState } from './context';
import { failed, passed, skipped, type DoctorCheck } from './report';

const GROUP = 'shared app';
const NAMES = {
  exists: 'exists or can be created',
  multiTenant: 'multi-tenant',
  redirects: 'redirect URIs',
  permission: 'Dynamics CRM user_impersonation permission',
  secret: "client secret's expiry",
};
/** Secrets the product adds carry this display name prefix (see createClientSecret). */
const PRODUCT_SECRET_PREFIX = 'dynamics-onboarding ';
const DAY_MS = 86_400_000;

const portal = 'Entra ID > App registrations > the app';

export async function sharedAppChecks(deps: DoctorDeps, state: DoctorState): Promise<DoctorCheck[]> {
  const { config } = deps;
  const rest = [NAMES.multiTenant, NAMES.redirects, NAMES.permission, NAMES.secret];
  if (state.app === undefined)
    return [NAMES.exists, ...rest].map((name) =>
      skipped(GROUP, name, 'Graph could not be asked (see Microsoft)'),
    );

  const app = state.app;
  if (!app) {
    if (config.APP_ID) {
      return [
        failed(
          GROUP,
          NAMES.exists,
          `no app with APP_ID ${config.APP_ID} in PARTNER_TENANT_ID`,
          "set APP_ID to the app's Application (client) ID (App registrations > the app > Overview), or unset it to let the product register its own app",
        ),
        ...rest.map((name) => skipped(GROUP, name, 'the app was not found')),
      ];
    }
    return [
      passed(
        GROUP,
        NAMES.exists,
        `not registered yet: the first onboarding registers "${config.APP_UNIQUE_NAME}" with the settings below`,
      ),
      ...rest.map((name) => skipped(GROUP, name, 'the app is not registered yet')),
    ];
  }

  const checks: DoctorCheck[] = [
    passed(
      GROUP,
      NAMES.exists,
      `${app.displayName ?? 'the app'} (appId ${app.appId}${config.APP_ID ? ', registered by hand and adopted' : `, uniqueName ${config.APP_UNIQUE_NAME}`})`,
    ),
  ];

  // The owner fixes what the product registered on its next registration; an adopted app is
  // completed when the owner adopts it.
  const byProduct =
    'or let the product set it: the app-registration owner does when it next registers the app (any onboarding, with a worker running)';

  checks.push(
    MULTI_TENANT_AUDIENCES.includes(app.signInAudience ?? '')
      ? passed(GROUP, NAMES.multiTenant, `signInAudience ${app.signInAudience}`)
      : failed(
          GROUP,
          NAMES.multiTenant,
          `signInAudience ${app.signInAudience ?? 'unset'}: only its own tenant can sign in`,
          `set Supported account types to "Accounts in any organizational directory" (${portal} > Authentication), ${byProduct}`,
        ),
  );

  const wanted = appSpecFrom(config).redirectUris;
  const missing = wanted.filter((uri) => !app.redirectUris.includes(uri));
  checks.push(
    missing.length
      ? failed(
          GROUP,
          NAMES.redirects,
          `missing ${missing.join(' and ')}`,
          `add ${missing.length === 1 ? 'it' : 'them'} as Web redirect URIs (${portal} > Authentication), ${byProduct}`,
        )
      : passed(GROUP, NAMES.redirects, wanted.join(' and ')),
  );

  const dynamics = app.requiredResourceAccess.find(
    (r) => r.resourceAppId?.toLowerCase() === DYNAMICS_CRM_APP_ID,
  );
  const hasScope = dynamics?.resourceAccess?.some(
    (a) => a.id?.toLowerCase() === DYNAMICS_USER_IMPERSONATION_SCOPE_ID && a.type === 'Scope',
  );
  checks.push(
    hasScope
      ? passed(GROUP, NAMES.permission, 'requested (delegated)')
      : failed(
          GROUP,
          NAMES.permission,
          'not requested',
          `add the delegated permission Dynamics CRM > user_impersonation (${portal} > API permissions > Add a permission), ${byProduct}`,
        ),
  );

  checks.push(await secretCheck(deps, state));
  return checks;
}

async function secretCheck(deps: DoctorDeps, state: DoctorState): Promise<DoctorCheck> {
  const { config } = deps;
  const renewBeforeDays = config.APP_SECRET_RENEW_BEFORE_DAYS;
  let expiresAt: string | null = null;
  let source = '';
  if (state.client && state.workerPolls) {
    try {
      const client = state.client;
      const status = await client.withDeadline(Date.now() + (deps.timeoutMs ?? 10_000), () =>
        client.workflow
          .getHandle(appRegistrationWorkflowId(config.APP_UNIQUE_NAME))
          .query(appRegistrationStatusQuery),
      );
      if (status.secretExpiresAt) {
        expiresAt = status.secretExpiresAt;
        source = 'the app-registration owner';
      }
    } catch {
      // No owner yet (or it does not answer): Graph says when the secrets end.
    }
  }
  if (!expiresAt) {
    const ours = (state.app?.passwordCredentials ?? []).filter((c) =>
      (c.displayName ?? '').startsWith(PRODUCT_SECRET_PREFIX),
    );
    const latest = ours
      .map((c) => c.endDateTime)
      .sort()
      .at(-1);
    if (!latest)
      return passed(
        GROUP,
        NAMES.secret,
        'no secret made by the product yet: the owner adds one when it registers the app',
      );
    expiresAt = latest;
    source = 'Graph';
  }
  const left = Date.parse(expiresAt) - Date.now();
  const days = Math.floor(left / DAY_MS);
  if (!(left > 0))
    return failed(
      GROUP,
      NAMES.secret,
      `expired at ${expiresAt} (from ${source})`,
      'run a worker: the app-registration owner replaces an expired secret in every account connector; until then sign-ins fail with AADSTS7000222',
    );
  const due =
    days < renewBeforeDays
      ? `; renewal due now (APP_SECRET_RENEW_BEFORE_DAYS ${renewBeforeDays}), the owner renews it while a worker runs`
      : '';
  return passed(
    GROUP,
    NAMES.secret,
    `ends ${expiresAt}, in ${days} day${days === 1 ? '' : 's'} (from ${source})${due}`,
  );
}
