// Binlog events on real bytes: mysql-bin.000001 of a MariaDB 10.11 server (server-id 7,
// binlog_format ROW, binlog_checksum CRC32) after CREATE DATABASE, CREATE TABLE, an INSERT
// and FLUSH BINARY LOGS; then the same bytes truncated, with lying lengths and broken checksums.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EVENT_HEADER_BYTES,
  EventType,
  checksumMatches,
  crc32,
  eventBody,
  parseBinlogCheckpoint,
  parseEventHeader,
  parseFormatDescription,
  parseGtidEvent,
  parseGtidList,
  parseHeartbeat,
  parseRotate,
  parseXid,
  peekEventSize,
  splitBinlogFile,
  writeChecksum,
} from './binlog-events.ts';
import { ErrorCodes, isSidestashError } from '../errors.ts';

const FILE = Buffer.from(
  '/mJpblZZD2sPBwAAAPwAAAAAAQAAAAAEADEwLjExLjE5LU1hcmlhREItMCtkZWIxMnUxLWxvZwAAAAAAAAAAAAAAAAAAAAAAAAAAVlkPaxM4DQAIABIABAQEBBIAAOQABBoIAAAACAgIAgAAAAoKCgAAAAAAAAoK' +
  'CgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' +
  'BBMEAA0ICAgKCgoBd6Gx0FZZD2ujBwAAAB0AAAAdAQAAAAAAAAAAAAB9MC5cVlkPa6EHAAAAKwAAAEgBAAAAABAAAABteXNxbC1iaW4uMDAwMDAx0cWkRlZZD2uiBwAAACoAAAByAQAACAABAAAAAAAAAAAAAAAp' +
  'AAAAAAAA9SjmVlZZD2sCBwAAAFEAAADDAQAACAAFAAAAAAAAAAEAABoAAAAAAAEBAAAgVAAAAAAGA3N0ZAQhACEACAB0AENSRUFURSBEQVRBQkFTRSB00EHgTlZZD2uiBwAAACoAAADtAQAACAACAAAAAAAAAAAA' +
  'AAApAAAAAAAAntfW4lZZD2sCBwAAAHwAAABpAgAAAAAFAAAAAAAAAAAAACMAAAAAAAEBAAAgVAAAAAAGA3N0ZAQhACEACACBAwAAAAAAAAAAQ1JFQVRFIFRBQkxFIHQuYSAoaWQgSU5UIFBSSU1BUlkgS0VZLCB2' +
  'IFZBUkNIQVIoMjApKe0uu8VWWQ9rogcAAAAqAAAAkwIAAAgAAwAAAAAAAAAAAAAADAAAAAAAAI/la+RWWQ9roAcAAAA9AAAA0AIAAAAASU5TRVJUIElOVE8gdC5hIFZBTFVFUyAoMSwneCcpLCgyLCd5JynNeyeA' +
  'VlkPaxMHAAAALAAAAPwCAAAAABIAAAAAAAEAAXQAAWEAAgMPAhQAAkQ12RZWWQ9rFwcAAAAvAAAAKwMAAAAAEgAAAAAAAQACA/wBAAAAAXj8AgAAAAF5b6WsZVZZD2sQBwAAAB8AAABKAwAAAAAEAAAAAAAAACBJ' +
  'cyBWWQ9rogcAAAAqAAAAdAMAAAgABAAAAAAAAAAAAAAAKQAAAAAAAOYFjNpWWQ9rAgcAAABmAAAA2gMAAAAABQAAAAAAAAAAAAAaAAAAAAABAQAAIFQAAAAABgNzdGQEIQAhAAgAAENSRUFURSBVU0VSIGFyY2hA' +
  'JyUnIElERU5USUZJRUQgQlkgJ3B3J77NWW9WWQ9rogcAAAAqAAAABAQAAAgABQAAAAAAAAAAAAAAKQAAAAAAAIJAYm9WWQ9rAgcAAACJAAAAjQQAAAAABQAAAAAAAAAAAAAqAAAAAAABAQAAIFQAAAAABgNzdGQE' +
  'IQAhAAgACwRyb290CWxvY2FsaG9zdABHUkFOVCBSRVBMSUNBVElPTiBTTEFWRSwgQklOTE9HIE1PTklUT1IgT04gKi4qIFRPIGFyY2hAJyUngEOPLVZZD2uiBwAAACoAAAC3BAAACAAGAAAAAAAAAAAAAAApAAAA' +
  'AAAAeSjKvFZZD2sCBwAAAGYAAAAdBQAAAAAFAAAAAAAAAAAAABoAAAAAAAEBAAAgVAAAAAAGA3N0ZAQhACEACAAAQ1JFQVRFIFVTRVIgd2Vha0AnJScgSURFTlRJRklFRCBCWSAncHcnpz49T6tcD2uiBwAAACoA' +
  'AABHBQAACAAHAAAAAAAAAAAAAAAMAAAAAAAAdP9yFatcD2ugBwAAADUAAAB8BQAAAABpbnNlcnQgaW50byB0LmEgdmFsdWVzICgzLCd6Jym89L35q1wPaxMHAAAALAAAAKgFAAAAABIAAAAAAAEAAXQAAWEAAgMP' +
  'AhQAAoFRPJCrXA9rFwcAAAAoAAAA0AUAAAAAEgAAAAAAAQACA/wDAAAAAXqBVe7+q1wPaxAHAAAAHwAAAO8FAAAAADEAAAAAAAAA9aLBWatcD2sEBwAAAC8AAAAeBgAAAAAEAAAAAAAAAG15c3FsLWJpbi4wMDAw' +
  'MDI+dnyW',
  'base64',
);

