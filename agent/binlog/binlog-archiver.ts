// Continuous archiving of a server's binary log into the repository (archive-layout.ts), until
// the signal aborts. Each run of the loop plans from the repository (archive-plan.ts planResume:
// the newest chain's last file and its archived end), streams from there (binlog-stream.ts) and
// appends every event that is file content to that file's writer (archive-file-writer.ts):
// - every content event must start where the archived bytes end (its log_pos less its size):
//   otherwise BINLOG_GAP, never a silent skip or a duplicate;
// - a ROTATE in the file (not the stream's artificial one) closes the file (flush with
//   binlog-closed) and the next file starts at 4; a file that ends without one (the server
//   crashed or stopped) is closed when the stream moves on to the next file;
// - the open file is flushed at least every flushIntervalMs (a timer, not only events);
// - a new file's format description must come from the chain's server id and its Gtid_list
//   must hold the chain's last GTID of every domain; otherwise events are missing: a gap.
// A gap (also error 1236: the file to resume from is purged) is reported through onStatus and a
// NEW chain starts from the server's current file: the old chain is never continued past it.
// Connection loss and repository errors that say retryable are retried with backoff
// (common/backend/retry.ts), each time planning again from what the repository holds, so an
// abort or crash at any moment (even mid-flush) resumes exactly at the last saved snapshot.
import { randomBytes } from 'node:crypto';
import { binlogFileRecord, binlogFileTags, formatGtid } from '../../common/binlog/archive-layout.ts';
import type { BinlogFileRecord, Gtid } from '../../common/binlog/archive-layout.ts';
import { ArchiveFileWriter } from '../../common/binlog/archive-file-writer.ts';
import { BINLOG_MAGIC, EventType, checksumMatches, parseEventHeader, parseFormatDescription, parseGtidEvent, parseGtidList, parseRotate } from '../../common/binlog/binlog-events.ts';
import type { ChecksumAlgorithmName, EventHeader } from '../../common/binlog/binlog-events.ts';
import { retryDelayMs, sleep } from '../../common/backend/retry.ts';
import type { RetryPolicy } from '../../common/backend/retry.ts';
import { ErrorCodes, SidestashError, errorMessage, isSidestashError } from '../../common/errors.ts';
import type { DatabaseConnection } from '../../common/protocol.ts';
import type { Repository } from '../../common/repository/repository.ts';
import { listSnapshots } from '../../common/repository/snapshot.ts';
import { snapshotHostname, snapshotOwnership, targetTags } from '../../common/repository/snapshot-selector.ts';
import type { TargetRef } from '../../common/repository/snapshot-selector.ts';
import { contentGap, eventRole, gtidListFollows, mergeGtids, nextFileName, planResume } from './archive-plan.ts';
import type { ResumePoint } from './archive-plan.ts';
import { binlogStream } from './binlog-stream.ts';
import { currentBinlogFile, firstBinlogFile } from './binlog-sql.ts';

export interface BinlogArchiveStatus {
  chain: string;
  /** The file being archived, and how much of it is stored (its newest snapshot's end). */
  file: string;
  position: number;
  /** Unix seconds of the newest archived event. */
  lastEventTime?: number;
  /** The newest archived GTID of each domain. */
  lastGtid: Gtid[];
  /** Bytes stored by this run's flushes (a counter for metrics). */
  bytesArchived: number;
  /** When the last flush saved its snapshot (RFC 3339). */
  flushedAt?: string;
  /** When the oldest event not stored yet arrived (RFC 3339); absent when everything read is stored. */
  unflushedSince?: string;
  /** The last gap detected by this run: the chain before it ends there, a new one started. */
  gap?: { detectedAt: string; message: string };
  /** The last retryable failure, while retrying it. */
  retrying?: { code: string; message: string; attempt: number };
}

export interface BinlogArchiverOptions {
  repo: Repository;
  database: DatabaseConnection;
  target: TargetRef;
  /** The server_id the archiver announces as a replica: unique among the server's replicas. */
  replicaServerId: number;
  flushIntervalMs: number;
  /** A new chain starts from this file at 4 (else from the server's oldest binary log). */
  startFrom?: { file: string };
  /** Heartbeat period asked from the server (default: min(flushIntervalMs, 5 s)). */
  heartbeatMs?: number;
  onStatus?: (status: BinlogArchiveStatus) => void;
  signal: AbortSignal;
  /** Backoff between retries (attempts is ignored: the archiver retries until aborted). */
  retry?: Omit<RetryPolicy, 'attempts'>;
  /** Tests: a fixed chain id generator, and a hook before each snapshot replaces another. */
  newChainId?: () => string;
  beforeSupersede?: () => Promise<void>;
}

