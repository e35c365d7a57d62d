// Whether SQL printed for the mariadb client could run one of the client's own commands when the
// DBA loads it (`mariadb < printed.sql`): a backslash command (\! shell, \. source, \T tee, ...)
// anywhere outside strings and plain comments, or a command word (system, source, connect, ...)
// as the first word of a statement, where the client reads a whole line as its command
// (client/mysql.cc add_line and read_and_execute). A snapshot is untrusted; the printed SQL must
// not carry such a command. Strings are read with backslash escapes or without, as the session's
// sql_mode has it when the client reads the statement (the client follows the server's
// NO_BACKSLASH_ESCAPES; render-sql.ts follows the printed session statements).

/** mariadb's client commands (mysql.cc commands[]), lower case; `use` only as USE `name`. */
const COMMAND_WORDS = new Set(['?', 'charset', 'clear', 'connect', 'delimiter', 'edit', 'ego', 'exit', 'go', 'help', 'nopager', 'notee', 'nowarning', 'pager', 'print', 'prompt', 'quit', 'rehash', 'resetconnection', 'sandbox', 'source', 'status', 'system', 'tee', 'use', 'warnings']);
/** The one USE the printed SQL may hold: the selection's own. */
const PLAIN_USE = /^USE `[A-Za-z0-9_$]{1,64}`$/;
/** mariadb-dump's sandbox line (a client command of newer clients, a comment to the server). */
export const SANDBOX_LINE = '/*M!999999\\- enable the sandbox mode */';

const LINE_WORD = /[ \t]*([A-Za-z]+|\?)(?![A-Za-z0-9_$])/y;

/** The command word a line starting at `at` begins with, if any (the synthesised USE `x` aside). */
function commandWordAt(s: string, at: number): string | undefined {
  LINE_WORD.lastIndex = at;
  const word = LINE_WORD.exec(s)?.[1]?.toLowerCase();
  if (word === undefined || !COMMAND_WORDS.has(word)) return undefined;
  return word === 'use' && at === 0 && PLAIN_USE.test(s.trim()) ? undefined : word;
}

/** A client command outside strings and plain comments: a backslash anywhere, a command word at the start of a line. */
function commandIn(s: string, backslashEscapes: boolean): string | undefined {
  let quote = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote !== 0) {
      if (c === 0x5c && backslashEscapes && quote !== 0x60) i++;
      else if (c === quote) quote = 0;
      continue;
    }
    if (i === 0 || s.charCodeAt(i - 1) === 0x0a) {
      const word = commandWordAt(s, i);
      if (word !== undefined) return `a line starting with the client command word ${JSON.stringify(word)}`;
    }
    if (c === 0x5c) return `a backslash outside strings (the client command ${JSON.stringify(s.slice(i, i + 2))})`;
    if (c === 0x27 || c === 0x22 || c === 0x60) quote = c;
    else if (c === 0x2f && s.charCodeAt(i + 1) === 0x2a && s.charCodeAt(i + 2) !== 0x21 && !(s.charCodeAt(i + 2) === 0x4d && s.charCodeAt(i + 3) === 0x21)) {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return undefined;
      i = end + 1;
    } else if (c === 0x23 || (c === 0x2d && s.charCodeAt(i + 1) === 0x2d && (s.charCodeAt(i + 2) === 0x20 || s.charCodeAt(i + 2) === 0x09))) {
      const end = s.indexOf('\n', i);
      if (end < 0) return undefined;
      i = end - 1;
    }
  }
  return undefined;
}

/** Why `text` (one statement as printed, from its first byte) could run a client command; undefined when it cannot. */
export function clientCommandProblem(text: Buffer, backslashEscapes = true): string | undefined {
  let s = text.toString('latin1');
  if (s.startsWith(SANDBOX_LINE)) s = s.slice(SANDBOX_LINE.length);
  return commandIn(s, backslashEscapes);
}
