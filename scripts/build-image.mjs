#!/usr/bin/env node
// What the Dockerfile does, as one script, so a test can do exactly the same in a clean folder
// (no container engine needed):
//
//   node scripts/build-image.mjs context <checkout> <dir>
//       the build context into <dir>: the files .dockerignore lets through (Docker's `COPY . .`)
//   node scripts/build-image.mjs build <app-dir>
//       in the build context (the current folder): `npm ci`, `npm run build`; then the runtime
//       folder <app-dir>, clean: package.json, package-lock.json and dist/ only, `npm ci --omit=dev`
//       (no dev dependency, no install hook, no Python, no Temporal binaries), and
//       bin/dynamics-onboarding, the package's bin, for PATH.
//
// The Dockerfile's build stage runs `build /app`; its runtime stage copies /app and nothing else.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const npmArgs = ['--no-audit', '--no-fund'];

function npm(cwd, args) {
  // The npm that runs this script when there is one (npm run, npm test), else the one on PATH.
  const cli = process.env.npm_execpath;
  const [command, prefix] = cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []];
  console.log(`[build-image] ${cwd}: npm ${args.join(' ')}`);
  execFileSync(command, [...prefix, ...args], { cwd, stdio: 'inherit' });
}

/** The `!path` lines of .dockerignore (an allowlist: `*`, then what goes in). */
function contextPaths(checkout) {
  const lines = readFileSync(join(checkout, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines[0] !== '*') throw new Error('.dockerignore must start with `*` and list what goes in as `!path`');
  return lines.slice(1).map((l) => {
    if (!l.startsWith('!') || /[*?[]/.test(l)) throw new Error(`.dockerignore: expected !<path>, got ${l}`);
    return l.slice(1).replace(/^\/+|\/+$/g, '');
  });
}

function context(checkout, dir) {
  if (existsSync(dir) && readdirSync(dir).length) throw new Error(`${dir} is not empty`);
  for (const path of contextPaths(checkout)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    cpSync(join(checkout, path), join(dir, path), { recursive: true });
  }
}

function build(appDir) {
  const src = process.cwd();
  npm(src, ['ci', ...npmArgs]);
  npm(src, ['run', 'build']);
  rmSync(appDir, { recursive: true, force: true });
  mkdirSync(appDir, { recursive: true });
  for (const path of ['package.json', 'package-lock.json', 'dist'])
    cpSync(join(src, path), join(appDir, path), { recursive: true });
  npm(appDir, ['ci', '--omit=dev', ...npmArgs]);
  // npm links a package's bin only where it is installed as a dependency; this is the package.
  mkdirSync(join(appDir, 'bin'));
  symlinkSync(join('..', 'dist', 'cli', 'main.js'), join(appDir, 'bin', 'dynamics-onboarding'));
  console.log(`[build-image] ${appDir}: ready (node dist/entrypoint.js worker | ingress | <verb>)`);
}

const [step, ...args] = process.argv.slice(2);
if (step === 'context' && args.length === 2) context(resolve(args[0]), resolve(args[1]));
else if (step === 'build' && args.length === 1) build(resolve(args[0]));
else {
  console.error(
    'usage: node scripts/build-image.mjs context <checkout> <dir> | build <app-dir> (run in the build context)',
  );
  process.exit(2);
}
