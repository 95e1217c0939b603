// Records workflow histories of the main paths into test/histories/, for the replay test that
// makes CI fail when a workflow change would break onboardings already running. Re-record only
// when a change is deliberately made compatible (with patched()) or no old runs remain.
//   npm run record-histories
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { codecServerOptions, startCodecServer } from '../src/codec/server';
import { temporalCliPath } from '../src/embedded/binaries';
import { waitUntil } from '../src/demo/sample-onboarding';
import { consentGrantedSignal, resourceCorrectedSignal, statusQuery } from '../src/shared/messages';
import { appRegistrationWorkflowId } from '../src/shared/names';
import { adminConsents, startOnboarding, userSignsIn } from '../test/helpers/flow';
import { startHarness, type Harness } from '../test/helpers/harness';

const dir = join(__dirname, '..', 'test', 'histories');

let codecEndpoint = '';

/**
 * Exported with the official CLI, in the format `temporal workflow show --output json` gives,
 * decoded through the codec server: the harness's key is random, the replay test has none.
 */
async function save(h: Harness, name: string, handle: WorkflowHandle | string): Promise<void> {
  const workflowId = typeof handle === 'string' ? handle : handle.workflowId;
  // Histories of older workflow code are kept as they are: replaying them is the point.
  if (existsSync(join(dir, `${name}.json`))) {
    console.log(`kept ${name} (recorded by older code)`);
    return;
  }
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

async function main(): Promise<void> {
  const h = await startHarness('dev-server');
  const codec = await startCodecServer(codecServerOptions(h.config, 'default'), 0, '127.0.0.1');
  codecEndpoint = `http://127.0.0.1:${(codec.address() as AddressInfo).port}/codecs`;
  /** The happy path: the admin consents, the user signs in, verified. */
  const happyPath = async (seed: string, name: string) => {
    const customer = await h.sim.seedCustomer(seed);
    const started = await startOnboarding(h, customer);
    await adminConsents(h, customer);
    await userSignsIn(h, customer);
    await started.result();
    await save(h, name, started);
  };
  /** Reminders every 3 s, consent declined (a problem), then expired at the 8 s deadline. */
  const remindedThenExpired = async (seed: string, name: string) => {
    const customer = await h.sim.seedCustomer(seed);
    const started = await startOnboarding(h, customer, {
      deadlines: { consent: '8s' },
      reminderInterval: '3s',
    });
    await adminConsents(h, customer, 'decline');
    await started.result();
    await save(h, name, started);
  };
  /** AADSTS500011 at sign-in (wrong org URL), ops send the right one, signed in, verified. */
  const resourceFixed = async (seed: string, name: string, wrongUrl: string) => {
    const customer = await h.sim.seedCustomer(seed);
    const started = await startOnboarding(h, customer, { resourceUrl: wrongUrl });
    await adminConsents(h, customer);
    await userSignsIn(h, customer);
    await waitUntil(h.env.client, started.workflowId, 'resource-fix');
    await started.signal(resourceCorrectedSignal, { resourceUrl: customer.org, by: 'ops' });
    await userSignsIn(h, customer);
    await started.result();
    await save(h, name, started);
  };
  try {
    await happyPath('happy', 'onboarding-happy-path');

    const noConsent = await h.sim.seedCustomer('noconsent');
    let handle = await startOnboarding(h, noConsent, { consentAlreadyGranted: true });
    await userSignsIn(h, noConsent);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await h.sim.grantConsent(noConsent.tenantId, (await h.sim.state()).applications[0].appId);
    await handle.signal(consentGrantedSignal, { by: 'ops' });
    await userSignsIn(h, noConsent);
    await handle.result();
    await save(h, 'onboarding-aadsts65001', handle);

    await resourceFixed('wrongorg', 'onboarding-aadsts500011', 'https://notthisone.crm.dynamics.com');

    const cancelled = await h.sim.seedCustomer('cancelled');
    handle = await startOnboarding(h, cancelled);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await save(h, 'onboarding-cancelled', handle);

    await save(h, 'app-registration', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));

    // v2 (issue 3): reminders and notifications in human waits, the secret holder reported to the
    // owner, the secret replaced after AADSTS7000222, cancellation while waiting for the sign-in.
    await happyPath('happy2', 'onboarding-happy-path-v2');

    const noConsent2 = await h.sim.seedCustomer('nocon2');
    handle = await startOnboarding(h, noConsent2, { consentAlreadyGranted: true });
    await userSignsIn(h, noConsent2);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await h.sim.grantConsent(noConsent2.tenantId, (await h.sim.state()).applications[0].appId);
    await handle.signal(consentGrantedSignal, { by: 'ops' });
    await userSignsIn(h, noConsent2);
    await handle.result();
    await save(h, 'onboarding-aadsts65001-v2', handle);

    const rotated = await h.sim.seedCustomer('rotated');
    handle = await startOnboarding(h, rotated);
    await adminConsents(h, rotated);
    const app = (await h.sim.state()).applications[0];
    await h.sim.call('POST', `/applications/${app.appId}/secrets/${app.passwordCredentials[0].keyId}/expire`);
    await userSignsIn(h, rotated); // AADSTS7000222: the owner replaces the secret
    await waitUntil(h.env.client, handle.workflowId, 'sign-in'); // the second attempt
    for (;;) {
      const s = await handle.query(statusQuery);
      if (s.waitingFor === 'sign-in' && s.signInAttempt === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await userSignsIn(h, rotated);
    await handle.result();
    await save(h, 'onboarding-secret-replaced', handle);

    await remindedThenExpired('reminded', 'onboarding-reminders-expired');

    const cancelled2 = await h.sim.seedCustomer('cancl2');
    handle = await startOnboarding(h, cancelled2);
    await adminConsents(h, cancelled2);
    await waitUntil(h.env.client, handle.workflowId, 'sign-in');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await save(h, 'onboarding-cancelled-signin-v2', handle);

    await save(h, 'app-registration-v2', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));

    // v3 (issue 6): credentials read from the owner by query, the secret holder reported by the
    // activity that wrote it.
    await happyPath('happy3', 'onboarding-happy-path-v3');

    const rotated3 = await h.sim.seedCustomer('rotat3');
    handle = await startOnboarding(h, rotated3);
    await adminConsents(h, rotated3);
    const app3 = (await h.sim.state()).applications[0];
    const current = app3.passwordCredentials[app3.passwordCredentials.length - 1];
    await h.sim.call('POST', `/applications/${app3.appId}/secrets/${current.keyId}/expire`);
    await userSignsIn(h, rotated3);
    for (;;) {
      const s = await handle.query(statusQuery);
      if (s.waitingFor === 'sign-in' && s.signInAttempt === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await userSignsIn(h, rotated3);
    await handle.result();
    await save(h, 'onboarding-secret-replaced-v3', handle);

    await save(h, 'app-registration-v3', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
    // v4: holders reported in batches (appSecretHolders), the history bound ('owner-history-bound').
    await save(h, 'app-registration-v4', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));

    // v4 of the onboarding ('notify-local'): notifications as local activities, in a happy path
    // and in a wait with reminders, a problem and the deadline.
    await happyPath('happy4', 'onboarding-happy-path-v4');
    await remindedThenExpired('remnd4', 'onboarding-reminders-expired-v4');

    // v5 ('connector-in-one-activity'): step 3 in one activity, the install carrying the
    // properties; in a happy path and through a resource fix (step 3 twice: install, then update).
    await happyPath('happy5', 'onboarding-happy-path-v5');
    await resourceFixed('wrong5', 'onboarding-aadsts500011-v5', 'https://notthisone5.crm.dynamics.com');
  } finally {
    codec.close();
    await h.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
