// Shared set-up of fault and end-to-end scenarios: resources for one target applied through
// the API (JSON), a slow mariadb-dump stand-in, and small waits.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { api } from '../../cli/api-client.ts';
import { isFinalPhase } from '../../common/protocol.ts';
import type { ApiClientOptions } from '../../cli/api-client.ts';
import type { MariaDB } from './mariadb.ts';
import { DB_PASSWORD, DB_USER } from './shop-db.ts';
import type { SessionView } from './stack.ts';

export const REPO_PASSWORD = 'scenario-repository-password';

export interface ScenarioOptions {
  db: MariaDB;
  repository: Record<string, unknown>;
  repoSecret?: Record<string, string>;
  dbPassword?: string;
  retention?: Record<string, unknown>;
  schedule?: string;
}

export async function applyScenario(o: ApiClientOptions, s: ScenarioOptions): Promise<void> {
  const docs = [
    { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: REPO_PASSWORD, ...s.repoSecret } } },
    { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: DB_USER, password: s.dbPassword ?? DB_PASSWORD } } },
    { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { ...s.repository, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { socket: s.db.socket }, secret: { name: 'db-secret' } } },
    { kind: 'BackupConfiguration', metadata: { name: 'shop-backup' }, spec: { schedule: s.schedule ?? '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, ...(s.retention ? { retentionPolicy: s.retention } : {}) } },
  ];
  await api(o, 'POST', '/api/v1/apply', docs);
}

/** A mariadb-dump that sends its first bytes, then stalls `seconds` before the rest. */
export async function slowDump(dir: string, seconds: number): Promise<string> {
  const path = join(dir, 'slow-dump.sh');
  await writeFile(path, `#!/bin/sh\nmariadb-dump "$@" > ${dir}/dump.$$ || exit $?\nhead -c 300000 ${dir}/dump.$$\nsleep ${seconds}\ntail -c +300001 ${dir}/dump.$$\nrm -f ${dir}/dump.$$\n`);
  await chmod(path, 0o755);
  return path;
}

export async function getSession(o: ApiClientOptions, name: string): Promise<SessionView> {
  return api<SessionView>(o, 'GET', `/api/v1/backupsessions/${name}`);
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function triggerBackup(o: ApiClientOptions): Promise<string> {
  return (await api<{ metadata: { name: string } }>(o, 'POST', '/api/v1/backupconfigurations/shop-backup/trigger')).metadata.name;
}

/** Waits until a BackupSession has finished (Succeeded or Failed) and returns it. */
export async function waitForSessionEnd(o: ApiClientOptions, name: string, timeoutMs: number): Promise<SessionView> {
  return waitFor(`session ${name} to finish`, timeoutMs, async () => {
    const s = await getSession(o, name);
    return isFinalPhase(s.status?.phase) ? s : undefined;
  });
}
