// Text from outside (Cyclr, Microsoft, files) printed by the newer verbs: the same rendering as
// `status` and the logs (src/shared/terminal-text.ts): control characters are shown as escapes,
// line breaks kept, so nothing a service answered can move the cursor or recolour the terminal.
import { visibleLines } from '../shared/terminal-text';

export const printable = (text: string): string => visibleLines(text);
