import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripTerminalControls } from './terminal-text.ts';

describe('stripTerminalControls', () => {
  const cases: [string, string, string][] = [
    ['plain text stays', 'dump failed: exit 2', 'dump failed: exit 2'],
    ['newline and tab stay', 'a\n\tb', 'a\n\tb'],
    ['CSI colour and cursor moves', '\u001b[31mred\u001b[0m \u001b[2J\u001b[1;1H', 'red '],
    ['OSC title and hyperlink (BEL and ST ended)', '\u001b]0;owned\u0007x\u001b]8;;http://evil\u001b\\y', 'xy'],
    ['carriage return, backspace, bell, NUL', 'ok\rFAKE\b\u0007\u0000', 'okFAKE'],
    ['C1 CSI (U+009B) and DEL', '\u009b31mred\u007f', 'red'],
    ['bidi overrides', 'abc\u202edcba\u2066x\u2069', 'abcdcbax'],
    ['C1 CSI before text', 'phase \u009b2JSucceeded\u0007', 'phase Succeeded'],
    ['charset and reset escapes', '\u001b(Bx\u001bcy', 'xy'],
    ['DCS and unterminated OSC', 'a\u001bPq#0;2;0;0;0\u001b\\b\u001b]0;rest', 'ab'],
    ['lone ESC at the end', 'done\u001b', 'done'],
  ];
  for (const [what, input, expected] of cases) {
    it(what, () => assert.equal(stripTerminalControls(input), expected));
  }
});
