// apply -f and delete KIND NAME against the controller, and the names of resource kinds (plural).
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { stripTerminalControls } from '../common/terminal-text.ts';
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

/** The kind as apply and `get -o name` print it (`repository/NAME`): the plural's singular. */
export function singular(pluralName: string): string {
  return pluralName === 'repositories' ? 'repository' : pluralName.replace(/s$/, '');
}

/** All files in one request: all or nothing (apply-files.ts); the controller's warnings go to stderr. */
export async function applyFiles(o: ApiClientOptions, files: string[]): Promise<string> {
  return (await import('./apply-files.ts')).applyFiles(o, files, readStdin, printWarnings);
}

/** The controller's warnings, as kubectl prints them: "Warning: ..." on stderr. */
function printWarnings(warnings: unknown): void {
  if (!Array.isArray(warnings)) return;
  for (const w of warnings) if (typeof w === 'string') process.stderr.write(`Warning: ${stripTerminalControls(w)}\n`);
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** Deletes a resource; `force` deletes a Secret or Repository that others still name. */
export async function remove(o: ApiClientOptions, kind: string | undefined, name: string | undefined, namespace: string, force = false): Promise<string> {
  if (!name) throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'delete needs KIND NAME');
  const p = plural(kind);
  // The API has no such route: without this, "no route for /api/v1/agents/NAME".
  if (p === 'agents') throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, 'delete does not take agents: an agent deregisters when it stops; to keep one out, revoke its enrolment token ("sidestash agenttoken revoke ID")');
  const res = await api<{ warnings?: unknown }>(o, 'DELETE', `/api/v1/${p}/${encodeURIComponent(name)}?namespace=${encodeURIComponent(namespace)}${force ? '&force=true' : ''}`);
  printWarnings(res?.warnings);
  return `${singular(p)}/${name} deleted`;
}
