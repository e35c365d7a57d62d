// The client's DELIMITER command (client/mysql.cc com_delimiter, get_arg), as the splitter
// (statement-splitter.ts) reads it at the start of a line.
import { ErrorCodes, SidestashError } from '../errors.ts';

/** Spaces between DELIMITER and its argument: 0x09-0x0d and 0x20 (the client's my_isspace). */
function isArgumentSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** The client's delimiter buffer (char delimiter[16]): a longer argument is cut to 15 bytes. */
const MAX_DELIMITER_BYTES = 15;

/**
 * A DELIMITER command line (without its newline) as the client reads it (client/mysql.cc
 * com_delimiter, get_arg): the word DELIMITER, whitespace, then the argument, up to the next
 * space, or in quotes ('', "", ``: the quotes are stripped, a doubled quote is one), cut to
 * MAX_DELIMITER_BYTES. undefined: not a DELIMITER command. A command the client refuses (no
 * argument, an unclosed quote, a backslash) fails the split: the client stops there too.
 */
export function delimiterCommand(line: string, offset: number): string | undefined {
  const m = /^delimiter(?=[ \t]|$)/i.exec(line);
  if (!m) return undefined;
  const refuse = (why: string) => new SidestashError(ErrorCodes.RESTORE_FAILED, `DELIMITER at byte ${offset} of the dump: ${why}`, { details: { offset } });
  let p = m[0].length;
  while (p < line.length && isArgumentSpace(line.charCodeAt(p))) p++;
  const q = line[p];
  let arg = '';
  if (q === "'" || q === '"' || q === '`') {
    let closed = false;
    for (p++; p < line.length; p++) {
      if (line[p] === q && line[p + 1] === q) {
        arg += q;
        p++;
      } else if (line[p] === q) {
        closed = true;
        break;
      } else arg += line[p];
    }
    if (!closed) throw refuse('an unclosed quote');
  } else {
    const end = line.indexOf(' ', p);
    arg = line.slice(p, end < 0 ? line.length : end);
  }
  if (arg === '') throw refuse('DELIMITER must be followed by a delimiter');
  if (arg.includes('\\')) throw refuse('a delimiter cannot contain a backslash');
  return arg.slice(0, MAX_DELIMITER_BYTES);
}
