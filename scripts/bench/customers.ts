// The customers a run onboards: one tenant (an org, an admin, a user) and one Cyclr account each,
// seeded in the simulators before the clock starts.
import { Pool } from './pool';

export interface Customer {
  accountId: string;
  tenantId: string;
  org: string;
  admin: string;
  user: string;
}

export function customer(run: string, i: number): Customer {
  const name = `${run}c${i}`;
  const hex = (Number.parseInt(run.replace(/\D/g, '').slice(-4) || '0', 10) * 1_000_000 + i)
    .toString(16)
    .padStart(12, '0');
  return {
    accountId: `bench-${name}`,
    tenantId: `44444444-4444-4444-8444-${hex}`,
    org: `https://${name}.crm4.dynamics.com`,
    admin: `admin@${name}.onmicrosoft.com`,
    user: `user@${name}.onmicrosoft.com`,
  };
}

async function post(simUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${simUrl}/_sim${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sim ${path}: HTTP ${res.status} ${await res.text()}`);
}

export async function seedCustomers(simUrl: string, run: string, n: number): Promise<Customer[]> {
  const customers = Array.from({ length: n }, (_, i) => customer(run, i));
  await new Pool(32).map(customers, async (c) => {
    const domain = c.admin.split('@')[1];
    await post(simUrl, '/tenants', {
      tenantId: c.tenantId,
      domain,
      displayName: c.accountId,
      orgs: [c.org],
      users: [
        { username: c.admin, admin: true },
        { username: c.user, admin: false },
      ],
    });
    await post(simUrl, '/cyclr/accounts', { accountId: c.accountId, name: c.accountId });
  });
  return customers;
}
