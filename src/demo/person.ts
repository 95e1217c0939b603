// Plays a person with a browser: follows a link over HTTP, follows redirects, and answers the
// sign-in or consent form on the way (username plus the accept/decline button). Used by the
// embedded demo, the tests and the benchmark, against the simulators or any page of that shape.

export interface PersonOptions {
  username: string;
  decision?: 'accept' | 'decline';
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

function parseForm(html: string): { action: string; fields: Record<string, string> } | undefined {
  const form = /<form\b[^>]*method\s*=\s*"post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of form[1].match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name');
    if (name && attribute(input, 'type')?.toLowerCase() === 'hidden')
      fields[name] = attribute(input, 'value') ?? '';
  }
  return { action: attribute(form[0], 'action') ?? '', fields };
}

export async function followLink(link: string, opts: PersonOptions): Promise<Visit> {
  const trail: string[] = [];
  let url = link;
  let init: RequestInit = { method: 'GET' };
  for (let step = 0; step < (opts.maxSteps ?? 20); step++) {
    trail.push(url);
    const res = await fetch(url, { ...init, redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url).toString();
      init = { method: 'GET' };
      continue;
    }
    const body = await res.text();
    const form = res.status === 200 ? parseForm(body) : undefined;
    if (!form) return { url, status: res.status, body, trail };
    const fields = new URLSearchParams({
      ...form.fields,
      username: opts.username,
      decision: opts.decision ?? 'accept',
    });
    url = new URL(form.action || url, url).toString();
    init = {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    };
  }
  throw new Error(`followLink: more than ${opts.maxSteps ?? 20} steps from ${link}`);
}
