// Plays a person with a browser: follows a link over HTTP, follows redirects, and answers the
// sign-in or consent form on the way (username plus the accept/decline button), the consent
// prompt shown after sign-in (accept, optionally for the whole organization) and the "Need admin
// approval" page (back to the app, or request approval first). Used by the
// embedded demo, the tests and the benchmark, against the simulators or any page of that shape.
// On node:http rather than fetch: the benchmark plays thousands of people on the machine it
// measures, and fetch cost several times the CPU per request.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { keepAliveAgents } from '../clients/keep-alive';

export interface PersonOptions {
  username: string;
  /** The answer on sign-in, consent and consent-prompt pages (default accept). */
  decision?: 'accept' | 'decline';
  /** On a consent prompt that offers it, tick "Consent on behalf of your organization". */
  consentForOrg?: boolean;
  /** On "Need admin approval": go back to the app (default), or request approval first. */
  approval?: 'back' | 'request';
  maxSteps?: number;
}

export interface Visit {
  url: string;
  status: number;
  body: string;
  /** Every URL the browser went through, in order. */
  trail: string[];
}

const unescape = (s: string) =>
  s.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!,
  );

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag);
  return match ? unescape(match[1]) : undefined;
}

interface PageForm {
  action: string;
  fields: Record<string, string>;
  /** Values of the submit buttons named `decision`. */
  decisions: string[];
  checkboxes: string[];
}

function parseForm(html: string): PageForm | undefined {
  const form = /<form\b[^>]*method\s*=\s*"post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  // Only Microsoft's sign-in and consent pages are answered (they carry the decision buttons);
  // any other form (such as our sign-in landing page's error box) is where the person stops.
  if (!form || !/<button\b[^>]*name\s*=\s*"decision"/i.test(form[1])) return undefined;
  const fields: Record<string, string> = {};
  const checkboxes: string[] = [];
  for (const input of form[1].match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name');
    const type = attribute(input, 'type')?.toLowerCase();
    if (name && type === 'hidden') fields[name] = attribute(input, 'value') ?? '';
    if (name && type === 'checkbox') checkboxes.push(name);
  }
  const decisions: string[] = [];
  for (const button of form[1].match(/<button\b[^>]*>/gi) ?? []) {
    const value = attribute(button, 'value');
    if (attribute(button, 'name') === 'decision' && value !== undefined) decisions.push(value);
  }
  return { action: attribute(form[0], 'action') ?? '', fields, decisions, checkboxes };
}

/** What the person presses on this page: the approval page has cancel/request, others accept/decline. */
function answer(page: PageForm, opts: PersonOptions): Record<string, string> {
  if (page.decisions.includes('cancel')) {
    return {
      decision: opts.approval === 'request' && page.decisions.includes('request') ? 'request' : 'cancel',
    };
  }
  // A page that does not offer the wanted button (the sign-in page has only accept) gets its first.
  const wanted = opts.decision ?? 'accept';
  const decision = page.decisions.length && !page.decisions.includes(wanted) ? page.decisions[0] : wanted;
  const out: Record<string, string> = { decision };
  if (opts.consentForOrg && page.checkboxes.includes('consent_for_org')) out.consent_for_org = 'true';
  return out;
}

const REQUEST_TIMEOUT_MS = 60_000;

interface Reply {
  status: number;
  location: string | undefined;
  body: string;
}

/**
 * One request. A kept-alive connection the server closes just as the request goes out fails with
 * ECONNRESET before any answer; browsers send such a request again on a new connection, and so
 * does this, once (Node's documented remedy: `request.reusedSocket`).
 */
function send(url: URL, form?: string, mayResend = true): Promise<Reply> {
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:')
    return Promise.reject(new Error(`followLink: not an http(s) URL: ${url}`));
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: form === undefined ? 'GET' : 'POST',
        agent: https ? keepAliveAgents.https : keepAliveAgents.http,
        headers:
          form === undefined
            ? {}
            : {
                'Content-Type': 'application/x-www-form-urlencoded',
                'Content-Length': Buffer.byteLength(form),
              },
      },
      (res: IncomingMessage) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`followLink: no answer from ${url.origin} in 60 s`)),
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && !answered && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      if (stale && mayResend) resolve(send(url, form, false));
      else reject(err);
    });
    req.end(form);
  });
}

export async function followLink(link: string, opts: PersonOptions): Promise<Visit> {
  const trail: string[] = [];
  let url = link;
  let form: string | undefined;
  for (let step = 0; step < (opts.maxSteps ?? 20); step++) {
    trail.push(url);
    const res = await send(new URL(url), form);
    if (res.status >= 300 && res.status < 400 && res.location) {
      url = new URL(res.location, url).toString();
      form = undefined;
      continue;
    }
    const page = res.status === 200 ? parseForm(res.body) : undefined;
    if (!page) return { url, status: res.status, body: res.body, trail };
    form = new URLSearchParams({
      ...page.fields,
      username: opts.username,
      ...answer(page, opts),
    }).toString();
    url = new URL(page.action || url, url).toString();
  }
  throw new Error(`followLink: more than ${opts.maxSteps ?? 20} steps from ${link}`);
}
