// The one owner of the partner's shared multi-tenant app registration. Onboardings ask it for
// credentials (signal-with-start); it registers the app, its service principal and a client
// secret once, then hands the same credentials to every requester. Serialising here is what keeps
// fifty simultaneous onboardings from creating fifty secrets.
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AppSpec } from '../activities/graph';
import type { AppCredentials, AppCredentialsDelivery } from '../shared/app-credentials';
import { appCredentialsRequestedSignal, appRegistrationStatusQuery } from '../shared/messages';
import { activities } from './activity-options';

export interface AppRegistrationInput {
  spec: AppSpec;
  credentials?: AppCredentials;
  pending?: string[];
}

/** A secret this close to its end is not handed out: a new one is made first. */
const RENEW_BEFORE_MS = 14 * 86_400_000;

export async function dynamicsAppRegistration(input: AppRegistrationInput): Promise<never> {
  let credentials = input.credentials;
  const pending = new Set(input.pending ?? []);
  let lastError: string | null = null;

  setHandler(appCredentialsRequestedSignal, (request) => {
    if (typeof request?.replyTo === 'string' && request.replyTo) pending.add(request.replyTo);
  });
  setHandler(appRegistrationStatusQuery, () => ({
    appId: credentials?.appId ?? null,
    secretKeyId: credentials?.secret.credentialKeyId ?? null,
    secretExpiresAt: credentials?.secret.expiresAt ?? null,
    pendingRequests: pending.size,
    lastError,
  }));

  const usable = (c: AppCredentials | undefined): c is AppCredentials =>
    !!c && Date.parse(c.secret.expiresAt) - Date.now() > RENEW_BEFORE_MS;

  for (;;) {
    await condition(() => pending.size > 0);
    let delivery: AppCredentialsDelivery;
    try {
      if (!usable(credentials)) credentials = await register(input.spec, credentials);
      delivery = { ok: true, credentials };
      lastError = null;
    } catch (err) {
      const failure = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
      const message = failure instanceof Error ? failure.message : String(err);
      const errorType = failure instanceof ApplicationFailure ? (failure.type ?? 'Error') : 'Error';
      log.error('App registration failed', { message });
      lastError = message;
      delivery = { ok: false, errorType, message };
    }
    const batch = [...pending];
    pending.clear();
    await activities.deliverAppCredentials({ replyTo: batch, delivery });

    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000) {
      await continueAsNew<typeof dynamicsAppRegistration>({
        spec: input.spec,
        credentials,
        pending: [...pending],
      });
    }
  }
}

async function register(spec: AppSpec, previous: AppCredentials | undefined): Promise<AppCredentials> {
  const app = await activities.ensureApplication(spec);
  const sp = await activities.ensureServicePrincipal(app.appId);
  const secret = await activities.createClientSecret({
    objectId: app.objectId,
    uniqueName: spec.uniqueName,
    lifetimeDays: spec.secretLifetimeDays,
  });
  if (previous && previous.appId === app.appId) {
    // Renewal: the old secret stays valid until it lapses, so accounts holding it keep working.
    log.info('Client secret renewed', { old: previous.secret.credentialKeyId, new: secret.credentialKeyId });
  }
  return { appId: app.appId, objectId: app.objectId, servicePrincipalId: sp.servicePrincipalId, secret };
}
