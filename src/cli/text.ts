// Text from outside (Cyclr, Microsoft, files) printed by the newer verbs: control characters are
// shown as spaces, so nothing a service answered can move the cursor or recolour the terminal.
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, (c) => (c === '\n' ? '\n' : ' '));
}
