// `npm test`: every test file (or those named on the command line), three at a time. Files that
// load the machine call runsAlone() (test/helpers/runs-alone.ts) and take turns; they are spread
// over the run here, so that one waiting for its turn rarely holds a slot idle. Run with
// `node --import tsx`: each file's process inherits it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CONCURRENCY = 3;
// For a whole file: the longest (the production package: two installs and a build) takes minutes.
const TIMEOUT_MS = 600_000;

const testFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'helpers' || entry.name === 'histories' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });

const named = process.argv.slice(2).map((file) => join(process.cwd(), file));
const files = (named.length ? named : testFiles(join(root, 'test'))).sort();
const alone = files.filter((file) => /^runsAlone\(\);$/m.test(readFileSync(file, 'utf8')));
const others = files.filter((file) => !alone.includes(file));
// The files that run alone at even intervals among the others.
const order = [...others];
alone.forEach((file, i) => order.splice(Math.floor(((i + 0.5) * others.length) / alone.length) + i, 0, file));

console.log(
  `${order.length} test files, ${CONCURRENCY} at a time; taking turns: ${alone.map((f) => relative(root, f)).join(', ') || 'none'}`,
);
const stream = run({ files: order, concurrency: CONCURRENCY, timeout: TIMEOUT_MS });
stream.on('test:fail', () => (process.exitCode = 1));
stream.compose(spec).pipe(process.stdout);
