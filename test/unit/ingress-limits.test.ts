// What the ingress remembers per link, per address and per browser, on its own: rate limits, the
// reused Cyclr token, error outcomes and consent reports per link, the sign-in backoff, the
// trust-proxy forms Express documents, and the canonical spelling of a link's state.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import express from 'express';
import { loadConfig } from '../../src/config';
import { ConsentReports, ErrorOutcomes, RateLimit, SignInTokens } from '../../src/ingress/link-limits';
import { Backoff, LoginThrottle } from '../../src/ingress/login-throttle';
import { parseTrustProxy } from '../../src/ingress/trust-proxy';
import { tenantOf } from '../../src/ingress/callbacks';
import { signLinkState, verifyLinkState } from '../../src/secrets/link-state';

test('RateLimit: max events per sliding window, and how long to wait', () => {
  const limit = new RateLimit(3, 60_000);
  const t = 1_000_000;
  assert.deepEqual(
    [0, 1, 2].map((i) => limit.take('a', t + i)),
    [0, 0, 0],
  );
  assert.equal(limit.take('a', t + 10), 60, 'the fourth waits until the first leaves the window');
  assert.equal(limit.take('b', t + 10), 0, 'per key');
  assert.equal(limit.take('a', t + 60_001), 0, 'the window slides');
});

test('SignInTokens: the same token while it is fresh, shared by concurrent opens; new ones capped', async () => {
  let minted = 0;
  const mint = async () => ({ token: `t${++minted}`, accountConnectorId: 7 });
  const tokens = new SignInTokens(60_000, 3, 15 * 60_000);
  const t = 5_000_000;
  const burst = await Promise.all(Array.from({ length: 50 }, () => tokens.get('link', mint, t)));
  assert.equal(minted, 1, '50 opens at once: one token');
  assert.ok(burst.every((a) => a.ok && a.token.token === 't1'));
  assert.equal((await tokens.get('link', mint, t + 59_000)).ok, true);
  assert.equal(minted, 1, 'reused within the window');
  await tokens.get('link', mint, t + 61_000);
  await tokens.get('link', mint, t + 122_000);
  assert.equal(minted, 3);
  const capped = await tokens.get('link', mint, t + 183_000);
  assert.equal(capped.ok, false, 'the fourth token in 15 minutes is refused');
  assert.ok(!capped.ok && capped.retryAfterSeconds > 0 && capped.retryAfterSeconds <= 15 * 60);
  tokens.spent('other');
  const failing = new SignInTokens(60_000, 3);
  await assert.rejects(failing.get('x', () => Promise.reject(new Error('cyclr 500'))));
  assert.equal((await failing.get('x', mint)).ok, true, 'a failed mint is not handed out again');
});

test('ErrorOutcomes: each kind once per link, a few kinds at most; a failed signal gives it back', () => {
  const outcomes = new ErrorOutcomes(3);
  const exp = Date.now() + 3_600_000;
  assert.equal(outcomes.claim('l', '65004', exp), true);
  assert.equal(outcomes.claim('l', '65004', exp), false, 'the same kind again');
  assert.equal(outcomes.claim('l', '50020', exp), true);
  outcomes.release('l', '50020');
  assert.equal(outcomes.claim('l', '50020', exp), true, 'released: may be sent again');
  assert.equal(outcomes.claim('l', 'other', exp), true);
  assert.equal(outcomes.claim('l', '90094', exp), false, 'three kinds per link');
  assert.equal(outcomes.wouldAccept('m', '65004'), true, 'per link');
  for (let i = 0; i < 1000; i++) outcomes.claim('l', `code-${i}`, exp);
  assert.equal(outcomes.wouldAccept('l', 'code-999'), false);
});

test('ConsentReports: once, again only after Microsoft denied consent since the last one', () => {
  const reports = new ConsentReports(3);
  const exp = Date.now() + 3_600_000;
  const t = Date.now();
  assert.equal(reports.claim('l', exp, null, t), true);
  assert.equal(reports.claim('l', exp, null, t + 1000), false, 'a replay');
  assert.equal(reports.claim('l', exp, t - 1, t + 1000), false, 'Microsoft was asked before it');
  assert.equal(reports.claim('l', exp, t + 500, t + 1000), true, 'denied since: the next report counts');
  assert.equal(reports.claim('l', exp, t + 1500, t + 2000), true);
  assert.equal(reports.mayReport('l', t + 3000), false, 'three per link at most');
  assert.equal(reports.claim('l', exp, t + 2500, t + 3000), false);
});

