// The production package, as the container image builds it: scripts/build-image.mjs (the
// Dockerfile's build) run in a clean folder: the build context .dockerignore lets in, `npm ci`,
// `npm run build`, then a runtime folder with package.json, package-lock.json and dist/ installed
// with `npm ci --omit=dev`. From that folder alone (no dev dependency, no tsx, no Temporal binaries)
// the compiled worker and ingress run against a separately started Temporal server, and the
// package's bin starts an onboarding that a customer's admin and user take to verified.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { followLink } from '../src/demo/person';
import { onboardingWorkflowId } from '../src/shared/names';
import type { OnboardingStatus } from '../src/shared/status';
import type { WaitingFor } from '../src/shared/steps';
import { startSimulators } from '../simulators/server';
import { startDevServer, type DevServer } from './helpers/dev-server';
import { freePort } from './helpers/harness';
import { SimControl } from './helpers/sim-control';
import { runsAlone } from './helpers/runs-alone';

const root = resolve(__dirname, '..');
const NAMESPACE = 'onboarding';
const work = mkdtempSync(join(tmpdir(), 'onboarding-package-'));
const app = join(work, 'app');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(command, args, { ...opts, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolveRun({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs one step of the image build; its output is shown only if it fails. */
async function buildStep(cwd: string, args: string[]): Promise<void> {
  // An npm cache already on this machine is reused without asking the registry again.
  const env = { ...process.env, npm_config_prefer_offline: 'true' };
  const result = await run(process.execPath, args, { cwd, env });
  assert.equal(result.code, 0, `${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
}

let server: DevServer;
let simulators: Awaited<ReturnType<typeof startSimulators>>;
let sim: SimControl;
/** The production processes' whole environment: nothing from this test process but PATH. */
let env: NodeJS.ProcessEnv;
let dataDir: string;
let healthPort: number;
let ingressUrl: string;
const children: { name: string; child: ChildProcess; output: () => string }[] = [];

function start(name: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const entry = { name, child, output: () => output };
  children.push(entry);
  return entry;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  const outputs = () => children.map((c) => `--- ${c.name}\n${c.output()}`).join('\n');
  while (!(await check())) {
    const exited = children.find((c) => c.child.exitCode !== null);
    if (exited) throw new Error(`${exited.name} exited while waiting for ${what}\n${outputs()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${outputs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const get = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    async (res) => ({ status: res.status, body: await res.text() }),
    () => ({ status: 0, body: '' }),
  );

/** The package's bin, as installed: `dynamics-onboarding <verb> ...`. */
const cli = (...args: string[]) => run(join(app, 'bin', 'dynamics-onboarding'), args, { cwd: app, env });

async function statusOf(account: string): Promise<OnboardingStatus> {
  const result = await cli('status', account, '--json');
  assert.equal(result.code, 0, `status failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as OnboardingStatus;
}

async function waitingFor(account: string, what: WaitingFor): Promise<OnboardingStatus> {
  let status: OnboardingStatus | undefined;
  await waitFor(`${account} waiting for ${what} (now ${status?.step})`, async () => {
    status = await statusOf(account);
    return status.waitingFor === what;
  });
  return status!;
}

runsAlone();
before(async () => {
  // Docker's `COPY . .`, then the build stage's RUN, from inside the copied context.
  await buildStep(root, [join(root, 'scripts', 'build-image.mjs'), 'context', root, join(work, 'src')]);
  await buildStep(join(work, 'src'), [join('scripts', 'build-image.mjs'), 'build', app]);

  [server, simulators] = await Promise.all([startDevServer(NAMESPACE), startSimulators({ port: 0 })]);
  sim = new SimControl(simulators.url);
  const ingressPort = await freePort();
  healthPort = await freePort();
  ingressUrl = `http://127.0.0.1:${ingressPort}`;
  dataDir = join(work, 'data');
  mkdirSync(dataDir);
  env = {
    PATH: [dirname(process.execPath), process.env.PATH].join(delimiter),
    HOME: work,
    NODE_ENV: 'production',
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    IDENTITY_BASE_URL: `${simulators.url}/login`,
    GRAPH_BASE_URL: `${simulators.url}/graph`,
    CYCLR_API_BASE_URL: `${simulators.url}/cyclr-api`,
    CYCLR_SERVICE_BASE_URL: `${simulators.url}/cyclr-app`,
    INGRESS_PORT: String(ingressPort),
    PUBLIC_BASE_URL: ingressUrl,
    SECRET_SEALING_KEYS: `p1:${randomBytes(32).toString('base64')}`,
    STATE_SIGNING_KEY: randomBytes(32).toString('hex'),
    PAYLOAD_CODEC_KEYS: `c1:${randomBytes(32).toString('base64')}`,
    OPS_TOKEN: randomBytes(24).toString('hex'),
    HEALTH_PORT: String(healthPort),
    DATA_DIR: dataDir,
    HTTP_TIMEOUT_MS: '5000',
  };
});

after(async () => {
  for (const { child } of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }
  await simulators?.close();
  await server?.stop();
  rmSync(work, { recursive: true, force: true }); // two node_modules: most of a gigabyte
});

test('the runtime folder holds package.json, package-lock.json, dist/ and production dependencies only', () => {
  assert.deepEqual(readdirSync(app).sort(), [
    'bin',
    'dist',
    'node_modules',
    'package-lock.json',
    'package.json',
  ]);
  // No install hook that would need Python or the Temporal binaries on a production host.
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
    assert.equal(pkg.scripts[hook], undefined, `package.json has a ${hook} script`);
  assert.equal(existsSync(join(app, '.tools')), false);
  for (const dev of ['tsx', 'typescript', '@temporalio/testing', 'playwright-core', 'eslint', 'fast-check'])
    assert.equal(existsSync(join(app, 'node_modules', dev)), false, `${dev} is installed`);
  assert.ok(existsSync(join(app, 'dist', 'workflow-bundle.js')));
  assert.ok(existsSync(join(app, 'dist', 'workflow-bundle.traced.js')));
  assert.equal(pkg.bin['dynamics-onboarding'], 'dist/cli/main.js');
  assert.ok(statSync(join(app, 'dist', 'cli', 'main.js')).mode & 0o111, 'the bin is executable');

  // Every package the compiled code requires is a runtime dependency (or Node's own).
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
    );
  const required = new Map<string, string>();
  for (const file of files(join(app, 'dist'))) {
    if (/workflow-bundle/.test(file)) continue; // self-contained
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\b(?:require(?:\.resolve)?|import)\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
      const name = m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0];
      if (!builtins.has(m[1]) && !builtins.has(name)) required.set(name, relative(app, file));
    }
  }
  assert.ok(required.has('@temporalio/worker'), 'the scan sees the requires');
  for (const [name, file] of required)
    assert.ok(name in pkg.dependencies, `${file} requires ${name}, which is not in dependencies`);
});

test('the built CLI lists the same verbs as `npm run client`', async () => {
  const verbs = (help: string) =>
    [...help.split('Commands:')[1].matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]).filter((v) => v !== 'help');
  const built = await cli('--help');
  const source = await run(process.execPath, ['--import', 'tsx', join('src', 'cli', 'main.ts'), '--help'], {
    cwd: root,
    env: process.env,
  });
  assert.equal(built.code, 0, built.stderr);
  assert.deepEqual(verbs(built.stdout), verbs(source.stdout));
  assert.ok(verbs(built.stdout).includes('onboard'));
  // The image's entrypoint hands anything that is not a process name to the CLI.
  const viaEntrypoint = await run(process.execPath, [join('dist', 'entrypoint.js'), '--help'], {
    cwd: app,
    env,
  });
  assert.equal(viaEntrypoint.stdout, built.stdout);
});

test('the Dockerfile runs this build: context, build-image.mjs, /app only in the runtime stage', () => {
  // Instructions one per line (continuations joined), comments dropped.
  const instructions = readFileSync(join(root, 'Dockerfile'), 'utf8')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => /^[A-Z]/.test(l));
  assert.ok(instructions.includes('ARG NODE_IMAGE=node:20-bookworm-slim'));
  const stages = instructions
    .join('\n')
    .split(/^FROM .*$/m)
    .slice(1);
  assert.equal(stages.length, 2, 'a build stage and a runtime stage');
  const [build, runtime] = stages.map((stage) => stage.split('\n').filter(Boolean));
  assert.deepEqual(
    build.filter((l) => /^(COPY|RUN)/.test(l)),
    ['COPY . .', 'RUN node scripts/build-image.mjs build /app'],
  );
  assert.deepEqual(
    runtime.filter((l) => /^COPY/.test(l)),
    ['COPY --from=build /app /app'],
  );
  assert.ok(runtime.includes('USER node'));
  assert.ok(runtime.includes('ENTRYPOINT ["node", "/app/dist/entrypoint.js"]'));
  assert.ok(
    runtime.some((l) =>
      /^HEALTHCHECK .*CMD \["node", "\/app\/dist\/entrypoint\.js", "healthcheck"\]$/.test(l),
    ),
  );
});

test('the built worker, ingress and CLI onboard a customer to verified', async () => {
  // The worker, as production starts it: `node dist/worker.js`.
  const worker = start('worker', [join('dist', 'worker.js')]);
  const pollingLine = () => /^.*worker polling.*$/m.exec(worker.output())?.[0];
  await waitFor('the worker to poll', () => /worker polling.*\n/.test(worker.output()));
  const polling = JSON.parse(pollingLine()!) as { workflowBundle: string };
  assert.equal(polling.workflowBundle, join(app, 'dist', 'workflow-bundle.js'), 'loads the prebuilt bundle');
  assert.equal((await get(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);
  await waitFor('the worker to be ready', async () => {
    return (await get(`http://127.0.0.1:${healthPort}/readyz`)).status === 200;
  });
  const healthcheck = await run(process.execPath, [join('dist', 'entrypoint.js'), 'healthcheck'], {
    cwd: app,
    env,
  });
  assert.equal(healthcheck.code, 0, 'the image HEALTHCHECK passes');

  // The ingress, through the image's entrypoint.
  const ingress = start('ingress', [join('dist', 'entrypoint.js'), 'ingress']);
  await waitFor('the ingress', async () => (await get(`${ingressUrl}/healthz`)).status === 200);
  await waitFor(
    'the ingress to reach Temporal',
    async () => (await get(`${ingressUrl}/readyz`)).status === 200,
  );

  const customer = await sim.seedCustomer();
  const onboard = await cli(
    'onboard',
    '--account',
    customer.accountId,
    '--tenant',
    customer.tenantId,
    '--resource-url',
    customer.org,
    '--requester',
    'ops@partner.example',
  );
  assert.equal(onboard.code, 0, `onboard failed: ${onboard.stdout}${onboard.stderr}`);

  // The customer's admin follows the consent link, then the user the sign-in link.
  const consent = await waitingFor(customer.accountId, 'consent');
  assert.ok(consent.consentUrl, 'a consent link while waiting for consent');
  await followLink(consent.consentUrl!, { username: customer.admin });
  const signIn = await waitingFor(customer.accountId, 'sign-in');
  assert.ok(signIn.signInUrl?.startsWith(ingressUrl), signIn.signInUrl ?? 'no sign-in link');
  await followLink(signIn.signInUrl!, { username: customer.user });

  await waitFor('verified', async () => (await statusOf(customer.accountId)).step === 'verified');
  const status = await cli('status', customer.accountId);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^${onboardingWorkflowId(customer.accountId)}$`, 'm'));
  assert.match(status.stdout, /^ {2}step +verified$/m);
  const connector = (await sim.state()).accountConnectors.find((c) => c.accountId === customer.accountId);
  assert.equal(connector?.Authenticated, true, 'Cyclr says the connector is authenticated');
  // Every key was configured: nothing was generated on disk.
  assert.deepEqual(readdirSync(dataDir), []);

  // SIGTERM: both stop cleanly.
  for (const { child } of [worker, ingress]) {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
