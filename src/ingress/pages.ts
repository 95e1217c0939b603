// Minimal server-rendered pages for the people who follow our links. Every value is escaped; the
// only inline code is each page's stylesheet, allowed by its hash in the Content-Security-Policy.
import { createHash } from 'node:crypto';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const PAGE_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}';
const LANDING_STYLE = `${PAGE_STYLE}textarea{width:100%}`;

const styleHash = (css: string) => `'sha256-${createHash('sha256').update(css).digest('base64')}'`;

/** The policy of the public pages: nothing but their own stylesheet, no framing, forms to us only. */
export const PUBLIC_PAGE_CSP = `default-src 'none'; style-src ${styleHash(PAGE_STYLE)} ${styleHash(LANDING_STYLE)}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

export function page(title: string, paragraphs: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${PAGE_STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}</body></html>`;
}

/**
 * The page the user lands on when the sign-in (Cyclr's targetOrigin) did not connect: what we know
 * so far, a link to where the onboarding stands, and a box for the error Microsoft showed, if any.
 */
export function signInLandingPage(o: { state: string; statusUrl: string; hint?: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>The sign-in did not complete</title>
<style>${LANDING_STYLE}</style></head>
<body><h1>The sign-in did not complete</h1>
<p>Cyclr does not show Dynamics CRM as connected yet. The onboarding is checking why; <a href="${escapeHtml(o.statusUrl)}">see where it stands</a>.</p>
${o.hint ? `<p>${escapeHtml(o.hint)}</p>` : ''}
<form method="post" action="/callbacks/signin/report">
<input type="hidden" name="state" value="${escapeHtml(o.state)}">
<p><label for="error_text">If Microsoft showed you an error (such as "AADSTS65001: ..."), paste it here so we can tell you what to do:</label></p>
<textarea id="error_text" name="error_text" rows="5" maxlength="4000"></textarea>
<p><button type="submit">Report the error</button></p>
</form></body></html>`;
}