const DEFAULT_BACKOFF = { baseDelayMs: 500, maxDelayMs: 30_000 };

/** A new archive chain's id: 16 hex digits. */
export function randomChainId(): string {
  return randomBytes(8).toString('hex');
}

class GapError extends SidestashError {}

function gap(message: string, file: string, position: number): GapError {
  return new GapError(ErrorCodes.BINLOG_GAP, message, { details: { file, position } });
}

/** The target's archive records (snapshots whose tags all parse and that are its own). */
export async function targetArchiveRecords(repo: Repository, target: TargetRef, signal?: AbortSignal): Promise<BinlogFileRecord[]> {
  const snapshots = await listSnapshots(repo, signal ? { signal } : {});
  const out: BinlogFileRecord[] = [];
  for (const s of snapshots) {
    if (snapshotOwnership(s, target) !== 'target' || s.paths.length !== 1) continue;
    const r = binlogFileRecord(s);
    if (r && s.paths[0] === `/${r.file}`) out.push(r);
  }
  return out;
}

export async function runBinlogArchiver(options: BinlogArchiverOptions): Promise<void> {
  const { signal } = options;
  const state: ArchiverState = { bytesArchived: 0, newChain: false };
  let attempt = 0;
  while (!signal.aborted) {
    try {
      await archiveOnce(options, state, () => (attempt = 0));
      return;
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof GapError || isSidestashError(err, ErrorCodes.BINLOG_GAP)) {
        state.gap = { detectedAt: new Date().toISOString(), message: errorMessage(err) };
        state.newChain = true;
        attempt = 0;
        options.onStatus?.({ ...(state.last ?? { chain: '', file: '', position: 0, lastGtid: [] }), bytesArchived: state.bytesArchived, gap: state.gap });
        continue;
      }
      if (!isSidestashError(err) || !err.retryable) throw err;
      attempt++;
      options.onStatus?.({ ...(state.last ?? { chain: '', file: '', position: 0, lastGtid: [] }), bytesArchived: state.bytesArchived, ...(state.gap ? { gap: state.gap } : {}), retrying: { code: err.code, message: err.message, attempt } });
      try {
        await sleep(retryDelayMs(attempt, { attempts: Infinity, ...DEFAULT_BACKOFF, ...options.retry }, undefined, Math.random()), signal);
      } catch {
        return;
      }
    }
  }
}

interface ArchiverState {
  bytesArchived: number;
  gap?: BinlogArchiveStatus['gap'];
  /** A gap was detected: the next stream starts a new chain. */
  newChain: boolean;
  /** The last status reported after a flush (for the status of a retry or a gap). */
  last?: BinlogArchiveStatus;
}

interface FileState {
  file: string;
  writer: ArchiveFileWriter;
  serverId: number;
  gtidStart: Gtid[];
  gtidEnd: Gtid[];
  firstEventTime?: number;
  lastEventTime?: number;
  closed: boolean;
  /** Its Gtid_list was read (a resumed file's was, before). */
  listSeen: boolean;
  /** Not to be stored: it does not follow the chain. */
  discard?: boolean;
}

/** The checksum of an event that comes before any format description (the stream's rotate): CRC32 when its trailer matches. */
function streamChecksum(event: Uint8Array): ChecksumAlgorithmName {
  return checksumMatches(event) ? 'CRC32' : 'NONE';
}

