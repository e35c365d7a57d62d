// `describe KIND NAME` for people: the resource's key facts with human sizes and times, its
// status, conditions, related sessions, the agent that serves its target, and recent events
// derived from the sessions (session-events.ts). Pure: the caller fetches the related objects.
import { stringify } from 'yaml';
import { bytes, table } from './format.ts';
import { addressCell, agentTable, backendCell, phaseCell, requestedSnapshot } from './get-tables.ts';
import type { ListedAgent } from './get-tables.ts';
import { integrityCell, integrityMessage } from './integrity-cells.ts';
import { relativeTime } from './relative-time.ts';
import { restoreTablesTable } from './restore-tables.ts';
import { recentEvents } from './session-events.ts';
import type { SessionLike } from './session-events.ts';

export interface DescribedItem {
  kind: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string>; uid?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface Related {
  /** Sessions of this resource (a configuration's BackupSessions, a repository's sessions), any order. */
  sessions: SessionLike[];
  /** Agents serving the resource's target. */
  agents: ListedAgent[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** "2026-06-10T09:00:00Z (3h ago)", or "-". */
export function timeCell(iso: unknown, nowMs: number): string {
  const s = str(iso);
  if (!s || Number.isNaN(Date.parse(s))) return '-';
  return `${s.replace(/\.\d+Z$/, 'Z')} (${relativeTime(s, nowMs)})`;
}

function fields(rows: [string, string | undefined][]): string[] {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const w = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(w)}  ${v}`);
}

function indent(text: string, by = '  '): string {
  return text.split('\n').map((l) => (l ? by + l : l)).join('\n');
}

function statusFields(item: DescribedItem, nowMs: number): [string, string | undefined][] {
  const st = obj(item.status);
  const spec = obj(item.spec);
  switch (item.kind) {
    case 'BackupConfiguration': {
      const paused = spec.paused === true;
      return [
        ['Schedule', `${str(spec.schedule) ?? '-'}${str(spec.timezone) ? ` (${str(spec.timezone)})` : ''}`],
        ['Paused', String(paused)],
        ['Repository', str(obj(spec.repository).name)],
        ['Target', str(obj(obj(spec.target).ref).name)],
        ['Last success', timeCell(st.lastSuccessTime, nowMs)],
        ['Last phase', str(st.lastFinishedPhase) ?? '-'],
        ['Failures in a row', String(num(st.consecutiveFailures) ?? 0)],
        ['Last schedule', timeCell(st.lastScheduleTime, nowMs)],
        ['Next run', paused ? 'paused' : timeCell(st.nextScheduleTime, nowMs)],
        ['Last duration', num(st.lastDurationSeconds) === undefined ? undefined : `${num(st.lastDurationSeconds)!.toFixed(1)}s`],
        ...binlogArchiveRows(spec, obj(st.binlog), nowMs),
      ];
    }
    case 'Repository':
      return [
        ['Backend', backendCell(spec)],
        ['Size', bytes(num(st.sizeBytes))],
        ['Snapshots', num(st.snapshotCount)?.toString() ?? '-'],
        ['Last backup', timeCell(st.lastBackupTime, nowMs)],
        ['Integrity', `${integrityCell(st.integrity)}${str(obj(st.integrity).checkedAt) ? `, checked ${relativeTime(str(obj(st.integrity).checkedAt), nowMs)}` : ''}`],
        ['Integrity problem', integrityMessage(st.integrity)],
        ['Data last read', timeCell(st.lastReadDataCheckAt, nowMs)],
      ];
    case 'BackupSession':
    case 'RestoreSession': {
      const progress = obj(st.progress);
      const e = obj(st.error);
      return [
        ...(item.kind === 'BackupSession'
          ? ([['Configuration', str(obj(spec.invoker).name)], ['Trigger', str(spec.trigger)]] as [string, string | undefined][])
          : ([['Repository', str(obj(spec.repository).name)], ['Target', str(obj(obj(spec.target).ref).name)], ['Snapshot asked', pointCell(spec) ?? requestedSnapshot(spec) ?? '-'], ['Database', str(spec.database) ?? '(all)'], ['Parallel', num(spec.parallel)?.toString() ?? '(agent cores)'], ['Binary log', spec.writeBinlog === false ? 'not written' : 'written']] as [string, string | undefined][])),
        ['Phase', phaseCell(st)],
        ['Error', str(e.message) ? `${str(e.code) ?? ''}: ${str(e.message)}` : undefined],
        ['Agent', str(st.agent) ?? '-'],
        ['Started', timeCell(st.startedAt, nowMs)],
        ['Finished', timeCell(st.finishedAt, nowMs)],
        ['Duration', num(st.durationSeconds) === undefined ? undefined : `${num(st.durationSeconds)!.toFixed(1)}s`],
        ['Progress', Object.keys(progress).length && !st.finishedAt ? `${bytes(num(progress.bytesDumped) ?? 0)} of ${num(progress.estimatedTotalBytes) === undefined ? '?' : bytes(num(progress.estimatedTotalBytes))} at ${bytes(num(progress.rateBytesPerSecond) ?? 0)}/s` : undefined],
        ['Snapshot', str(st.snapshotId)],
        ['Size', num(st.bytesRead) === undefined ? undefined : bytes(num(st.bytesRead))],
        ['Stored', num(st.bytesStored) === undefined ? undefined : bytes(num(st.bytesStored))],
        ['Retention', obj(st.retention).kept === undefined ? undefined : `kept ${num(obj(st.retention).kept) ?? 0}, removed ${num(obj(st.retention).removed) ?? 0}${obj(st.retention).pruned === true ? ', pruned' : ''}`],
        ['Repository after', obj(st.repositoryStats).sizeBytes === undefined ? undefined : `${bytes(num(obj(st.repositoryStats).sizeBytes))}, ${num(obj(st.repositoryStats).snapshotCount) ?? '?'} snapshot(s)`],
        ['Integrity', st.integrity === undefined ? undefined : integrityMessage(st.integrity) ?? integrityCell(st.integrity)],
      ];
    }
    case 'AppBinding': {
      return [
        ['Address', addressCell(spec, item.metadata.namespace) ?? '-'],
        ['Credentials', str(obj(spec.secret).name)],
        ['TLS CA', str(obj(spec.tls).caSecretName)],
      ];
    }
    case 'Secret':
      return [['Keys', Object.keys(obj(spec.data)).join(', ') || '-']];
    default:
      return [];
  }
}

/** Point-in-time recovery on a BackupConfiguration: whether it archives the binlog, and how far. */
function binlogArchiveRows(spec: Record<string, unknown>, b: Record<string, unknown>, nowMs: number): [string, string | undefined][] {
  if (obj(spec.binlog).enabled !== true) return [];
  const e = obj(b.error);
  const gap = obj(b.lastGap);
  return [
    ['Binlog archive', str(b.agent) ? `by ${str(b.agent)}${str(b.file) ? `, at ${str(b.file)}:${num(b.position) ?? '?'}` : ''}` : 'not running (no agent holds it yet)'],
    ['Binlog last event', timeCell(b.lastEventTime, nowMs)],
    ['Binlog stored', timeCell(b.flushedAt, nowMs)],
    ['Binlog lag', num(b.lagSeconds) === undefined ? undefined : `${num(b.lagSeconds)!.toFixed(1)}s`],
    ['Binlog error', str(e.message) ? `${str(e.code) ?? ''}: ${str(e.message)}` : undefined],
    ['Binlog gaps', num(b.gaps) ? `${num(b.gaps)}, last ${timeCell(gap.detectedAt, nowMs)}: ${str(gap.message) ?? ''}` : undefined],
  ];
}

/** A point-in-time RestoreSession's point, as asked. */
function pointCell(spec: Record<string, unknown>): string | undefined {
  if (str(spec.pointInTime)) return str(spec.pointInTime) === 'latest' ? 'point in time: latest archived' : `point in time: ${str(spec.pointInTime)}`;
  if (str(spec.gtid)) return `up to GTID ${str(spec.gtid)}`;
  const p = obj(spec.position);
  if (str(p.file)) return `up to ${str(p.file)}:${num(p.position) ?? '?'}`;
  return undefined;
}

function conditionsBlock(status: Record<string, unknown> | undefined, nowMs: number): string | undefined {
  const list = obj(status).conditions;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const rows = list.map((c) => {
    const o = obj(c);
    return [str(o.type) ?? '-', str(o.status) ?? '-', str(o.reason) ?? '-', relativeTime(str(o.lastTransitionTime), nowMs), str(o.message) ?? ''];
  });
  return table(['TYPE', 'STATUS', 'REASON', 'SINCE', 'MESSAGE'], rows);
}

/** The text `describe` prints. */
export function describeText(item: DescribedItem, related: Related, nowMs: number): string {
  const md = item.metadata;
  const labels = Object.entries(md.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
  const parts: string[] = [
    fields([
      ['Name', md.name],
      ['Namespace', md.namespace ?? 'default'],
      ['Kind', item.kind],
      ['Labels', labels || '<none>'],
      ['Created', timeCell(md.creationTimestamp, nowMs)],
      ...statusFields(item, nowMs),
    ]).join('\n'),
  ];
  if (item.kind === 'BackupConfiguration' && obj(item.spec).retentionPolicy) parts.push(`Retention policy:\n${indent(stringify(obj(item.spec).retentionPolicy).trimEnd())}`);
  const restored = item.kind === 'RestoreSession' ? restoreTablesTable(obj(item.status).tables) : undefined;
  if (restored) parts.push(`Tables:\n${indent(restored)}`);
  const conditions = conditionsBlock(item.status, nowMs);
  if (conditions) parts.push(`Conditions:\n${indent(conditions)}`);
  if (item.kind === 'BackupConfiguration' || item.kind === 'Repository' || item.kind === 'AppBinding') {
    const sessions = [...related.sessions].sort((a, b) => Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '')).slice(0, 10);
    parts.push(sessions.length === 0 ? 'Recent sessions: <none>' : `Recent sessions:\n${indent(table(['NAME', 'PHASE', 'SIZE', 'DURATION', 'AGE'], sessions.map((s) => {
      const st = obj(s.status);
      return [s.metadata.name, phaseCell(st), bytes(num(st.bytesRead)), num(st.durationSeconds) === undefined ? '-' : `${num(st.durationSeconds)!.toFixed(1)}s`, relativeTime(s.metadata.creationTimestamp, nowMs)];
    })))}`);
  }
  if (item.kind !== 'Secret') {
    const t = agentTable(related.agents, { wide: false, allNamespaces: true, nowMs });
    parts.push(related.agents.length === 0 ? 'Serving agent: <none> (no agent registered for this target)' : `Serving agent:\n${indent(table(t.headers, t.rows))}`);
  }
  const events = recentEvents(related.sessions);
  parts.push(events.length === 0 ? 'Events: <none>' : `Events:\n${indent(table(['TYPE', 'REASON', 'AGE', 'OBJECT', 'MESSAGE'], events.map((e) => [e.type, e.reason, relativeTime(e.time, nowMs), e.object, e.message])))}`);
  return parts.join('\n\n');
}
