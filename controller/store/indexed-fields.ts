// The sqlite store's field filters that are indexed (ListOptions.invoker,
// .readDataCheckPendingSession): a list by one of them read (json_extract) every document of the
// kind, ~10 ms at a fleet's 8,000 sessions, and a finish lists by both (its history prune, its
// read-data marker) as does every session created. An index on the expression finds the few
// rows instead. The expression is the same text in the index and in the query (sqlite matches
// them as written); sealed documents (not JSON) are left out of it as NULL, since they are never
// filtered in SQL. The index's columns after the field (namespace, name) give the list's order,
// so that sqlite picks it over the primary key without statistics.
import { SEALED_KIND } from './secret-sealing.ts';

/** The indexed value of the document's field at `path` (a literal JSON path): a WHERE clause's left side. */
export function indexedField(path: '$.spec.invoker.name' | '$.status.readDataCheckPending.session'): string {
  return `(CASE WHEN kind = '${SEALED_KIND}' THEN NULL ELSE json_extract(doc, '${path}') END)`;
}

export const FIELD_INDEXES = `
CREATE INDEX IF NOT EXISTS resources_by_invoker ON resources (kind, ${indexedField('$.spec.invoker.name')}, namespace, name);
CREATE INDEX IF NOT EXISTS resources_by_read_data_pending ON resources (kind, ${indexedField('$.status.readDataCheckPending.session')}, namespace, name);
`;
