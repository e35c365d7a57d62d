// Checks of meaning for a RestoreSession spec that its schema cannot say: `sourceHost` selects
// the newest snapshot of a host, so it goes with `latest` only (a snapshot id is one snapshot);
// Stash's spec.target.rules is one rule with one snapshot, never together with spec.snapshot or
// spec.sourceHost. The rules are stash-spelling.ts's restoreSelection, which the controller
// applies when it reads the spec too.
// Granular restore: spec.database or spec.tables, not both; spec.targetDatabase needs one of them
// and a selection from one database (common/sql-dump/dump-selection.ts, selectionProblems).
import type { FieldError } from './validate.ts';
import { pointInTimeErrors } from './pitr-rules.ts';
import { restoreSelection } from './stash-spelling.ts';
import { parseTableRef, selectionProblems } from '../../common/sql-dump/dump-selection.ts';

export function granularRestoreErrors(spec: unknown): FieldError[] {
  if (typeof spec !== 'object' || spec === null) return [];
  const { database, tables, targetDatabase } = spec as { database?: unknown; tables?: unknown; targetDatabase?: unknown };
  if (tables === undefined && targetDatabase === undefined) return [];
  const errors: FieldError[] = [];
  const refs = Array.isArray(tables) ? tables.map((t) => (typeof t === 'string' ? parseTableRef(t) : undefined)) : [];
  refs.forEach((r, i) => {
    if (!r) errors.push({ field: `spec.tables[${i}]`, message: 'must be db.table (letters, digits, _ and $)' });
  });
  if (errors.length > 0) return errors;
  if (targetDatabase !== undefined && database === undefined && refs.length === 0) return [{ field: 'spec.targetDatabase', message: 'needs spec.database or spec.tables: the part of the dump to restore into it' }];
  const selection = {
    ...(typeof database === 'string' ? { database } : {}),
    ...(refs.length > 0 ? { tables: refs.filter((r) => r !== undefined) } : {}),
    ...(typeof targetDatabase === 'string' ? { as: targetDatabase } : {}),
  };
  const fields = { database: 'spec.database', tables: 'spec.tables', as: 'spec.targetDatabase' } as const;
  return selectionProblems(selection).map((p) => ({ field: fields[p.part], message: p.message }));
}

export function restoreSessionErrors(spec: unknown): FieldError[] {
  const pitr = pointInTimeErrors(spec);
  // A point-in-time restore's own rules say what goes with it (pitr-rules.ts).
  if (pitr.length > 0) return pitr;
  return [...restoreSelection(spec).problems, ...granularRestoreErrors(spec)];
}
