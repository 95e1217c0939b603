// Outside text printed to a terminal: the CLI's status, its JSON, and the logs in both formats show
// control characters as escapes, never as the characters themselves.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { formatJson, formatStatus } from '../../src/cli/format';
import { createLogger } from '../../src/observability/logger';
import type { OnboardingStatus } from '../../src/shared/status';
import { hasControlCharacters, visible, visibleJson } from '../../src/shared/terminal-text';

const HOSTILE = [
  '\x1b[2J\x1b[H', // clear the screen
  '\x1b[31mred\x1b[0m', // colours
  '\x1b]0;pwned\x07', // OSC: window title
  '\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\', // OSC 8 hyperlink
  '\x9b2J', // C1 CSI
  'line\rover', // carriage return rewrites the line
  'two\nlines',
  'abc\u202edcba', // right-to-left override
  'zero\u200bwidth',
];
/** Characters a terminal would act on, or that hide or reorder text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

test('visible: control, C1 and bidi characters become escapes; plain text is unchanged', () => {
  assert.equal(visible('\x1b[2J'), '\\x1b[2J');
  assert.equal(visible('a\nb\tc'), 'a\\x0ab\\x09c');
  assert.equal(visible('\x9b'), '\\x9b');
  assert.equal(visible('x\u202ey'), 'x\\u202ey');
  assert.equal(
    visible('AADSTS65001: The user or administrator has not consented – déjà vu 日本'),
    'AADSTS65001: The user or administrator has not consented – déjà vu 日本',
  );
  for (const text of HOSTILE) {
    assert.ok(hasControlCharacters(text), JSON.stringify(text));
    assert.doesNotMatch(visible(text), RAW, JSON.stringify(text));
  }
});

test('visibleJson: still the same JSON, with nothing raw in it', () => {
  const value = { detail: HOSTILE.join(' '), n: 1 };
  const json = visibleJson(JSON.stringify(value));
  assert.doesNotMatch(json, RAW);
  assert.deepEqual(JSON.parse(json), value);
});

const status = (text: string): OnboardingStatus => ({
  workflowId: 'dynamics-onboarding-acme-42',
  cyclrAccountId: 'acme-42',
  customerTenant: 'contoso.onmicrosoft.com',
  resourceUrl: 'https://contoso.crm.dynamics.com',
  step: 'waiting-for-consent',
  waitingFor: 'consent',
  waitingReason: `Consent was reported by ${text}`,
  waitDeadline: '2030-01-01T00:00:00.000Z',
  consentUrl: 'https://login.example/adminconsent?state=x',
  signInUrl: null,
  signInAttempt: 0,
  appId: 'app',
  accountConnectorId: null,
  lastError: {
    at: '2030-01-01T00:00:00.000Z',
    step: 'waiting-for-consent',
    code: null,
    name: 'Unknown',
    class: 'needs-person',
    message: text,
    remediation: `Read Microsoft's message: ${text}`,
  },
  tenantCheck: null,
  timeline: [
    { at: '2030-01-01T00:00:00.000Z', step: 'waiting-for-consent', event: 'error', detail: text, repeats: 3 },
    {
      at: '2030-01-01T00:00:00.000Z',
      step: 'waiting-for-consent',
      event: 'consent reported',
      detail: `by customer admin (consent callback, tenant ${text})`,
    },
  ],
});

test('the CLI status, as text and as JSON, prints outside text visibly', () => {
  for (const text of HOSTILE) {
    const shown = formatStatus(status(text));
    // Its own line breaks are the only control characters in the output.
    assert.doesNotMatch(shown.replace(/\n/g, ''), RAW, JSON.stringify(text));
    assert.ok(shown.includes(visible(text)), 'the text is there, made visible');
    const json = formatJson(status(text));
    assert.doesNotMatch(json.replace(/\n/g, ''), RAW);
    assert.deepEqual(JSON.parse(json), status(text));
  }
});

function capture() {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { out, lines };
}

test('logs in text and JSON format escape outside text in the message and the attributes', () => {
  for (const format of ['text', 'json'] as const) {
    const { out, lines } = capture();
    const logger = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: format }, out);
    for (const text of HOSTILE) logger.warn({ detail: text, tenant: text }, `consent failed: ${text}`);
    assert.equal(lines.length, HOSTILE.length);
    for (const line of lines) assert.doesNotMatch(line.replace(/\n$/, ''), RAW, `${format}: ${line}`);
    if (format === 'json')
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).detail),
        HOSTILE,
        'JSON lines still carry the exact text',
      );
  }
});
