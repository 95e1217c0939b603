// The AADSTS catalog: every code it knows classifies with its class and a remediation a person can
// act on; unknown codes go to a person with Microsoft's own words; the code is read from
// error_description or error_codes; the Graph management client's refusals name the setting to fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aadstsCodeFromList,
  aadstsCodeOf,
  catalogCodes,
  classifyAadsts,
  classifyTokenError,
  managementClientRemediation,
  MANAGEMENT_CLIENT_CODES,
  tenantCheckRemediation,
  type ErrorClass,
} from '../../src/shared/aadsts';

/**
 * The class of each code, written from Microsoft's error-code reference (transient: retry;
 * needs-person: an admin or user must act; configuration: fix a setting or input).
 */
const EXPECTED: Record<number, ErrorClass> = {
  50001: 'configuration',
  50011: 'configuration',
  50020: 'needs-person',
  50033: 'transient',
  50058: 'needs-person',
  50059: 'configuration',
  50072: 'needs-person',
  50076: 'needs-person',
  50079: 'needs-person',
  50087: 'transient',
  50173: 'needs-person',
  50194: 'configuration',
  50196: 'transient',
  53003: 'needs-person',
  54005: 'needs-person',
  65001: 'needs-person',
  65004: 'needs-person',
  70001: 'configuration',
  70002: 'configuration',
  70008: 'needs-person',
  70011: 'configuration',
  90002: 'configuration',
  90006: 'transient',
  90008: 'needs-person',
  90014: 'configuration',
  90024: 'transient',
  90033: 'transient',
  90055: 'transient',
  90090: 'transient',
  90094: 'needs-person',
  500011: 'configuration',
  500112: 'configuration',
  650052: 'configuration',
  650056: 'needs-person',
  650057: 'configuration',
  700011: 'configuration',
  700016: 'configuration',
  700054: 'configuration',
  700082: 'needs-person',
  900144: 'configuration',
  7000215: 'configuration',
  7000218: 'configuration',
  7000222: 'configuration',
  7000229: 'needs-person',
};

const CRLF_TRAILER =
  '\r\nTrace ID: 0000aaaa-11bb-cccc-dd33-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2026-01-09 02:02:12Z';