test('Backoff: free failures, then doubling waits up to the cap; forgotten after a while', () => {
  const b = new Backoff({ free: 2, maxWaitMs: 8000, forgetAfterMs: 60_000 });
  const t = 10_000_000;
  b.failed('k', t);
  b.failed('k', t);
  assert.equal(b.waitFor('k', t), 0);
  const waits = [3, 4, 5, 6, 7].map((n) => {
    b.failed('k', t + n);
    return b.waitFor('k', t + n);
  });
  assert.deepEqual(waits, [1, 2, 4, 8, 8]);
  assert.equal(b.waitFor('k', t + 20_000), 0, 'after the wait');
  b.failed('k', t + 20_000);
  assert.equal(b.waitFor('k', t + 20_000), 8, 'failures still counted');
  assert.equal(b.waitFor('k', t + 200_000), 0);
  b.failed('k', t + 200_000);
  assert.equal(b.waitFor('k', t + 200_000), 0, 'forgotten: free again');
});

test('LoginThrottle: a typo delays only its maker; a flood holds back new browsers, never one that signed in', () => {
  const throttle = new LoginThrottle();
  const t = 20_000_000;
  const eve = { address: '198.51.100.7', name: 'Eve' };
  for (let i = 0; i < 10; i++) throttle.failed(eve, t);
  assert.equal(throttle.blockedFor(eve, t)?.because, 'name', 'ten failures: Eve waits');
  const olga = { address: '198.51.100.7', name: 'Olga' };
  for (let i = 0; i < 100; i++) throttle.refused(eve, throttle.blockedFor(eve, t)!, t);
  assert.ok(throttle.blockedFor(eve, t)!.seconds > 60, 'trying early lengthens her own wait');
  assert.equal(
    throttle.blockedFor(olga, t),
    null,
    'ten bad tries and a hundred early ones lock nobody else out',
  );
  for (let i = 0; i < 30; i++) throttle.failed({ address: olga.address, name: `guess-${i}` }, t);
  assert.equal(
    throttle.blockedFor(olga, t)?.because,
    'address',
    'a guesser changing names: new browsers wait',
  );
  const known = { ...olga, device: 'olgas-laptop' };
  assert.equal(
    throttle.blockedFor(known, t),
    null,
    'a browser that signed in before is never held back by them',
  );
  for (let i = 0; i < 6; i++) throttle.failed(known, t);
  assert.equal(throttle.blockedFor(known, t)?.because, 'browser', 'its own failures count');
  throttle.succeeded(known);
  assert.equal(throttle.blockedFor(known, t), null);
});

test('trust proxy: the forms Express documents are taken, and Express takes them; others are named', () => {
  for (const [raw, value] of [
    ['true', true],
    ['False', false],
    ['2', 2],
    ['loopback', ['loopback']],
    ['loopback, 10.0.0.0/8,203.0.113.7', ['loopback', '10.0.0.0/8', '203.0.113.7']],
    ['fd00::/8, ::1', ['fd00::/8', '::1']],
    ['10.0.0.0/255.0.0.0', ['10.0.0.0/255.0.0.0']],
  ] as const) {
    const parsed = parseTrustProxy(raw);
    assert.deepEqual(parsed, { ok: true, value }, raw);
    const app = express();
    app.set('trust proxy', parsed.ok ? parsed.value : undefined);
    assert.equal(typeof app.get('trust proxy fn'), 'function', raw);
  }
  for (const raw of ['yes', '10.0.0.0/33', 'loopback,,', 'example.com', '999']) {
    assert.equal(parseTrustProxy(raw).ok, false, raw);
    assert.throws(
      () => loadConfig({}, { INGRESS_TRUST_PROXY: raw }),
      /Invalid configuration: INGRESS_TRUST_PROXY: .*expected true or false, a hop count such as 1, or addresses and subnets/,
    );
  }
  assert.equal(loadConfig({}, { INGRESS_TRUST_PROXY: 'true' }).INGRESS_TRUST_PROXY, true);
});

test('link state: one spelling per link; the tenant is recorded only when it looks like one', () => {
  const key = randomBytes(32);
  const state = signLinkState(key, { purpose: 'consent', workflowId: 'w', attempt: 0, exp: 9_999_999_999 });
  assert.equal(verifyLinkState(key, state, 'consent').ok, true);
  const [body, mac] = state.split('.');
  const last = mac.at(-1)!;
  // Other spellings base64 decoding would forgive: spare bits in the last character, padding.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const spare = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)];
  for (const respelled of [`${body}.${mac.slice(0, -1)}${spare}`, `${body}.${mac}=`, `${body}.${mac} `])
    assert.equal(verifyLinkState(key, respelled, 'consent').ok, false, respelled);
  assert.equal(tenantOf('33333333-3333-4333-8333-ABCDEF012345'), '33333333-3333-4333-8333-abcdef012345');
  assert.equal(tenantOf('contoso.onmicrosoft.com'), 'contoso.onmicrosoft.com');
  assert.equal(tenantOf('\x1b]0;pwned\x07'), 'not a tenant id');
  assert.equal(tenantOf('x'.repeat(5000)), 'not a tenant id');
  assert.equal(tenantOf(undefined), 'not given');
});
