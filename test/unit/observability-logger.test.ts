// The log pipeline on its own: the SDK's Logger routed to pino, one JSON object a line, secrets
// redacted on the way out, and the text format for a person at a terminal.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createLogger, SdkLogger } from '../../src/observability/logger';

function capture() {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { out, lines };
}

test('SDK log lines come out as JSON with their attributes, secrets redacted', () => {
  const { out, lines } = capture();
  const logger = new SdkLogger(createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, out));
  logger.warn('Activity failed', {
    workflowId: 'dynamics-onboarding-acme-42',
    account: 'acme-42',
    step: 'setting-resource',
    error: ApplicationFailure.create({ message: 'cyclr: answered 400 (client_secret=s3cr3t-value)' }),
    clientSecret: 's3cr3t-value',
  });
  logger.debug('not at info level');
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.msg, 'Activity failed');
  assert.equal(line.level, 40);
  assert.equal(line.workflowId, 'dynamics-onboarding-acme-42');
  assert.equal(line.account, 'acme-42');
  assert.equal(line.step, 'setting-resource');
  assert.match(line.error.message, /cyclr: answered 400/);
  assert.ok(!lines[0].includes('s3cr3t-value'), lines[0]);
});

test('the text format is one readable line per entry', () => {
  const { out, lines } = capture();
  createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: 'text' }, out).info({ account: 'acme-42' }, 'worker polling');
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\S+ INFO worker polling \{"account":"acme-42"\}$/);
});
