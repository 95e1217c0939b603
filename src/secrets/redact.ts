// Redaction for anything that may be logged, thrown, notified or returned: values under names
// that carry credentials are replaced, and text is scrubbed of bearer tokens, JWTs and
// `name=value` / `"name":"value"` credentials. A second line of defence: code should not put a
// secret into a message in the first place.
export const REDACTED = '[redacted]';

const SECRET_NAME =
  /^(secret|secrettext|client_?secret|clientsecret|password|passwd|access_?token|refresh_?token|id_?token|token|code|assertion|authorization|api_?key|sealed|value)$/i;
const NAMES =
  'secretText|client_secret|clientSecret|ClientSecret|password|access_token|refresh_token|id_token|Token|token|code|assertion|api_key|sealed|Value';

const PATTERNS: [RegExp, string][] = [
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [new RegExp(`\\b(${NAMES})=[^&\\s"'<>]+`, 'g'), `$1=${REDACTED}`],
  [new RegExp(`"(${NAMES})"\\s*:\\s*"(?:[^"\\\\]|\\\\.)*"`, 'g'), `"$1":"${REDACTED}"`],
];

/** Text with credentials replaced by [redacted]. */
export function redactText(text: string): string {
  return PATTERNS.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}

/** A copy of a value with secret-named fields replaced and every string scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET_NAME.test(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactValue(v, depth + 1),
    ]),
  );
}

/** An error's message, scrubbed: for logs and answers that must say what went wrong. */
export function redactError(err: unknown): string {
  return redactText(err instanceof Error ? err.message : String(err));
}
