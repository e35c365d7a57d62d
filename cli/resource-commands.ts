// apply -f and delete KIND NAME against the controller, and the names of resource kinds (plural).
import { readFile } from 'node:fs/promises';
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import type { ApiClientOptions } from './api-client.ts';
import { api } from './api-client.ts';

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

export async function applyFiles(o: ApiClientOptions, files: string[]): Promise<string> {
  const out: string[] = [];
  for (const f of files) {
    const text = f === '-' ? await readStdin() : await readFile(f, 'utf8');
    const res = await api<{ results: { kind: string; name: string; outcome: string }[] }>(o, 'POST', '/api/v1/apply', text, f.endsWith('.json') ? 'application/json' : 'application/yaml');
    for (const r of res.results) out.push(`${r.kind.toLowerCase()}/${r.name} ${r.outcome}`);
  }
  return out.join('\n');
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export async function remove(o: ApiClientOptions, kind: string | undefined, name: string | undefined, namespace: string): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'delete needs KIND NAME');
  const p = plural(kind);
  await api(o, 'DELETE', `/api/v1/${p}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}`);
  return `${p}/${name} deleted`;
}
