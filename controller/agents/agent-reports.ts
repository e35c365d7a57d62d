// What an agent reports (progress, results) is untrusted: each field is type-checked against
// an allow-list (a wrong type is INVALID_ARGUMENT naming the field; fields not listed are
// dropped), numbers are finite, non-negative and bounded, strings are bounded and have
// terminal escape sequences and control characters removed before they are stored.
import { binlogFileSequence, parseGtidList } from '../../common/binlog/archive-layout.ts';
import { ErrorCodes, SidestashError } from '../../common/errors.ts';
import { suspiciousShrinkOf } from '../sessions/suspicious-shrink.ts';
import { MAX_INTEGRITY_ERROR_CHARS, MAX_INTEGRITY_ERRORS } from '../../common/protocol.ts';
import type { IntegrityResult, SessionProgress, SessionResult } from '../../common/protocol.ts';
import { readDataSubsetProblem } from '../../common/repository/read-data-subset.ts';
import { stripTerminalControls } from '../../common/terminal-text.ts';
import { parseTableVerifications } from './table-verifications.ts';

export const MAX_MESSAGE_CHARS = 4096;
const MAX_NUMBER = Number.MAX_SAFE_INTEGER;
export const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const SNAPSHOT_ID = /^[0-9a-f]{64}$/;
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export class Fields {
  readonly errors: { field: string; message: string }[] = [];

  object(v: unknown, field: string): Record<string, unknown> | undefined {
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    this.errors.push({ field, message: 'must be an object' });
    return undefined;
  }

  number(v: unknown, field: string, integer = false): number | undefined {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_NUMBER && (!integer || Number.isInteger(v))) return v;
    this.errors.push({ field, message: `must be a non-negative ${integer ? 'integer' : 'number'}, got ${describe(v)}` });
    return undefined;
  }

  text(v: unknown, field: string): string | undefined {
    if (typeof v === 'string') return truncate(stripTerminalControls(v));
    this.errors.push({ field, message: `must be a string, got ${describe(v)}` });
    return undefined;
  }

  fail(kind: string): never {
    throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `invalid ${kind}: ${this.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, { details: { errors: this.errors } });
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' ? String(v) : typeof v;
}

function truncate(s: string): string {
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s;
}

export function parseProgress(body: unknown): SessionProgress {
  const f = new Fields();
  const b = f.object(body, 'body') ?? {};
  const p = { bytesDumped: f.number(b.bytesDumped, 'bytesDumped'), bytesStored: f.number(b.bytesStored, 'bytesStored'), rateBytesPerSecond: f.number(b.rateBytesPerSecond, 'rateBytesPerSecond') };
  const out = p as SessionProgress;
  if (b.estimatedTotalBytes !== undefined) out.estimatedTotalBytes = f.number(b.estimatedTotalBytes, 'estimatedTotalBytes')!;
  if (b.etaSeconds !== undefined) out.etaSeconds = f.number(b.etaSeconds, 'etaSeconds')!;
  if (f.errors.length > 0) f.fail('progress');
  return out;
}

export function parseResult(body: unknown): SessionResult {
  const f = new Fields();
  const b = f.object(body, 'body') ?? {};
  if (b.phase !== 'Succeeded' && b.phase !== 'Failed') f.errors.push({ field: 'phase', message: 'must be Succeeded or Failed' });
  const out: SessionResult = { phase: b.phase as SessionResult['phase'] };
  if (b.error !== undefined) {
    const e = f.object(b.error, 'error');
    if (e) {
      const code = typeof e.code === 'string' && CODE.test(e.code) ? e.code : undefined;
      if (code === undefined) f.errors.push({ field: 'error.code', message: 'must be an error code like SIDESTASH_DUMP_FAILED' });
      const message = f.text(e.message, 'error.message');
      if (code !== undefined && message !== undefined) out.error = { code, message };
    }
  }
  if (b.snapshotId !== undefined) {
    if (typeof b.snapshotId === 'string' && SNAPSHOT_ID.test(b.snapshotId)) out.snapshotId = b.snapshotId;
    else f.errors.push({ field: 'snapshotId', message: 'must be a 64-digit lowercase hex snapshot id' });
  }
  for (const k of ['bytesRead', 'bytesStored', 'durationSeconds', 'processingSeconds'] as const) {
    if (b[k] !== undefined) {
      const v = f.number(b[k], k);
      if (v !== undefined) out[k] = v;
    }
  }
  if (b.retention !== undefined) {
    const r = f.object(b.retention, 'retention');
    if (r) {
      const kept = f.number(r.kept, 'retention.kept', true);
      const removed = f.number(r.removed, 'retention.removed', true);
      if (typeof r.pruned !== 'boolean') f.errors.push({ field: 'retention.pruned', message: `must be a boolean, got ${describe(r.pruned)}` });
      const retention: NonNullable<SessionResult['retention']> = { kept: kept ?? 0, removed: removed ?? 0, pruned: r.pruned === true };
      if (r.error !== undefined) {
        const e = f.text(r.error, 'retention.error');
        if (e !== undefined) retention.error = e;
      }
      out.retention = retention;
    }
  }
  if (b.repositoryStats !== undefined) {
    const s = f.object(b.repositoryStats, 'repositoryStats');
    if (s) out.repositoryStats = { sizeBytes: f.number(s.sizeBytes, 'repositoryStats.sizeBytes', true) ?? 0, snapshotCount: f.number(s.snapshotCount, 'repositoryStats.snapshotCount', true) ?? 0 };
  }
  if (b.files !== undefined) {
    const o = f.object(b.files, 'files');
    if (o) {
      const counts = { new: f.number(o.new, 'files.new', true), modified: f.number(o.modified, 'files.modified', true), unmodified: f.number(o.unmodified, 'files.unmodified', true) };
      if (counts.new !== undefined && counts.modified !== undefined && counts.unmodified !== undefined) out.files = { new: counts.new, modified: counts.modified, unmodified: counts.unmodified };
    }
  }
  if (b.suspiciousShrink !== undefined && out.phase === 'Succeeded') {
    // The shrink guard's finding (agent/shrink-check.ts), checked field by field.
    const shrink = suspiciousShrinkOf({ phase: 'Succeeded', suspiciousShrink: b.suspiciousShrink } as SessionResult);
    if (shrink) out.suspiciousShrink = shrink;
    else f.errors.push({ field: 'suspiciousShrink', message: 'must be {previousSnapshotId, previousBytes, bytes, percent, thresholdPercent} with a 64-digit snapshot id and non-negative numbers' });
  }
  if (b.integrity !== undefined && out.phase === 'Succeeded') {
    const integrity = parseIntegrity(f, b.integrity);
    if (integrity) out.integrity = integrity;
  }
  if (b.binlogCoordinates !== undefined) {
    // Where the dump was taken in the binary log: the same allow-lists as the snapshot's tags.
    const c = f.object(b.binlogCoordinates, 'binlogCoordinates');
    const ok = c && typeof c.file === 'string' && binlogFileSequence(c.file) !== undefined && Number.isSafeInteger(c.position) && (c.position as number) >= 0 && typeof c.gtid === 'string' && parseGtidList(c.gtid) !== undefined;
    if (ok) out.binlogCoordinates = { file: c.file as string, position: c.position as number, gtid: c.gtid as string };
    else if (c) f.errors.push({ field: 'binlogCoordinates', message: 'must be {file, position, gtid} with a binary log file name like mysql-bin.000042, a non-negative integer and a GTID list like 0-1-42' });
  }
  if (b.tables !== undefined) {
    const tables = parseTableVerifications(b.tables, f.errors);
    if (tables) out.tables = tables;
    // A verified restore never reads Succeeded with rows missing (or extra) on a table.
    const lost = out.phase === 'Succeeded' ? tables?.filter((t) => t.expectedRows !== t.restoredRows) ?? [] : [];
    if (lost.length > 0) f.errors.push({ field: 'tables', message: `a Succeeded result cannot have tables whose restored rows differ from the dump's (${lost.length}: the agent must report Failed)` });
  }
  if (f.errors.length > 0) f.fail('result');
  return out;
}

