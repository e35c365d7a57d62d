// How `get` shows a repository check (BackupSession status.integrity, Repository
// status.integrity): "ok" or "FAILED", with the pack data subset it read, "-" when none ran.
// The values come from the server: anything not of the expected shape shows as "-".
interface Integrity {
  ok: boolean;
  checkedAt?: string;
  readDataSubset?: string;
  errors?: string[];
}

function integrityOf(v: unknown): Integrity | undefined {
  if (!v || typeof v !== 'object' || typeof (v as Integrity).ok !== 'boolean') return undefined;
  return v as Integrity;
}

/** "ok", "ok (5%)", "FAILED (100%)", or "-" when no check ran. */
export function integrityCell(v: unknown): string {
  const i = integrityOf(v);
  if (!i) return '-';
  const subset = typeof i.readDataSubset === 'string' ? ` (${i.readDataSubset})` : '';
  return `${i.ok ? 'ok' : 'FAILED'}${subset}`;
}

/** For a failed check: what it found first (and how many problems), else undefined. */
export function integrityMessage(v: unknown): string | undefined {
  const i = integrityOf(v);
  if (!i || i.ok) return undefined;
  const errors = Array.isArray(i.errors) ? i.errors.filter((e): e is string => typeof e === 'string') : [];
  if (errors.length === 0) return 'repository check failed';
  return `repository check failed: ${errors[0]}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`;
}
