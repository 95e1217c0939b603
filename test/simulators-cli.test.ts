// `npm run sim -- add-customer`: the command against running simulators, and its input errors.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { main } from '../simulators/cli.js';
import { startSimulators } from '../simulators/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sims: Awaited<ReturnType<typeof startSimulators>>;

before(async () => {
  sims = await startSimulators({ port: 0 });
});
after(async () => {
  await sims.close();
});

/** Runs the command in-process; returns its exit code, stdout lines and stderr lines. */
async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const original = console.error;
  console.error = (line: unknown) => err.push(String(line));
  try {
    const code = await main(args, (line) => out.push(line));
    return { code, out, err };
  } finally {
    console.error = original;
  }
}

const state = async () => (await (await fetch(`${sims.url}/_sim/state`)).json()) as Json;

test('add-customer creates the tenant (org, admin, user) and the Cyclr account, and says what it made', async () => {
  const r = await run([
    'add-customer',
    '--account',
    'acme-42',
    '--tenant',
    'contoso.onmicrosoft.com',
    '--org',
    'https://contoso.crm4.dynamics.com',
    '--sim-url',
    sims.url,
  ]);
  assert.equal(r.code, 0, r.err.join('\n'));
  const text = r.out.join('\n');
  assert.match(text, /admin@contoso\.onmicrosoft\.com/);
  assert.match(text, /user@contoso\.onmicrosoft\.com/);
  assert.match(text, /acme-42/);
  assert.match(
    text,
    /npm run client -- onboard --account acme-42 --tenant contoso\.onmicrosoft\.com --resource-url https:\/\/contoso\.crm4\.dynamics\.com/,
  );
  let s = await state();
  const t = (s.tenants as Json[]).find((x) => x.domain === 'contoso.onmicrosoft.com')!;
  assert.deepEqual(t.orgs, ['https://contoso.crm4.dynamics.com']);
  assert.deepEqual(
    (t.users as Json[]).map((u) => [u.username, u.admin]),
    [
      ['admin@contoso.onmicrosoft.com', true],
      ['user@contoso.onmicrosoft.com', false],
    ],
  );
  assert.equal(t.usersMayConsent, false);
  assert.ok((s.accounts as Json[]).some((a) => a.id === 'acme-42'));

  // Again, with another user and users allowed to consent: the same tenant id, users added.
  const again = await run([
    'add-customer',
    '--account',
    'acme-43',
    '--tenant',
    'CONTOSO.onmicrosoft.com',
    '--org',
    'https://contoso.crm4.dynamics.com/',
    '--user',
    'dana@contoso.onmicrosoft.com',
    '--users-may-consent',
    '--sim-url',
    `${sims.url}/`,
  ]);
  assert.equal(again.code, 0, again.err.join('\n'));
  s = await state();
  const t2 = (s.tenants as Json[]).filter((x) => x.domain.toLowerCase() === 'contoso.onmicrosoft.com');
  assert.equal(t2.length, 1);
  assert.equal(t2[0].tenantId, t.tenantId);
  assert.equal(t2[0].usersMayConsent, true);
  assert.deepEqual(t2[0].orgs, ['https://contoso.crm4.dynamics.com']);
  assert.deepEqual((t2[0].users as Json[]).map((u) => u.username).sort(), [
    'admin@contoso.onmicrosoft.com',
    'dana@contoso.onmicrosoft.com',
    'user@contoso.onmicrosoft.com',
  ]);
});

test('add-customer: bad input names the flag and the fix; nothing listening says how to start the simulators', async () => {
  const base = ['--sim-url', sims.url];
  const cases: [string[], RegExp][] = [
    [['--tenant', 'c.example', '--org', 'https://c.crm.dynamics.com'], /--account is required/],
    [['--account', 'a', '--org', 'https://c.crm.dynamics.com'], /--tenant is required/],
    [['--account', 'a', '--tenant', 'c.example'], /--org is required/],
    [
      ['--account', 'a', '--tenant', 'not a domain', '--org', 'https://c.crm.dynamics.com'],
      /--tenant must be a domain/,
    ],
    [
      [
        '--account',
        'a',
        '--tenant',
        '5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
        '--org',
        'https://c.crm.dynamics.com',
      ],
      /pass a tenant id as --tenant-id/,
    ],
    [
      ['--account', 'a', '--tenant', 'c.example', '--org', 'http://c.crm.dynamics.com'],
      /--org must be the org's https address/,
    ],
    [['--account', 'a', '--tenant', 'c.example', '--org', 'nope'], /--org must be a URL/],
    [
      ['--account', 'a', '--tenant', 'c.example', '--org', 'https://c.crm.dynamics.com', '--admin', 'admin'],
      /--admin must be a username/,
    ],
    [
      ['--account', 'a b', '--tenant', 'c.example', '--org', 'https://c.crm.dynamics.com'],
      /--account may hold/,
    ],
    [
      ['--account', 'a', '--tenant', 'c.example', '--org', 'https://c.crm.dynamics.com', '--wat'],
      /Unknown option '--wat'/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await run(['add-customer', ...args, ...base]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err.join('\n'), message);
  }
  const unknown = await run(['add-tenant']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err.join('\n'), /Unknown command 'add-tenant'/);

  // A port nothing listens on (the simulators' own port, once they are closed).
  const gone = await startSimulators({ port: 0 });
  const url = gone.url;
  await gone.close();
  const r = await run([
    'add-customer',
    '--account',
    'a',
    '--tenant',
    'c.example',
    '--org',
    'https://c.crm.dynamics.com',
    '--sim-url',
    url,
  ]);
  assert.equal(r.code, 2);
  assert.match(
    r.err.join('\n'),
    new RegExp(`No simulators answer at ${url.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`),
  );
  assert.match(r.err.join('\n'), /npm start|npm run simulators/);

  // A domain that belongs to another tenant id than the one given.
  const clash = await run([
    'add-customer',
    '--account',
    'x',
    '--tenant',
    'partner.example',
    '--tenant-id',
    '5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b',
    '--org',
    'https://p.crm.dynamics.com',
    ...base,
  ]);
  assert.equal(clash.code, 2);
  assert.match(clash.err.join('\n'), /already belongs to tenant 11111111-1111-4111-8111-111111111111/);
});
