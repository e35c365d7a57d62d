// `describe KIND NAME`: fetches the resource and what relates to it (sessions, agents), and
// prints describe-text.ts's page.
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';
import { describeText } from './describe-text.ts';
import type { DescribedItem, Related } from './describe-text.ts';
import type { ListedAgent } from './get-tables.ts';
import type { SessionLike } from './session-events.ts';
import { listAll } from './list-pages.ts';

interface Listed {
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; creationTimestamp?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const refName = (spec: unknown, ...path: string[]): string | undefined => {
  let v: unknown = spec;
  for (const p of path) v = obj(v)[p];
  return typeof v === 'string' ? v : undefined;
};

/** What relates to `item`, from the lists of its namespace. */
export function relatedOf(item: DescribedItem, lists: { backupconfigurations: Listed[]; backupsessions: Listed[]; restoresessions: Listed[]; agents: ListedAgent[] }): Related {
  const ns = item.metadata.namespace ?? 'default';
  const name = item.metadata.name;
  const sessionsOfConfig = (c: Listed): Listed[] =>
    lists.backupsessions.filter((s) => refName(s.spec, 'invoker', 'name') === c.metadata.name && (!c.metadata.uid || !refName(s.spec, 'invoker', 'uid') || refName(s.spec, 'invoker', 'uid') === c.metadata.uid));
  const serving = (targets: (string | undefined)[]): ListedAgent[] => {
    const want = new Set(targets.filter((t): t is string => !!t).map((t) => `${ns}/${t}`));
    return lists.agents.filter((a) => Array.isArray(a.targets) && a.targets.some((t) => want.has(t as string)));
  };
  switch (item.kind) {
    case 'BackupConfiguration':
      return { sessions: sessionsOfConfig(item as Listed), agents: serving([refName(item.spec, 'target', 'ref', 'name')]) };
    case 'Repository': {
      const configs = lists.backupconfigurations.filter((c) => refName(c.spec, 'repository', 'name') === name);
      return { sessions: [...configs.flatMap(sessionsOfConfig), ...lists.restoresessions.filter((r) => refName(r.spec, 'repository', 'name') === name)], agents: serving(configs.map((c) => refName(c.spec, 'target', 'ref', 'name'))) };
    }
    case 'AppBinding': {
      const configs = lists.backupconfigurations.filter((c) => refName(c.spec, 'target', 'ref', 'name') === name);
      return { sessions: [...configs.flatMap(sessionsOfConfig), ...lists.restoresessions.filter((r) => refName(r.spec, 'target', 'ref', 'name') === name)], agents: serving([name]) };
    }
    case 'BackupSession':
    case 'RestoreSession': {
      const agentName = refName(item.status, 'agent');
      const cfg = item.kind === 'BackupSession' ? lists.backupconfigurations.find((c) => c.metadata.name === refName(item.spec, 'invoker', 'name')) : undefined;
      const target = item.kind === 'BackupSession' ? refName(cfg?.spec, 'target', 'ref', 'name') : refName(item.spec, 'target', 'ref', 'name');
      return { sessions: [item as SessionLike], agents: agentName ? lists.agents.filter((a) => a.name === agentName) : serving([target]) };
    }
    default:
      return { sessions: [], agents: [] };
  }
}

export async function describeCommand(o: ApiClientOptions, plural: string, name: string | undefined, namespace: string): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'usage: sidestash describe KIND NAME');
  if (plural === 'agents') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'describe does not take agents; use "sidestash get agents -o wide"');
  const q = `?namespace=${encodeURIComponent(namespace)}`;
  const item = await api<DescribedItem>(o, 'GET', `/api/v1/${plural}/${encodeURIComponent(name)}${q}`);
  const list = (p: string): Promise<Listed[]> => listAll<Listed>(o, `/api/v1/${p}${q}`);
  const needsLists = item.kind !== 'Secret';
  const lists = needsLists
    ? { backupconfigurations: await list('backupconfigurations'), backupsessions: await list('backupsessions'), restoresessions: await list('restoresessions'), agents: (await api<{ items: ListedAgent[] }>(o, 'GET', '/api/v1/agents')).items }
    : { backupconfigurations: [], backupsessions: [], restoresessions: [], agents: [] };
  return describeText(item, relatedOf(item, lists), Date.now());
}
