// Searching what the product wrote (histories, logs, query results) for secret values. Payloads
// in a `temporal workflow show --output json` export are base64: every base64-looking string is
// searched decoded too, so a plaintext payload cannot hide a secret from the search.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { temporalCliPath } from '../../src/embedded/binaries';
import type { Harness } from './harness';

const run = promisify(execFile);

/** Every secret the simulators issued, plus the product's own credentials and keys. */
export async function secretValues(h: Harness): Promise<string[]> {
  const { secretsIssued } = await h.sim.state();
  const c = h.config;
  const keyMaterial = [c.SECRET_SEALING_KEYS, c.PAYLOAD_CODEC_KEYS]
    .flatMap((spec) => (spec ?? '').split(','))
    .map((part) => part.split(':')[1])
    .filter((k): k is string => Boolean(k));
  return [
    ...new Set([
      ...secretsIssued,
      c.GRAPH_CLIENT_SECRET,
      c.CYCLR_CLIENT_SECRET,
      c.STATE_SIGNING_KEY!,
      c.CODEC_AUTH_TOKEN!,
      ...keyMaterial,
    ]),
  ].filter((s) => s && s.length >= 8);
}

/** The text, plus the decoding of every base64-looking string in it. */
export function searchable(text: string): string {
  const decoded: string[] = [text];
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{12,}={0,2}/g)) {
    decoded.push(
      Buffer.from(m[0], m[0].includes('-') || m[0].includes('_') ? 'base64url' : 'base64').toString('latin1'),
    );
  }
  return decoded.join('\n');
}

/** The secrets found in `text` (masked in the answer, so an assertion message leaks nothing). */
export function leaksIn(text: string, secrets: string[]): string[] {
  const haystack = searchable(text);
  return secrets
    .filter((s) => haystack.includes(s) || haystack.includes(encodeURIComponent(s)))
    .map((s) => `${s.slice(0, 4)}...(${s.length} chars)`);
}

/** A workflow's history exported with the official CLI, as JSON text. */
export async function exportHistory(
  h: Harness,
  workflowId: string,
  codec?: { endpoint: string; auth: string },
): Promise<string> {
  const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', h.env.address];
  args.push('--namespace', h.env.namespace ?? 'default', '--output', 'json');
  if (codec) args.push('--codec-endpoint', codec.endpoint, '--codec-auth', codec.auth);
  const { stdout } = await run(temporalCliPath(), args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Ids of every workflow the server knows (onboardings and the app's owner). */
export async function allWorkflowIds(h: Harness): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of h.env.client.workflow.list()) ids.push(wf.workflowId);
  return [...new Set(ids)];
}
