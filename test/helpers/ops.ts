// An ops person's HTTP session with the ops page, without a browser: sign in, read the CSRF token
// from a page, post forms.
export interface OpsReply {
  status: number;
  body: string;
  location: string | null;
  setCookie: string | null;
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
    };
  }

  async login(name: string, token: string): Promise<OpsReply> {
    const reply = await this.request('/ops/login', { name, token });
    const session = reply.setCookie?.split(';')[0];
    if (session) this.cookie = session;
    return reply;
  }

  /** The CSRF token embedded in a page's forms. */
  async csrf(path = '/ops'): Promise<string> {
    const page = await this.request(path);
    const match = /name="csrf" value="([^"]+)"/.exec(page.body);
    if (!match) throw new Error(`no csrf token on ${path} (HTTP ${page.status})`);
    return match[1];
  }
}
