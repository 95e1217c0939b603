// Records one workflow history per main path into test/histories/, for the replay test that makes
// CI fail when a workflow change would break onboardings already running.
//   npm run record-histories
// Until the first release to users, re-record after any workflow change (this script rewrites them
// all). After it, keep the released version's histories and guard changes with patched().
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { codecServerOptions, startCodecServer } from '../src/codec/server';
import { temporalCliPath } from '../src/embedded/binaries';
import { waitUntil } from '../src/demo/sample-onboarding';
import { consentGrantedSignal, resourceCorrectedSignal, statusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId, offboardingWorkflowId } from '../src/shared/names';
import { offboardAccount } from '../src/offboarding-start';
import { adminConsents, startOnboarding, userSignsIn } from '../test/helpers/flow';
import { startHarness, type Harness } from '../test/helpers/harness';

const dir = join(__dirname, '..', 'test', 'histories');

/**
 * Exported with the official CLI, in the format `temporal workflow show --output json` gives,
 * decoded through the codec server: the harness's key is random, the replay test has none.
 */
async function save(h: Harness, codecEndpoint: string, name: string, handle: WorkflowHandle | string) {
  const workflowId = typeof handle === 'string' ? handle : handle.workflowId;
  // Asynchronous: the codec server runs in this process and must answer the CLI meanwhile.
  const { stdout: json } = await promisify(execFile)(
    temporalCliPath(),
    [
      ...['workflow', 'show', '--workflow-id', workflowId, '--address', h.env.address, '--output', 'json'],
      ...['--codec-endpoint', codecEndpoint, '--codec-auth', `Bearer ${h.config.CODEC_AUTH_TOKEN}`],
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(join(dir, `${name}.json`), json);
  console.log(`recorded ${name} (${JSON.parse(json).events.length} events)`);
}

async function withHarness(
  kind: 'dev-server' | 'time-skipping',
  record: (
    h: Harness,
    save: (name: string, handle: WorkflowHandle | string) => Promise<void>,
  ) => Promise<void>,
) {
  const h = await startHarness(kind);
  const codec = await startCodecServer(codecServerOptions(h.config, 'default'), 0, '127.0.0.1');
  const endpoint = `http://127.0.0.1:${(codec.address() as AddressInfo).port}/codecs`;
  try {
    await record(h, (name, handle) => save(h, endpoint, name, handle));
  } finally {
    codec.close();
    await h.close();
  }
}

async function signInAttempt(handle: WorkflowHandle, attempt: number) {
  for (;;) {
    const s = await handle.query(statusQuery);
    if (s.waitingFor === 'sign-in' && s.signInAttempt === attempt) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) if (file.endsWith('.json')) rmSync(join(dir, file));

  await withHarness('dev-server', async (h, save) => {
    // The happy path: the admin consents, the user signs in, verified.
    const happy = await h.sim.seedCustomer('happy');
    let handle = await startOnboarding(h, happy);
    await adminConsents(h, happy);
    await userSignsIn(h, happy);
    await handle.result();
    await save('onboarding-happy-path', handle);

    // The verified customer offboarded: connector deauthenticated and deleted, the owner told.
    await offboardAccount(h.env.client, { cyclrAccountId: happy.accountId, by: 'ops' });
    await save('offboarding', offboardingWorkflowId(happy.accountId));

    // AADSTS65001 at redemption right after consent (Entra's propagation): a new sign-in, verified.
    const propagation = await h.sim.seedCustomer('propagation');
    handle = await startOnboarding(h, propagation);
    await adminConsents(h, propagation);
    await waitUntil(h.env.client, handle.workflowId, 'sign-in');
    await h.sim.call('POST', '/faults', {
      match: { service: 'identity', method: 'POST', path: '/oauth2/token$' },
      times: 1,
      action: {
        type: 'status',
        status: 400,
        body: {
          error: 'invalid_grant',
          error_description:
            "AADSTS65001: The user or administrator has not consented to use the application with ID 'x' named 'y'. Send an interactive authorization request for this user and resource.",
          error_codes: [65001],
          suberror: 'consent_required',
        },
      },
    });
    await userSignsIn(h, propagation);
    await signInAttempt(handle, 2);
    await userSignsIn(h, propagation);
    await handle.result();
    await save('onboarding-aadsts65001', handle);

    // A wrong Resource URL (AADSTS500011), found before the sign-in: ops send the right one.
    const wrongOrg = await h.sim.seedCustomer('wrongorg');
    handle = await startOnboarding(h, wrongOrg, { resourceUrl: 'https://notthisone.crm.dynamics.com' });
    await adminConsents(h, wrongOrg);
    await waitUntil(h.env.client, handle.workflowId, 'resource-fix');
    await handle.signal(resourceCorrectedSignal, { resourceUrl: wrongOrg.org, by: 'ops' });
    await userSignsIn(h, wrongOrg);
    await handle.result();
    await save('onboarding-aadsts500011', handle);

    // Microsoft rejects the expired client secret at the sign-in: the owner replaces it.
    const rotated = await h.sim.seedCustomer('rotated');
    handle = await startOnboarding(h, rotated);
    await adminConsents(h, rotated);
    await waitUntil(h.env.client, handle.workflowId, 'sign-in');
    const app = (await h.sim.state()).applications[0];
    const current = app.passwordCredentials[app.passwordCredentials.length - 1];
    await h.sim.call('POST', `/applications/${app.appId}/secrets/${current.keyId}/expire`);
    await userSignsIn(h, rotated);
    await signInAttempt(handle, 2);
    await userSignsIn(h, rotated);
    await handle.result();
    await save('onboarding-secret-replaced', handle);

    // Cancelled while waiting for consent (after a consent report Microsoft did not confirm).
    const cancelled = await h.sim.seedCustomer('cancelled');
    handle = await startOnboarding(h, cancelled);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await handle.signal(consentGrantedSignal, { by: 'ops' });
    await new Promise((r) => setTimeout(r, 20_000));
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await save('onboarding-cancelled', handle);

    // The owner: registered the app, handed out credentials, rotated the secret.
    await save('app-registration', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
  });

  await withHarness('time-skipping', async (h, save) => {
    // Reminders, a declined consent (a problem), then expired at the deadline.
    const reminded = await h.sim.seedCustomer('reminded');
    const handle = await startOnboarding(h, reminded, {
      deadlines: { consent: '3 days' },
      reminderInterval: '1 day',
    });
    await adminConsents(h, reminded, 'decline');
    await handle.result();
    await save('onboarding-expired', handle);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
