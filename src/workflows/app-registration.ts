// The one owner of the partner's shared multi-tenant app registration. It registers the app (or
// adopts one registered by hand), its service principal and a client secret once, and hands the
// same credentials to every onboarding: serialising here is what keeps fifty simultaneous
// onboardings from creating fifty secrets. It also owns the secret's lifecycle: before the
// secret's end, when ops ask, or when an onboarding reports that Microsoft rejected it, it adds a
// new secret, puts it into the ClientSecret of every account connector holding the old one, and
// only then removes the old one.
import { allHandlersFinished, condition, continueAsNew, log } from '@temporalio/workflow';
import type { AppSpec } from '../activities/graph';
import type { AppCredentials } from '../shared/app-credentials';
import { activities } from './activity-options';
import { AppOwner, type AppRegistrationInput } from './app-owner';

export type { AppRegistrationInput } from './app-owner';

export async function dynamicsAppRegistration(input: AppRegistrationInput): Promise<never> {
  const owner = new AppOwner(input);
  for (;;) {
    const renewAt = owner.renewAt();
    await condition(
      () => owner.workToDo() || owner.historyFull(),
      renewAt === undefined ? undefined : Math.max(renewAt - Date.now(), 1),
    );
    if (owner.workToDo()) await owner.attempt(() => serve(owner));
    else if (owner.historyFull()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof dynamicsAppRegistration>(owner.carryOver());
    }
  }
}

/** Registers the app when there is none; otherwise replaces a rejected secret or renews a due one. */
async function serve(owner: AppOwner): Promise<void> {
  if (!owner.credentials) {
    owner.credentials = await register(owner, undefined);
    return;
  }
  const rejected = owner.rejected;
  if (rejected && rejected.keyId === owner.credentials.secret.credentialKeyId)
    await rotate(owner, `Microsoft rejected the secret: ${rejected.reason}`);
  else if (owner.renewalAsked) await rotate(owner, `renewed now by ${owner.renewalAsked}`);
  else if (!owner.usable())
    await rotate(
      owner,
      `renewal ${Math.round(owner.renewBeforeMs / 86_400_000)} days before the secret's end`,
    );
  // A rejected secret that is no longer the current one: requesters just get the current one.
  owner.rejected = null;
  owner.renewalAsked = null;
}

/**
 * New secret, then every holder's ClientSecret, then the old secret removed: a holder is never
 * left with a secret that no longer exists.
 */
async function rotate(owner: AppOwner, reason: string): Promise<void> {
  const old = owner.credentials!;
  owner.lastRenewal = Date.now();
  const fresh = await register(owner, old);
  const stale = [...owner.holders.values()].filter((h) => h.credentialKeyId !== fresh.secret.credentialKeyId);
  const { updated, gone } = stale.length
    ? await activities.installClientSecret({ holders: stale, clientSecret: fresh.secret })
    : { updated: [], gone: [] };
  for (const accountId of gone) owner.holders.delete(accountId);
  owner.installedFor = new Set();
  for (const accountId of updated) {
    const holder = owner.holders.get(accountId);
    if (!holder) continue;
    owner.holders.set(accountId, { ...holder, credentialKeyId: fresh.secret.credentialKeyId });
    owner.installedFor.add(holder.workflowId);
  }
  owner.credentials = fresh;
  if (old.appId === fresh.appId && old.secret.credentialKeyId !== fresh.secret.credentialKeyId)
    await activities.removeClientSecret({
      objectId: fresh.objectId,
      credentialKeyId: old.secret.credentialKeyId,
    });
  owner.recordRotation({
    at: new Date().toISOString(),
    reason,
    oldKeyId: old.secret.credentialKeyId,
    newKeyId: fresh.secret.credentialKeyId,
  });
  log.info('Client secret replaced', {
    reason,
    old: old.secret.credentialKeyId,
    new: fresh.secret.credentialKeyId,
    holders: updated.length,
  });
}

/** The app (created by uniqueName, or adopted by APP_ID), its service principal and a new secret. */
async function register(owner: AppOwner, previous: AppCredentials | undefined): Promise<AppCredentials> {
  const spec: AppSpec = owner.input.spec;
  let app: { appId: string; objectId: string };
  if (spec.appId) {
    const adopted = await activities.adoptApplication({ appId: spec.appId, spec });
    if (!owner.adopted || adopted.changed.length) {
      owner.adopted = { changed: adopted.changed };
      log.info('App registration adopted', { appId: adopted.appId, changed: adopted.changed });
    }
    app = adopted;
  } else app = await activities.ensureApplication(spec);
  const sp = await activities.ensureServicePrincipal(app.appId);
  const secret = await activities.createClientSecret({
    objectId: app.objectId,
    appId: app.appId,
    lifetimeDays: spec.secretLifetimeDays,
    from: new Date().toISOString(),
  });
  if (previous?.appId === app.appId)
    log.info('Client secret renewed', { old: previous.secret.credentialKeyId, new: secret.credentialKeyId });
  return { appId: app.appId, objectId: app.objectId, servicePrincipalId: sp.servicePrincipalId, secret };
}
