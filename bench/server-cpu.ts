// mariadbd's CPU time, for the benchmarks that say where a restore's or a dump's time goes: the
// server's share is not in /usr/bin/time's figures for the client pipeline.
import { readdir, readFile } from 'node:fs/promises';
import type { MariaDB } from '../test/helpers/mariadb.ts';

/** mariadbd's CPU seconds so far (user + system from /proc), found by its data directory. */
export async function serverCpuSeconds(db: Pick<MariaDB, 'dir'>): Promise<number> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes(`--datadir=${db.dir}`)) continue;
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
  throw new Error('mariadbd not found in /proc');
}
