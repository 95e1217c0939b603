// The customers file of `onboard --from`: CSV (header, BOM, CRLF, quoted values) and JSON Lines,
// every problem with its line, its field and the expected form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCustomersFile } from '../../src/cli/customers-file';

const row = (account: string, extra = '') =>
  `${account},contoso.onmicrosoft.com,https://contoso.crm4.dynamics.com${extra}`;

test('CSV with a BOM, CRLF, quoted values and optional columns', () => {
  const file = readCustomersFile(
    'c.csv',
    Buffer.from(
      `\uFEFFAccount, Tenant ,resource_url,requester,consent_already_granted\r\n${row('a1', ',"Dana, ops",yes')}\r\n\r\n${row('a2', ',,')}\r\n`,
    ),
  );
  assert.deepEqual(file.problems, []);
  assert.equal(file.rows, 2);
  assert.deepEqual(
    file.valid.map((r) => [r.line, r.input.cyclrAccountId, r.input.requester, r.input.consentAlreadyGranted]),
    [
      [2, 'a1', 'Dana, ops', true],
      [4, 'a2', undefined, undefined],
    ],
  );
  assert.equal(file.valid[0].input.resourceUrl, 'https://contoso.crm4.dynamics.com');
});

test('every bad row is reported by line and column, with the expected form', () => {
  const file = readCustomersFile(
    'c.csv',
    Buffer.from(
      [
        'account,tenant,resource_url,consent_already_granted',
        row('a1', ','),
        'a b,common,http://x.crm.dynamics.com,maybe',
        row('a1', ','),
        'a3,contoso.onmicrosoft.com',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    file.problems.map((p) => [p.line, p.field]),
    [
      [3, 'consent_already_granted'],
      [3, 'account'],
      [3, 'tenant'],
      [3, 'resource_url'],
      [4, 'account'],
      [5, 'row'],
    ],
  );
  assert.match(file.problems[4].message, /"a1" is also on line 2: one row per account/);
  assert.match(file.problems[5].message, /2 fields where the header has 4/);
  assert.equal(file.valid.length, 1);
  assert.equal(file.rows, 4);
});

test('a wrong header, semicolons, non-UTF-8 and empty files are named once for the whole file', () => {
  const header = readCustomersFile('c.csv', Buffer.from('acount,tenant,resource_url\nx,y,z\n'));
  assert.deepEqual(
    header.problems.map((p) => [p.line, p.field]),
    [[1, 'header']],
  );
  assert.match(
    header.problems[0].message,
    /unknown column "acount"; no account column; expected the columns/,
  );
  const semi = readCustomersFile('c.csv', Buffer.from('account;tenant;resource_url\nx;y;z\n'));
  assert.match(semi.problems[0].message, /separated by ";"; save the file with commas/);
  const latin1 = readCustomersFile('c.csv', Buffer.from([0x61, 0xe9, 0x0a]));
  assert.match(latin1.problems[0].message, /not UTF-8 text; save it as UTF-8/);
  const empty = readCustomersFile('c.csv', Buffer.from('account,tenant,resource_url\n'));
  assert.match(empty.problems[0].message, /no rows to onboard/);
});

test('JSON Lines: the same fields, one object per line; unknown fields and bad lines named', () => {
  const file = readCustomersFile(
    'c.jsonl',
    Buffer.from(
      [
        JSON.stringify({
          account: 'a1',
          tenant: 'contoso.onmicrosoft.com',
          resource_url: 'https://c.crm.dynamics.com',
          consent_already_granted: true,
        }),
        '{"account": ',
        '',
        JSON.stringify({
          account: 'a2',
          tenant: 'contoso.onmicrosoft.com',
          resourceUrl: 'https://c.crm.dynamics.com',
        }),
      ].join('\r\n'),
    ),
  );
  assert.equal(file.format, 'jsonl');
  assert.deepEqual(
    file.valid.map((r) => [r.line, r.input.consentAlreadyGranted]),
    [[1, true]],
  );
  assert.deepEqual(
    file.problems.map((p) => [p.line, p.field]),
    [
      [2, 'row'],
      [4, 'resourceUrl'],
      [4, 'resource_url'],
    ],
  );
  assert.match(
    file.problems[1].message,
    /unknown field; expected one JSON object per line with account, tenant, resource_url/,
  );
});
