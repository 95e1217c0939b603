// Records workflow histories of the main paths into test/histories/, for the replay test that
// makes CI fail when a workflow change would break onboardings already running. Re-record only
// when a change is deliberately made compatible (with patched()) or no old runs remain.
//   npm run record-histories
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { WorkflowHandle } from '@temporalio/client';
import { codecServerOptions, startCodecServer } from '../src/codec/server';
import { temporalCliPath } from '../src/embedded/binaries';
import { waitUntil } from '../src/demo/sample-onboarding';
import { consentGrantedSignal, resourceCorrectedSignal } from '../src/shared/messages';
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
  const json = execFileSync(
    temporalCliPath(),
    [
      ...['workflow', 'show', '--workflow-id', workflowId, '--address', h.env.address, '--output', 'json'],
      ...['--codec-endpoint', codecEndpoint, '--codec-auth', `Bearer ${h.config.CODEC_AUTH_TOKEN}`],
    ],
    {
      encoding: 'utf8',
    },
  );
  writeFileSync(join(dir, `${name}.json`), json);
  console.log(`recorded ${name} (${JSON.parse(json).events.length} events)`);
}

async function main(): Promise<void> {
  const h = await startHarness('dev-server');
  const codec = await startCodecServer(codecServerOptions(h.config, 'default'), 0, '127.0.0.1');
  codecEndpoint = `http://127.0.0.1:${(codec.address() as AddressInfo).port}/codecs`;
  try {
    const happy = await h.sim.seedCustomer('happy');
    let handle = await startOnboarding(h, happy);
    await adminConsents(h, happy);
    await userSignsIn(h, happy);
    await handle.result();
    await save(h, 'onboarding-happy-path', handle);

    const noConsent = await h.sim.seedCustomer('noconsent');
    handle = await startOnboarding(h, noConsent, { consentAlreadyGranted: true });
    await userSignsIn(h, noConsent);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await h.sim.grantConsent(noConsent.tenantId, (await h.sim.state()).applications[0].appId);
    await handle.signal(consentGrantedSignal, { by: 'ops' });
    await userSignsIn(h, noConsent);
    await handle.result();
    await save(h, 'onboarding-aadsts65001', handle);

    const wrongOrg = await h.sim.seedCustomer('wrongorg');
    handle = await startOnboarding(h, wrongOrg, { resourceUrl: 'https://notthisone.crm.dynamics.com' });
    await adminConsents(h, wrongOrg);
    await userSignsIn(h, wrongOrg);
    await waitUntil(h.env.client, handle.workflowId, 'resource-fix');
    await handle.signal(resourceCorrectedSignal, { resourceUrl: wrongOrg.org, by: 'ops' });
    await userSignsIn(h, wrongOrg);
    await handle.result();
    await save(h, 'onboarding-aadsts500011', handle);

    const cancelled = await h.sim.seedCustomer('cancelled');
    handle = await startOnboarding(h, cancelled);
    await waitUntil(h.env.client, handle.workflowId, 'consent');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    await save(h, 'onboarding-cancelled', handle);

    await save(h, 'app-registration', appRegistrationWorkflowId(h.config.APP_UNIQUE_NAME));
  } finally {
    codec.close();
    await h.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
