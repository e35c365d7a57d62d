// MariaDB binary-log events as bytes (the same in a binlog file and on the replication protocol,
// after the protocol's 0x00 marker): the common header, and the few bodies the archiver and the
// point-in-time planner read. Pure functions over Uint8Array; every length and offset is checked,
// because the bytes come from the network and from snapshots: a short or lying event is a
// CORRUPT_FILE error, never a read past its end.
//
// Layout (MariaDB's log_event.h, binlog version 4):
//   header (19 bytes): timestamp u32, type u8, server_id u32, event_size u32, log_pos u32, flags u16
//   body: post-header and payload of the type
//   trailer: CRC32 (4 bytes) of everything before it, when the file's format description event
//            says binlog_checksum=CRC32
// All integers little-endian.
import { ErrorCodes, SidestashError } from '../errors.ts';
import type { Gtid } from './archive-layout.ts';

export const BINLOG_MAGIC = Uint8Array.of(0xfe, 0x62, 0x69, 0x6e);
export const EVENT_HEADER_BYTES = 19;
export const CHECKSUM_BYTES = 4;
/** The largest event the archiver accepts (MariaDB's max_allowed_packet ceiling is 1 GiB). */
export const MAX_EVENT_BYTES = 1024 * 1024 * 1024;

export const EventType = {
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  HEARTBEAT: 27,
  ANNOTATE_ROWS: 160,
  BINLOG_CHECKPOINT: 161,
  GTID: 162,
  GTID_LIST: 163,
} as const;

/** The event is not in any binlog file: the server made it for this replication stream (a fake rotate). */
export const LOG_EVENT_ARTIFICIAL_F = 0x20;
/** Set in a file's format description event while the server writes the file. */
export const LOG_EVENT_BINLOG_IN_USE_F = 0x1;

export const ChecksumAlgorithm = { NONE: 0, CRC32: 1 } as const;
export type ChecksumAlgorithmName = 'NONE' | 'CRC32';

export interface EventHeader {
  /** Unix seconds. */
  timestamp: number;
  type: number;
  serverId: number;
  /** The whole event's bytes, header and checksum included. */
  eventSize: number;
  /** Where the next event starts in the file (0 for events of the stream only). */
  logPos: number;
  flags: number;
}

