// backup trigger, restore, snapshots, wait: session commands, with a progress bar on a TTY
// (cli-progress) and JSON-lines progress otherwise.
import cliProgress from 'cli-progress';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
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
  status?: { phase?: string; progress?: { bytesDumped: number; rateBytesPerSecond: number; estimatedTotalBytes?: number; etaSeconds?: number }; error?: { code: string; message: string }; snapshotId?: string; bytesRead?: number; bytesStored?: number; durationSeconds?: number; suspiciousShrink?: SuspiciousShrink; integrity?: unknown };
}

export async function triggerBackup(o: ApiClientOptions, config: string, namespace: string): Promise<SessionDoc> {
  return api<SessionDoc>(o, 'POST', `/api/v1/backupconfigurations/${encodeURIComponent(config)}/trigger?namespace=${encodeURIComponent(namespace)}`);
}

export async function createRestore(o: ApiClientOptions, opts: { repository: string; target: string; snapshot: string; database?: string | undefined; sourceHost?: string | undefined; namespace: string }): Promise<SessionDoc> {
  const name = `restore-${opts.target}-${Math.floor(Date.now() / 1000)}`;
  const doc = {
    apiVersion: 'sidestash.io/v1',
    kind: 'RestoreSession',
    metadata: { name, namespace: opts.namespace },
    spec: { repository: { name: opts.repository }, target: { ref: { kind: 'AppBinding', name: opts.target } }, snapshot: opts.snapshot, ...(opts.sourceHost ? { sourceHost: opts.sourceHost } : {}), ...(opts.database ? { database: opts.database } : {}) },
  };
  await api(o, 'POST', '/api/v1/apply', doc);
  return api<SessionDoc>(o, 'GET', `/api/v1/restoresessions/${name}?namespace=${encodeURIComponent(opts.namespace)}`);
}

/** Follows a session until it finishes; returns 0 when it succeeded. */
export async function waitForSession(o: ApiClientOptions, kindPlural: 'backupsessions' | 'restoresessions', name: string, namespace: string, signal: AbortSignal): Promise<number> {
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar({ format: '{name} {phase} [{bar}] {pct} | {done} of {totalText} | {rate} | ETA {etaText}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  let lastEstimate: number | undefined;
  try {
    for (;;) {
      if (signal.aborted) throw new SidestashError(ErrorCodes.ABORTED, 'stopped waiting');
      const s = await api<SessionDoc>(o, 'GET', `/api/v1/${kindPlural}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`);
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
        process.stderr.write(`${JSON.stringify({ session: name, phase: payload.phase, bytesDumped: p?.bytesDumped ?? 0, estimatedTotalBytes: p?.estimatedTotalBytes, rateBytesPerSecond: p?.rateBytesPerSecond ?? 0, etaSeconds: p?.etaSeconds })}\n`);
      }
      if (isFinalPhase(st.phase)) {
        bar?.stop();
        process.stdout.write(terminalText(`${kindPlural.slice(0, -1)}/${name} ${st.phase}${st.snapshotId ? ` snapshot ${st.snapshotId.slice(0, 8)}` : ''}${typeof st.bytesRead === 'number' ? ` ${bytes(st.bytesRead)}` : ''}${typeof st.durationSeconds === 'number' ? ` in ${st.durationSeconds.toFixed(1)}s` : ''}${st.error ? `: ${st.error.code}: ${st.error.message}` : ''}${st.suspiciousShrink ? `; ${describeSuspiciousShrink(st.suspiciousShrink)}` : ''}${st.integrity ? `; ${integrityMessage(st.integrity) ?? `repository check ${integrityCell(st.integrity)}`}` : ''}\n`));
        if (kindPlural === 'backupsessions' && st.phase === 'Succeeded') {
          const line = addedLine(await snapshotSummary(o, s, namespace, signal), st.bytesStored);
          if (line) process.stdout.write(`${line}\n`);
        }
        return st.phase === 'Succeeded' ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    bar?.stop();
  }
}

/**
 * The summary of a backup's snapshot (restic's data_added, data_added_packed), read through the
 * controller; undefined when it cannot be read (the line then says only what was stored).
 */
async function snapshotSummary(o: ApiClientOptions, s: SessionDoc, namespace: string, signal: AbortSignal): Promise<{ data_added?: unknown; data_added_packed?: unknown } | undefined> {
  const id = s.status?.snapshotId;
  const config = (s.spec as { invoker?: { name?: unknown } } | undefined)?.invoker?.name;
  if (!id || typeof config !== 'string' || signal.aborted) return undefined;
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