const events = splitBinlogFile(FILE).events;
const at = (offset: number): Buffer => {
  const e = events.find((x) => x.byteOffset - FILE.byteOffset === offset);
  assert.ok(e, `an event at ${offset}`);
  return Buffer.from(e);
};
const corrupt = (fn: () => unknown, what: RegExp) =>
  assert.throws(fn, (err: unknown) => isSidestashError(err, ErrorCodes.CORRUPT_FILE) && what.test(err.message));
/** A copy of an event with `edit` applied and its checksum made right again. */
const edited = (offset: number, edit: (e: Buffer) => void, fixChecksum = true): Buffer => {
  const e = Buffer.from(at(offset));
  edit(e);
  if (fixChecksum) writeChecksum(e);
  return e;
};

describe('binlog events on a real file', () => {
  it('splits the file into its events, each header saying where the next starts', () => {
    const { events: list, rest } = splitBinlogFile(FILE);
    assert.equal(rest, FILE.length);
    let offset = 4;
    for (const e of list) {
      const h = parseEventHeader(e);
      assert.equal(h.logPos, offset + h.eventSize);
      assert.equal(h.serverId, 7);
      assert.ok(checksumMatches(e));
      offset = h.logPos;
    }
    assert.deepEqual(
      list.map((e) => e[4]),
      [15, 163, 161, 162, 2, 162, 2, 162, 160, 19, 23, 16, 162, 2, 162, 2, 162, 2, 162, 160, 19, 23, 16, 4],
    );
    // A file cut mid-event: the complete events, and where the cut one starts.
    assert.equal(splitBinlogFile(FILE.subarray(0, 300)).rest, 285);
  });

  it('reads the format description, rotate, GTID, GTID list, checkpoint and XID events', () => {
    const fde = parseFormatDescription(at(4));
    assert.equal(fde.binlogVersion, 4);
    assert.match(fde.serverVersion, /^10\.11\./);
    assert.equal(fde.headerLength, EVENT_HEADER_BYTES);
    assert.equal(fde.checksum, 'CRC32');
    assert.deepEqual(parseGtidList(at(256), 'CRC32'), []);
    assert.equal(parseBinlogCheckpoint(at(285), 'CRC32'), 'mysql-bin.000001');
    assert.deepEqual(parseGtidEvent(at(328), 'CRC32'), { domain: 0, serverId: 7, seq: 1n });
    assert.deepEqual(parseGtidEvent(at(1309), 'CRC32'), { domain: 0, serverId: 7, seq: 7n });
    assert.equal(typeof parseXid(at(811), 'CRC32'), 'bigint');
    assert.deepEqual(parseRotate(at(1519), 'CRC32'), { nextFile: 'mysql-bin.000002', position: 4 });
    assert.equal(parseEventHeader(at(1519)).type, EventType.ROTATE);
    // The body leaves the checksum out.
    assert.equal(eventBody(at(811), 'CRC32').length, 31 - EVENT_HEADER_BYTES - 4);
  });

  it('reads a GTID list with entries and a heartbeat', () => {
    // The list's bytes as the server writes them: count, then domain, server id, sequence.
    const list = Buffer.alloc(EVENT_HEADER_BYTES + 4 + 32 + 4);
    list.writeUInt8(EventType.GTID_LIST, 4);
    list.writeUInt32LE(list.length, 9);
    list.writeUInt32LE(2, EVENT_HEADER_BYTES);
    list.writeUInt32LE(0, EVENT_HEADER_BYTES + 4);
    list.writeUInt32LE(7, EVENT_HEADER_BYTES + 8);
    list.writeBigUInt64LE(41n, EVENT_HEADER_BYTES + 12);
    list.writeUInt32LE(3, EVENT_HEADER_BYTES + 20);
    list.writeUInt32LE(9, EVENT_HEADER_BYTES + 24);
    list.writeBigUInt64LE(2n ** 63n, EVENT_HEADER_BYTES + 28);
    writeChecksum(list);
    assert.deepEqual(parseGtidList(list, 'CRC32'), [
      { domain: 0, serverId: 7, seq: 41n },
      { domain: 3, serverId: 9, seq: 2n ** 63n },
    ]);
    const name = Buffer.from('mysql-bin.000009');
    const hb = Buffer.alloc(EVENT_HEADER_BYTES + name.length);
    hb.writeUInt8(EventType.HEARTBEAT, 4);
    hb.writeUInt32LE(hb.length, 9);
    hb.writeUInt32LE(1234, 13);
    name.copy(hb, EVENT_HEADER_BYTES);
    assert.deepEqual(parseHeartbeat(hb, 'NONE'), { file: 'mysql-bin.000009', position: 1234 });
  });

  it('computes CRC-32 as zlib does', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.alloc(0)), 0);
  });
});