function corrupt(what: string): SidestashError {
  return new SidestashError(ErrorCodes.CORRUPT_FILE, `binlog event: ${what}`);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The header of the event that `bytes` holds exactly (its event_size must equal bytes.length). */
export function parseEventHeader(bytes: Uint8Array): EventHeader {
  if (bytes.length < EVENT_HEADER_BYTES) throw corrupt(`${bytes.length} bytes, shorter than its ${EVENT_HEADER_BYTES}-byte header`);
  const v = view(bytes);
  const header: EventHeader = {
    timestamp: v.getUint32(0, true),
    type: v.getUint8(4),
    serverId: v.getUint32(5, true),
    eventSize: v.getUint32(9, true),
    logPos: v.getUint32(13, true),
    flags: v.getUint16(17, true),
  };
  if (header.eventSize !== bytes.length) throw corrupt(`event_size says ${header.eventSize} bytes, ${bytes.length} arrived`);
  if (header.eventSize > MAX_EVENT_BYTES) throw corrupt(`event_size ${header.eventSize} exceeds ${MAX_EVENT_BYTES}`);
  return header;
}

/** The size an event's header announces, from its first 19 bytes (to split a file into events). */
export function peekEventSize(bytes: Uint8Array): number {
  if (bytes.length < EVENT_HEADER_BYTES) throw corrupt('truncated header');
  const size = view(bytes).getUint32(9, true);
  if (size < EVENT_HEADER_BYTES || size > MAX_EVENT_BYTES) throw corrupt(`event_size ${size} out of range`);
  return size;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, zlib's), as binlog_checksum=CRC32 computes it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether the event's CRC32 trailer matches its bytes. */
export function checksumMatches(event: Uint8Array): boolean {
  if (event.length < EVENT_HEADER_BYTES + CHECKSUM_BYTES) return false;
  return view(event).getUint32(event.length - CHECKSUM_BYTES, true) === crc32(event, 0, event.length - CHECKSUM_BYTES);
}

/** Rewrites the CRC32 trailer after a change to the event's bytes. */
export function writeChecksum(event: Uint8Array): void {
  view(event).setUint32(event.length - CHECKSUM_BYTES, crc32(event, 0, event.length - CHECKSUM_BYTES), true);
}

export interface FormatDescription {
  binlogVersion: number;
  serverVersion: string;
  createTimestamp: number;
  headerLength: number;
  /** Post-header length per event type (index type - 1). */
  postHeaderLengths: Uint8Array;
  checksum: ChecksumAlgorithmName;
}

/** FORMAT_DESCRIPTION_EVENT (15): binlog version 4, a 19-byte header, and the checksum algorithm of every other event of the file. */
export function parseFormatDescription(event: Uint8Array): FormatDescription {
  const h = parseEventHeader(event);
  if (h.type !== EventType.FORMAT_DESCRIPTION) throw corrupt(`type ${h.type} is not a format description event`);
  const body = event.subarray(EVENT_HEADER_BYTES);
  // binlog_version 2, server_version 50, create_timestamp 4, header_length 1, then the post-header
  // lengths, the checksum algorithm (1) and the event's own checksum (4).
  if (body.length < 57 + 1 + CHECKSUM_BYTES) throw corrupt(`format description event of ${event.length} bytes is too short`);
  const v = view(body);
  const binlogVersion = v.getUint16(0, true);
  const nul = body.subarray(2, 52).indexOf(0);
  const serverVersion = Buffer.from(body.subarray(2, nul < 0 ? 52 : 2 + nul)).toString('latin1');
  const createTimestamp = v.getUint32(52, true);
  const headerLength = v.getUint8(56);
  const algorithm = body[body.length - CHECKSUM_BYTES - 1]!;
  if (binlogVersion !== 4) throw corrupt(`binlog version ${binlogVersion} (only 4 is read)`);
  if (headerLength !== EVENT_HEADER_BYTES) throw corrupt(`event header length ${headerLength} (only ${EVENT_HEADER_BYTES} is read)`);
  if (algorithm !== ChecksumAlgorithm.NONE && algorithm !== ChecksumAlgorithm.CRC32) throw corrupt(`checksum algorithm ${algorithm} is not NONE (0) or CRC32 (1)`);
  const checksum: ChecksumAlgorithmName = algorithm === ChecksumAlgorithm.CRC32 ? 'CRC32' : 'NONE';
  if (checksum === 'CRC32' && !checksumMatches(event)) throw corrupt('format description event: CRC32 does not match');
  return { binlogVersion, serverVersion, createTimestamp, headerLength, postHeaderLengths: Uint8Array.from(body.subarray(57, body.length - CHECKSUM_BYTES - 1)), checksum };
}

/** The event's payload after the header, without its checksum trailer; checks the checksum. */
export function eventBody(event: Uint8Array, checksum: ChecksumAlgorithmName): Uint8Array {
  parseEventHeader(event);
  if (checksum === 'CRC32') {
    if (event.length < EVENT_HEADER_BYTES + CHECKSUM_BYTES) throw corrupt('too short for its CRC32 trailer');
    if (!checksumMatches(event)) throw corrupt(`type ${event[4]} event: CRC32 does not match`);
    return event.subarray(EVENT_HEADER_BYTES, event.length - CHECKSUM_BYTES);
  }
  return event.subarray(EVENT_HEADER_BYTES);
}

const FILE_NAME_BYTES = /^[A-Za-z0-9_.-]{1,512}$/;

function fileName(bytes: Uint8Array, what: string): string {
  const name = Buffer.from(bytes).toString('latin1');
  if (!FILE_NAME_BYTES.test(name)) throw corrupt(`${what}: file name ${JSON.stringify(name.slice(0, 80))} is not one`);
  return name;
}

export interface Rotate {
  /** The file that follows, and where to read it from. */
  nextFile: string;
  position: number;
}

/** ROTATE_EVENT (4): position u64, then the next file's name. */
export function parseRotate(event: Uint8Array, checksum: ChecksumAlgorithmName): Rotate {
  const body = eventBody(event, checksum);
  if (event[4] !== EventType.ROTATE) throw corrupt(`type ${event[4]} is not a rotate event`);
  if (body.length < 9) throw corrupt('rotate event too short');
  const position = view(body).getBigUint64(0, true);
  if (position > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt('rotate position out of range');
  return { nextFile: fileName(body.subarray(8), 'rotate event'), position: Number(position) };
}

/** GTID_EVENT (162, MariaDB): seq_no u64, domain_id u32, flags u8, more; the server id is the header's. */
export function parseGtidEvent(event: Uint8Array, checksum: ChecksumAlgorithmName): Gtid {
  const body = eventBody(event, checksum);
  const h = parseEventHeader(event);
  if (h.type !== EventType.GTID) throw corrupt(`type ${h.type} is not a GTID event`);
  if (body.length < 13) throw corrupt('GTID event too short');
  const v = view(body);
  return { domain: v.getUint32(8, true), serverId: h.serverId, seq: v.getBigUint64(0, true) };
}

/** GTID_LIST_EVENT (163, MariaDB): count u32 (its low 28 bits), then count x (domain u32, server_id u32, seq u64). */
export function parseGtidList(event: Uint8Array, checksum: ChecksumAlgorithmName): Gtid[] {
  const body = eventBody(event, checksum);
  if (event[4] !== EventType.GTID_LIST) throw corrupt(`type ${event[4]} is not a GTID list event`);
  if (body.length < 4) throw corrupt('GTID list event too short');
  const v = view(body);
  const count = v.getUint32(0, true) & 0x0fffffff;
  if (body.length < 4 + count * 16) throw corrupt(`GTID list of ${count} entries does not fit its ${body.length} bytes`);
  const out: Gtid[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 16;
    out.push({ domain: v.getUint32(at, true), serverId: v.getUint32(at + 4, true), seq: v.getBigUint64(at + 8, true) });
  }
  return out;
}

/** BINLOG_CHECKPOINT_EVENT (161, MariaDB): name length u32, then the name. */
export function parseBinlogCheckpoint(event: Uint8Array, checksum: ChecksumAlgorithmName): string {
  const body = eventBody(event, checksum);
  if (event[4] !== EventType.BINLOG_CHECKPOINT) throw corrupt(`type ${event[4]} is not a binlog checkpoint event`);
  if (body.length < 4) throw corrupt('binlog checkpoint event too short');
  const length = view(body).getUint32(0, true);
  if (body.length < 4 + length) throw corrupt(`binlog checkpoint name of ${length} bytes does not fit`);
  return fileName(body.subarray(4, 4 + length), 'binlog checkpoint event');
}

/** XID_EVENT (16): the committed transaction's xid u64. */
export function parseXid(event: Uint8Array, checksum: ChecksumAlgorithmName): bigint {
  const body = eventBody(event, checksum);
  if (event[4] !== EventType.XID) throw corrupt(`type ${event[4]} is not an XID event`);
  if (body.length < 8) throw corrupt('XID event too short');
  return view(body).getBigUint64(0, true);
}

/** HEARTBEAT_LOG_EVENT (27): the file the server is at (its position is the header's log_pos). */
export function parseHeartbeat(event: Uint8Array, checksum: ChecksumAlgorithmName): { file: string; position: number } {
  const body = eventBody(event, checksum);
  const h = parseEventHeader(event);
  if (h.type !== EventType.HEARTBEAT) throw corrupt(`type ${h.type} is not a heartbeat event`);
  return { file: fileName(body, 'heartbeat event'), position: h.logPos };
}

/**
 * Splits a binlog file's bytes (from its start) into events: the magic number, then events back
 * to back. Returns the complete events and where the unread rest starts (a file cut mid-event).
 */
export function splitBinlogFile(bytes: Uint8Array): { events: Uint8Array[]; rest: number } {
  if (bytes.length < BINLOG_MAGIC.length || !BINLOG_MAGIC.every((b, i) => bytes[i] === b)) throw corrupt('not a binlog file (magic number missing)');
  const events: Uint8Array[] = [];
  let at = BINLOG_MAGIC.length;
  while (bytes.length - at >= EVENT_HEADER_BYTES) {
    const size = peekEventSize(bytes.subarray(at));
    if (at + size > bytes.length) break;
    events.push(bytes.subarray(at, at + size));
    at += size;
  }
  return { events, rest: at };
}
