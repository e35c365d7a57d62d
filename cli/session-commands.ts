// backup trigger, restore, snapshots, wait: session commands, with a progress bar on a TTY
// (cli-progress) and JSON-lines progress otherwise.
import cliProgress from 'cli-progress';
import { ErrorCodes, SidestashError, isSidestashError } from '../common/errors.ts';
import { generateName } from '../common/generate-name.ts';
import { isFinalPhase } from '../common/protocol.ts';
import type { SuspiciousShrink } from '../common/protocol.ts';
import { describeSuspiciousShrink } from '../common/shrink-guard.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { bytes, terminalText } from './format.ts';
import type { Snapshot } from '../common/repository/snapshot.ts';
import { snapshotsTable } from './restic-text.ts';
import { integrityCell, integrityMessage } from './integrity-cells.ts';
import { addedLine, progressView } from './progress-view.ts';

interface SessionDoc {
  kind: string;
  metadata: { name: string; namespace: string };
  spec?: Record<string, unknown>;
  status?: { phase?: string; reason?: string; message?: string; progress?: { bytesDumped: number; rateBytesPerSecond: number; estimatedTotalBytes?: number; etaSeconds?: number }; error?: { code: string; message: string }; snapshotId?: string; bytesRead?: number; bytesStored?: number; durationSeconds?: number; suspiciousShrink?: SuspiciousShrink; integrity?: unknown };
}

export async function triggerBackup(o: ApiClientOptions, config: string, namespace: string, name?: string): Promise<SessionDoc> {
  return api<SessionDoc>(o, 'POST', `/api/v1/backupconfigurations/${encodeURIComponent(config)}/trigger?namespace=${encodeURIComponent(namespace)}${name === undefined ? '' : `&name=${encodeURIComponent(name)}`}`);
}

/**
 * Creates a RestoreSession named `name`, or `restore-<target>-<5 random characters>` as
 * Kubernetes' generateName does: restores started in the same second never share a name. A
 * name already taken is CONFLICT, even by a session of the same spec (apply would call that
 * "unchanged" and hand back the old session).
 */
export async function createRestore(o: ApiClientOptions, opts: { repository: string; target: string; snapshot: string; database?: string | undefined; tables?: string[] | undefined; targetDatabase?: string | undefined; sourceHost?: string | undefined; namespace: string; name?: string | undefined; parallel?: number | undefined; writeBinlog?: false | undefined; verify?: string | undefined } & PointInTimeOptions): Promise<SessionDoc> {
  // A point-in-time restore takes the newest dump before its point: no snapshot with it.
  const point = opts.pointInTime !== undefined || opts.gtid !== undefined || opts.position !== undefined;
  for (let attempt = 1; ; attempt++) {
    const name = opts.name ?? generateName(`restore-${opts.target}-`);
    const doc = {
      apiVersion: 'sidestash.io/v1',
      kind: 'RestoreSession',
      metadata: { name, namespace: opts.namespace },
      spec: { repository: { name: opts.repository }, target: { ref: { kind: 'AppBinding', name: opts.target } }, ...(point ? {} : { snapshot: opts.snapshot }), ...(opts.pointInTime !== undefined ? { pointInTime: opts.pointInTime } : {}), ...(opts.gtid !== undefined ? { gtid: opts.gtid } : {}), ...(opts.position !== undefined ? { position: opts.position } : {}), ...(opts.sourceHost ? { sourceHost: opts.sourceHost } : {}), ...(opts.database ? { database: opts.database } : {}), ...(opts.tables?.length ? { tables: opts.tables } : {}), ...(opts.targetDatabase ? { targetDatabase: opts.targetDatabase } : {}), ...(opts.parallel !== undefined ? { parallel: opts.parallel } : {}), ...(opts.writeBinlog === false ? { writeBinlog: false } : {}), ...(opts.verify ? { verify: opts.verify } : {}) },
    };
    let created: boolean;
    try {
      const { results } = await api<{ results: { outcome: string }[] }>(o, 'POST', '/api/v1/apply', doc);
      created = results[0]?.outcome === 'created';
    } catch (err) {
      if (!isSidestashError(err, ErrorCodes.CONFLICT)) throw err;
      created = false;
    }
    if (created) return api<SessionDoc>(o, 'GET', `/api/v1/restoresessions/${name}?namespace=${encodeURIComponent(opts.namespace)}`);
    if (opts.name !== undefined || attempt >= 5) throw new SidestashError(ErrorCodes.CONFLICT, `RestoreSession ${opts.namespace}/${name} already exists; choose another --name${opts.name === undefined ? '' : ' or leave it out'}`);
  }
}

