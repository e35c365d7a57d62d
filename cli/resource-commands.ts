// apply -f, get, describe, delete: kubectl-like commands against the controller.
import { stringify } from 'yaml';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { age, bytes, table } from './format.ts';
import type { SuspiciousShrink } from '../common/protocol.ts';
import { describeSuspiciousShrink } from '../common/shrink-guard.ts';
import { REPOSITORY_HEADERS, integrityCell, integrityMessage, repositoryRow } from './integrity-cells.ts';

const ALIASES: Record<string, string> = {
  secret: 'secrets', secrets: 'secrets',
  repository: 'repositories', repositories: 'repositories', repo: 'repositories',
  appbinding: 'appbindings', appbindings: 'appbindings',
  backupconfiguration: 'backupconfigurations', backupconfigurations: 'backupconfigurations', bc: 'backupconfigurations',
  backupsession: 'backupsessions', backupsessions: 'backupsessions', bs: 'backupsessions',
  restoresession: 'restoresessions', restoresessions: 'restoresessions', rs: 'restoresessions',
  agent: 'agents', agents: 'agents',
};

export function plural(kind: string | undefined): string {
  const p = ALIASES[(kind ?? '').toLowerCase()];
  if (!p) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `unknown resource type ${JSON.stringify(kind)}; use one of ${[...new Set(Object.values(ALIASES))].join(', ')}`);
  return p;
}

interface Item {
  kind: string;
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** All files in one request: all or nothing (apply-files.ts). */
export async function applyFiles(o: ApiClientOptions, files: string[]): Promise<string> {
  return (await import('./apply-files.ts')).applyFiles(o, files, readStdin);
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function row(p: string, i: Item): string[] {
  const st = i.status ?? {};
  switch (p) {
    case 'backupsessions':
    case 'restoresessions': {
      const prog = st.progress as { bytesDumped?: number; etaSeconds?: number } | undefined;
      const cells = [i.metadata.name, String(st.phase ?? ''), bytes((st.bytesRead as number | undefined) ?? prog?.bytesDumped), String(st.snapshotId ?? '').slice(0, 8) || '-', st.durationSeconds === undefined ? '-' : `${Number(st.durationSeconds).toFixed(1)}s`, age(i.metadata.creationTimestamp), String((st.error as { message?: string } | undefined)?.message ?? (st.suspiciousShrink ? describeSuspiciousShrink(st.suspiciousShrink as SuspiciousShrink) : (integrityMessage(st.integrity) ?? '')))];
      // Backups show their repository check before AGE.
      if (p === 'backupsessions') cells.splice(5, 0, integrityCell(st.integrity));
      return cells;
    }
    case 'repositories':
      return repositoryRow(i.metadata.name, i.metadata.creationTimestamp, i.status);
    case 'backupconfigurations':
      return [i.metadata.name, String(i.spec.schedule), String(i.spec.paused ?? false), String(st.lastFinishedPhase ?? '-'), String(st.consecutiveFailures ?? 0), age(st.lastSuccessTime as string | undefined), age(st.lastScheduleTime as string | undefined), String(st.nextScheduleTime ?? '-'), age(i.metadata.creationTimestamp)];
    default:
      return [i.metadata.name, age(i.metadata.creationTimestamp)];
  }
}

const HEADERS: Record<string, string[]> = {
  backupsessions: ['NAME', 'PHASE', 'SIZE', 'SNAPSHOT', 'DURATION', 'INTEGRITY', 'AGE', 'MESSAGE'],
  repositories: REPOSITORY_HEADERS,
  restoresessions: ['NAME', 'PHASE', 'SIZE', 'SNAPSHOT', 'DURATION', 'AGE', 'ERROR'],
  backupconfigurations: ['NAME', 'SCHEDULE', 'PAUSED', 'LAST PHASE', 'FAILURES', 'LAST SUCCESS', 'LAST SCHEDULE', 'NEXT', 'AGE'],
};

export async function get(o: ApiClientOptions, kind: string | undefined, name: string | undefined, namespace: string, output: string | undefined): Promise<string> {
  const p = plural(kind);
  if (p === 'agents') {
    const res = await api<{ items: { name: string; targets: string[]; lastSeenAt: string; version: string; enrolledWith?: string | null }[] }>(o, 'GET', '/api/v1/agents');
    if (output === 'json') return JSON.stringify(res.items, null, 2);
    return table(['NAME', 'TARGETS', 'VERSION', 'LAST SEEN', 'ENROLLED WITH'], res.items.map((a) => [a.name, a.targets.join(','), a.version, age(a.lastSeenAt), a.enrolledWith ?? '-']));
  }
  const q = `?namespace=${encodeURIComponent(namespace)}`;
  const items = name ? [await api<Item>(o, 'GET', `/api/v1/${p}/${encodeURIComponent(name)}${q}`)] : (await api<{ items: Item[] }>(o, 'GET', `/api/v1/${p}${q}`)).items;
  if (output === 'json') return JSON.stringify(name ? items[0] : items, null, 2);
  if (output === 'yaml') return stringify(name ? items[0] : items);
  return table(HEADERS[p] ?? ['NAME', 'AGE'], items.map((i) => row(p, i)));
}

export async function describe(o: ApiClientOptions, kind: string | undefined, name: string | undefined, namespace: string): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'describe needs KIND NAME');
  const item = await api<Item>(o, 'GET', `/api/v1/${plural(kind)}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`);
  return stringify(item);
}

export async function remove(o: ApiClientOptions, kind: string | undefined, name: string | undefined, namespace: string): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'delete needs KIND NAME');
  const p = plural(kind);
  await api(o, 'DELETE', `/api/v1/${p}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`);
  return `${p}/${name} deleted`;
}
