// The simulators' control API, as the tests use it (seed tenants and accounts, read counts).
import { createHash } from 'node:crypto';

export interface SimState {
  applications: {
    appId: string;
    uniqueName: string;
    passwordCredentials: { keyId: string; displayName: string }[];
  }[];
  servicePrincipals: unknown[];
  accountConnectors: {
    Id: number;
    accountId: string;
    Authenticated: boolean;
    properties: Record<string, string>;
  }[];
  counts: Record<string, number>;
  propertyWrites: { accountConnectorId: number; name: string; method: string }[];
  secretsIssued: string[];
}

export interface Customer {
  tenantId: string;
  domain: string;
  org: string;
  admin: string;
  user: string;
  accountId: string;
}

let customerSeq = 0;

export class SimControl {
  constructor(readonly baseUrl: string) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim control ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  state(): Promise<SimState> {
    return this.call('GET', '/state');
  }

  /** A customer: a tenant with one Dynamics org, an admin and a user, and a Cyclr account. */
  async seedCustomer(
    name = `cust${++customerSeq}${Date.now() % 100000}`,
    tenantSettings: { usersMayConsent?: boolean; adminConsentWorkflow?: boolean } = {},
  ): Promise<Customer> {
    // The tenant id is derived from the whole name, so many customers seeded at once never collide.
    const hex = createHash('sha256').update(name).digest('hex').slice(0, 12);
    const customer: Customer = {
      tenantId: `33333333-3333-4333-8333-${hex}`,
      domain: `${name}.onmicrosoft.com`,
      org: `https://${name}.crm4.dynamics.com`,
      admin: `admin@${name}.onmicrosoft.com`,
      user: `user@${name}.onmicrosoft.com`,
      accountId: `acct-${name}`,
    };
    await this.call('POST', '/tenants', {
      tenantId: customer.tenantId,
      domain: customer.domain,
      displayName: `${name} Ltd`,
      orgs: [customer.org],
      users: [
        { username: customer.admin, admin: true },
        { username: customer.user, admin: false },
      ],
      ...tenantSettings,
    });
    await this.call('POST', '/cyclr/accounts', { accountId: customer.accountId, name: `${name} account` });
    return customer;
  }

  grantConsent(tenantId: string, appId: string): Promise<unknown> {
    return this.call('POST', `/tenants/${tenantId}/consents`, { appId });
  }
}
