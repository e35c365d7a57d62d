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
import { bytes, table, terminalText } from './format.ts';
import { integrityCell, integrityMessage } from './integrity-cells.ts';

interface SessionDoc {
  kind: string;
  metadata: { name: string; namespace: string };
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
export async function createRestore(o: ApiClientOptions, opts: { repository: string; target: string; snapshot: string; database?: string | undefined; sourceHost?: string | undefined; namespace: string; name?: string | undefined }): Promise<SessionDoc> {
  for (let attempt = 1; ; attempt++) {
    const name = opts.name ?? generateName(`restore-${opts.target}-`);
    const doc = {
      apiVersion: 'sidestash.io/v1',
      kind: 'RestoreSession',
      metadata: { name, namespace: opts.namespace },
      spec: { repository: { name: opts.repository }, target: { ref: { kind: 'AppBinding', name: opts.target } }, snapshot: opts.snapshot, ...(opts.sourceHost ? { sourceHost: opts.sourceHost } : {}), ...(opts.database ? { database: opts.database } : {}) },
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
    ? new cliProgress.SingleBar({ format: '{name} {phase} [{bar}] {percentage}% | {done} of {total} | {rate}/s | ETA {etaText}', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  try {
    for (;;) {
      const s = await orAbort(api<SessionDoc>(o, 'GET', `/api/v1/${kindPlural}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`));
      const st = s.status ?? {};
      const p = st.progress;
      const total = Math.max(p?.estimatedTotalBytes ?? 0, p?.bytesDumped ?? 0, 1);
      const payload = { name, phase: terminalText(String(st.phase ?? 'Pending')), done: bytes(p?.bytesDumped ?? 0), total: bytes(p?.estimatedTotalBytes), rate: bytes(p?.rateBytesPerSecond ?? 0), etaText: p?.etaSeconds === undefined ? '-' : `${p.etaSeconds}s` };
      if (bar) {
        if (!started) bar.start(total, p?.bytesDumped ?? 0, payload);
        else {
          bar.setTotal(total);
          bar.update(p?.bytesDumped ?? 0, payload);
        }
        started = true;
      } else {
        process.stderr.write(`${JSON.stringify({ session: name, phase: payload.phase, bytesDumped: p?.bytesDumped ?? 0, estimatedTotalBytes: p?.estimatedTotalBytes, rateBytesPerSecond: p?.rateBytesPerSecond ?? 0, etaSeconds: p?.etaSeconds, ...(st.phase === 'Pending' && st.message ? { reason: st.reason, message: terminalText(st.message) } : {}) })}\n`);
      }
      if (isFinalPhase(st.phase)) {
        bar?.stop();
        process.stdout.write(terminalText(`${kindPlural.slice(0, -1)}/${name} ${st.phase}${st.snapshotId ? ` snapshot ${st.snapshotId.slice(0, 8)}` : ''}${typeof st.bytesRead === 'number' ? ` ${bytes(st.bytesRead)}` : ''}${typeof st.durationSeconds === 'number' ? ` in ${st.durationSeconds.toFixed(1)}s` : ''}${st.error ? `: ${st.error.code}: ${st.error.message}` : ''}${st.suspiciousShrink ? `; ${describeSuspiciousShrink(st.suspiciousShrink)}` : ''}${st.integrity ? `; ${integrityMessage(st.integrity) ?? `repository check ${integrityCell(st.integrity)}`}` : ''}\n`));
        return st.phase === 'Succeeded' ? 0 : 1;
      }
      await orAbort(new Promise((r) => setTimeout(r, 1000)));
    }
  } finally {
    bar?.stop();
  }
}

export async function snapshots(o: ApiClientOptions, repository: string, namespace: string, json: boolean): Promise<string> {
  const res = await api<{ items: { id: string; time: string; hostname?: string; tags?: string[] | null; paths: string[] }[] }>(o, 'GET', `/api/v1/repositories/${encodeURIComponent(repository)}/snapshots?namespace=${encodeURIComponent(namespace)}`);
  if (json) return JSON.stringify(res.items, null, 2);
  return table(['ID', 'TIME', 'HOST', 'TAGS', 'PATHS'], res.items.map((s) => [s.id.slice(0, 8), s.time.replace(/\.\d+/, ''), s.hostname ?? '', (s.tags ?? []).join(','), s.paths.join(',')]));
}
