// Human-readable rendering of an onboarding's status for the CLI.
import type { OnboardingStatus } from '../shared/status';

export function formatStatus(s: OnboardingStatus): string {
  const lines = [
    `${s.workflowId}`,
    `  account        ${s.cyclrAccountId}`,
    `  tenant         ${s.customerTenant}`,
    `  resource       ${s.resourceUrl}`,
    `  step           ${s.step}${s.waitingFor ? ` (waiting for ${s.waitingFor})` : ''}`,
  ];
  if (s.waitingReason) lines.push(`  what to do     ${s.waitingReason}`);
  if (s.waitDeadline) lines.push(`  deadline       ${s.waitDeadline}`);
  if (s.waitingFor === 'consent' && s.consentUrl) lines.push(`  consent link   ${s.consentUrl}`);
  if (s.waitingFor === 'sign-in' && s.signInUrl) lines.push(`  sign-in link   ${s.signInUrl}`);
  if (s.appId) lines.push(`  app id         ${s.appId}`);
  if (s.accountConnectorId !== null) lines.push(`  connector id   ${s.accountConnectorId}`);
  if (s.lastError) {
    lines.push(
      `  last error     ${s.lastError.code ? `AADSTS${s.lastError.code} ` : ''}${s.lastError.name} (${s.lastError.class}) at ${s.lastError.at}`,
    );
    lines.push(`                 ${s.lastError.message}`);
    lines.push(`  remediation    ${s.lastError.remediation}`);
  }
  lines.push('  timeline');
  for (const t of s.timeline)
    lines.push(`    ${t.at}  ${t.step.padEnd(24)} ${t.event}${t.detail ? `: ${t.detail}` : ''}`);
  return lines.join('\n');
}
