// Checks of meaning for a point-in-time RestoreSession that its schema cannot say: at most one of
// pointInTime, gtid and position; a point-in-time restore picks its own dump (the newest before
// the point), so it goes without spec.snapshot, sourceHost and Stash's rules; the archived binary
// log holds every database, so it restores the whole server (no database, tables or
// targetDatabase: a replay limited to one table could leave it inconsistent with the rest);
// a time must be a real instant, not in the future.
import { parseGtid } from '../../common/binlog/archive-layout.ts';
import type { PointInTime } from '../../common/protocol.ts';
import type { FieldError } from './validate.ts';

/** How far ahead of the controller's clock a time may be (clock skew between hosts). */
const MAX_FUTURE_MS = 60_000;


/** The spec's point, when it asks for one (after pointInTimeErrors found none). */
export function pointInTimeOf(spec: { pointInTime?: string; gtid?: string; position?: { file: string; position: number } }): PointInTime | undefined {
  if (spec.pointInTime === 'latest') return { kind: 'latest' };
  if (spec.pointInTime !== undefined) return { kind: 'time', time: new Date(Date.parse(spec.pointInTime)).toISOString() };
  if (spec.gtid !== undefined) return { kind: 'gtid', gtid: spec.gtid };
  if (spec.position !== undefined) return { kind: 'position', file: spec.position.file, position: spec.position.position };
  return undefined;
}

export function pointInTimeErrors(spec: unknown, nowMs = Date.now()): FieldError[] {
  if (typeof spec !== 'object' || spec === null) return [];
  const s = spec as Record<string, unknown>;
  const given = (['pointInTime', 'gtid', 'position'] as const).filter((k) => s[k] !== undefined);
  if (given.length === 0) return [];
  const errors: FieldError[] = [];
  if (given.length > 1) errors.push({ field: `spec.${given[1]}`, message: `a point-in-time restore names one point: spec.${given.join(', spec.')} were given` });
  const rules = (s.target as { rules?: unknown } | undefined)?.rules;
  for (const k of ['snapshot', 'sourceHost', 'database', 'tables', 'targetDatabase'] as const) {
    if (s[k] !== undefined) errors.push({ field: `spec.${k}`, message: k === 'snapshot' || k === 'sourceHost' ? `not with spec.${given[0]}: a point-in-time restore takes the newest dump before the point itself` : `not with spec.${given[0]}: a point-in-time restore replays the binary log of the whole server` });
  }
  if (rules !== undefined) errors.push({ field: 'spec.target.rules', message: `not with spec.${given[0]}: a point-in-time restore takes the newest dump before the point itself` });
  if (typeof s.pointInTime === 'string' && s.pointInTime !== 'latest') {
    const t = Date.parse(s.pointInTime);
    if (!Number.isFinite(t)) errors.push({ field: 'spec.pointInTime', message: 'must be an RFC 3339 time like 2026-12-01T10:15:00Z, or latest' });
    else if (t > nowMs + MAX_FUTURE_MS) errors.push({ field: 'spec.pointInTime', message: `is in the future (${new Date(t).toISOString()}); use latest for everything archived` });
  }
  if (typeof s.gtid === 'string' && !parseGtid(s.gtid)) errors.push({ field: 'spec.gtid', message: 'must be a GTID domain-server-sequence like 0-1-42, each part in range' });
  return errors;
}
