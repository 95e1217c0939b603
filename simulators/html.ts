// HTML pages. Interactive pages follow one convention the tests and the demo rely on:
// exactly one <form method="post" action="...">, hidden inputs carrying the original request
// parameters, one <input type="text" name="username">, and submit buttons named "decision".
import type { AadTrailer } from './errors.js';
import { escapeHtml as esc } from './util.js';

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body>
${body}
</body>
</html>
`;
}

function hiddenInputs(params: Record<string, string>): string {
  return Object.entries(params)
    .filter(([name]) => !['username', 'decision', 'ctx', 'consent_for_org', 'justification'].includes(name))
    .map(([name, value]) => `  <input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('\n');
}

export interface SignInPageInput {
  action: string;
  params: Record<string, string>;
  appName: string;
  tenantLabel: string;
}

export function signInPage(p: SignInPageInput): string {
  return page(
    'Sign in to your account',
    `<h1>Sign in</h1>
<p>to continue to <strong id="app-name">${esc(p.appName)}</strong> (${esc(p.tenantLabel)})</p>
<form method="post" action="${esc(p.action)}">
${hiddenInputs(p.params)}
  <label>Email <input type="text" name="username"></label>
  <button type="submit" name="decision" value="accept">Sign in</button>
</form>`,
  );
}

export interface ConsentPageInput extends SignInPageInput {
  permissions: string[];
}

export function consentPage(p: ConsentPageInput): string {
  const perms = p.permissions.map((x) => `  <li class="permission">${esc(x)}</li>`).join('\n');
  return page(
    'Permissions requested',
    `<h1>Permissions requested</h1>
<p>Accept for your organization (${esc(p.tenantLabel)})</p>
<p><strong id="app-name">${esc(p.appName)}</strong> needs permission to:</p>
<ul id="permissions">
${perms}
</ul>
<p>If you accept, this app will get access to the specified resources for all users in your organization.</p>
<form method="post" action="${esc(p.action)}">
${hiddenInputs(p.params)}
  <label>Administrator account <input type="text" name="username"></label>
  <button type="submit" name="decision" value="accept">Accept</button>
  <button type="submit" name="decision" value="decline">Cancel</button>
</form>`,
  );
}

export interface AfterSignInPageInput {
  action: string;
  params: Record<string, string>;
  /** The signed-in user's flow id between pages (hidden input `ctx`). */
  ctx: string;
  appName: string;
  tenantLabel: string;
  username: string;
}

function ctxInput(ctx: string): string {
  return `  <input type="hidden" name="ctx" value="${esc(ctx)}">`;
}

/**
 * The consent prompt shown during sign-in when no consent covers the user yet: an admin may tick
 * "Consent on behalf of your organization"; a user who may consent consents for themselves only.
 */
export function consentPromptPage(
  p: AfterSignInPageInput & { permissions: string[]; forOrg: boolean },
): string {
  const perms = p.permissions.map((x) => `  <li class="permission">${esc(x)}</li>`).join('\n');
  const org = p.forOrg
    ? `\n  <label><input type="checkbox" name="consent_for_org" value="true"> Consent on behalf of your organization</label>`
    : '';
  return page(
    'Permissions requested',
    `<h1>Permissions requested</h1>
<div id="consent-prompt" data-kind="${p.forOrg ? 'admin' : 'user'}">
<p><strong id="app-name">${esc(p.appName)}</strong> (${esc(p.tenantLabel)})</p>
<p>Signed in as <span id="signed-in-as">${esc(p.username)}</span></p>
<p>This app would like to:</p>
<ul id="permissions">
${perms}
</ul>
<form method="post" action="${esc(p.action)}">
${hiddenInputs(p.params)}
${ctxInput(p.ctx)}${org}
  <button type="submit" name="decision" value="accept">Accept</button>
  <button type="submit" name="decision" value="decline">Cancel</button>
</form>
</div>`,
  );
}

