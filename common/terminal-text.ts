// Text that came from elsewhere (an agent's report, a server's error message) made safe to
// store and to print to a terminal. Escape sequences are removed by their ECMA-48 shape (so
// the result is the same on Node and Deno; node:util's stripVTControlCharacters differs
// between the two, and strip-ansi leaves bare control characters): string controls (OSC,
// DCS, SOS, PM, APC) up to their terminator, or to the end when unterminated; CSI sequences
// (ESC [ or U+009B); other ESC sequences. Then every remaining C0/C1 control character except
// newline and tab, DEL, and the Unicode bidirectional controls that can reorder what a
// terminal shows (U+202A-U+202E, U+2066-U+2069).

/* eslint-disable no-control-regex */
const STRING_CONTROL = /(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)/g;
const CSI = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]/g;
const ESCAPE = /\u001b[ -/]*[0-~]/g;
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

export function stripTerminalControls(text: string): string {
  return text.replace(STRING_CONTROL, '').replace(CSI, '').replace(ESCAPE, '').replace(CONTROLS, '');
}
