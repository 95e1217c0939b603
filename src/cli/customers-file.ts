// A file of customers to onboard (`onboard --from`): CSV with a header row, or JSON Lines, in UTF-8,
// with the fields account, tenant, resource_url and optionally requester, consent_already_granted.
// Every row is validated with the onboarding's own schema; every problem is reported with its line,
// its field and the expected form, so a whole file is fixed in one pass.
import { parse as parseCsv } from 'csv-parse/sync';
import type { OnboardingInput, ValidOnboardingInput } from '../shared/validation';
import { onboardingInputSchema } from '../shared/validation';

export const COLUMNS = ['account', 'tenant', 'resource_url', 'requester', 'consent_already_granted'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: readonly Column[] = ['account', 'tenant', 'resource_url'];

/** The onboarding input's field for each column, and back (to name a problem by its column). */
const FIELD: Record<Column, keyof OnboardingInput> = {
  account: 'cyclrAccountId',
  tenant: 'customerTenant',
  resource_url: 'resourceUrl',
  requester: 'requester',
  consent_already_granted: 'consentAlreadyGranted',
};
const COLUMN_OF = Object.fromEntries(Object.entries(FIELD).map(([c, f]) => [f, c])) as Record<string, Column>;

export interface FileProblem {
  /** 1-based line in the file; 0 for the file as a whole. */
  line: number;
  /** The column (or JSON field), `header`, or `file`. */
  field: string;
  message: string;
  /** The row's account, when it could be read. */
  account?: string;
}

export interface FileRow {
  line: number;
  input: ValidOnboardingInput;
}

export interface CustomersFile {
  format: 'csv' | 'jsonl';
  /** Data rows read (valid and invalid). */
  rows: number;
  valid: FileRow[];
  problems: FileProblem[];
}

const EXPECTED_COLUMNS = `expected the columns ${COLUMNS.join(', ')} (the last two optional)`;

/** `.jsonl`/`.ndjson` are JSON Lines, `.csv` is CSV; otherwise a first `{` means JSON Lines. */
export function formatOf(name: string, text: string): 'csv' | 'jsonl' {
  if (/\.(jsonl|ndjson)$/i.test(name)) return 'jsonl';
  if (/\.csv$/i.test(name)) return 'csv';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/**
 * Reads and validates a customers file. `common` is merged into every row (the CLI's deadline and
 * reminder flags, already validated).
 */
export function readCustomersFile(
  name: string,
  bytes: Buffer,
  common: Partial<OnboardingInput> = {},
): CustomersFile {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return { format: 'csv', rows: 0, valid: [], problems: [fileProblem('not UTF-8 text; save it as UTF-8')] };
  }
  const format = formatOf(name, text);
  const raw = format === 'csv' ? csvRows(text) : jsonLines(text);
  if ('problem' in raw) return { format, rows: 0, valid: [], problems: [raw.problem] };

  const problems: FileProblem[] = [...raw.problems];
  const valid: FileRow[] = [];
  const firstLine = new Map<string, number>();
  for (const row of raw.rows) {
    const parsed = onboardingInputSchema.safeParse({ ...common, ...row.input });
    const account = typeof row.input.cyclrAccountId === 'string' ? row.input.cyclrAccountId : undefined;
    const rowProblems = [...row.problems];
    if (!parsed.success)
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        // A field the reader already refused (its value was left out) is reported once.
        if (rowProblems.some((p) => p.field === COLUMN_OF[field])) continue;
        rowProblems.push({
          line: row.line,
          field: COLUMN_OF[field] ?? (field || 'row'),
          message: issue.message,
        });
      }
    if (!parsed.success || rowProblems.length) {
      problems.push(...rowProblems.map((p) => (account ? { ...p, account } : p)));
      continue;
    }
    const seen = firstLine.get(parsed.data.cyclrAccountId);
    if (seen !== undefined) {
      problems.push({
        line: row.line,
        field: 'account',
        message: `"${parsed.data.cyclrAccountId}" is also on line ${seen}: one row per account`,
        account: parsed.data.cyclrAccountId,
      });
      continue;
    }
    firstLine.set(parsed.data.cyclrAccountId, row.line);
    valid.push({ line: row.line, input: parsed.data });
  }
  if (!raw.rows.length && !raw.unreadable)
    problems.push(
      fileProblem(`no rows to onboard; ${format === 'csv' ? EXPECTED_COLUMNS : EXPECTED_FIELDS}`),
    );
  problems.sort((a, b) => a.line - b.line);
  return { format, rows: raw.rows.length + raw.unreadable, valid, problems };
}

