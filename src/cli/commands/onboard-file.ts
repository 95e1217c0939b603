// `onboard --from <file>`: a wave of onboardings from a customers file. Every row is validated
// before anything starts; bad rows are reported together (line, field, expected form) and nothing
// starts unless --skip-invalid. Then each account is started once (src/onboarding-start.ts), with
// a progress bar at a terminal (plain lines otherwise), and a summary by step, or JSON.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Client } from '@temporalio/client';
import {
  describeExisting,
  describeLatest,
  startOnboardingOnce,
  existingOnboarding,
} from '../../onboarding-start';
import type { OnboardingInput } from '../../shared/validation';
import { invalidLines, readCustomersFile, type FileProblem, type FileRow } from '../customers-file';
import { UsageError, withClient } from '../program';
import { printable } from '../text';

/** Starts in flight at once: enough to keep Temporal busy, few enough not to swamp it. */
const CONCURRENCY = 8;
/** Rows listed by name in the text summary when they already had an onboarding or failed. */
const LISTED = 20;
/** How long the summary waits for just-started onboardings to take their first step. */
const SETTLE_MS = 3_000;

type RowResult =
  | {
      line: number;
      account: string;
      outcome: 'started';
      workflowId: string;
      runId: string;
      step: string;
      afterOffboarding: boolean;
    }
  | {
      line: number;
      account: string;
      outcome: 'existing';
      workflowId: string;
      runId: string;
      status: string;
      step: string;
    }
  | { line: number; account: string; outcome: 'failed'; error: string }
  | { line: number; account?: string; outcome: 'invalid'; problems: { field: string; message: string }[] };

