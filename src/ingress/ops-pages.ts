// Server-rendered ops pages: sign-in, onboardings by step, one onboarding with its actions, and the
// confirmation before a signal is sent. Every value is escaped.
import type { OnboardingStatus } from '../shared/status';
import { STEPS, type Step } from '../shared/steps';
import type { OpsSession } from './ops-auth';
import { escapeHtml as e } from './pages';

export interface OnboardingRow {
  account: string;
  step: Step | 'starting';
  runStatus: string;
  startTime: Date;
  waitingReason: string | null;
  lastError: string | null;
}

export interface PageContext {
  session?: OpsSession;
  csrf?: string;
  /** Seconds between automatic reloads of the page. */
  refresh?: number;
  /** URL answering the onboarding's `version`; the page reloads when the answer changes. */
  watch?: { url: string; version: string };
  /** Go on to this page of ours at once (a same-site navigation, after a sign-in). */
  continueTo?: string;
}

const when = (d: Date | string | null | undefined) =>
  d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '';

export const detailPath = (account: string) => `/ops/onboardings/${encodeURIComponent(account)}`;

/** Changes whenever what the onboarding's page shows changes. */
export const statusVersion = (status: OnboardingStatus) =>
  `${status.step}|${status.waitingFor ?? ''}|${status.signInAttempt}|${status.timeline.length}|${status.lastError?.at ?? ''}`;

export function layout(ctx: PageContext, title: string, body: string): string {
  const who = ctx.session
    ? `<span class="who">Signed in as <b>${e(ctx.session.by)}</b></span>
<form method="post" action="/ops/logout"><input type="hidden" name="csrf" value="${e(ctx.csrf ?? '')}"><button>Sign out</button></form>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
${ctx.continueTo ? `<meta http-equiv="refresh" content="0;url=${e(ctx.continueTo)}">` : ''}
<title>${e(title)} · Dynamics onboarding ops</title><link rel="stylesheet" href="/ops/assets/ops.css"></head>
<body${ctx.refresh ? ` data-refresh="${ctx.refresh}"` : ''}${ctx.watch ? ` data-watch="${e(ctx.watch.url)}" data-version="${e(ctx.watch.version)}"` : ''}><header><a href="/ops">Dynamics CRM onboarding · ops</a>${ctx.session ? '<a href="/ops/app">Shared app</a><a href="/ops/doctor">Setup check</a>' : ''}${who}</header>
<main>${body}</main><script src="/ops/assets/ops.js"></script></body></html>`;
}

export function loginPage(opts: { problem?: string; name?: string; next?: string }): string {
  return layout(
    {},
    'Sign in',
    `<h1>Sign in</h1>
<div class="card">
${opts.problem ? `<p class="problem card">${e(opts.problem)}</p>` : ''}
<form method="post" action="/ops/login">
<input type="hidden" name="next" value="${e(opts.next ?? '/ops')}">
<label for="name">Your name or e-mail</label>
<input type="text" id="name" name="name" value="${e(opts.name ?? '')}" autocomplete="username" required>
<p class="muted">Recorded in the onboarding's history with every action you take.</p>
<label for="token">Ops token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<div><button type="submit">Sign in</button></div>
</form></div>`,
  );
}

/** Where the "Sign in with Microsoft" link starts the OpenID Connect sign-in. */
export const oidcStartPath = (next: string, prompt?: 'select_account') =>
  `/ops/oidc/start?${new URLSearchParams({ next, ...(prompt ? { prompt } : {}) })}`;

/** The sign-in page when the ops page signs people in with OpenID Connect: no token, no name field. */
export function oidcLoginPage(opts: {
  issuer: string;
  next?: string;
  problem?: string;
  /** Just signed out: offer to end the Microsoft session in this browser too. */
  signedOut?: { endSessionUrl?: string };
}): string {
  const next = opts.next ?? '/ops';
  return layout(
    {},
    'Sign in',
    `<h1>Sign in</h1>
<div class="card">
${opts.problem ? `<p class="problem card">${e(opts.problem)}</p>` : ''}
${opts.signedOut ? `<p class="flash card" id="signed-out">You are signed out of the ops page.</p>` : ''}
<p>Sign in with your work account. Your verified name is recorded in the onboarding's history with every action you take.</p>
<a class="button" id="oidc-sign-in" href="${e(oidcStartPath(next))}">Sign in with Microsoft</a>
<p class="muted">Identity provider: ${e(opts.issuer)}</p>
${
  opts.signedOut?.endSessionUrl
    ? `<p class="muted">Your Microsoft account may still be signed in in this browser: <a id="end-session" href="${e(opts.signedOut.endSessionUrl)}">sign out of Microsoft too</a>.</p>`
    : ''
}
</div>`,
  );
}

