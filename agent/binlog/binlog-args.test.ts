import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BinlogFileRecord } from '../../common/binlog/archive-layout.ts';
import type { PitrStep } from '../../common/binlog/pitr-plan.ts';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { binlogArgs, utcDatetime, validateStep } from './binlog-args.ts';

const record: BinlogFileRecord = { snapshotId: 'abc', time: '2026-12-01T10:00:00Z', chain: '0123456789abcdef', file: 'mysql-bin.000002', sequence: 2, serverId: 7, endPosition: 5000, closed: true, gtidStart: [], gtidEnd: [] };
const head = ['--no-defaults', '--verify-binlog-checksum'];

describe('binlogArgs', () => {
  const rows: [string, Omit<PitrStep, 'record'>, string[], { writeBinlog?: boolean }?][] = [
    ['a whole file', {}, [...head, '-']],
    ['from a position to a time (UTC, whole seconds)', { startPosition: 640, stopDatetime: new Date('2026-12-01T10:15:07.900+02:00') }, [...head, '--start-position=640', '--stop-datetime=2026-12-01 08:15:07', '-']],
    ['to a position, without writing the binary log', { stopPosition: 4999 }, [...head, '--disable-log-bin', '--stop-position=4999', '-'], { writeBinlog: false }],
  ];
  for (const [name, step, want, options] of rows) it(name, () => assert.deepEqual(binlogArgs({ record, ...step }, options), want));

  const refused: [string, Omit<PitrStep, 'record'>][] = [
    ['a start inside the magic number', { startPosition: 3 }],
    ['a start beyond the archived end', { startPosition: 5001 }],
    ['a fractional position', { stopPosition: 100.5 }],
    ['a stop before the start', { startPosition: 800, stopPosition: 800 }],
    ['two stops', { stopPosition: 900, stopGtid: { domain: 0, serverId: 7, seq: 5n } }],
    ['a GTID with a negative domain', { stopGtid: { domain: -1, serverId: 7, seq: 5n } }],
    ['a GTID with a fractional server id', { stopGtid: { domain: 0, serverId: 7.5, seq: 5n } }],
    ['a GTID sequence beyond 64 bits', { stopGtid: { domain: 0, serverId: 7, seq: 18446744073709551616n } }],
    ['an invalid date', { stopDatetime: new Date(Number.NaN) }],
    ['a date before year 0', { stopDatetime: new Date(-62198755200000 - 86400000 * 400) }],
  ];
  for (const [name, step] of refused) {
    it(`refuses ${name}`, () => assert.throws(() => validateStep({ record, ...step }), (err: unknown) => isSidestashError(err) && err.code === ErrorCodes.INVALID_ARGUMENT));
  }

  it('accepts a GTID stop as a step, never as an argument (mariadb-binlog would leave other domains out)', () => {
    const step = { record, stopGtid: { domain: 0, serverId: 7, seq: 18446744073709551615n } };
    validateStep(step);
    assert.throws(() => binlogArgs(step), /resolveGtidStop/);
  });

  it('writes the time in UTC whatever the offset it was given in', () => assert.equal(utcDatetime(new Date('2026-06-30T23:59:59-05:00')), '2026-07-01 04:59:59'));
});
