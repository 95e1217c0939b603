// `send-event`: signs a file's bytes and POSTs them as an onboarding event, exactly as a partner's
// system must (docs/events.md), then prints the ingress's answer. With --dry-run it prints the
// signed request instead, so a partner can compare their own signer's output with ours.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { signEvent } from '../../ingress/event-signature';
import { eventsSecretFile, resolveEventsSecret } from '../../ingress/events-secret';
import { EVENT_SIGNATURE_HEADER, EVENT_TIMESTAMP_HEADER, EVENTS_PATH } from '../../shared/events';
import { UsageError } from '../program';
import { printable } from '../text';

export function sendEventCommand(program: Command): void {
  program
    .command('send-event')
    .description(
      'Sign a JSON file with the events secret and POST it to the ingress as an onboarding event, as a partner system does',
    )
    .requiredOption('--file <path>', 'the event body, JSON (sent byte for byte as it is in the file)')
    .option('--url <url>', `the ingress (PUBLIC_BASE_URL, the default) or the full ${EVENTS_PATH} URL`)
    .option('--timestamp <unix seconds>', 'sign with this timestamp instead of now (to compare signers)')
    .option('--dry-run', 'print the timestamp, signature and curl command; send nothing')
    .action(async (o) => {
      const config = loadConfig();
      let body: Buffer;
      try {
        body = readFileSync(o.file);
      } catch (err) {
        throw new UsageError(
          `--file: cannot read "${o.file}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        );
      }
      if (o.timestamp !== undefined && !/^\d{1,12}$/.test(o.timestamp))
        throw new UsageError(
          `--timestamp: expected Unix time in whole seconds, like ${Math.floor(Date.now() / 1000)}`,
        );
      const url = eventsUrl(o.url ?? config.PUBLIC_BASE_URL);
      const secret = resolveEventsSecret(config, { create: false });
      if (!secret) {
        console.error(
          `error: no events secret: set EVENTS_HMAC_SECRET to the ingress's, or start the ingress once (npm start) so it writes ${eventsSecretFile(config)}`,
        );
        process.exitCode = 1;
        return;
      }
      const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
      const signature = signEvent(secret.secret, timestamp, body);
      if (o.dryRun) {
        console.log(`${EVENT_TIMESTAMP_HEADER}: ${timestamp}`);
        console.log(`${EVENT_SIGNATURE_HEADER}: ${signature}`);
        console.log(
          `curl -X POST '${url}' -H 'Content-Type: application/json' -H '${EVENT_TIMESTAMP_HEADER}: ${timestamp}' -H '${EVENT_SIGNATURE_HEADER}: ${signature}' --data-binary @${o.file}`,
        );
        return;
      }
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            [EVENT_TIMESTAMP_HEADER]: timestamp,
            [EVENT_SIGNATURE_HEADER]: signature,
          },
          body,
        });
      } catch (err) {
        console.error(
          `error: ${url}: no answer (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is the ingress running?`,
        );
        process.exitCode = 1;
        return;
      }
      const text = await res.text();
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not JSON: shown as it came
      }
      console.log(`HTTP ${res.status} from ${url}`);
      console.log(printable(shown));
      if (!res.ok) process.exitCode = 1;
    });
}

function eventsUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new UsageError(
      `--url: "${given.slice(0, 80)}" is not a URL; expected the ingress, like http://127.0.0.1:8088`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--url: expected an http(s) URL, like http://127.0.0.1:8088');
  const base = url.toString().replace(/\/+$/, '');
  return base.endsWith(EVENTS_PATH) ? base : `${base}${EVENTS_PATH}`;
}
