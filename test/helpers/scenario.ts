// Shared set-up of fault and end-to-end scenarios: resources for one target applied through
// the API (JSON), a slow mariadb-dump stand-in, and small waits.
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
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
  /** The BackupConfiguration's `timeout` (e.g. '3s'). */
  timeout?: string;
}

export async function applyScenario(o: ApiClientOptions, s: ScenarioOptions): Promise<void> {
  const docs = [
    { kind: 'Secret', metadata: { name: 'repo-secret' }, spec: { stringData: { RESTIC_PASSWORD: REPO_PASSWORD, ...s.repoSecret } } },
    { kind: 'Secret', metadata: { name: 'db-secret' }, spec: { stringData: { username: DB_USER, password: s.dbPassword ?? DB_PASSWORD } } },
    { kind: 'Repository', metadata: { name: 'repo' }, spec: { backend: { ...s.repository, storageSecretName: 'repo-secret' } } },
    { kind: 'AppBinding', metadata: { name: 'shop-db' }, spec: { clientConfig: { socket: s.db.socket }, secret: { name: 'db-secret' } } },
    { kind: 'BackupConfiguration', metadata: { name: 'shop-backup' }, spec: { schedule: s.schedule ?? '0 0 1 1 *', repository: { name: 'repo' }, target: { ref: { name: 'shop-db' } }, ...(s.retention ? { retentionPolicy: s.retention } : {}), ...(s.timeout ? { timeout: s.timeout } : {}) } },
  ];
  await api(o, 'POST', '/api/v1/apply', docs);
}

/**
 * A mariadb-dump that sends its first bytes, then stalls up to `seconds` before the rest. The
 * stall is short sleeps that end as soon as the script is stopped (SIGTERM, as the agent does on
 * cancel) or its parent, the agent, is gone (SIGKILL): no sleep outlives the session.
 */
export async function slowDump(dir: string, seconds: number): Promise<string> {
  const path = join(dir, 'slow-dump.sh');
  const steps = Math.ceil(seconds * 5);
  await writeFile(
    path,
    [
      '#!/bin/sh',
      // Marks every process the script starts (its environment is inherited): processesUnder finds them.
      `export SIDESTASH_TEST_DIR='${dir}'`,
      `trap 'rm -f ${dir}/dump.$$; exit 143' TERM INT`,
      `mariadb-dump "$@" > ${dir}/dump.$$ || exit $?`,
      `head -c 300000 ${dir}/dump.$$`,
      `n=${steps}`,
      'while [ $n -gt 0 ]; do',
      `  kill -0 $PPID 2>/dev/null || { rm -f ${dir}/dump.$$; exit 1; }`,
      '  sleep 0.2',
      '  n=$((n - 1))',
      'done',
      `tail -c +300001 ${dir}/dump.$$`,
      `rm -f ${dir}/dump.$$`,
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

/**
 * A `mariadb` client that runs statements given with -e (the agent's probes) as the real one
 * does, but reads only the first 300 kB of a restore's input and then stalls up to `seconds`
 * (ended, as slowDump's stall, by SIGTERM or by its agent being gone), then fails.
 */
export async function slowRestoreClient(dir: string, seconds: number): Promise<string> {
  const path = join(dir, 'slow-restore.sh');
  await writeFile(
    path,
    [
      '#!/bin/sh',
      `export SIDESTASH_TEST_DIR='${dir}'`,
      'for a in "$@"; do [ "$a" = -e ] && exec mariadb "$@"; done',
      "trap 'exit 143' TERM INT",
      'head -c 300000 > /dev/null',
      `n=${Math.ceil(seconds * 5)}`,
      'while [ $n -gt 0 ]; do',
      '  kill -0 $PPID 2>/dev/null || exit 1',
      '  sleep 0.2',
      '  n=$((n - 1))',
      'done',
      'exit 1',
      '',
    ].join('\n'),
  );
  await chmod(path, 0o755);
  return path;
}

/**
 * Processes whose command line mentions `dir` (mariadb-dump/mariadb run by an agent whose
 * SIDESTASH_TMPDIR, its option files, lies under `dir`) or that slowDump(dir) started, orphans
 * included (marked by SIDESTASH_TEST_DIR in their environment). Linux (/proc).
 */
export async function processesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (cmdline.includes(dir) || environ.split('\0').includes(`SIDESTASH_TEST_DIR=${dir}`)) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ').trim()}`);
  }
  return found;
}

/** Waits until no process mentions `dir` (a killed one may take a moment to be reaped); fails naming them. */
export async function assertNoProcessesUnder(dir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await processesUnder(dir);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes left running: ${left.join('; ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
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
