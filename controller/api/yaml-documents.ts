// YAML request bodies, parsed in time linear in their size. The yaml package's own duplicate-key
// check (uniqueKeys) compares each key with every earlier key of its map, and its alias
// resolution scans every anchor and alias before each alias: both quadratic (a 1 MiB map of
// 20,000 keys took 7 s). So keys are checked here with a Set per map, the aliases of a document
// are capped before they are resolved, and the alias expansion limit refuses "billion laughs".
import { LineCounter, isScalar, parseAllDocuments, visit } from 'yaml';
import type { Document } from 'yaml';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';

/** Aliases (*name) allowed in one document; resources need few, if any. */
export const MAX_YAML_ALIASES = 100;
/** How many nodes aliases may expand to, relative to their anchors (the yaml package's measure). */
const MAX_ALIAS_EXPANSION = 100;

function invalid(doc: number, message: string): SidestashError {
  return new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid YAML in document ${doc}: ${message}`);
}

/** The documents of a YAML stream as plain values (empty documents skipped); 400 on any problem. */
export function parseYamlDocuments(text: string): unknown[] {
  const lines = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    const all = parseAllDocuments(text, { uniqueKeys: false, lineCounter: lines });
    parsed = Array.isArray(all) ? all : [];
  } catch (err) {
    throw invalid(1, (err as Error).message);
  }
  const docs: unknown[] = [];
  for (const [i, d] of parsed.entries()) {
    const n = i + 1;
    if (d.errors.length > 0) throw invalid(n, d.errors[0]!.message);
    let aliases = 0;
    try {
      visit(d, {
        Alias() {
          if (++aliases > MAX_YAML_ALIASES) throw invalid(n, `more than ${MAX_YAML_ALIASES} aliases`);
        },
        Map(_key, map) {
          const seen = new Set<string>();
          for (const pair of map.items) {
            const k = pair.key;
            if (!isScalar(k)) continue;
            // The yaml package's rule: scalar keys with the same value (1 and "1" differ).
            const id = `${typeof k.value}:${String(k.value)}`;
            if (seen.has(id)) {
              const at = k.range ? lines.linePos(k.range[0]) : undefined;
              throw invalid(n, `duplicate key ${JSON.stringify(String(k.value))}${at ? ` at line ${at.line}, column ${at.col}` : ''}`);
            }
            seen.add(id);
          }
        },
      });
      const value = d.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION }) as unknown;
      if (value !== null && value !== undefined) docs.push(value);
    } catch (err) {
      if (err instanceof SidestashError) throw err;
      // ReferenceError "Excessive alias count ..." (an alias bomb), an unresolved alias, or
      // nesting deeper than the stack.
      const message = (err as Error).message;
      throw invalid(n, /alias count/i.test(message) ? `aliases expand too much (refused as a resource-exhaustion attack)` : message);
    }
  }
  return docs;
}
