// The ops page in a real browser (Debian's headless Chromium driven by playwright-core): an ops
// person signs in, follows one onboarding from the event to verified, and drives its AADSTS500011
// correction and its AADSTS65001 consent from the page. Screenshots go to artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type BrowserContext, type Page } from 'playwright-core';
import { followLink } from '../src/demo/person';
import { onboardingWorkflowId } from '../src/shared/names';
import type { Step } from '../src/shared/steps';
import { launchChromium, requireChromium } from './helpers/chromium';
import { startHarness, type Harness } from './helpers/harness';
import { postEvent, signedEvent } from './helpers/events';

const ARTIFACTS = resolve(__dirname, '..', 'artifacts');
const OPS_TOKEN = randomBytes(24).toString('base64url');
const EVENTS_SECRET = randomBytes(32).toString('hex');

let h: Harness;
let browser: BrowserContext;
before(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness('dev-server', { OPS_TOKEN, EVENTS_HMAC_SECRET: EVENTS_SECRET });
  browser = await launchChromium('ops-browser-');
});
after(async () => {
  await browser?.close();
  await h?.close();
});

/** Waits for the onboarding's page to show `step`: the page reloads itself when the state changes. */
async function untilStep(page: Page, step: Step, waitingFor?: string): Promise<void> {
  const until = Date.now() + 90_000;
  for (;;) {
    const shown = await page
      .locator('#step')
      .textContent({ timeout: 2000 })
      .catch(() => null);
    const waiting = waitingFor
      ? await page
          .locator('dd b')
          .first()
          .textContent({ timeout: 1000 })
          .catch(() => null)
      : undefined;
    if (shown === step && (!waitingFor || waiting === waitingFor)) return;
    if (Date.now() > until) throw new Error(`the page shows step ${shown}, not ${step}`);
    await page.waitForTimeout(500);
  }
}

/** The customer's user opens the sign-in link that ops copied from the page. */
async function userSignsIn(page: Page, user: string): Promise<string> {
  const link = await page.locator('#signin-link').inputValue();
  const visit = await followLink(link, { username: user });
  return visit.body;
}

test('ops drive an onboarding to verified from the page, through a missing consent and AADSTS500011', async () => {
  const customer = await h.sim.seedCustomer();
  const workflowId = onboardingWorkflowId(customer.accountId);
  // The partner's system sends the event: a wrong org URL, and a claim of consent that is not true.
  const sent = await postEvent(
    h.ingressUrl,
    signedEvent(EVENTS_SECRET, {
      cyclrAccountId: customer.accountId,
      customerTenant: customer.tenantId,
      resourceUrl: 'https://wrongorg.crm.dynamics.com',
      requester: 'crm-sync@partner.example',
      consentAlreadyGranted: true,
    }),
  );
  assert.equal(sent.status, 202, JSON.stringify(sent.body));

  const page = await browser.newPage();
  // Signing in: a wrong token is refused and says which field, then the right one.
  await page.goto(`${h.ingressUrl}/ops`);
  assert.match(page.url(), /\/ops\/login/);
  await page.fill('#name', 'Dana Ops');
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  assert.match((await page.locator('.problem').textContent()) ?? '', /token: not the ops token/);
  await page.fill('#token', OPS_TOKEN);
  await page.click('button[type=submit]');
  await page.waitForURL(`${h.ingressUrl}/ops`);
  assert.match((await page.locator('.who').textContent()) ?? '', /Dana Ops/);

  // Microsoft says the tenant never consented: the onboarding waits for consent, no sign-in wasted.
  // Ops find it among those waiting for consent.
  await page.click('nav.tabs >> text=waiting-for-consent');
  await page.waitForURL(/step=waiting-for-consent/);
  await page.screenshot({ path: join(ARTIFACTS, 'ops-list-waiting-for-consent.png'), fullPage: true });
  await page.click(`a:text-is("${customer.accountId}")`);
  await untilStep(page, 'waiting-for-consent');
  const consentError = (await page.locator('#last-error').textContent()) ?? '';
  assert.match(consentError, /AADSTS7000229/);
  assert.match(consentError, /admin consent/i);
  assert.match(await page.locator('#consent-link').inputValue(), /\/adminconsent\?/);
  await page.screenshot({ path: join(ARTIFACTS, 'ops-consent-missing.png'), fullPage: true });

  // The customer's admin grants consent in the Azure portal and tells ops, who record it.
  const appId = (await page.locator('dt:text-is("App id") + dd').textContent())!.trim();
  await h.sim.grantConsent(customer.tenantId, appId);
  await page.fill('#note', 'admin granted it in the Azure portal');
  await page.click('text=Mark consent granted');
  await page.click('#confirm');
  await page.waitForURL(/sent=consentGranted/);
  assert.match(
    (await page.locator('.flash').textContent()) ?? '',
    /consentGranted sent as Dana Ops; it is recorded in the workflow history/,
  );

  // Consent confirmed, Microsoft then finds no such org in the tenant (AADSTS500011): the page says
  // what to do; ops send the org URL the customer gave.
  await untilStep(page, 'waiting-for-resource-fix');
  const fixError = (await page.locator('#last-error').textContent()) ?? '';
  assert.match(fixError, /AADSTS500011/);
  assert.match(fixError, /address bar/);
  await page.screenshot({ path: join(ARTIFACTS, 'ops-aadsts500011.png'), fullPage: true });
  // A URL the browser accepts but the server does not: refused, naming the field.
  await page.fill('#resourceUrl', 'http://contoso.crm.dynamics.com');
  await page.click('text=Send corrected URL');
  assert.match((await page.locator('main').textContent()) ?? '', /resourceUrl: must use https/);
  await page.goBack();
  await page.fill('#resourceUrl', customer.org);
  await page.click('text=Send corrected URL');
  assert.match((await page.locator('main').textContent()) ?? '', /to https:\/\/.*crm4\.dynamics\.com/);
  await page.click('#confirm');
  await page.waitForURL(/sent=resourceCorrected/);

  await untilStep(page, 'exchanging-token', 'sign-in');
  assert.match(await userSignsIn(page, customer.user), /Connected/);
  await untilStep(page, 'verified');
  await page.screenshot({ path: join(ARTIFACTS, 'ops-verified.png'), fullPage: true });

  // Who did what is in the timeline and, as signals, in the workflow history.
  const timeline = (await page.locator('#timeline').textContent()) ?? '';
  assert.match(timeline, /resource corrected.*by Dana Ops \(ops page\)/);
  assert.match(
    timeline,
    /consent granted.*reported by Dana Ops \(ops page\): admin granted it in the Azure portal; confirmed by Microsoft/,
  );
  const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
  const signals = (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)
    .filter(Boolean);
  assert.ok(signals.includes('resourceCorrected') && signals.includes('consentGranted'), String(signals));

  // The list shows it as verified.
  await page.goto(`${h.ingressUrl}/ops?step=verified`);
  assert.ok(await page.locator(`a:text-is("${customer.accountId}")`).isVisible());
  await page.close();
});
