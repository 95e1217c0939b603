// The doctor's report: one check per line, with what it found and, when it fails, the fix. The
// CLI prints it (or its JSON); the ops page can render the same object.

export type DoctorGroup = 'Temporal' | 'Microsoft' | 'shared app' | 'Cyclr' | 'ingress' | 'keys';

export interface DoctorCheck {
  group: DoctorGroup;
  name: string;
  /** Passed. A skipped check is not ok and not a failure of its own. */
  ok: boolean;
  /** Not run: an earlier check it depends on failed, or it does not apply yet (`found` says why). */
  skipped?: boolean;
  /** What the check found, in words (never a secret). */
  found: string;
  /** What to do, when it failed. */
  fix?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** No check failed (skipped ones aside). */
  ok: boolean;
}

export const passed = (group: DoctorGroup, name: string, found: string): DoctorCheck => ({
  group,
  name,
  ok: true,
  found,
});

export const failed = (group: DoctorGroup, name: string, found: string, fix: string): DoctorCheck => ({
  group,
  name,
  ok: false,
  found,
  fix,
});

export const skipped = (group: DoctorGroup, name: string, why: string): DoctorCheck => ({
  group,
  name,
  ok: false,
  skipped: true,
  found: `skipped: ${why}`,
});

export const failures = (checks: DoctorCheck[]): DoctorCheck[] => checks.filter((c) => !c.ok && !c.skipped);

/** One line per check: `[ok]`, `[FAIL]` with the fix, or `[skip]` with why. */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = report.checks.map((c) => {
    const mark = c.ok ? '[ok]  ' : c.skipped ? '[skip]' : '[FAIL]';
    return `${mark} ${c.group}: ${c.name}: ${c.found}${!c.ok && c.fix ? ` -- fix: ${c.fix}` : ''}`;
  });
  const bad = failures(report.checks).length;
  lines.push(bad ? `${bad} check${bad === 1 ? '' : 's'} failed` : 'all checks passed');
  return lines.join('\n');
}

/** The message of an error, for `found` (the first line: the rest is detail or a stack). */
export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split(/\r?\n/)[0].slice(0, 600);
}