describe('binlog events refused', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a header cut short', () => parseEventHeader(at(811).subarray(0, 18)), /shorter than its 19-byte header/],
    ['fewer bytes than event_size says', () => parseEventHeader(at(811).subarray(0, 30)), /event_size says 31 bytes, 30 arrived/],
    ['more bytes than event_size says', () => parseEventHeader(Buffer.concat([at(811), Buffer.alloc(1)])), /event_size says 31 bytes, 32 arrived/],
    ['an event_size beyond any event', () => peekEventSize(edited(811, (e) => e.writeUInt32LE(0xffffffff, 9), false)), /out of range/],
    ['an event_size below a header', () => peekEventSize(edited(811, (e) => e.writeUInt32LE(3, 9), false)), /out of range/],
    ['a flipped byte under CRC32', () => parseXid(edited(811, (e) => (e[20] = e[20]! ^ 1), false), 'CRC32'), /CRC32 does not match/],
    ['a GTID list whose count lies', () => parseGtidList(edited(256, (e) => e.writeUInt32LE(1000, EVENT_HEADER_BYTES)), 'CRC32'), /1000 entries does not fit/],
    ['a checkpoint whose name length lies', () => parseBinlogCheckpoint(edited(285, (e) => e.writeUInt32LE(4096, EVENT_HEADER_BYTES)), 'CRC32'), /does not fit/],
    ['a rotate to a path', () => parseRotate(edited(1519, (e) => e.write('../etc/pass', EVENT_HEADER_BYTES + 8, 'latin1')), 'CRC32'), /is not one/],
    ['a rotate cut short', () => parseRotate(Buffer.from(edited(1519, (e) => e.writeUInt32LE(EVENT_HEADER_BYTES + 8 + 4, 9), false).subarray(0, EVENT_HEADER_BYTES + 8 + 4)), 'CRC32'), /too short|CRC32/],
    ['a GTID event cut short', () => parseGtidEvent(Buffer.from(edited(328, (e) => e.writeUInt32LE(EVENT_HEADER_BYTES + 8 + 4, 9), false).subarray(0, EVENT_HEADER_BYTES + 8 + 4)), 'NONE'), /too short/],
    ['an event of another type', () => parseGtidEvent(at(811), 'CRC32'), /not a GTID event/],
    ['a format description of binlog version 3', () => parseFormatDescription(edited(4, (e) => e.writeUInt16LE(3, EVENT_HEADER_BYTES))), /binlog version 3/],
    ['a format description with another header length', () => parseFormatDescription(edited(4, (e) => (e[EVENT_HEADER_BYTES + 56] = 13))), /header length 13/],
    ['an unknown checksum algorithm', () => parseFormatDescription(edited(4, (e) => (e[e.length - 5] = 7))), /checksum algorithm 7/],
    ['a format description cut short', () => parseFormatDescription(Buffer.from(edited(4, (e) => e.writeUInt32LE(60, 9), false).subarray(0, 60))), /too short/],
    ['a file without the magic number', () => splitBinlogFile(FILE.subarray(4)), /magic number missing/],
  ];
  for (const [name, fn, what] of cases) it(`refuses ${name}`, () => corrupt(fn, what));
});
