// A short-lived MariaDB client option file carrying the credentials, so the password is
// never in argv or the environment: created 0600 inside a private 0700 directory and removed
// when the session ends (--defaults-extra-file). A killed agent cannot remove its directory, so
// the agent removes its own leftovers when it starts (removeLeftoverOptionDirs).
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseConnection } from '../common/protocol.ts';

/** Quotes a value for a MariaDB option file. */
export function optionValue(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

/** What the client programs accept in one packet (a row when dumping, a statement when restoring). */
export const MAX_ALLOWED_PACKET = '1G';

export interface ClientOptionsFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * The option directories' name prefix: it names the agent (by a hash of its name), so that
 * agents sharing a temporary directory never take each other's directories for leftovers.
 */
export function optionDirPrefix(agentName: string): string {
  return `sidestash-options-${createHash('sha256').update(agentName).digest('hex').slice(0, 12)}-`;
}

export async function writeClientOptionsFile(tmpDir: string, db: DatabaseConnection, agentName = ''): Promise<ClientOptionsFile> {
  const dir = await mkdtemp(join(tmpDir, optionDirPrefix(agentName)));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    // max-allowed-packet: mariadb-dump and mariadb default to 16 MiB, so a row larger than that
    // failed the backup (and its INSERT the restore); 1 GiB is the protocol's maximum. The server's
    // own max_allowed_packet still bounds what it accepts on restore.
    const lines = ['[client]', `user=${optionValue(db.username)}`, `password=${optionValue(db.password)}`, `max-allowed-packet=${MAX_ALLOWED_PACKET}`];
    if (db.socket) lines.push(`socket=${optionValue(db.socket)}`, 'protocol=socket');
    else {
      lines.push(`host=${optionValue(db.host ?? '127.0.0.1')}`, `port=${db.port ?? 3306}`, 'protocol=tcp');
    }
    if (db.caCert) {
      const ca = join(dir, 'ca.pem');
      await writeFile(ca, db.caCert, { mode: 0o600 });
      lines.push(`ssl-ca=${optionValue(ca)}`, 'ssl-verify-server-cert');
    }
    const path = join(dir, 'client.cnf');
    await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
    return { path, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * Removes the option directories a killed run of this agent left in tmpDir: only entries named
 * by this agent's prefix and mkdtemp's six characters that are real directories (lstat: a
 * symbolic link is never followed or removed) owned by this process's user. Returns how many.
 * Run it before the agent takes a session: its own live sessions have none yet.
 */
export async function removeLeftoverOptionDirs(tmpDir: string, agentName = ''): Promise<number> {
  const prefix = optionDirPrefix(agentName);
  const uid = process.getuid?.();
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(tmpDir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[A-Za-z0-9]{6}$/.test(name.slice(prefix.length))) continue;
    const path = join(tmpDir, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st || !st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
