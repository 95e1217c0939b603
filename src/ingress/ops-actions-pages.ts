// Pages and page parts of the ops actions added to the onboarding's page (report a sign-in error,
// offboard) and the shared app's page (status, renew the secret now). Every value is escaped.
import type { OffboardingRecord } from '../shared/offboarding';
import type { AppRegistrationStatus, OnboardingStatus } from '../shared/status';
import { FINAL_STEPS } from '../shared/steps';
import { detailPath, layout, type PageContext } from './ops-pages';
import { escapeHtml as e } from './pages';

export const APP_PATH = '/ops/app';

const when = (d: string | null | undefined) =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '';

const csrfField = (ctx: PageContext) => `<input type="hidden" name="csrf" value="${e(ctx.csrf ?? '')}">`;

/** The account's offboarding as its page shows it. */
export type OffboardingView =
  | { state: 'none' }
  | { state: 'running' }
  | { state: 'done'; record: OffboardingRecord }
  | { state: 'failed'; message: string };

const FLASH: Record<string, string> = {
  signInErrorReported: 'The sign-in error was sent; the onboarding classifies it (see the last error below)',
  offboarded: 'Offboarded',
  offboarding: 'The offboarding has started; this page shows its record when it is done',
};

/** What the onboarding's page adds: flashes, the offboarding's record, and the two action forms. */
export function actionsPanel(
  ctx: PageContext,
  account: string,
  status: OnboardingStatus,
  runStatus: string,
  offboarding: OffboardingView,
  sent: string | undefined,
): string {
  const running = runStatus === 'RUNNING';
  const flash =
    sent && Object.hasOwn(FLASH, sent)
      ? `<p class="card flash">${e(FLASH[sent])} (as ${e(ctx.session?.by ?? '')}).</p>`
      : '';
  const signInErrorForm =
    running && !FINAL_STEPS.includes(status.step)
      ? `<form class="card" method="post" action="${detailPath(account)}/signin-error">
<h2>Report a sign-in error</h2>${csrfField(ctx)}
<p class="muted">Paste the error the customer's user saw while signing in (for example "AADSTS65001: The user or administrator has not consented..."). The onboarding classifies it and says what to do.</p>
<label for="signin-error-text">Error text</label><textarea id="signin-error-text" name="text" rows="3" maxlength="4000" required></textarea>
<button type="submit">Report the error…</button></form>`
      : '';
  const offboardForm =
    offboarding.state === 'done' || offboarding.state === 'running'
      ? ''
      : `<form class="card" method="post" action="${detailPath(account)}/offboard">
<h2>Offboard</h2>${csrfField(ctx)}
<p class="muted">Deauthenticates and deletes this account's Dynamics connector in Cyclr and stops the shared app's secret renewals writing there. Recorded with your name. A later onboarding of the account starts afresh.</p>
${
  running
    ? `<p><label><input type="checkbox" name="cancelRunning" value="yes"> Cancel the running onboarding first (step ${e(status.step)})</label></p>`
    : ''
}
<button type="submit">Offboard…</button></form>`;
  return `${flash}${offboardingCard(offboarding)}${
    signInErrorForm || offboardForm ? `<div class="actions">${signInErrorForm}${offboardForm}</div>` : ''
  }`;
}

function offboardingCard(view: OffboardingView): string {
  if (view.state === 'none') return '';
  if (view.state === 'running')
    return `<div class="card" id="offboarding"><h2>Offboarding</h2><p>Under way: its Cyclr calls are retried until they answer. Reload to see its record.</p></div>`;
  if (view.state === 'failed')
    return `<div class="card error" id="offboarding"><h2>Offboarding failed</h2><p>${e(view.message)}</p><p class="muted">Nothing more was changed; you can offboard again.</p></div>`;
  const r = view.record;
  const removed = r.removedAccountConnectorIds;
  return `<div class="card flash" id="offboarding"><h2>Offboarded</h2><dl>
<dt>By</dt><dd>${e(r.by)}</dd><dt>When</dt><dd>${when(r.at)}</dd>
<dt>In Cyclr</dt><dd>${e(
    !r.cyclrAccountFound
      ? 'the account no longer exists there: nothing to remove'
      : removed.length
        ? `Dynamics account connector ${removed.join(', ')} deauthenticated and deleted`
        : 'no Dynamics account connector was installed',
  )}</dd>
<dt>Onboarding</dt><dd>${e(r.cancelledOnboarding ? 'was running: cancelled first' : 'had ended')}</dd>
<dt>Shared app</dt><dd>${e(r.ownerNotified ? 'its owner no longer replaces the secret in this account' : 'no app registration yet')}</dd>
</dl><p class="muted">A new onboarding of this account starts afresh.</p></div>`;
}

