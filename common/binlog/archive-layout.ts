// How binary-log archives sit in a restic repository (point-in-time recovery), and how a logical
// backup records where in the binary log it was taken. The one place that writes and reads these
// tags: the archiver, the retention of binlogs, the point-in-time planner and `restic snapshots`
// readers all go through it.
//
// One snapshot per binary-log file of the server: hostname the target's (as its dumps), path
// `/<file>` (e.g. `/mysql-bin.000042`), the file's bytes from its start (the magic number and the
// format description event) up to `binlog-end`, byte-exact as the server wrote them, so that a
// restored file is read by `mariadb-binlog` as it is. While a file is being written the archiver
// replaces its snapshot at every flush (the new one lists every blob of the old one and more);
// once the server rotated past it, the last snapshot is tagged `binlog-closed`.
//
// Tags (restic shows them in `restic snapshots`):
//   sidestash-binlog                     what the snapshot is
//   namespace=<ns>  target=<ns>/<name>   whose (snapshot-selector.ts)
//   binlog-chain=<16 hex>                the archive chain: a new one starts after every gap
//   binlog-file=<name>  binlog-server-id=<n>  binlog-end=<bytes>  [binlog-closed]
//   binlog-first-time=<unix s>  binlog-last-time=<unix s>   the first and last event's timestamps
//   binlog-gtid-start=<d-s-n> ...        the file's Gtid_list: the server's GTID state before it
//   binlog-gtid-end=<d-s-n> ...          the last GTID archived, per replication domain
// A logical backup's snapshot carries where it was taken (mariadb-dump --master-data=2 --gtid):
//   dump-binlog-file=<name>  dump-binlog-pos=<bytes>  dump-binlog-gtid=<d-s-n> ...  dump-binlog-seen=<unix ms>
//   dump-binlog-server-id=<n>
//
// Every tag is untrusted (anyone with the repository password writes snapshots): each is parsed
// against an allow-list, and a snapshot whose tags do not all parse is not an archive at all.

export const BINLOG_TAG = 'sidestash-binlog';

/**
 * How far apart the two clocks behind an archive's times may be: binlog event times are the
 * server's, a dump's time the agent's. Decisions that compare them (which file holds a dump,
 * which file retention may forget) keep this much on the safe side.
 */
export const SERVER_AGENT_CLOCK_MARGIN_MS = 60 * 60 * 1000;
const P = {
  chain: 'binlog-chain=',
  file: 'binlog-file=',
  serverId: 'binlog-server-id=',
  end: 'binlog-end=',
  firstTime: 'binlog-first-time=',
  lastTime: 'binlog-last-time=',
  gtidStart: 'binlog-gtid-start=',
  gtidEnd: 'binlog-gtid-end=',
  dumpFile: 'dump-binlog-file=',
  dumpPos: 'dump-binlog-pos=',
  dumpGtid: 'dump-binlog-gtid=',
  dumpSeen: 'dump-binlog-seen=',
  dumpServerId: 'dump-binlog-server-id=',
} as const;
const CLOSED_TAG = 'binlog-closed';

/** One GTID: replication domain, server id, sequence number (MariaDB's d-s-n). */
export interface Gtid {
  domain: number;
  serverId: number;
  seq: bigint;
}

/** An archived binary-log file, as its snapshot's tags describe it. */
export interface BinlogFileRecord {
  snapshotId: string;
  /** The snapshot's time (RFC 3339). */
  time: string;
  chain: string;
  /** The file's name on the server (`mysql-bin.000042`). */
  file: string;
  /** Its number (42): files of a chain follow each other by number. */
  sequence: number;
  serverId: number;
  /** Bytes archived: the file's first endPosition bytes. */
  endPosition: number;
  /** The server rotated past it: nothing more will be archived into it. */
  closed: boolean;
  /** Timestamps (unix seconds) of its first and last archived events; absent while it holds none. */
  firstEventTime?: number;
  lastEventTime?: number;
  /** The GTID state before the file (its Gtid_list event), one per domain. */
  gtidStart: Gtid[];
  /** The last GTID archived in it, one per domain that has one. */
  gtidEnd: Gtid[];
}

