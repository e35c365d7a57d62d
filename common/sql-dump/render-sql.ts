// Statements back to SQL text the mariadb client loads: each ends with ';', and one that the dump
// ended with another delimiter (a trigger, routine or event body) is wrapped in DELIMITER lines.
import type { DumpStatement } from './statement-splitter.ts';

/** A delimiter the client accepts for a body that ended with `delimiter` in the dump. */
function wrapping(st: DumpStatement): string | undefined {
  return st.delimiter === ';' || st.delimiter === '' ? undefined : st.delimiter;
}

export function renderStatement(st: DumpStatement): Buffer {
  const text = st.text ?? st.head;
  const d = wrapping(st);
  if (d === undefined) return Buffer.concat([text, Buffer.from(';\n')]);
  return Buffer.concat([Buffer.from(`DELIMITER ${d}\n`), text, Buffer.from(`${d}\nDELIMITER ;\n`)]);
}

/** SQL text of statements, as a stream of Buffers (pipeline() it to a file or the client). */
export async function* renderSql(statements: AsyncIterable<DumpStatement>): AsyncGenerator<Buffer> {
  for await (const st of statements) yield renderStatement(st);
}
