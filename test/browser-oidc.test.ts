// The ops page's sign-in with OpenID Connect in a real browser (Debian's headless Chromium driven
// by playwright-core): an operator of the partner tenant clicks "Sign in with Microsoft", signs in
// on the simulated Entra's page, lands on the page asked for with the verified name, and marks
// consent granted; a tenant user outside the group and role sees the 403 page. Screenshots go to
// artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrowserContext, type Page } from 'playwright-core';
import { waitUntil } from '../src/demo/sample-onboarding';
import { statusQuery } from '../src/shared/messages';
import { launchChromium, requireChromium } from './helpers/chromium';
import { startHarness, type Harness } from './helpers/harness';
import { startOnboarding } from './helpers/flow';
import { startOidcIngress, type OidcIngress } from './helpers/ops-oidc';

const ARTIFACTS = resolve(__dirname, '..', 'artifacts');

let h: Harness;
let oidc: OidcIngress;
const contexts: BrowserContext[] = [];

/** A fresh browser (its own cookies), as Playwright takes a fresh --user-data-dir. */
async function freshBrowser(): Promise<BrowserContext> {
  const context = await launchChromium('ops-oidc-browser-');
  contexts.push(context);
  return context;
}

before(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness('dev-server');
  oidc = await startOidcIngress(h);
});
after(async () => {
  for (const context of contexts) await context.close();
  await oidc?.close();
  await h?.close();
});

/** From our sign-in page through Microsoft's (simulated) sign-in page as `username`. */
async function signInWithMicrosoft(page: Page, username: string): Promise<void> {
  assert.match(page.url(), /\/ops\/login\?next=/);
  assert.equal(await page.locator('#token').count(), 0, 'no token field');
  await page.screenshot({ path: join(ARTIFACTS, 'ops-oidc-sign-in.png'), fullPage: true });
  await page.click('#oidc-sign-in');
  await page.waitForURL(new RegExp(`^${h.simUrl}/login/${oidc.app.tenantId}/oauth2/v2\\.0/authorize\\?`));
  await page.fill('input[name=username]', username);
  await page.click('button[value=accept]');
}

test('an operator signs in with Microsoft, lands on the page asked for, and acts under the verified name', async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await waitUntil(h.env.client, handle.workflowId, 'consent');
  const detail = `${oidc.url}/ops/onboardings/${customer.accountId}`;

  const browser = await freshBrowser();
  const page = await browser.newPage();
  await page.goto(detail);
  await signInWithMicrosoft(page, oidc.app.operator);
  // The "Signed in" page moves on by itself to the onboarding's page.
  await page.waitForURL(detail);
  assert.match((await page.locator('.who').textContent()) ?? '', /Olive Operator <ops@partner\.example>/);
  await page.screenshot({ path: join(ARTIFACTS, 'ops-oidc-signed-in.png'), fullPage: true });

  await h.sim.grantConsent(customer.tenantId, (await handle.query(statusQuery)).appId!);
  await page.fill('#note', 'granted in the portal');
  await page.click('text=Mark consent granted');
  assert.match(
    (await page.locator('main').textContent()) ?? '',
    /Sent as Olive Operator <ops@partner\.example>/,
  );
  await page.click('#confirm');
  await page.waitForURL(/sent=consentGranted/);
  assert.match(
    (await page.locator('.flash').first().textContent()) ?? '',
    /consentGranted sent as Olive Operator <ops@partner\.example>/,
  );
  const moved = await waitUntil(h.env.client, handle.workflowId, 'sign-in');
  assert.ok(
    moved.timeline.some(
      (t) =>
        t.event === 'consent granted' &&
        t.detail?.startsWith('reported by Olive Operator <ops@partner.example> (ops page)'),
    ),
  );

  // Signing out: back to the sign-in page, which offers to sign out of Microsoft too.
  await page.click('header button:text-is("Sign out")');
  await page.waitForURL(/\/ops\/login\?signed-out=1/);
  assert.ok(await page.locator('#end-session').isVisible());
  await page.goto(`${oidc.url}/ops`);
  assert.match(page.url(), /\/ops\/login/);
  await handle.cancel();
});

test('a tenant user outside the group and the app role sees who they are and what to ask for', async () => {
  const page = await (await freshBrowser()).newPage();
  await page.goto(`${oidc.url}/ops`);
  await signInWithMicrosoft(page, oidc.app.nonOperator);
  await page.waitForURL(/\/ops\/oidc\/callback\?/);
  const problem = (await page.locator('#sign-in-problem').textContent()) ?? '';
  assert.match(
    problem,
    /Signed in as Sam Staff <staff@partner\.example>, but not in the group or app role that may use this page/,
  );
  assert.match(problem, /Ask an administrator of your Microsoft Entra tenant to add you to the group/);
  await page.screenshot({ path: join(ARTIFACTS, 'ops-oidc-not-allowed.png'), fullPage: true });
  await page.goto(`${oidc.url}/ops`);
  assert.match(page.url(), /\/ops\/login/, 'no session');
});
