// The Web UI reads the payloads, as under `npm start`: the dev server's UI has its codec endpoint
// set to the codec server, which answers the UI's own origin without a token. A finished
// onboarding opened in the UI (Debian's headless Chromium, driven by playwright-core) shows its
// input and result decoded as JSON. Screenshot in artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrowserContext } from 'playwright-core';
import type { OnboardingResult } from '../src/shared/status';
import { adminConsents, startOnboarding, userSignsIn } from './helpers/flow';
import { launchChromium, requireChromium } from './helpers/chromium';
import { startHarness, type Harness } from './helpers/harness';

const ARTIFACTS = resolve(__dirname, '..', 'artifacts');

let h: Harness;
let browser: BrowserContext;
before(async () => {
  requireChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startHarness('dev-server', {}, { webUi: true });
  browser = await launchChromium('webui-browser-');
});
after(async () => {
  await browser?.close();
  await h?.close();
});

test("the Web UI shows a finished onboarding's input and result decoded, with no token to configure", async () => {
  const customer = await h.sim.seedCustomer();
  const handle = await startOnboarding(h, customer);
  await adminConsents(h, customer);
  await userSignsIn(h, customer);
  const result: OnboardingResult = await handle.result();
  assert.equal(result.outcome, 'verified');

  const page = await browser.newPage();
  const decodes: number[] = [];
  page.on('response', (res) => {
    if (res.url().startsWith(h.codec.endpoint)) decodes.push(res.status());
  });
  await page.goto(`${h.webUi!.url}/namespaces/default/workflows/${handle.workflowId}`);
  const wanted = [
    `"cyclrAccountId": "${customer.accountId}"`,
    '"outcome": "verified"',
    '"authenticated": true',
  ];
  let shown = '';
  for (const end = Date.now() + 90_000; ; await page.waitForTimeout(500)) {
    shown = await page.locator('body').innerText();
    if (wanted.every((w) => shown.includes(w)) || Date.now() > end) break;
  }
  await page.screenshot({ path: join(ARTIFACTS, 'webui-decoded-result.png'), fullPage: true });
  for (const w of wanted) assert.ok(shown.includes(w), `the Web UI shows ${w}`);
  assert.ok(!shown.includes('binary/encrypted'), 'nothing is left encrypted on the page');
  assert.ok(decodes.length > 0 && decodes.every((s) => s === 200), `codec answers: ${decodes.join(',')}`);
  await page.close();
});
