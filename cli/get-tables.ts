// The tables of `get`, as pure functions of the listed items and the time: one column set per
// kind, `-o wide` adds columns, `-A` adds NAMESPACE first. Every value comes from the server and
// is read defensively: a field of another type shows as "-".
import { describeSuspiciousShrink } from '../common/shrink-guard.ts';
import { appBindingAddress, restoreSelection } from '../controller/resources/stash-spelling.ts';
import type { SuspiciousShrink } from '../common/protocol.ts';
import { age, bytes } from './format.ts';
import { integrityCell, integrityMessage } from './integrity-cells.ts';
import { relativeTime } from './relative-time.ts';

/** An AppBinding's database address in either spelling (socket/host/port or Stash's service/url), as the controller reads it. */
export function addressCell(spec: Record<string, unknown>, namespace: string | undefined): string | undefined {
  const a = appBindingAddress(spec.clientConfig, namespace ?? 'default').address;
  return a?.socket ?? (a?.host ? `${a.host}:${a.port ?? 3306}` : undefined);
}

/** The snapshot a RestoreSession asks for (spec.snapshot or Stash's spec.target.rules). */
export function requestedSnapshot(spec: Record<string, unknown>): string | undefined {
  return restoreSelection(spec).selection?.snapshot;
}

export interface ListedItem {
  kind?: string;
  metadata: { name: string; namespace?: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** An agent as GET /api/v1/agents lists it (name is "namespace/name"). */
export interface ListedAgent {
  name: string;
  targets?: unknown;
  version?: unknown;
  lastSeenAt?: unknown;
  registeredAt?: unknown;
  online?: unknown;
  enrolledWith?: unknown;
}

export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  nowMs: number;
}

export interface TableData {
  headers: string[];
  rows: string[][];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** An error code without the common "SIDESTASH_" prefix: "NO_AGENT". */
function shortCode(code: string): string {
  return code.replace(/^SIDESTASH_/, '');
}

/** "Failed (NO_AGENT)", "Running (cancelling: timeout)", "Succeeded". */
export function phaseCell(status: Record<string, unknown> | undefined): string {
  const st = obj(status);
  const phase = str(st.phase) ?? 'Pending';
  const code = str(obj(st.error).code);
  const cancel = str(st.cancelReason);
  if (code) return `${phase} (${shortCode(code)})`;
  if (st.cancelRequested === true && phase === 'Running') return `Running (cancelling${cancel ? `: ${cancel}` : ''})`;
  if (cancel && phase !== 'Succeeded') return `${phase} (${cancel})`;
  return phase;
}

/** Where a Repository stores its data, without any credentials a URL carries. */
export function backendCell(spec: Record<string, unknown> | undefined): string {
  const b = obj(obj(spec).backend);
  const local = str(obj(b.local).path);
  if (local) return `local:${local}`;
  const s3 = obj(b.s3);
  if (str(s3.bucket)) return `s3:${[str(s3.endpoint)?.replace(/^https?:\/\//, '').replace(/\/+$/, ''), s3.bucket, str(s3.prefix)].filter(Boolean).join('/')}`;
  const rest = str(obj(b.rest).url);
  if (rest) return `rest:${rest.replace(/\/\/[^/@]*@/, '//')}`;
  return '-';
}

function durationCell(v: unknown): string {
  const d = num(v);
  return d === undefined ? '-' : `${d.toFixed(1)}s`;
}

function sessionMessage(st: Record<string, unknown>): string {
  const e = str(obj(st.error).message);
  if (e) return e;
  // Why a Pending session waits (controller/sessions/pending-reason.ts).
  if (st.phase === 'Pending' && str(st.message)) return str(st.message)!;
  if (st.suspiciousShrink && typeof st.suspiciousShrink === 'object') return describeSuspiciousShrink(st.suspiciousShrink as SuspiciousShrink);
  return integrityMessage(st.integrity) ?? '';
}

interface Columns {
  headers: string[];
  wide: string[];
  cells(i: ListedItem, nowMs: number): { cells: string[]; wide: string[] };
}

const COLUMNS: Record<string, Columns> = {
  backupconfigurations: {
    headers: ['NAME', 'SCHEDULE', 'PAUSED', 'LAST PHASE', 'FAILURES', 'LAST SUCCESS', 'NEXT RUN', 'AGE'],
    wide: ['REPOSITORY', 'TARGET', 'TIMEZONE', 'LAST SCHEDULE', 'LAST SESSION'],
    cells(i, nowMs) {
      const spec = obj(i.spec);
      const st = obj(i.status);
      const paused = spec.paused === true;
      return {
        cells: [str(spec.schedule) ?? '-', String(paused), str(st.lastFinishedPhase) ?? '-', String(num(st.consecutiveFailures) ?? 0), relativeTime(str(st.lastSuccessTime), nowMs), paused ? 'paused' : relativeTime(str(st.nextScheduleTime), nowMs), age(i.metadata.creationTimestamp, nowMs)],
        wide: [str(obj(spec.repository).name) ?? '-', str(obj(obj(spec.target).ref).name) ?? '-', str(spec.timezone) ?? '-', relativeTime(str(st.lastScheduleTime), nowMs), str(st.lastSessionName) ?? '-'],
      };
    },
  },
  backupsessions: {
    headers: ['NAME', 'PHASE', 'CONFIGURATION', 'SIZE', 'SNAPSHOT', 'DURATION', 'INTEGRITY', 'AGE', 'MESSAGE'],
    wide: ['TRIGGER', 'AGENT', 'STORED', 'STARTED', 'FINISHED'],
    cells(i, nowMs) {
      const st = obj(i.status);
      const spec = obj(i.spec);
      return {
        cells: [phaseCell(st), str(obj(spec.invoker).name) ?? '-', bytes(num(st.bytesRead) ?? num(obj(st.progress).bytesDumped)), str(st.snapshotId)?.slice(0, 8) ?? '-', durationCell(st.durationSeconds), integrityCell(st.integrity), age(i.metadata.creationTimestamp, nowMs), sessionMessage(st)],
        wide: [str(spec.trigger) ?? '-', str(st.agent) ?? '-', bytes(num(st.bytesStored)), relativeTime(str(st.startedAt), nowMs), relativeTime(str(st.finishedAt), nowMs)],
      };
    },
  },
  restoresessions: {
    headers: ['NAME', 'PHASE', 'TARGET', 'REPOSITORY', 'SNAPSHOT', 'SIZE', 'DURATION', 'AGE', 'MESSAGE'],
    wide: ['DATABASE', 'AGENT', 'STARTED', 'FINISHED'],
    cells(i, nowMs) {
      const st = obj(i.status);
      const spec = obj(i.spec);
      return {
        cells: [phaseCell(st), str(obj(obj(spec.target).ref).name) ?? '-', str(obj(spec.repository).name) ?? '-', str(st.snapshotId)?.slice(0, 8) ?? requestedSnapshot(spec) ?? '-', bytes(num(st.bytesRead) ?? num(obj(st.progress).bytesDumped)), durationCell(st.durationSeconds), age(i.metadata.creationTimestamp, nowMs), sessionMessage(st)],
        wide: [str(spec.database) ?? '(all)', str(st.agent) ?? '-', relativeTime(str(st.startedAt), nowMs), relativeTime(str(st.finishedAt), nowMs)],
      };
    },
  },
  repositories: {
    headers: ['NAME', 'INTEGRITY', 'BACKEND', 'SIZE', 'SNAPSHOTS', 'LAST BACKUP', 'CHECKED', 'AGE', 'MESSAGE'],
    wide: ['DATA READ', 'LAST SESSION'],
    cells(i, nowMs) {
      const st = obj(i.status);
      const integrity = obj(st.integrity);
      return {
        cells: [integrityCell(st.integrity), backendCell(i.spec), bytes(num(st.sizeBytes)), num(st.snapshotCount)?.toString() ?? '-', relativeTime(str(st.lastBackupTime), nowMs), relativeTime(str(integrity.checkedAt), nowMs), age(i.metadata.creationTimestamp, nowMs), integrityMessage(st.integrity) ?? ''],
        wide: [relativeTime(str(st.lastReadDataCheckAt), nowMs), str(st.lastBackupSession) ?? '-'],
      };
    },
  },
  appbindings: {
    headers: ['NAME', 'TYPE', 'ADDRESS', 'SECRET', 'AGE'],
    wide: ['TLS CA'],
    cells(i, nowMs) {
      const spec = obj(i.spec);
      const address = addressCell(spec, i.metadata.namespace) ?? '-';
      return { cells: [str(spec.type) ?? '-', address, str(obj(spec.secret).name) ?? '-', age(i.metadata.creationTimestamp, nowMs)], wide: [str(obj(spec.tls).caSecretName) ?? '-'] };
    },
  },
  secrets: {
    headers: ['NAME', 'KEYS', 'AGE'],
    wide: [],
    cells(i, nowMs) {
      return { cells: [Object.keys(obj(obj(i.spec).data)).join(',') || '-', age(i.metadata.creationTimestamp, nowMs)], wide: [] };
    },
  },
};

/** The table `get` prints for resources of a kind (its plural). */
export function resourceTable(plural: string, items: ListedItem[], o: TableOptions): TableData {
  const c = COLUMNS[plural] ?? COLUMNS.secrets!;
  const headers = [...(o.allNamespaces ? ['NAMESPACE'] : []), ...c.headers, ...(o.wide ? c.wide : [])];
  const rows = items.map((i) => {
    const { cells, wide } = c.cells(i, o.nowMs);
    return [...(o.allNamespaces ? [i.metadata.namespace ?? '-'] : []), i.metadata.name, ...cells, ...(o.wide ? wide : [])];
  });
  return { headers, rows };
}

/** The agents' table: online or offline (the controller decides, by its lease), last seen, version, targets. */
export function agentTable(agents: ListedAgent[], o: TableOptions): TableData {
  const headers = [...(o.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'STATUS', 'LAST SEEN', 'VERSION', 'TARGETS', ...(o.wide ? ['ENROLLED WITH', 'REGISTERED'] : [])];
  const rows = agents.map((a) => {
    const slash = a.name.indexOf('/');
    const ns = slash < 0 ? '-' : a.name.slice(0, slash);
    const name = a.name.slice(slash + 1);
    const targets = Array.isArray(a.targets) ? a.targets.filter((t): t is string => typeof t === 'string').join(',') : '-';
    return [
      ...(o.allNamespaces ? [ns] : []),
      name,
      a.online === true ? 'online' : a.online === false ? 'offline' : '-',
      relativeTime(str(a.lastSeenAt), o.nowMs),
      str(a.version) ?? '-',
      targets || '-',
      ...(o.wide ? [str(a.enrolledWith) ?? '-', relativeTime(str(a.registeredAt), o.nowMs)] : []),
    ];
  });
  return { headers, rows };
}