describe('the AADSTS catalog', () => {
  it('knows exactly the codes this flow meets, 7000229 among them', () => {
    assert.deepEqual(
      catalogCodes().sort((a, b) => a - b),
      Object.keys(EXPECTED)
        .map(Number)
        .sort((a, b) => a - b),
    );
  });

  for (const [code, expected] of Object.entries(EXPECTED)) {
    it(`AADSTS${code} is ${expected}, with a name, a meaning and a remediation`, () => {
      const c = classifyAadsts(`AADSTS${code}: Microsoft's words for it.${CRLF_TRAILER}`, {
        customerTenant: 'contoso.onmicrosoft.com',
        resourceUrl: 'https://contoso.crm4.dynamics.com',
        appId: '6f1a2b3c-0000-4000-8000-000000000001',
        consentUrl: 'https://onboarding.example/consent',
        signInUrl: 'https://onboarding.example/sign-in',
      });
      assert.equal(c.code, Number(code));
      assert.equal(c.class, expected);
      assert.notEqual(c.name, 'Unknown');
      assert.ok(c.meaning.length > 10, c.meaning);
      assert.ok(c.remediation.length > 20, c.remediation);
      assert.doesNotMatch(c.remediation, /undefined|null/);
      assert.equal(c.verbatim, `AADSTS${code}: Microsoft's words for it.`);
    });
  }

  it('7000229 (no service principal in the tenant) asks for admin consent, with the link', () => {
    const c = classifyAadsts(
      'AADSTS7000229: The client application 6f1a2b3c-0000-4000-8000-000000000001 is missing service principal in the tenant 33333333-3333-4333-8333-000000000001. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119\r\nTrace ID: x\r\nCorrelation ID: y\r\nTimestamp: 2026-01-01 00:00:00Z',
      { customerTenant: 'contoso.onmicrosoft.com', consentUrl: 'https://onboarding.example/consent' },
    );
    assert.equal(c.class, 'needs-person');
    assert.match(c.remediation, /admin consent/);
    assert.match(c.remediation, /contoso\.onmicrosoft\.com/);
    assert.match(c.remediation, /https:\/\/onboarding\.example\/consent/);
    assert.doesNotMatch(c.verbatim, /Trace ID|Correlation ID/);
  });

  it('hands an unknown code to a person with the verbatim text and the error page', () => {
    const c = classifyAadsts(`AADSTS9999999: Something new happened.${CRLF_TRAILER}`, {
      signInUrl: 'https://onboarding.example/sign-in',
    });
    assert.equal(c.code, 9999999);
    assert.equal(c.class, 'needs-person');
    assert.equal(c.name, 'Unknown');
    assert.equal(c.verbatim, 'AADSTS9999999: Something new happened.');
    assert.match(c.remediation, /login\.microsoftonline\.com\/error\?code=9999999/);
  });

  it('hands a text without any code to a person too, keeping its words', () => {
    const c = classifyAadsts('The server could not make sense of it.');
    assert.equal(c.code, null);
    assert.equal(c.class, 'needs-person');
    assert.equal(c.verbatim, 'The server could not make sense of it.');
  });

  it('keeps the first line only: the CRLF (or LF) trailer with trace and correlation ids goes', () => {
    assert.equal(
      classifyAadsts(`AADSTS65001: The user or administrator has not consented.${CRLF_TRAILER}`).verbatim,
      'AADSTS65001: The user or administrator has not consented.',
    );
    assert.equal(classifyAadsts('AADSTS65001: consent.\nTrace ID: x').verbatim, 'AADSTS65001: consent.');
  });

  it('reads the code from error_description first, else from error_codes', () => {
    assert.equal(aadstsCodeOf('AADSTS500011: The resource principal named x was not found'), 500011);
    assert.equal(aadstsCodeOf('no code here'), null);
    assert.equal(aadstsCodeFromList([70002, 54005]), 70002);
    assert.equal(aadstsCodeFromList([1234567, 54005]), 54005, 'the first one the catalog knows');
    assert.equal(aadstsCodeFromList([1234567]), 1234567);
    assert.equal(aadstsCodeFromList('7000229'), null);
    assert.equal(aadstsCodeFromList(undefined), null);

    const fromList = classifyTokenError({
      error: 'invalid_client',
      error_description: 'The client application is missing service principal in the tenant.',
      error_codes: [7000229],
    });
    assert.equal(fromList.code, 7000229);
    assert.equal(fromList.class, 'needs-person');
    assert.equal(fromList.verbatim, 'The client application is missing service principal in the tenant.');

    const both = classifyTokenError({
      error: 'invalid_grant',
      error_description: `AADSTS54005: OAuth2 Authorization code was already redeemed.${CRLF_TRAILER}`,
      error_codes: [70002, 54005],
    });
    assert.equal(both.code, 54005, 'the description wins');
  });

  it('treats temporarily_unavailable and server_error without a known code as transient', () => {
    assert.equal(classifyTokenError({ error: 'temporarily_unavailable' }).class, 'transient');
    assert.equal(
      classifyTokenError({ error: 'server_error', error_description: 'Something broke.' }).class,
      'transient',
    );
  });

  it("reads the legacy consent endpoint's permission_denied as a declined consent (65004)", () => {
    const c = classifyAadsts('The admin canceled the request', {}, 'permission_denied');
    assert.equal(c.code, 65004);
    assert.equal(c.class, 'needs-person');
  });
});

describe("the Graph management client's token errors", () => {
  const cases: [number, RegExp][] = [
    [7000215, /GRAPH_CLIENT_SECRET.*Value/],
    [90002, /PARTNER_TENANT_ID/],
    [7000222, /GRAPH_CLIENT_SECRET has expired.*new client secret/],
    [700016, /GRAPH_CLIENT_ID.*PARTNER_TENANT_ID/],
    [7000229, /GRAPH_CLIENT_ID.*service principal/],
  ];
  for (const [code, fix] of cases) {
    it(`AADSTS${code} names the setting to fix`, () => {
      assert.match(managementClientRemediation(code), fix);
      assert.ok(MANAGEMENT_CLIENT_CODES.includes(code));
    });
  }

  it("any other code points at the three settings and at Microsoft's page for it", () => {
    const fix = managementClientRemediation(50126);
    assert.match(fix, /PARTNER_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET/);
    assert.match(fix, /error\?code=50126/);
    assert.doesNotMatch(managementClientRemediation(null), /error\?code/);
  });
});

describe("the tenant probe's verdicts", () => {
  const ctx = { customerTenant: 'contoso.onmicrosoft.com', resourceUrl: 'https://contoso.crm4.dynamics.com' };
  it('each verdict has the remediation a person acts on', () => {
    assert.equal(tenantCheckRemediation('consented', null, ctx), '');
    assert.match(tenantCheckRemediation('no-consent', 700016, ctx), /must grant admin consent/);
    assert.match(tenantCheckRemediation('no-consent', 7000229, ctx), /contoso\.onmicrosoft\.com/);
    assert.match(tenantCheckRemediation('wrong-resource', 500011, ctx), /address bar/);
    assert.match(tenantCheckRemediation('no-tenant', 90002, ctx), /"contoso\.onmicrosoft\.com"/);
    assert.match(tenantCheckRemediation('secret-rejected', 7000222, ctx), /secret/);
    assert.match(tenantCheckRemediation('unknown', 1234567, ctx), /error\?code=1234567/);
  });
});