/** One stream: plan, stream, append, until the signal aborts or something fails. */
async function archiveOnce(options: BinlogArchiverOptions, state: ArchiverState, progressed: () => void): Promise<void> {
  const { repo, signal, target } = options;
  const plan: ResumePoint | undefined = state.newChain ? undefined : planResume(await targetArchiveRecords(repo, target, signal));
  let chain: string;
  let chainServerId: number | undefined;
  let chainGtids: Gtid[] = [];
  let file: string;
  let position: number;
  if (plan) {
    ({ chain, file, position } = plan);
    chainServerId = plan.serverId;
    chainGtids = plan.chainGtids;
  } else {
    chain = (options.newChainId ?? randomChainId)();
    // After a gap: from the server's current file; the first chain: startFrom or the oldest file.
    file = state.newChain ? await currentBinlogFile(options.database) : (options.startFrom?.file ?? (await firstBinlogFile(options.database)));
    position = 4;
  }
  let cur: FileState | undefined;
  if (plan?.resumeFrom) {
    const r = plan.resumeFrom;
    const writer = await ArchiveFileWriter.open(repo, { file, hostname: snapshotHostname(target), resumeFrom: r.snapshotId, supersedes: plan.supersedes, signal, ...(options.beforeSupersede ? { beforeSupersede: options.beforeSupersede } : {}) });
    cur = { file, writer, serverId: r.serverId, gtidStart: r.gtidStart, gtidEnd: r.gtidEnd, closed: false, listSeen: true, ...(r.firstEventTime !== undefined ? { firstEventTime: r.firstEventTime, lastEventTime: r.lastEventTime! } : {}) };
  }
  let checksum: ChecksumAlgorithmName | undefined;
  let flushedAt: string | undefined;
  /** When the oldest event not yet flushed was appended: it is flushed within flushIntervalMs of it. */
  let dirtySinceMs: number | undefined;
  let expectFile = file;
  let started = false;
  const status = (): void => {
    state.last = {
      chain,
      file: cur?.file ?? file,
      position: cur?.writer.flushedBytes ?? position,
      ...(cur?.lastEventTime !== undefined ? { lastEventTime: cur.lastEventTime } : {}),
      lastGtid: mergeGtids(chainGtids, cur?.gtidEnd ?? []),
      bytesArchived: state.bytesArchived,
      ...(flushedAt ? { flushedAt } : {}),
      ...(dirtySinceMs !== undefined ? { unflushedSince: new Date(dirtySinceMs).toISOString() } : {}),
      ...(state.gap ? { gap: state.gap } : {}),
    };
    options.onStatus?.(state.last);
  };
  /** An event not stored yet: the first one after a flush starts the archive's lag (reported). */
  const markDirty = (): void => {
    if (dirtySinceMs !== undefined) return;
    dirtySinceMs = Date.now();
    status();
  };
  const flush = async (closed: boolean): Promise<void> => {
    if (!cur) return;
    if (!closed && cur.writer.sizeBytes === cur.writer.flushedBytes) return;
    const before = cur.writer.flushedBytes;
    const tags = [
      ...binlogFileTags({ chain, file: cur.file, serverId: cur.serverId, endPosition: cur.writer.sizeBytes, closed, gtidStart: cur.gtidStart, gtidEnd: cur.gtidEnd, ...(cur.firstEventTime !== undefined ? { firstEventTime: cur.firstEventTime, lastEventTime: cur.lastEventTime! } : {}) }),
      ...targetTags(target),
    ];
    await cur.writer.flush(tags);
    state.bytesArchived += cur.writer.flushedBytes - before;
    dirtySinceMs = undefined;
    flushedAt = new Date().toISOString();
    // A chain's first snapshot: a gap reported before it has been dealt with.
    state.newChain = false;
    progressed();
    status();
  };
  const startFile = async (name: string, h: EventHeader): Promise<void> => {
    if (chainServerId !== undefined && h.serverId !== chainServerId) throw gap(`${name} was written by server id ${h.serverId}, the chain by ${chainServerId}`, name, 4);
    chainServerId = h.serverId;
    const writer = await ArchiveFileWriter.open(repo, { file: name, hostname: snapshotHostname(target), signal, ...(options.beforeSupersede ? { beforeSupersede: options.beforeSupersede } : {}) });
    cur = { file: name, writer, serverId: h.serverId, gtidStart: [], gtidEnd: [], closed: false, listSeen: false };
  };
  const heartbeatMs = options.heartbeatMs ?? Math.min(options.flushIntervalMs, 5000);
  /** Nothing at all (not even a heartbeat) for this long: the connection is dead. */
  const silentMs = Math.max(3 * heartbeatMs, 30_000);
  // Ended with the loop, whatever ends it: a stream waiting for the server's next event wakes up.
  const streamEnd = new AbortController();
  const stream = binlogStream({ database: options.database, file, position, replicaServerId: options.replicaServerId, heartbeatMs, signal: AbortSignal.any([signal, streamEnd.signal]) });
  const iterator = stream[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<Buffer>> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastHeardMs = Date.now();
  try {
    for (;;) {
      pending ??= iterator.next();
      const now = Date.now();
      const flushDue = dirtySinceMs === undefined ? Infinity : dirtySinceMs + options.flushIntervalMs;
      const waitMs = Math.max(0, Math.min(flushDue, lastHeardMs + silentMs) - now);
      const tick = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), waitMs)));
      const next = await Promise.race([pending, tick]);
      clearTimeout(timer);
      if (next === 'tick') {
        if (Date.now() - lastHeardMs >= silentMs) throw new SidestashError(ErrorCodes.DATABASE_UNAVAILABLE, `the server sent nothing, not even a heartbeat, for ${Math.round(silentMs / 1000)} s`, { retryable: true });
        await flush(false);
        continue;
      }
      pending = undefined;
      lastHeardMs = Date.now();
      if (next.done) break;
      const event = next.value;
      const h = parseEventHeader(event);
      const role = eventRole(h);
      if (role === 'heartbeat' || role === 'artificial') continue;
      if (role === 'stream-rotate') {
        const to = parseRotate(event, checksum ?? streamChecksum(event));
        if (!started) {
          if (to.nextFile !== file || to.position !== position) throw gap(`the server streams from ${to.nextFile}:${to.position}, not ${file}:${position}`, file, position);
          started = true;
          continue;
        }
        if (to.nextFile === cur?.file && !cur.closed) continue;
        // The stream moved on without a ROTATE in the file (the server stopped or crashed): that file is complete.
        if (cur && !cur.closed) {
          await flush(true);
          cur.closed = true;
          chainGtids = mergeGtids(chainGtids, cur.gtidEnd);
          expectFile = nextFileName(cur.file) ?? cur.file;
        }
        if (to.nextFile !== expectFile || to.position !== 4) throw gap(`the server went on with ${to.nextFile}:${to.position}, not ${expectFile}:4`, to.nextFile, to.position);
        continue;
      }
      if (role === 'resent-format') {
        checksum = parseFormatDescription(event).checksum;
        if (chainServerId !== undefined && h.serverId !== chainServerId) throw gap(`the server's id is ${h.serverId}, the chain's ${chainServerId}`, file, position);
        // The file resumed must be the one archived, not a new life of its name (RESET MASTER, a
        // rebuilt data directory): its format description, the file's first event, was written
        // when the archived one's was. Otherwise the new file's events would be appended to the
        // old file's bytes.
        if (cur && !cur.closed && cur.firstEventTime !== undefined && h.timestamp !== cur.firstEventTime) {
          throw gap(`${cur.file} on the server was created at ${new Date(h.timestamp * 1000).toISOString()}, the archived one at ${new Date(cur.firstEventTime * 1000).toISOString()}: another file of that name (RESET MASTER, or a new data directory)`, cur.file, cur.writer.sizeBytes);
        }
        continue;
      }
      // File content.
      if (h.type === EventType.FORMAT_DESCRIPTION) {
        checksum = parseFormatDescription(event).checksum;
        if (cur && !cur.closed) throw gap(`a format description at ${h.logPos - h.eventSize} of ${cur.file}`, cur.file, cur.writer.sizeBytes);
        await cur?.writer.close();
        cur = undefined;
        await startFile(expectFile, h);
        markDirty();
        await cur!.writer.append(BINLOG_MAGIC);
      }
      if (!cur || cur.closed || !checksum) throw gap(`an event of type ${h.type} ending at ${h.logPos} before its file's format description`, expectFile, 0);
      const why = contentGap(h, cur.writer.sizeBytes);
      if (why) throw gap(`${cur.file}: ${why}`, cur.file, cur.writer.sizeBytes);
      if (h.type === EventType.GTID_LIST && !cur.listSeen) {
        const list = parseGtidList(event, checksum);
        cur.listSeen = true;
        cur.gtidStart = list;
        if (!gtidListFollows(chainGtids, list)) {
          cur.discard = true;
          throw gap(`${cur.file} does not follow the chain: its Gtid_list lacks ${chainGtids.map(formatGtid).join(',')}`, cur.file, 4);
        }
      } else if (h.type === EventType.GTID) {
        cur.gtidEnd = mergeGtids(cur.gtidEnd, [parseGtidEvent(event, checksum)]);
      }
      markDirty();
      await cur.writer.append(event);
      cur.firstEventTime ??= h.timestamp;
      cur.lastEventTime = Math.max(cur.lastEventTime ?? 0, h.timestamp);
      if (h.type === EventType.ROTATE || h.type === EventType.STOP) {
        const to = h.type === EventType.ROTATE ? parseRotate(event, checksum) : undefined;
        await flush(true);
        cur.closed = true;
        chainGtids = mergeGtids(chainGtids, cur.gtidEnd);
        expectFile = to?.nextFile ?? nextFileName(cur.file) ?? cur.file;
        if (to && to.position !== 4) throw gap(`${cur.file} rotates to ${to.nextFile}:${to.position}, not its start`, to.nextFile, to.position);
      } else if (dirtySinceMs !== undefined && Date.now() - dirtySinceMs >= options.flushIntervalMs) {
        await flush(false);
      }
    }
  } finally {
    clearTimeout(timer);
    // What arrived before a failure is good up to where it stopped (not a file that does not follow).
    if (cur && !cur.closed && !cur.discard && !signal.aborted) await flush(false).catch(() => {});
    await cur?.writer.close();
    streamEnd.abort();
    await pending?.catch(() => undefined);
    await iterator.return?.(undefined).catch(() => undefined);
  }
}
