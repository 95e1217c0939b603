// Where a failed sign-in or Microsoft's answer about the tenant leads, branch by branch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyAadsts } from '../../src/shared/aadsts';
import type { TenantCheck } from '../../src/shared/status';
import {
  afterIncompleteSignIn,
  afterSignInError,
  afterTenantCheck,
  CONSENT_PROPAGATION_RETRIES,
  SECRET_REPLACEMENTS_MAX,
  type History,
} from '../../src/workflows/next-step';

const now = 1_000_000_000;
const fresh: History = {
  now,
  consentAt: null,
  propagationRetries: 0,
  secretReplacements: 0,
  secretWritten: true,
};
const aadsts = (code: number) => classifyAadsts(`AADSTS${code}: text from Microsoft.`);
const check = (verdict: TenantCheck['verdict'], code: number | null = null): TenantCheck => ({
  at: new Date(now).toISOString(),
  verdict,
  code,
  message: code ? `AADSTS${code}: text` : 'ok',
});
const classifyCheck = (c: TenantCheck) =>
  classifyAadsts(`AADSTS${c.verdict === 'no-consent' ? 7000229 : c.code}: x`);

test('65001 long after any consent: back to the consent wait', () => {
  const next = afterSignInError(aadsts(65001), fresh);
  assert.equal(next.to, 'wait-for-consent');
});

test('65001 moments after consent: a new sign-in after a backoff, a bounded number of times', () => {
  const justConsented = { ...fresh, consentAt: now - 30_000 };
  const first = afterSignInError(aadsts(65001), justConsented);
  assert.equal(first.to, 'retry-sign-in');
  const second = afterSignInError(aadsts(65001), { ...justConsented, propagationRetries: 1 });
  assert.ok(second.to === 'retry-sign-in' && first.to === 'retry-sign-in' && second.afterMs > first.afterMs);
  const spent = afterSignInError(aadsts(65001), {
    ...justConsented,
    propagationRetries: CONSENT_PROPAGATION_RETRIES,
  });
  assert.equal(spent.to, 'wait-for-consent');
});

test('a rejected client secret is replaced while this onboarding wrote it, a bounded number of times', () => {
  for (const code of [7000215, 7000222]) {
    assert.equal(afterSignInError(aadsts(code), fresh).to, 'replace-secret');
    assert.equal(afterSignInError(aadsts(code), { ...fresh, secretWritten: false }).to, 'fail');
    assert.equal(
      afterSignInError(aadsts(code), { ...fresh, secretReplacements: SECRET_REPLACEMENTS_MAX }).to,
      'fail',
    );
  }
});

test('500011 waits for the right Resource URL; configuration errors fail; transient ones retry', () => {
  const wrong = afterSignInError(aadsts(500011), fresh);
  assert.ok(wrong.to === 'wait-for-resource-fix' && /address bar/.test(wrong.why));
  assert.equal(afterSignInError(aadsts(50001), fresh).to, 'wait-for-resource-fix');
  assert.equal(afterSignInError(aadsts(90002), fresh).to, 'fail');
  assert.equal(afterSignInError(aadsts(50011), fresh).to, 'fail');
  assert.equal(afterSignInError(aadsts(90033), fresh).to, 'retry-sign-in');
});

test('what a person must fix (MFA, wrong account, unknown code): a new sign-in with the remediation', () => {
  for (const code of [50076, 50020, 65004, 123456]) {
    const next = afterSignInError(aadsts(code), fresh);
    assert.equal(next.to, 'sign-in', String(code));
    assert.ok(next.to === 'sign-in' && next.problem, String(code));
  }
});

test("the sign-in did not complete: Microsoft's answer about the tenant comes before the hint", () => {
  const hint = aadsts(50076);
  assert.equal(
    afterIncompleteSignIn(check('no-consent', 7000229), classifyCheck, hint, fresh).to,
    'wait-for-consent',
  );
  assert.equal(
    afterIncompleteSignIn(check('wrong-resource', 500011), classifyCheck, hint, fresh).to,
    'wait-for-resource-fix',
  );
  assert.equal(
    afterIncompleteSignIn(check('no-consent', 7000229), classifyCheck, aadsts(500011), fresh).to,
    'wait-for-resource-fix',
    'without consent Microsoft cannot check the org: the reported 500011 comes first',
  );
  const hinted = afterIncompleteSignIn(check('consented'), classifyCheck, hint, fresh);
  assert.ok(hinted.to === 'sign-in' && /MFA/.test(hinted.problem!));
  const silent = afterIncompleteSignIn(check('consented'), classifyCheck, null, fresh);
  assert.ok(silent.to === 'sign-in' && /what they saw/.test(silent.problem!));
  assert.equal(afterIncompleteSignIn(check('unknown'), classifyCheck, null, fresh).to, 'sign-in');
});

test('before the sign-in link: consent and the org, or the pause that fits', () => {
  assert.equal(afterTenantCheck(check('consented'), classifyCheck, false, fresh).to, 'set-resource');
  assert.equal(afterTenantCheck(check('unknown'), classifyCheck, false, fresh).to, 'set-resource');
  assert.equal(
    afterTenantCheck(check('no-consent', 7000229), classifyCheck, false, fresh).to,
    'wait-for-consent',
  );
  // Users may consent at sign-in: no consent yet is expected.
  assert.equal(afterTenantCheck(check('no-consent', 7000229), classifyCheck, true, fresh).to, 'set-resource');
  assert.equal(
    afterTenantCheck(check('wrong-resource', 500011), classifyCheck, false, fresh).to,
    'wait-for-resource-fix',
  );
  assert.equal(afterTenantCheck(check('no-tenant', 90002), classifyCheck, false, fresh).to, 'fail');
  assert.equal(
    afterTenantCheck(check('secret-rejected', 7000222), classifyCheck, false, {
      ...fresh,
      secretWritten: false,
    }).to,
    'replace-secret',
  );
});
