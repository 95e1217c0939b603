// An ops person's HTTP session with the ops page, without a browser: sign in, read the CSRF token
// from a page, post forms. Keeps the cookies the ingress sets (the session, and the device cookie
// that tells the sign-in throttle this browser has signed in before), like a browser.
export interface OpsReply {
  status: number;
  body: string;
  location: string | null;
  setCookie: string | null;
  headers: Headers;
}

export class OpsClient {
  cookie = '';

  constructor(readonly baseUrl: string) {}

  async request(path: string, form?: Record<string, string>): Promise<OpsReply> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        ...(this.cookie ? { Cookie: this.cookie } : {}),
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    return {
      status: res.status,
      body: await res.text(),
      location: res.headers.get('location'),
      setCookie: res.headers.get('set-cookie'),
      headers: res.headers,
    };
  }

  async login(name: string, token: string): Promise<OpsReply> {
    const reply = await this.request('/ops/login', { name, token });
    this.keep(reply.headers.getSetCookie());
    return reply;
  }

  /** Takes the cookies set by an answer (an emptied one is dropped), as a browser would. */
  keep(setCookies: string[]): void {
    const jar = new Map(
      this.cookie
        .split('; ')
        .filter(Boolean)
        .map((c) => [c.split('=')[0], c] as const),
    );
    for (const header of setCookies) {
      const pair = header.split(';')[0];
      const name = pair.split('=')[0];
      if (pair === `${name}=` || /expires=Thu, 01 Jan 1970/i.test(header)) jar.delete(name);
      else jar.set(name, pair);
    }
    this.cookie = [...jar.values()].join('; ');
  }

  /** The CSRF token embedded in a page's forms. */
  async csrf(path = '/ops'): Promise<string> {
    const page = await this.request(path);
    const match = /name="csrf" value="([^"]+)"/.exec(page.body);
    if (!match) throw new Error(`no csrf token on ${path} (HTTP ${page.status})`);
    return match[1];
  }
}