export interface PointInTimeOptions {
  pointInTime?: string;
  gtid?: string;
  position?: { file: string; position: number };
}

/**
 * --to TIME|latest, --to-gtid D-S-N, --to-position FILE:POS as a RestoreSession's point (one at
 * most; the controller checks what each means). A time without an offset is refused, not read
 * in some time zone.
 */
export function pointInTimeOptions(to: string | undefined, gtid: string | undefined, position: string | undefined): PointInTimeOptions {
  const given = [to !== undefined && '--to', gtid !== undefined && '--to-gtid', position !== undefined && '--to-position'].filter(Boolean);
  if (given.length > 1) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `give one of ${given.join(', ')}: a restore goes to one point`);
  if (to !== undefined) {
    if (to !== 'latest' && !/(Z|[+-]\d{2}:\d{2})$/i.test(to)) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--to takes an RFC 3339 time with its offset (2026-12-01T10:15:00Z, 2026-12-01T12:15:00+02:00) or latest, not ${JSON.stringify(to)}`);
    return { pointInTime: to };
  }
  if (gtid !== undefined) return { gtid };
  if (position !== undefined) {
    const m = /^(.+):([0-9]{1,16})$/.exec(position);
    if (!m) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `--to-position takes FILE:POSITION such as mysql-bin.000042:650, not ${JSON.stringify(position)}`);
    return { position: { file: m[1]!, position: Number(m[2]) } };
  }
  return {};
}

/** What Ctrl-C on a wait prints: the session goes on, and how to follow or stop it. */
export function stoppedWaitingText(kindPlural: 'backupsessions' | 'restoresessions', name: string, namespace: string): string {
  const kind = kindPlural.slice(0, -1);
  const ns = namespace === 'default' ? '' : ` -n ${namespace}`;
  return `stopped waiting; ${kind}/${name} keeps running\n  follow it:  sidestash wait ${kind} ${name}${ns}\n  cancel it:  sidestash cancel ${kind} ${name}${ns}\n`;
}

/**
 * Follows a session until it finishes; returns 0 when it succeeded, 1 when it did not, and 130
 * when `signal` (Ctrl-C) stops the waiting, which leaves the session running.
 */
export async function waitForSession(o: ApiClientOptions, kindPlural: 'backupsessions' | 'restoresessions', name: string, namespace: string, signal: AbortSignal): Promise<number> {
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    return await followSession(o, kindPlural, name, namespace, aborted);
  } catch (err) {
    if (!isSidestashError(err, ErrorCodes.ABORTED)) throw err;
    process.stderr.write(terminalText(stoppedWaitingText(kindPlural, name, namespace)));
    return 130;
  }
}

async function followSession(o: ApiClientOptions, kindPlural: 'backupsessions' | 'restoresessions', name: string, namespace: string, aborted: Promise<'aborted'>): Promise<number> {
  const orAbort = async <T>(p: Promise<T>): Promise<T> => {
    const r = await Promise.race([p, aborted]);
    if (r === 'aborted') throw new SidestashError(ErrorCodes.ABORTED, 'stopped waiting');
    return r as T;
  };
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar({ format: '{name} {phase} [{bar}] {pct} | {done} of {totalText} | {rate} | ETA {etaText}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  let lastEstimate: number | undefined;
  try {
    for (;;) {
      const s = await orAbort(api<SessionDoc>(o, 'GET', `/api/v1/${kindPlural}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`));
      const st = s.status ?? {};
      const p = st.progress;
      const view = progressView(st, lastEstimate);
      if (typeof p?.estimatedTotalBytes === 'number' && p.estimatedTotalBytes > (lastEstimate ?? 0)) lastEstimate = p.estimatedTotalBytes;
      const payload = { name, phase: terminalText(String(st.phase ?? 'Pending')), pct: view.percent, done: view.done, totalText: view.totalText, rate: view.rate, etaText: view.eta };
      if (bar) {
        if (!started) bar.start(view.total, view.value, payload);
        else {
          bar.setTotal(view.total);
          bar.update(view.value, payload);
        }
        started = true;
      } else {
        process.stderr.write(`${JSON.stringify({ session: name, phase: payload.phase, bytesDumped: p?.bytesDumped ?? 0, estimatedTotalBytes: p?.estimatedTotalBytes, rateBytesPerSecond: p?.rateBytesPerSecond ?? 0, etaSeconds: p?.etaSeconds, ...(st.phase === 'Pending' && st.message ? { reason: st.reason, message: terminalText(st.message) } : {}) })}\n`);
      }
      if (isFinalPhase(st.phase)) {
        bar?.stop();
        process.stdout.write(terminalText(`${kindPlural.slice(0, -1)}/${name} ${st.phase}${st.snapshotId ? ` snapshot ${st.snapshotId.slice(0, 8)}` : ''}${typeof st.bytesRead === 'number' ? ` ${bytes(st.bytesRead)}` : ''}${typeof st.durationSeconds === 'number' ? ` in ${st.durationSeconds.toFixed(1)}s` : ''}${st.error ? `: ${st.error.code}: ${st.error.message}` : ''}${st.suspiciousShrink ? `; ${describeSuspiciousShrink(st.suspiciousShrink)}` : ''}${st.integrity ? `; ${integrityMessage(st.integrity) ?? `repository check ${integrityCell(st.integrity)}`}` : ''}\n`));
        if (kindPlural === 'backupsessions' && st.phase === 'Succeeded') {
          const line = addedLine(await orAbort(snapshotSummary(o, s, namespace)), st.bytesStored);
          if (line) process.stdout.write(`${line}\n`);
        }
        return st.phase === 'Succeeded' ? 0 : 1;
      }
      await orAbort(new Promise((r) => setTimeout(r, 1000)));
    }
  } finally {
    bar?.stop();
  }
}

/**
 * The summary of a backup's snapshot (restic's data_added, data_added_packed), read through the
 * controller; undefined when it cannot be read (the line then says only what was stored).
 */
async function snapshotSummary(o: ApiClientOptions, s: SessionDoc, namespace: string): Promise<{ data_added?: unknown; data_added_packed?: unknown } | undefined> {
  const id = s.status?.snapshotId;
  const config = (s.spec as { invoker?: { name?: unknown } } | undefined)?.invoker?.name;
  if (!id || typeof config !== 'string') return undefined;
  try {
    const q = `?namespace=${encodeURIComponent(namespace)}`;
    const cfg = await api<{ spec?: { repository?: { name?: unknown } } }>(o, 'GET', `/api/v1/backupconfigurations/${encodeURIComponent(config)}${q}`);
    const repo = cfg.spec?.repository?.name;
    if (typeof repo !== 'string') return undefined;
    const { items } = await api<{ items: { id: string; summary?: { data_added?: unknown; data_added_packed?: unknown } }[] }>(o, 'GET', `/api/v1/repositories/${encodeURIComponent(repo)}/snapshots${q}`);
    return items.find((x) => x.id === id)?.summary;
  } catch {
    return undefined;
  }
}

export async function snapshots(o: ApiClientOptions, repository: string, namespace: string, json: boolean): Promise<string> {
  const res = await api<{ items: Snapshot[] }>(o, 'GET', `/api/v1/repositories/${encodeURIComponent(repository)}/snapshots?namespace=${encodeURIComponent(namespace)}`);
  if (json) return JSON.stringify(res.items, null, 2);
  // The same table as `sidestash repo snapshots` (restic's), from what the controller read.
  const items = Array.isArray(res.items) ? res.items.filter((x) => x && typeof x.id === 'string' && typeof x.time === 'string' && Array.isArray(x.paths)) : [];
  return snapshotsTable(items);
}