/**
 * The repository check after a backup. Wrong types are refused; the error list is cut to its
 * first MAX_INTEGRITY_ERRORS entries and each entry to MAX_INTEGRITY_ERROR_CHARS (the agent
 * sends no more; a longer list loses nothing a user needs to see that the check failed).
 */
function parseIntegrity(f: Fields, v: unknown): IntegrityResult | undefined {
  const r = f.object(v, 'integrity');
  if (!r) return undefined;
  const before = f.errors.length;
  if (typeof r.ok !== 'boolean') f.errors.push({ field: 'integrity.ok', message: `must be a boolean, got ${describe(r.ok)}` });
  const at = typeof r.checkedAt === 'string' && ISO_TIME.test(r.checkedAt) ? Date.parse(r.checkedAt) : NaN;
  if (!Number.isFinite(at)) f.errors.push({ field: 'integrity.checkedAt', message: 'must be a time like 2026-01-31T23:59:59Z' });
  if (r.readDataSubset !== undefined && readDataSubsetProblem(r.readDataSubset)) f.errors.push({ field: 'integrity.readDataSubset', message: 'must be "n/m" or "x%" as in --read-data-subset' });
  const errors: string[] = [];
  if (!Array.isArray(r.errors)) f.errors.push({ field: 'integrity.errors', message: `must be a list of strings, got ${describe(r.errors)}` });
  else {
    r.errors.forEach((e: unknown, i: number) => {
      if (typeof e !== 'string') f.errors.push({ field: `integrity.errors[${i}]`, message: `must be a string, got ${describe(e)}` });
      else if (i < MAX_INTEGRITY_ERRORS) {
        const text = stripTerminalControls(e);
        errors.push(text.length > MAX_INTEGRITY_ERROR_CHARS ? `${text.slice(0, MAX_INTEGRITY_ERROR_CHARS - 1)}…` : text);
      }
    });
    if (r.ok === true && r.errors.length > 0) f.errors.push({ field: 'integrity.errors', message: 'must be empty when ok is true' });
  }
  if (f.errors.length > before) return undefined;
  return { ok: r.ok as boolean, checkedAt: new Date(at).toISOString(), ...(r.readDataSubset !== undefined ? { readDataSubset: r.readDataSubset as string } : {}), errors };
}
