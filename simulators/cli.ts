// Command line for the running simulators (through their control API):
//   npm run sim -- add-customer --account acme-42 --tenant contoso.onmicrosoft.com \
//     --org https://contoso.crm4.dynamics.com [--admin ...] [--user ...] [--users-may-consent]
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';

const DEFAULT_SIM_URL = 'http://127.0.0.1:8089';

const USAGE = `Usage: npm run sim -- <command> [options]

Commands:
  add-customer   a simulated customer: an Entra tenant with a Dynamics org, an admin and a
                 user, and a Cyclr account

add-customer options:
  --account <id>            Cyclr account id to create (required), e.g. acme-42
  --tenant <domain>         the customer's tenant domain (required), e.g. contoso.onmicrosoft.com
  --org <url>               the customer's Dynamics org URL (required), e.g. https://contoso.crm4.dynamics.com
  --tenant-id <guid>        the tenant id (default: the existing tenant's, else one derived from the domain)
  --display-name <name>     the tenant's display name (default: the domain)
  --admin <username>        the tenant's admin (default: admin@<tenant domain>)
  --user <username>         a user without admin rights (default: user@<tenant domain>)
  --users-may-consent       users may consent to apps for themselves (default: they may not)
  --admin-consent-workflow  users who may not consent can request approval
  --sim-url <url>           where the simulators run (default: ${DEFAULT_SIM_URL})
`;

/** A usage error: the message names the flag and the fix. */
class InputError extends Error {}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/i;

/** A tenant id derived from the domain, so running the command again names the same tenant. */
function tenantIdFor(domain: string): string {
  const h = createHash('sha256').update(`tenant\0${domain.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function username(flag: string, value: string | undefined, fallback: string): string {
  const v = (value ?? fallback).trim();
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v))
    throw new InputError(`${flag} must be a username like admin@contoso.onmicrosoft.com (got '${v}').`);
  return v;
}

interface Customer {
  account: string;
  domain: string;
  tenantId?: string;
  displayName?: string;
  org: string;
  admin: string;
  user: string;
  usersMayConsent: boolean;
  adminConsentWorkflow: boolean;
  simUrl: string;
}

function customerFrom(args: string[]): Customer {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        account: { type: 'string' },
        tenant: { type: 'string' },
        'tenant-id': { type: 'string' },
        'display-name': { type: 'string' },
        org: { type: 'string' },
        admin: { type: 'string' },
        user: { type: 'string' },
        'users-may-consent': { type: 'boolean', default: false },
        'admin-consent-workflow': { type: 'boolean', default: false },
        'sim-url': { type: 'string', default: process.env.SIM_URL || DEFAULT_SIM_URL },
      },
    }));
  } catch (err) {
    throw new InputError(`${(err as Error).message}\n(run 'npm run sim -- --help' for the options)`);
  }
  const account = values.account?.trim();
  if (!account)
    throw new InputError('--account is required: the Cyclr account id to create, e.g. --account acme-42.');
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(account))
    throw new InputError(`--account may hold letters, digits, '.', '_' and '-' only (got '${account}').`);
  const domain = values.tenant?.trim().toLowerCase();
  if (!domain)
    throw new InputError('--tenant is required: the tenant domain, e.g. --tenant contoso.onmicrosoft.com.');
  if (GUID_RE.test(domain))
    throw new InputError(
      `--tenant takes the tenant's domain, e.g. contoso.onmicrosoft.com; pass a tenant id as --tenant-id ${domain}.`,
    );
  if (!DOMAIN_RE.test(domain))
    throw new InputError(`--tenant must be a domain name like contoso.onmicrosoft.com (got '${domain}').`);
  const tenantId = values['tenant-id']?.trim();
  if (tenantId !== undefined && !GUID_RE.test(tenantId))
    throw new InputError(
      `--tenant-id must be a GUID like 5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b (got '${tenantId}').`,
    );
  const orgRaw = values.org?.trim();
  if (!orgRaw)
    throw new InputError(
      "--org is required: the customer's Dynamics org URL, e.g. --org https://contoso.crm4.dynamics.com.",
    );
  let org: URL;
  try {
    org = new URL(orgRaw);
  } catch {
    throw new InputError(`--org must be a URL like https://contoso.crm4.dynamics.com (got '${orgRaw}').`);
  }
  if (org.protocol !== 'https:' || org.pathname !== '/' || org.search || org.hash)
    throw new InputError(
      `--org must be the org's https address alone, like https://contoso.crm4.dynamics.com (got '${orgRaw}').`,
    );
  const simUrl = values['sim-url']!.replace(/\/+$/, '');
  try {
    const u = new URL(simUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new InputError(`--sim-url must be an http(s) URL like ${DEFAULT_SIM_URL} (got '${simUrl}').`);
  }
  return {
    account,
    domain,
    tenantId,
    displayName: values['display-name']?.trim() || undefined,
    org: org.origin,
    admin: username('--admin', values.admin, `admin@${domain}`),
    user: username('--user', values.user, `user@${domain}`),
    usersMayConsent: !!values['users-may-consent'],
    adminConsentWorkflow: !!values['admin-consent-workflow'],
    simUrl,
  };
}

type Json = Record<string, unknown>;

/** One control API call; a refusal carries the simulators' own message. */
async function control(simUrl: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${simUrl}/_sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new InputError(
      `No simulators answer at ${simUrl} (${cause}). Start them with 'npm start' (embedded) or 'npm run simulators', or pass --sim-url with where they run.`,
    );
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InputError(
      `${simUrl} answered ${method} /_sim${path} with HTTP ${res.status} and no JSON: is that the simulators? Check --sim-url.`,
    );
  }
  if (!res.ok) {
    const message = typeof (parsed as Json).error === 'string' ? String((parsed as Json).error) : text;
    throw new InputError(`The simulators refused ${method} /_sim${path} (HTTP ${res.status}): ${message}`);
  }
  return parsed;
}

