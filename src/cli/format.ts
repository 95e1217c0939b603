// Human-readable rendering of an onboarding's status for the CLI. Every value may hold text from
// outside (an error description, a tenant, a name): each is printed with its control characters
// made visible (src/shared/terminal-text.ts).
import type { OnboardingStatus } from '../shared/status';
import { visible as v, visibleJson } from '../shared/terminal-text';

export function formatStatus(s: OnboardingStatus): string {
  const lines = [
    `${v(s.workflowId)}`,
    `  account        ${v(s.cyclrAccountId)}`,
    `  tenant         ${v(s.customerTenant)}`,
    `  resource       ${v(s.resourceUrl)}`,
    `  step           ${v(s.step)}${s.waitingFor ? ` (waiting for ${v(s.waitingFor)})` : ''}`,
  ];
  if (s.waitingReason) lines.push(`  what to do     ${v(s.waitingReason)}`);
  if (s.waitDeadline) lines.push(`  deadline       ${v(s.waitDeadline)}`);
  if (s.waitingFor === 'consent' && s.consentUrl) lines.push(`  consent link   ${v(s.consentUrl)}`);
  if (s.waitingFor === 'sign-in' && s.signInUrl) lines.push(`  sign-in link   ${v(s.signInUrl)}`);
  if (s.appId) lines.push(`  app id         ${v(s.appId)}`);
  if (s.accountConnectorId !== null) lines.push(`  connector id   ${v(s.accountConnectorId)}`);
  if (s.lastError) {
    const e = s.lastError;
    lines.push(
      `  last error     ${e.code ? `AADSTS${v(e.code)} ` : ''}${v(e.name)} (${v(e.class)}) at ${v(e.at)}`,
    );
    lines.push(`                 ${v(e.message)}`);
    lines.push(`  remediation    ${v(e.remediation)}`);
  }
  lines.push('  timeline');
  for (const t of s.timeline) {
    const repeats = t.repeats ? ` (x${v(t.repeats)}, last ${v(t.lastAt ?? '')})` : '';
    lines.push(
      `    ${v(t.at)}  ${v(t.step).padEnd(24)} ${v(t.event)}${t.detail ? `: ${v(t.detail)}` : ''}${repeats}`,
    );
  }
  return lines.join('\n');
}

/** JSON for a terminal: the same JSON, with control and format characters escaped. */
export const formatJson = (value: unknown): string => visibleJson(JSON.stringify(value, null, 2));
