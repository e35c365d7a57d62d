// A dump's binary-log coordinates, complete: the file and position the dump itself says
// (dump-coordinates-tap.ts), and from the server, at that very position, the GTID state
// (BINLOG_GTID_POS, as mariadb-dump --gtid computes it) and the server id (which server's binary
// log the position is in: after a failover another server's file can have the same name).
// Nothing of these comes from the dump's later text, which table and trigger contents can forge.
import { binlogFileSequence, parseGtidList } from '../common/binlog/archive-layout.ts';
import type { DumpCoordinates } from '../common/binlog/archive-layout.ts';
import type { DumpPosition } from './dump-coordinates-tap.ts';

/** Runs one statement on the dumped server; tab-separated rows without headers. */
export type RunSql = (sql: string) => Promise<string>;

export async function resolveCoordinates(p: DumpPosition, runSql: RunSql): Promise<{ coordinates: DumpCoordinates } | { problem: string }> {
  // The file name is allow-listed (letters, digits, _ . -), the position an integer: both are safe as literals.
  if (binlogFileSequence(p.file) === undefined || !Number.isSafeInteger(p.position)) return { problem: `the dump's coordinates ${p.file}:${p.position} are not a binary log position` };
  let out: string;
  try {
    out = await runSql(`SELECT @@server_id, BINLOG_GTID_POS('${p.file}', ${p.position})`);
  } catch (err) {
    return { problem: `the server did not say its id and GTID state at ${p.file}:${p.position}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const [serverText, gtidText = ''] = out.replace(/\n$/, '').split('\t');
  const serverId = Number(serverText);
  const gtid = parseGtidList(gtidText === 'NULL' ? '' : gtidText);
  if (!Number.isInteger(serverId) || serverId < 1 || serverId > 4294967295 || !gtid) return { problem: `the server answered ${JSON.stringify(out.trim())} for its id and GTID state at ${p.file}:${p.position}` };
  return { coordinates: { file: p.file, position: p.position, gtid, serverId, seenAtMs: p.seenAtMs } };
}