interface TenantView {
  tenantId: string;
  domain: string;
  displayName: string;
  orgs: string[];
  users: { username: string; admin: boolean }[];
  usersMayConsent: boolean;
  adminConsentWorkflow: boolean;
}

async function addCustomer(c: Customer, out: (line: string) => void): Promise<void> {
  const tenants = (await control(c.simUrl, 'GET', '/tenants')) as TenantView[];
  const existing = tenants.find((t) => t.domain.toLowerCase() === c.domain.toLowerCase());
  if (existing && c.tenantId && existing.tenantId.toLowerCase() !== c.tenantId.toLowerCase())
    throw new InputError(
      `--tenant ${c.domain} already belongs to tenant ${existing.tenantId}: leave out --tenant-id, or pass --tenant-id ${existing.tenantId}.`,
    );
  const tenantId = existing?.tenantId ?? c.tenantId ?? tenantIdFor(c.domain);
  // Running the command again adds to the tenant: other users and orgs stay.
  const users = (existing?.users ?? [])
    .filter((u) => ![c.admin, c.user].some((n) => n.toLowerCase() === u.username.toLowerCase()))
    .map((u) => ({ username: u.username, admin: u.admin }));
  users.push({ username: c.admin, admin: true }, { username: c.user, admin: false });
  const orgs = [...(existing?.orgs ?? []).filter((o) => o.replace(/\/+$/, '') !== c.org), c.org];
  const tenant = (await control(c.simUrl, 'POST', '/tenants', {
    tenantId,
    domain: c.domain,
    displayName: c.displayName ?? existing?.displayName ?? c.domain,
    orgs,
    users,
    usersMayConsent: c.usersMayConsent,
    adminConsentWorkflow: c.adminConsentWorkflow,
  })) as TenantView;
  await control(c.simUrl, 'POST', '/cyclr/accounts', { accountId: c.account });

  out(`Simulated customer ready at ${c.simUrl}`);
  out(`  Cyclr account        ${c.account}`);
  out(`  Entra tenant         ${tenant.domain} (tenant id ${tenant.tenantId})${existing ? ', updated' : ''}`);
  out(`  Dynamics org         ${c.org}`);
  out(`  Admin                ${c.admin}   <- type this on the admin consent sign-in page`);
  out(`  User                 ${c.user}   <- type this on the Dynamics sign-in page`);
  out(
    `  Users may consent    ${tenant.usersMayConsent ? 'yes' : 'no (the user sees "Need admin approval" until the admin consents)'}`,
  );
  if (tenant.adminConsentWorkflow) out('  Admin consent workflow  on (users can request approval)');
  out('');
  out('Onboard it:');
  out(`  npm run client -- onboard --account ${c.account} --tenant ${tenant.domain} --resource-url ${c.org}`);
}

export async function main(argv: string[], out = console.log): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command ? 0 : 2;
  }
  try {
    if (command === 'add-customer') {
      if (rest.includes('--help') || rest.includes('-h')) {
        out(USAGE);
        return 0;
      }
      await addCustomer(customerFrom(rest), out);
      return 0;
    }
    throw new InputError(
      `Unknown command '${command}'. The command is add-customer (run 'npm run sim -- --help').`,
    );
  } catch (err) {
    if (err instanceof InputError) {
      console.error(`sim: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] && /cli\.[cm]?[jt]s$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error('sim: unexpected error', err);
      process.exitCode = 1;
    },
  );
}
