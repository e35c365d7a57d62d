// Tests' stand-in for the archiver where a test needs archived binlog files but not the archiver
// itself: each closed binlog file of a server stored as archive-layout.ts says, its tags described
// from the real file by mariadb-binlog (TZ=UTC).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { binlogFileRecord, binlogFileTags, parseGtid, parseGtidList } from '../../common/binlog/archive-layout.ts';
import type { BinlogFileRecord, Gtid } from '../../common/binlog/archive-layout.ts';
import { EVENT_HEADER_BYTES, LOG_EVENT_BINLOG_IN_USE_F, writeChecksum } from '../../common/binlog/binlog-events.ts';
import type { Repository } from '../../common/repository/repository.ts';
import { listSnapshots } from '../../common/repository/snapshot.ts';
import { writeSnapshot } from '../../common/repository/snapshot-writer.ts';
import type { MariaDB } from './mariadb.ts';

const execFileAsync = promisify(execFile);

/** What the archiver would tag a closed file with, read from the file by mariadb-binlog (TZ=UTC). */
export async function describeBinlog(path: string): Promise<{ firstEventTime: number; lastEventTime: number; gtidStart: Gtid[]; gtidEnd: Gtid[] }> {
  const { stdout } = await execFileAsync('mariadb-binlog', ['--no-defaults', path], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 64 * 1024 * 1024 });
  const times: number[] = [];
  let gtidStart: Gtid[] = [];
  const end = new Map<number, Gtid>();
  for (const line of stdout.split('\n')) {
    const m = /^#(\d\d)(\d\d)(\d\d) +(\d+):(\d\d):(\d\d) server id \d+ +end_log_pos \d+ .*?\t(.*)$/.exec(line);
    if (!m) continue;
    times.push(Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000);
    const list = /^Gtid list \[(.*)\]/.exec(m[7]!);
    if (list) gtidStart = parseGtidList(list[1]!)!;
    const gtid = /^GTID (\d+-\d+-\d+)/.exec(m[7]!);
    if (gtid) {
      const g = parseGtid(gtid[1]!)!;
      end.set(g.domain, g);
    }
  }
  return { firstEventTime: Math.min(...times), lastEventTime: Math.max(...times), gtidStart, gtidEnd: [...end.values()] };
}

/** Stores every closed binlog file of `source` (all but the newest) as archive snapshots; returns their records. */
export async function archiveClosedBinlogs(source: MariaDB, repo: Repository, o: { chain: string; serverId: number; hostname: string; tags: string[] }): Promise<BinlogFileRecord[]> {
  const logs = (await source.sql('SHOW BINARY LOGS')).trim().split('\n').map((l) => l.split('\t')[0]!);
  for (const file of logs.slice(0, -1)) {
    const path = join(source.dir, 'data', file);
    const bytes = await readFile(path);
    const tags = binlogFileTags({ chain: o.chain, file, serverId: o.serverId, endPosition: bytes.length, closed: true, ...(await describeBinlog(path)) });
    await writeSnapshot(repo, Readable.from([bytes]), { filename: file, hostname: o.hostname, tags: [...o.tags, ...tags] });
  }
  return (await listSnapshots(repo)).flatMap((s) => binlogFileRecord({ id: s.id, time: s.time, tags: s.tags ?? [] }) ?? []);
}

/** Waits for the next whole second of the clock and returns it: binlog events carry whole seconds. */
export async function nextSecond(): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === now) await new Promise((r) => setTimeout(r, 10));
  return now + 1;
}

/**
 * The server's file as the archive holds it: the server clears LOG_EVENT_BINLOG_IN_USE_F in the
 * format description it streams (and in the file itself once it closes it), so an active file on
 * disk differs from its archive in that one flag and the event's checksum; closed files not at all.
 */
export function asStreamed(disk: Buffer): Buffer {
  const out = Buffer.from(disk);
  const fdeSize = out.readUInt32LE(4 + 9);
  const flagsAt = 4 + EVENT_HEADER_BYTES - 2;
  if ((out.readUInt16LE(flagsAt) & LOG_EVENT_BINLOG_IN_USE_F) !== 0) {
    out.writeUInt16LE(out.readUInt16LE(flagsAt) & ~LOG_EVENT_BINLOG_IN_USE_F, flagsAt);
    if (out[4 + fdeSize - 5] === 1) writeChecksum(out.subarray(4, 4 + fdeSize));
  }
  return out;
}

/** `restic dump` of one file, as bytes. */
export async function resticDumpBytes(password: string, repoPath: string, snapshot: string, path: string): Promise<Buffer> {
  const child = spawn('restic', ['-r', repoPath, '--no-cache', 'dump', snapshot, path], { env: { ...process.env, RESTIC_PASSWORD: password }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `restic dump ${snapshot} ${path}: ${stderr}`);
  return Buffer.concat(out);
}