/** A sign-in that did not let the person in: what happened, and a way to try again. */
export function oidcProblemPage(
  title: string,
  paragraphs: string[],
  retry: { href: string; label: string },
): string {
  return layout(
    {},
    title,
    `<h1>${e(title)}</h1><div class="card problem" id="sign-in-problem">${paragraphs.map((p) => `<p>${e(p)}</p>`).join('')}</div>
<a class="button" id="retry" href="${e(retry.href)}">${e(retry.label)}</a>`,
  );
}

/**
 * After a sign-in: the session cookie is SameSite=Strict, and a browser does not send it on the
 * redirect that ends a chain started on the identity provider's site; a navigation from this page
 * (refresh, or the link) is same-site, so it does.
 */
export function signedInPage(ctx: PageContext, next: string): string {
  return layout(
    { ...ctx, continueTo: next },
    'Signed in',
    `<h1>Signed in</h1><p class="card flash">Signed in as <b>${e(ctx.session?.by ?? '')}</b>.</p>
<a class="button" id="continue" href="${e(next)}">Continue to the ops page</a>`,
  );
}

export function messagePage(ctx: PageContext, title: string, paragraphs: string[], back?: string): string {
  return layout(
    ctx,
    title,
    `<h1>${e(title)}</h1><div class="card problem">${paragraphs.map((p) => `<p>${e(p)}</p>`).join('')}</div>
${back ? `<a class="button secondary" href="${e(back)}">Back</a>` : ''}`,
  );
}

export function listPage(ctx: PageContext, filter: Step | undefined, rows: OnboardingRow[]): string {
  const tabs = [
    `<a href="/ops"${filter ? '' : ' class="on"'}>All</a>`,
    ...STEPS.map((s) => `<a href="/ops?step=${s}"${filter === s ? ' class="on"' : ''}>${e(s)}</a>`),
  ].join('');
  const groups = (['starting', ...STEPS] as const)
    .map((step) => ({ step, rows: rows.filter((r) => r.step === step) }))
    .filter((g) => g.rows.length);
  const table = (
    group: (typeof groups)[number],
  ) => `<h2><span class="step ${group.step}">${e(group.step)}</span>
<span class="muted">${group.rows.length}</span></h2>
<table><thead><tr><th>Account</th><th>Waiting for</th><th>Last error</th><th>Started</th></tr></thead><tbody>
${group.rows
  .map(
    (r) => `<tr><td class="account"><a href="${detailPath(r.account)}">${e(r.account)}</a></td>
<td>${e(r.waitingReason ?? (r.runStatus === 'RUNNING' ? '' : r.runStatus.toLowerCase()))}</td>
<td>${e(r.lastError ?? '')}</td><td class="when">${when(r.startTime)}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
  return layout(
    ctx,
    'Onboardings',
    `<h1>Onboardings</h1><nav class="tabs">${tabs}</nav>
${groups.length ? groups.map(table).join('\n') : `<p class="card muted">No onboardings${filter ? ` at step ${e(filter)}` : ''}.</p>`}`,
  );
}

const linkBox = (id: string, label: string, url: string | null) =>
  url
    ? `<div><b>${e(label)}</b><div class="link"><input id="${id}" readonly value="${e(url)}"><button type="button" class="secondary" data-copy="${id}">Copy</button></div></div>`
    : '';

const SENT: Record<string, string> = {
  consentGranted: 'consentGranted sent',
  resourceCorrected: 'resourceCorrected sent',
};