/** The confirmation before an action is taken. */
export function confirmActionPage(
  ctx: PageContext,
  action: string,
  summary: string,
  fields: Record<string, string>,
  back: string,
): string {
  const hidden = Object.entries({ ...fields, csrf: ctx.csrf ?? '', confirm: 'yes' })
    .map(([k, v]) => `<input type="hidden" name="${e(k)}" value="${e(v)}">`)
    .join('');
  return layout(
    ctx,
    'Confirm',
    `<h1>Confirm</h1><form class="card" method="post" action="${e(action)}">${hidden}
<p>${e(summary)}</p><p class="muted">Done as <b>${e(ctx.session?.by ?? '')}</b> and recorded in the workflow history.</p>
<button type="submit" id="confirm">Confirm</button>
<a class="button secondary" href="${e(back)}">Cancel</a></form>`,
  );
}

/** The shared app registration: its status and the renewal form. */
export function appPage(
  ctx: PageContext,
  status: AppRegistrationStatus | null,
  sent: string | undefined,
): string {
  if (!status)
    return layout(
      ctx,
      'Shared app',
      `<h1>Shared app registration</h1><p class="card muted">No app registration yet: the first onboarding registers the shared app.</p>`,
    );
  const renewals = status.rotations
    .slice()
    .reverse()
    .map(
      (r) =>
        `<tr><td class="when">${when(r.at)}</td><td>${e(r.oldKeyId ?? '')}</td><td>${e(r.newKeyId)}</td><td>${e(r.reason)}</td></tr>`,
    )
    .join('\n');
  return layout(
    ctx,
    'Shared app',
    `<h1>Shared app registration</h1>
${sent === 'renewed' ? `<p class="card flash">The secret was renewed (as ${e(ctx.session?.by ?? '')}); every account connector holding it now has the new one, and the old one is removed.</p>` : ''}
<div class="card"><dl id="app-status">
<dt>App id</dt><dd>${e(status.appId ?? 'not registered yet')}</dd>
${status.adopted ? `<dt>Adopted</dt><dd>registered by hand; changed: ${e(status.adopted.changed.join(', ') || 'nothing')}</dd>` : ''}
<dt>Client secret</dt><dd>${e(status.secretKeyId ?? 'none')}</dd>
<dt>Expires</dt><dd>${when(status.secretExpiresAt)}</dd>
<dt>Renewal date</dt><dd>${when(status.renewAt)}</dd>
<dt>Holders</dt><dd>${status.holders} account connector${status.holders === 1 ? '' : 's'} hold${status.holders === 1 ? 's' : ''} the secret</dd>
</dl></div>
${status.lastError ? `<div class="card error"><h2>Last error</h2><p>${e(status.lastError)}</p></div>` : ''}
${
  status.appId
    ? `<form class="card" method="post" action="${APP_PATH}/renew">
<h2>Renew the secret now</h2>${csrfField(ctx)}
<p class="muted">A new client secret is added, put into every account connector holding the current one, then the current one is removed. Use it when the secret may have leaked, or before its end.</p>
<button type="submit">Renew the secret now…</button></form>`
    : ''
}
<h2>Renewals</h2>
${renewals ? `<table id="renewals"><thead><tr><th>When</th><th>Old secret</th><th>New secret</th><th>Why</th></tr></thead><tbody>${renewals}</tbody></table>` : '<p class="card muted">None yet.</p>'}`,
  );
}