/** Lines (and the rows on them) with a problem. */
export function invalidLines(file: CustomersFile): number[] {
  return [...new Set(file.problems.map((p) => p.line))];
}

function fileProblem(message: string, line = 0, field = 'file'): FileProblem {
  return { line, field, message };
}

interface RawRows {
  /** Rows read into fields, with the problems of values that could not be read. */
  rows: { line: number; input: Partial<Record<keyof OnboardingInput, unknown>>; problems: FileProblem[] }[];
  /** Rows that could not be read into fields at all (their problems are in `problems`). */
  unreadable: number;
  problems: FileProblem[];
}

function csvRows(text: string): RawRows | { problem: FileProblem } {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with the line it ends on.
    records = parseCsv(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof records;
  } catch (err) {
    const e = err as { message: string; lines?: number };
    return { problem: fileProblem(`not valid CSV: ${e.message}`, e.lines ?? 0, 'file') };
  }
  if (!records.length) return { problem: fileProblem(`empty; ${EXPECTED_COLUMNS}`) };
  const [header, ...data] = records;
  const names = header.record.map((h) => h.toLowerCase());
  const headerProblems: string[] = [];
  for (const name of names)
    if (!(COLUMNS as readonly string[]).includes(name))
      headerProblems.push(`unknown column "${name.slice(0, 40)}"`);
  for (const column of REQUIRED) if (!names.includes(column)) headerProblems.push(`no ${column} column`);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length) headerProblems.push(`column ${repeated[0]} appears twice`);
  // Spreadsheets in some locales save CSV with semicolons.
  if (names.length === 1 && names[0].includes(';'))
    headerProblems.splice(
      0,
      headerProblems.length,
      'the values are separated by ";"; save the file with commas',
    );
  if (headerProblems.length)
    return {
      problem: fileProblem(`${headerProblems.join('; ')}; ${EXPECTED_COLUMNS}`, header.info.lines, 'header'),
    };

  const out: RawRows = { rows: [], unreadable: 0, problems: [] };
  for (const { record, info } of data) {
    if (record.length !== names.length) {
      out.unreadable++;
      out.problems.push(
        fileProblem(
          `${record.length} fields where the header has ${names.length} (${names.join(',')}); quote a value that contains a comma`,
          info.lines,
          'row',
        ),
      );
      continue;
    }
    const input: RawRows['rows'][number]['input'] = {};
    const problems: FileProblem[] = [];
    names.forEach((name, i) => {
      const value = record[i];
      if (value === '' && !REQUIRED.includes(name as Column)) return;
      if (name === 'consent_already_granted') {
        const flag = yesNo(value);
        if (flag === undefined)
          problems.push(fileProblem(`"${value.slice(0, 20)}": expected true or false`, info.lines, name));
        else input.consentAlreadyGranted = flag;
      } else input[FIELD[name as Column]] = value;
    });
    out.rows.push({ line: info.lines, input, problems });
  }
  return out;
}

const EXPECTED_FIELDS = `expected one JSON object per line with ${COLUMNS.join(', ')} (the last two optional)`;

function jsonLines(text: string): RawRows {
  const out: RawRows = { rows: [], unreadable: 0, problems: [] };
  text.split(/\r?\n/).forEach((content, index) => {
    const line = index + 1;
    if (!content.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (err) {
      out.unreadable++;
      out.problems.push(
        fileProblem(`not valid JSON (${(err as Error).message}); ${EXPECTED_FIELDS}`, line, 'row'),
      );
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.unreadable++;
      out.problems.push(fileProblem(EXPECTED_FIELDS, line, 'row'));
      return;
    }
    const input: RawRows['rows'][number]['input'] = {};
    const problems: FileProblem[] = [];
    for (const [key, v] of Object.entries(value)) {
      if (!(COLUMNS as readonly string[]).includes(key)) {
        problems.push(fileProblem(`unknown field; ${EXPECTED_FIELDS}`, line, key.slice(0, 40)));
        continue;
      }
      if (v === null || v === '') continue;
      if (key === 'consent_already_granted') {
        const flag = typeof v === 'boolean' ? v : typeof v === 'string' ? yesNo(v) : undefined;
        if (flag === undefined) problems.push(fileProblem('expected true or false', line, key));
        else input.consentAlreadyGranted = flag;
      } else input[FIELD[key as Column]] = v;
    }
    out.rows.push({ line, input, problems });
  });
  return out;
}

function yesNo(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'y', '1'].includes(v)) return true;
  if (['false', 'no', 'n', '0'].includes(v)) return false;
  return undefined;
}
