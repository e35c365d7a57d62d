// A short-lived MariaDB client option file carrying the credentials, so the password is
// never in argv or the environment: created 0600 inside a private 0700 directory and removed
// when the session ends (--defaults-extra-file).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

export async function writeClientOptionsFile(tmpDir: string, db: DatabaseConnection): Promise<ClientOptionsFile> {
  const dir = await mkdtemp(join(tmpDir, 'sidestash-'));
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
