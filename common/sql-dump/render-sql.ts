// Statements back to SQL text the mariadb client loads: each ends with ';', and one that the dump
// ended with another delimiter (a trigger, routine or event body) is wrapped in DELIMITER lines.
// The text starts with mariadb-dump's sandbox line (newer clients then refuse client commands),
// and a statement that could run a client command (\! shell, system ..., source ...) when the
// printed SQL is loaded fails the rendering (client-commands.ts): a snapshot is untrusted, and
// older clients ignore the sandbox line.
import { ErrorCodes, SidestashError } from '../errors.ts';
import { clientCommandProblem, SANDBOX_LINE } from './client-commands.ts';
import type { ClassifiedStatement } from './dump-statements.ts';
import { SessionSetFollower } from './session-set.ts';
import { sqlTokens } from './sql-tokens.ts';
import type { DumpStatement } from './statement-splitter.ts';

/** A delimiter the client accepts for a body that ended with `delimiter` in the dump. */
function wrapping(st: DumpStatement): string | undefined {
  return st.delimiter === ';' || st.delimiter === '' ? undefined : st.delimiter;
}

/** `backslashEscapes`: whether the session reads backslashes in strings as escapes when the client sends `st`. */
export function renderStatement(st: DumpStatement, backslashEscapes = true): Buffer {
  let text = st.text ?? st.head;
  // The dump's own sandbox line: printed once, first.
  if (text.subarray(0, SANDBOX_LINE.length).toString('latin1') === SANDBOX_LINE) text = text.subarray(SANDBOX_LINE.length);
  const problem = clientCommandProblem(text, backslashEscapes);
  if (problem) throw new SidestashError(ErrorCodes.RESTORE_FAILED, `the statement at byte ${st.contentOffset} of the dump is not printed: ${problem}`, { details: { offset: st.contentOffset } });
  const d = wrapping(st);
  if (d === undefined) return Buffer.concat([text, Buffer.from(';\n')]);
  return Buffer.concat([Buffer.from(`DELIMITER ${d}\n`), text, Buffer.from(`${d}\nDELIMITER ;\n`)]);
}

/** SQL text of statements, as a stream of Buffers (pipeline() it to a file or the client). */
export async function* renderSql(statements: AsyncIterable<DumpStatement | ClassifiedStatement>): AsyncGenerator<Buffer> {
  yield Buffer.from(`${SANDBOX_LINE} \n`);
  // The session's sql_mode as the printed statements set it: the client reads strings with it.
  const sessions = new SessionSetFollower({ backslashEscapes: true, ansiQuotes: undefined });
  for await (const st of statements) {
    yield renderStatement(st, sessions.mode.backslashEscapes);
    if ('what' in st && st.what.kind === 'session') {
      const text = (st.text ?? st.head).toString('latin1');
      const t = sqlTokens(text.startsWith(SANDBOX_LINE) ? text.slice(SANDBOX_LINE.length) : text, sessions.mode);
      // A SET it cannot follow (the selection refuses those) leaves the mode as it was.
      if (t.ok) sessions.follow(t.tokens, t.conditional);
    }
  }
}
