// Text that came from elsewhere (an agent's report, a server's error message) made safe to
// store and to print to a terminal: ANSI/VT escape sequences (CSI, OSC, ...) removed by
// node:util's stripVTControlCharacters, then every remaining C0/C1 control character (except
// newline and tab), DEL, and the Unicode bidirectional overrides that can reorder what a
// terminal shows (U+202A-U+202E, U+2066-U+2069).
import { stripVTControlCharacters } from 'node:util';

// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function stripTerminalControls(text: string): string {
  return stripVTControlCharacters(text).replace(CONTROLS, '');
}