export async function onboardFromFile(opts: {
  file: string;
  skipInvalid: boolean;
  json: boolean;
  common: Partial<OnboardingInput>;
}): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(opts.file);
  } catch (err) {
    throw new UsageError(
      `--from: cannot read "${opts.file}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const name = basename(opts.file);
  const file = readCustomersFile(opts.file, bytes, opts.common);
  const invalid = invalidRows(file.problems);
  const wholeFile = file.problems.some((p) => p.field === 'file' || p.field === 'header');

  if (file.problems.length && (!opts.skipInvalid || wholeFile)) {
    // Nothing starts: every problem is reported, one line each.
    if (opts.json)
      console.log(
        JSON.stringify(
          {
            file: opts.file,
            format: file.format,
            rows: file.rows,
            started: 0,
            invalid: invalid.length,
            results: invalid,
          },
          null,
          2,
        ),
      );
    for (const p of file.problems) console.error(`error: ${problemLine(name, p)}`);
    console.error(
      wholeFile
        ? `error: ${name}: nothing was started`
        : `error: ${name}: ${invalidLines(file).length} of ${file.rows} rows are invalid; nothing was started (fix them, or add --skip-invalid to start the ${file.valid.length} valid rows)`,
    );
    process.exitCode = 2;
    return;
  }
  if (file.problems.length && !opts.json)
    for (const p of file.problems) console.error(`skipped: ${problemLine(name, p)}`);

  const results: RowResult[] = await withClient(async (client) => {
    const started = await startAll(client, file.valid);
    // Where each onboarding is now. A run just started takes its first step when a worker picks it
    // up: those still starting are read again for a few seconds.
    const settleUntil = Date.now() + SETTLE_MS;
    for (let pending = started; ;) {
      await pool(pending, async (r) => {
        if (r.outcome !== 'started') return;
        const now = await describeLatest(client, r.workflowId).catch(() => undefined);
        if (now) r.step = existingOnboarding(now).step ?? 'starting';
      });
      pending = started.filter((r) => r.outcome === 'started' && r.step === 'starting');
      if (!pending.length || Date.now() >= settleUntil) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return started;
  });
  const all = [...results, ...invalid].sort((a, b) => a.line - b.line);
  const count = (outcome: RowResult['outcome']) => all.filter((r) => r.outcome === outcome).length;
  const byStep: Record<string, number> = {};
  for (const r of all) if ('step' in r) byStep[r.step] = (byStep[r.step] ?? 0) + 1;
  const failed = count('failed');
  if (failed) process.exitCode = 1;

  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          file: opts.file,
          format: file.format,
          rows: file.rows,
          started: count('started'),
          existing: count('existing'),
          failed,
          invalid: count('invalid'),
          byStep,
          results: all,
        },
        null,
        2,
      ),
    );
    return;
  }
  const pad = (label: string, n: number) => `  ${label.padEnd(34)} ${String(n).padStart(6)}`;
  const lines = [
    `${name}: ${file.rows} rows`,
    pad('started', count('started')),
    pad('already had an onboarding', count('existing')),
    pad('could not be started', failed),
    ...(invalid.length ? [pad('skipped (invalid)', invalid.length)] : []),
    'by step:',
    ...Object.entries(byStep)
      .sort((a, b) => b[1] - a[1])
      .map(([step, n]) => pad(step, n)),
  ];
  const listed = (rows: RowResult[], what: (r: RowResult) => string) => {
    const shown = rows.slice(0, LISTED);
    const width = Math.max(...shown.map((r) => (r.account ?? '').length));
    for (const r of shown)
      lines.push(`  line ${String(r.line).padEnd(5)} ${(r.account ?? '').padEnd(width)}  ${what(r)}`);
    if (rows.length > LISTED) lines.push(`  ... and ${rows.length - LISTED} more (--json lists every row)`);
  };
  const existing = all.filter((r) => r.outcome === 'existing');
  if (existing.length) {
    lines.push('already had an onboarding (never started twice):');
    listed(existing, (r) => describeExisting(r as Extract<RowResult, { outcome: 'existing' }>));
    if (existing.some((r) => r.status !== 'RUNNING'))
      lines.push(
        '  (an account whose onboarding ended starts afresh only after: npm run client -- offboard <account> --by <you>)',
      );
  }
  const failures = all.filter((r) => r.outcome === 'failed');
  if (failures.length) {
    lines.push('could not be started (run the same file again: the others are not started twice):');
    listed(failures, (r) => printable((r as Extract<RowResult, { outcome: 'failed' }>).error));
  }
  lines.push('follow them with: npm run client -- list --watch');
  console.log(lines.join('\n'));
}

function problemLine(name: string, p: FileProblem): string {
  const where = p.line ? `${name} line ${p.line}` : name;
  return printable(`${where}: ${p.field}: ${p.message}`);
}

function invalidRows(problems: FileProblem[]): RowResult[] {
  const byLine = new Map<number, Extract<RowResult, { outcome: 'invalid' }>>();
  for (const p of problems) {
    if (!p.line) continue;
    const row = byLine.get(p.line) ?? { line: p.line, outcome: 'invalid' as const, problems: [] };
    if (p.account) row.account = p.account;
    row.problems.push({ field: p.field, message: p.message });
    byLine.set(p.line, row);
  }
  return [...byLine.values()];
}

/** Starts every row once, with a progress bar at a terminal or a line every tenth otherwise. */
async function startAll(client: Client, rows: FileRow[]): Promise<RowResult[]> {
  const total = rows.length;
  const tally = { started: 0, existing: 0, failed: 0 };
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new SingleBar({
        format:
          'starting |{bar}| {value}/{total} · started {started} · already had one {existing} · failed {failed}',
        stream: process.stderr,
        hideCursor: true,
      })
    : undefined;
  bar?.start(total, 0, tally);
  const every = Math.max(1, Math.ceil(total / 10));
  let done = 0;
  const results: RowResult[] = new Array(total);
  await pool(rows, async (row, i) => {
    const account = row.input.cyclrAccountId;
    try {
      const outcome = await startOnboardingOnce(client, row.input);
      if (outcome.started) {
        tally.started++;
        results[i] = {
          line: row.line,
          account,
          outcome: 'started',
          workflowId: outcome.workflowId,
          runId: outcome.runId,
          step: 'starting',
          afterOffboarding: outcome.afterOffboarding,
        };
      } else {
        tally.existing++;
        results[i] = {
          line: row.line,
          account,
          outcome: 'existing',
          workflowId: outcome.workflowId,
          runId: outcome.existing.runId,
          status: outcome.existing.status,
          step: outcome.existing.step ?? 'starting',
        };
      }
    } catch (err) {
      tally.failed++;
      results[i] = {
        line: row.line,
        account,
        outcome: 'failed',
        error: (err as Error).message ?? String(err),
      };
    }
    done++;
    if (bar) bar.update(done, tally);
    else if (done % every === 0 || done === total)
      console.error(
        `starting: ${done}/${total} (started ${tally.started}, already had one ${tally.existing}, failed ${tally.failed})`,
      );
  });
  bar?.stop();
  return results;
}

/** Runs `fn` over `items`, CONCURRENCY at a time. */
async function pool<T>(items: T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}
