// Text from outside (what Microsoft or a link holder sent, a tenant, a name typed by someone) is
// data: printed to a terminal, its control characters are shown, never obeyed. ESC, CR, BEL, the
// C1 controls and the invisible or bidirectional format marks become visible escapes, so no value
// can clear the screen, recolour it, set the window title, rewrite a line or reorder one.

/** C0, DEL, C1, soft hyphen, and the invisible and bidirectional format characters. */
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
const UNSAFE_ONE = new RegExp(UNSAFE.source);
/** The same, less what JSON.stringify already escapes (C0). */
const UNSAFE_IN_JSON =
  /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** One line of text safe for a terminal: `\x1b`, `\n`, `\u202e`... instead of the characters. */
export function visible(text: unknown): string {
  const s = typeof text === 'string' ? text : String(text);
  return s.replace(UNSAFE, (c) => (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** JSON text (from JSON.stringify) safe for a terminal, and still the same JSON. */
export function visibleJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

/** True when `text` holds a character `visible` would rewrite. */
export function hasControlCharacters(text: string): boolean {
  return UNSAFE_ONE.test(text);
}

/**
 * Outside text to keep (an error description for the record): at most `max` characters, line
 * breaks and tabs kept, every other control or format character turned into its visible escape.
 */
export function plainText(text: string, max: number): string {
  return text
    .slice(0, max)
    .split(/(\r?\n|\t)/)
    .map((part) => (/^(\r?\n|\t)$/.test(part) ? part : visible(part)))
    .join('')
    .slice(0, max);
}

/** Text of several lines for a terminal: its own line breaks kept, every line made visible. */
export const visibleLines = (text: string): string => text.split('\n').map(visible).join('\n');