export function detailPage(
  ctx: PageContext,
  account: string,
  status: OnboardingStatus,
  runStatus: string,
  sent: string | undefined,
  /** More actions and records (ops-actions.ts), after the signals' forms. */
  extra = '',
): string {
  const csrf = `<input type="hidden" name="csrf" value="${e(ctx.csrf ?? '')}">`;
  const consentForm =
    status.waitingFor === 'consent'
      ? `<form class="card" method="post" action="${detailPath(account)}/consent">${csrf}
<h2>Consent granted</h2>
<p class="muted">Use when the customer's admin granted consent another way (Azure portal: Enterprise applications &gt; the app &gt; Permissions &gt; Grant admin consent).</p>
<label for="note">Note (optional)</label><textarea id="note" name="note" rows="2" maxlength="1000"></textarea>
<button type="submit">Mark consent granted…</button></form>`
      : '';
  const resourceForm =
    status.waitingFor === 'resource-fix' || status.waitingFor === 'sign-in'
      ? `<form class="card" method="post" action="${detailPath(account)}/resource">${csrf}
<h2>Correct the Resource URL</h2>
<p class="muted">The customer's Dynamics org URL, from their browser's address bar (like https://mycompany.crm4.dynamics.com). Now: ${e(status.resourceUrl)}</p>
<label for="resourceUrl">Dynamics org URL</label><input type="url" id="resourceUrl" name="resourceUrl" placeholder="https://mycompany.crm4.dynamics.com" required>
<button type="submit">Send corrected URL…</button></form>`
      : '';
  const err = status.lastError;
  return layout(
    ctx,
    account,
    `<p><a href="/ops">&larr; All onboardings</a></p>
<h1>${e(account)} <span class="step ${status.step}" id="step">${e(status.step)}</span></h1>
${sent && Object.hasOwn(SENT, sent) ? `<p class="card flash">${e(SENT[sent])} as ${e(ctx.session?.by ?? '')}; it is recorded in the workflow history.</p>` : ''}
<div class="card"><dl>
<dt>Workflow</dt><dd>${e(status.workflowId)} <span class="muted">(${e(runStatus.toLowerCase())})</span></dd>
<dt>Customer tenant</dt><dd>${e(status.customerTenant)}</dd>
<dt>Dynamics org</dt><dd>${e(status.resourceUrl)}</dd>
${status.appId ? `<dt>App id</dt><dd>${e(status.appId)}</dd>` : ''}
${status.waitingReason ? `<dt>Waiting for</dt><dd><b>${e(status.waitingFor ?? '')}</b>: ${e(status.waitingReason)}</dd>` : ''}
${status.waitDeadline ? `<dt>Deadline</dt><dd>${when(status.waitDeadline)}</dd>` : ''}
</dl>
${status.waitingFor === 'consent' ? linkBox('consent-link', "Admin consent link (for a Global Administrator of the customer's tenant)", status.consentUrl) : ''}
${status.waitingFor === 'sign-in' ? linkBox('signin-link', "Sign-in link (for a user of the customer's tenant)", status.signInUrl) : ''}
</div>
${
  err
    ? `<div class="card error" id="last-error"><h2>Last error</h2>
<p><span class="code">${err.code ? `AADSTS${err.code}` : e(err.name)}</span> ${e(err.name)} · ${e(err.class)} · ${when(err.at)}</p>
<p>${e(err.message)}</p><p><b>What to do:</b> ${e(err.remediation)}</p></div>`
    : ''
}
${consentForm || resourceForm ? `<div class="actions">${consentForm}${resourceForm}</div>` : ''}
${extra}
<h2>Timeline</h2>
<table id="timeline"><thead><tr><th>When</th><th>Step</th><th>Event</th><th>Detail</th></tr></thead><tbody>
${status.timeline
  .map(
    (t) =>
      `<tr><td class="when">${when(t.at)}</td><td>${e(t.step)}</td><td>${e(t.event)}</td><td>${e(t.detail ?? '')}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`,
  );
}

export function confirmPage(
  ctx: PageContext,
  account: string,
  action: 'consent' | 'resource',
  summary: string,
  fields: Record<string, string>,
): string {
  const hidden = Object.entries({ ...fields, csrf: ctx.csrf ?? '', confirm: 'yes' })
    .map(([k, v]) => `<input type="hidden" name="${e(k)}" value="${e(v)}">`)
    .join('');
  return layout(
    ctx,
    'Confirm',
    `<h1>Confirm</h1><form class="card" method="post" action="${detailPath(account)}/${action}">${hidden}
<p>${e(summary)}</p><p class="muted">Sent as <b>${e(ctx.session?.by ?? '')}</b> and recorded in the workflow history.</p>
<button type="submit" id="confirm">Confirm and send</button>
<a class="button secondary" href="${detailPath(account)}">Cancel</a></form>`,
  );
}