/** "Need admin approval": the user may not consent. With the admin consent workflow, a request form. */
export function approvalPage(p: AfterSignInPageInput & { workflow: boolean }): string {
  const request = p.workflow
    ? `\n  <label>Justification <textarea name="justification"></textarea></label>
  <button type="submit" name="decision" value="request">Request approval</button>`
    : '';
  return page(
    p.workflow ? 'Approval required' : 'Need admin approval',
    `<h1>${p.workflow ? 'Approval required' : 'Need admin approval'}</h1>
<div id="admin-approval" data-workflow="${p.workflow}">
<p><strong id="app-name">${esc(p.appName)}</strong> needs permission to access resources in your organization (${esc(p.tenantLabel)}) that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.</p>
<p>Signed in as <span id="signed-in-as">${esc(p.username)}</span></p>
<form method="post" action="${esc(p.action)}">
${hiddenInputs(p.params)}
${ctxInput(p.ctx)}${request}
  <button type="submit" name="decision" value="cancel">${p.workflow ? 'Back to app' : 'Return to the application without granting consent'}</button>
</form>
</div>`,
  );
}

/** After "Request approval": the request is recorded; the only way on is back to the app. */
export function approvalRequestedPage(p: AfterSignInPageInput & { requestId: string }): string {
  return page(
    'Request sent',
    `<h1>Request sent</h1>
<div id="approval-requested" data-request-id="${esc(p.requestId)}">
<p>Your request to use <strong id="app-name">${esc(p.appName)}</strong> was sent to the admins of ${esc(p.tenantLabel)}. You will be notified when it is reviewed.</p>
<form method="post" action="${esc(p.action)}">
${hiddenInputs(p.params)}
${ctxInput(p.ctx)}
  <button type="submit" name="decision" value="cancel">Back to app</button>
</form>
</div>`,
  );
}

/** The page after sign-out when no post_logout_redirect_uri was given. */
export function signedOutPage(): string {
  return page(
    'Sign out',
    '<h1>You signed out of your account</h1>\n<p id="signed-out">It\'s a good idea to close all browser windows.</p>',
  );
}

/** The Microsoft sign-in error page (errors that are not redirected, e.g. AADSTS50011). */
export function loginErrorPage(code: number, message: string, t: AadTrailer): string {
  return page(
    'Sign in to your account',
    `<h1>Sorry, but we're having trouble signing you in.</h1>
<div id="error" data-error-code="${code}">
<p>Request Id: ${esc(t.traceId)}</p>
<p>Correlation Id: ${esc(t.correlationId)}</p>
<p>Timestamp: ${esc(t.timestamp.replace(' ', 'T'))}</p>
<p>Message: <span id="message">AADSTS${code}: ${esc(message)}</span></p>
</div>`,
  );
}

/** A Cyclr service-domain error page. */
export function cyclrErrorPage(message: string): string {
  return page('Error', `<h1>Error</h1>\n<p id="message">${esc(message)}</p>`);
}

export interface CallbackOutcome {
  success: boolean;
  accountConnectorId: number;
  error?: string;
  errorDescription?: string;
}

/** The page Cyclr shows when `callbackMessage` was given: posts the message to the opener. */
export function postMessagePage(o: CallbackOutcome, callbackMessage: string, targetOrigin: string): string {
  const attrs = [
    `data-success="${o.success}"`,
    `data-account-connector-id="${o.accountConnectorId}"`,
    o.error !== undefined ? `data-error="${esc(o.error)}"` : '',
    o.errorDescription !== undefined ? `data-error-description="${esc(o.errorDescription)}"` : '',
  ]
    .filter(Boolean)
    .join(' ');
  // JSON.stringify + escaping '<' keeps the inline script safe.
  const js = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');
  return page(
    'Authentication complete',
    `<div id="result" ${attrs}>${o.success ? 'Authentication succeeded.' : 'Authentication failed.'}</div>
<script>
  (function () {
    var target = window.opener || window.parent;
    if (target && target !== window) target.postMessage(${js(callbackMessage)}, ${js(targetOrigin)});
    window.close();
  })();
</script>`,
  );
}