/** Where a logical backup was taken in the server's binary log. */
export interface DumpCoordinates {
  file: string;
  position: number;
  /** gtid_binlog_pos at the dump's snapshot, one per domain (empty on a server without GTIDs yet). */
  gtid: Gtid[];
  /** The server_id of the server the dump was taken on (it wrote the binlog file named). */
  serverId?: number;
  /**
   * When the agent read the coordinates in the dump stream (unix ms): at or after the dump's
   * consistent point, so the dump holds nothing committed after a time T when seenAtMs <= T.
   */
  seenAtMs?: number;
}

const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,126}\.([0-9]{1,9})$/;
const UINT32_MAX = 4294967295;
const MAX_FILE_BYTES = 2 ** 52;

export function parseGtid(text: string): Gtid | undefined {
  const m = /^([0-9]{1,10})-([0-9]{1,10})-([0-9]{1,20})$/.exec(text);
  if (!m) return undefined;
  const domain = Number(m[1]);
  const serverId = Number(m[2]);
  const seq = BigInt(m[3]!);
  if (domain > UINT32_MAX || serverId > UINT32_MAX || seq > 18446744073709551615n) return undefined;
  return { domain, serverId, seq };
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.serverId}-${g.seq}`;
}

/** "0-1-5,1-2-7" (gtid_binlog_pos, mariadb-dump's gtid_slave_pos) -> GTIDs; undefined when any part is not one or a domain repeats. */
export function parseGtidList(text: string): Gtid[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const out: Gtid[] = [];
  for (const part of trimmed.split(',')) {
    const g = parseGtid(part.trim());
    if (!g || out.some((x) => x.domain === g.domain)) return undefined;
    out.push(g);
  }
  return out;
}

/** The number of a binlog file's name (`mysql-bin.000042` -> 42); undefined when the name is not one the archive accepts. */
export function binlogFileSequence(file: string): number | undefined {
  const m = FILE_NAME.exec(file);
  return m && !file.includes('..') ? Number(m[1]) : undefined;
}

const unsigned = (text: string | undefined, max: number): number | undefined => {
  if (text === undefined || !/^[0-9]{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
};

/** The tags of an archived binlog file's snapshot (besides the target's). */
export function binlogFileTags(r: Omit<BinlogFileRecord, 'snapshotId' | 'time' | 'sequence'>): string[] {
  return [
    BINLOG_TAG,
    `${P.chain}${r.chain}`,
    `${P.file}${r.file}`,
    `${P.serverId}${r.serverId}`,
    `${P.end}${r.endPosition}`,
    ...(r.closed ? [CLOSED_TAG] : []),
    ...(r.firstEventTime !== undefined ? [`${P.firstTime}${r.firstEventTime}`] : []),
    ...(r.lastEventTime !== undefined ? [`${P.lastTime}${r.lastEventTime}`] : []),
    ...r.gtidStart.map((g) => `${P.gtidStart}${formatGtid(g)}`),
    ...r.gtidEnd.map((g) => `${P.gtidEnd}${formatGtid(g)}`),
  ];
}

/** Whether a snapshot says it is a binlog archive (then it is never a dump: `latest`, retention of dumps). */
export function isBinlogSnapshot(s: { tags?: readonly string[] | null | undefined }): boolean {
  return (s.tags ?? []).includes(BINLOG_TAG);
}

const one = (tags: readonly string[], prefix: string): string | undefined => {
  const found = tags.filter((t) => t.startsWith(prefix));
  return found.length === 1 ? found[0]!.slice(prefix.length) : undefined;
};

const gtids = (tags: readonly string[], prefix: string): Gtid[] | undefined => {
  const out: Gtid[] = [];
  for (const t of tags) {
    if (!t.startsWith(prefix)) continue;
    const g = parseGtid(t.slice(prefix.length));
    if (!g || out.some((x) => x.domain === g.domain)) return undefined;
    out.push(g);
  }
  return out;
};

/** An archive snapshot's record; undefined when it is not one or any of its archive tags does not parse. */
export function binlogFileRecord(s: { id: string; time: string; tags?: readonly string[] | null | undefined }): BinlogFileRecord | undefined {
  const tags = s.tags ?? [];
  if (!tags.includes(BINLOG_TAG)) return undefined;
  const chain = one(tags, P.chain);
  const file = one(tags, P.file);
  const sequence = file === undefined ? undefined : binlogFileSequence(file);
  const serverId = unsigned(one(tags, P.serverId), UINT32_MAX);
  const endPosition = unsigned(one(tags, P.end), MAX_FILE_BYTES);
  const gtidStart = gtids(tags, P.gtidStart);
  const gtidEnd = gtids(tags, P.gtidEnd);
  if (chain === undefined || !/^[0-9a-f]{16}$/.test(chain) || file === undefined || sequence === undefined || serverId === undefined || endPosition === undefined || !gtidStart || !gtidEnd) return undefined;
  const times: (number | undefined)[] = [];
  for (const prefix of [P.firstTime, P.lastTime]) {
    const present = tags.some((t) => t.startsWith(prefix));
    const value = unsigned(one(tags, prefix), UINT32_MAX);
    if (present && value === undefined) return undefined;
    times.push(value);
  }
  const [firstEventTime, lastEventTime] = times;
  if ((firstEventTime === undefined) !== (lastEventTime === undefined) || (firstEventTime !== undefined && firstEventTime > lastEventTime!)) return undefined;
  return {
    snapshotId: s.id,
    time: s.time,
    chain,
    file,
    sequence,
    serverId,
    endPosition,
    closed: tags.includes(CLOSED_TAG),
    ...(firstEventTime !== undefined ? { firstEventTime, lastEventTime: lastEventTime! } : {}),
    gtidStart,
    gtidEnd,
  };
}

/** The tags recording a dump's binlog coordinates. */
export function dumpCoordinateTags(c: DumpCoordinates): string[] {
  return [`${P.dumpFile}${c.file}`, `${P.dumpPos}${c.position}`, ...c.gtid.map((g) => `${P.dumpGtid}${formatGtid(g)}`), ...(c.seenAtMs !== undefined ? [`${P.dumpSeen}${c.seenAtMs}`] : []), ...(c.serverId !== undefined ? [`${P.dumpServerId}${c.serverId}`] : [])];
}

/** A dump snapshot's binlog coordinates; undefined when it has none or they do not parse. */
export function dumpCoordinates(s: { tags?: readonly string[] | null | undefined }): DumpCoordinates | undefined {
  const tags = s.tags ?? [];
  const file = one(tags, P.dumpFile);
  const position = unsigned(one(tags, P.dumpPos), MAX_FILE_BYTES);
  const gtid = gtids(tags, P.dumpGtid);
  if (file === undefined || binlogFileSequence(file) === undefined || position === undefined || !gtid) return undefined;
  const seenPresent = tags.some((t) => t.startsWith(P.dumpSeen));
  const seenAtMs = unsigned(one(tags, P.dumpSeen), MAX_FILE_BYTES);
  if (seenPresent && seenAtMs === undefined) return undefined;
  const serverPresent = tags.some((t) => t.startsWith(P.dumpServerId));
  const serverId = unsigned(one(tags, P.dumpServerId), UINT32_MAX);
  if (serverPresent && serverId === undefined) return undefined;
  return { file, position, gtid, ...(seenAtMs !== undefined ? { seenAtMs } : {}), ...(serverId !== undefined ? { serverId } : {}) };
}
