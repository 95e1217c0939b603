// `app-status` and `renew-secret`: the shared app registration (app id, the secret's end and
// renewal, how many account connectors hold it) and renewing its secret now.
import type { Command } from 'commander';
import { appRegistrationStatus, NO_APP_YET, renewAppSecret } from '../../app-registration-client';
import { loadConfig } from '../../config';
import { appRegistrationWorkflowId } from '../../shared/names';
import type { AppRegistrationStatus } from '../../shared/status';
import { personSchema } from '../../shared/validation';
import { parse, withClient } from '../program';
import { formatJson } from '../format';
import { printable } from '../text';

export function appCommands(program: Command): void {
  program
    .command('app-status')
    .description(
      "Show the shared app registration: app id, the client secret's expiry and renewal date, how many account connectors hold it, renewals",
    )
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { APP_UNIQUE_NAME } = loadConfig();
      await withClient(async (client) => {
        const status = await appRegistrationStatus(client, APP_UNIQUE_NAME);
        if (!status) {
          if (o.json) console.log('null');
          else console.log(NO_APP_YET);
          return;
        }
        console.log(o.json ? formatJson(status) : formatAppStatus(status, APP_UNIQUE_NAME));
      });
    });

  program
    .command('renew-secret')
    .description(
      "Renew the shared app's client secret now: a new secret into every account connector holding the old one, then the old one removed (update renewAppSecret)",
    )
    .requiredOption('--by <who>', 'who asks for it (recorded in the history)')
    .option('--json', 'print the status after the renewal as JSON')
    .action(async (o) => {
      const by = parse(personSchema, o.by, { '': '--by' });
      const { APP_UNIQUE_NAME } = loadConfig();
      await withClient(async (client) => {
        if (!o.json)
          console.log('renewing the client secret (new secret, every holder updated, old one removed)...');
        const outcome = await renewAppSecret(client, APP_UNIQUE_NAME, by);
        if (!outcome.ok) {
          console.error(`error: ${printable(outcome.message)}`);
          process.exitCode = 1;
          return;
        }
        const last = outcome.status.rotations[outcome.status.rotations.length - 1];
        if (o.json) return console.log(formatJson(outcome.status));
        console.log(
          `renewed: secret ${last?.oldKeyId ?? '?'} replaced by ${last?.newKeyId ?? '?'} (the old one is removed)`,
        );
        console.log(formatAppStatus(outcome.status, APP_UNIQUE_NAME));
      });
    });
}

export function formatAppStatus(s: AppRegistrationStatus, appUniqueName: string): string {
  const day = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) + ' UTC' : 'none');
  const lines = [
    `${appRegistrationWorkflowId(appUniqueName)}`,
    `  app id         ${s.appId ?? 'not registered yet'}${s.adopted ? ` (adopted; changed: ${s.adopted.changed.join(', ') || 'nothing'})` : ''}`,
    `  secret         ${s.secretKeyId ?? 'none'}`,
    `  expires        ${day(s.secretExpiresAt)}`,
    `  renewal        ${day(s.renewAt)}`,
    `  holders        ${s.holders} account connector${s.holders === 1 ? '' : 's'} hold${s.holders === 1 ? 's' : ''} the secret`,
  ];
  if (s.lastError) lines.push(`  last error     ${printable(s.lastError)}`);
  if (s.rotations.length) {
    lines.push('  renewals');
    for (const r of s.rotations.slice(-5))
      lines.push(`    ${day(r.at)}  ${r.oldKeyId ?? 'none'} -> ${r.newKeyId}  ${printable(r.reason)}`);
  }
  return lines.join('\n');
}
