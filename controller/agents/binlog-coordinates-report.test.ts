// The binlog coordinates an agent reports with a backup's result are untrusted: they reach the
// BackupSession's status only when they pass the archive's own allow-lists.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseResult } from './agent-reports.ts';

const H = 'c'.repeat(64);
const result = (binlogCoordinates: unknown): unknown => ({ phase: 'Succeeded', snapshotId: H, binlogCoordinates });

describe('binlog coordinates in an agent result', () => {
  it('well-formed ones are kept', () => {
    const c = { file: 'mysql-bin.000042', position: 650, gtid: '0-7-2,1-9-40' };
    assert.deepEqual(parseResult(result(c)).binlogCoordinates, c);
    assert.deepEqual(parseResult(result({ ...c, gtid: '' })).binlogCoordinates, { ...c, gtid: '' });
  });

  const refused: [string, unknown][] = [
    ['not an object', 'mysql-bin.000042:650'],
    ['a file name with a path', { file: '../../etc/passwd.000001', position: 4, gtid: '' }],
    ['a file name without a number', { file: 'mysql-bin', position: 4, gtid: '' }],
    ['a negative position', { file: 'mysql-bin.000001', position: -1, gtid: '' }],
    ['a fractional position', { file: 'mysql-bin.000001', position: 4.5, gtid: '' }],
    ['a position given as text', { file: 'mysql-bin.000001', position: '4', gtid: '' }],
    ['a GTID list that is not one', { file: 'mysql-bin.000001', position: 4, gtid: "0-1-2'; DROP TABLE x" }],
    ['no gtid', { file: 'mysql-bin.000001', position: 4 }],
  ];
  for (const [name, body] of refused) {
    it(`refuses ${name}, naming the field`, () => {
      assert.throws(() => parseResult(result(body)), (err) => {
        assert.ok(isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
        assert.deepEqual((err.details.errors as { field: string }[]).map((e) => e.field), ['binlogCoordinates']);
        return true;
      });
    });
  }
});
