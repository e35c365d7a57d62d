import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../common/errors.ts';
import { pointInTimeOptions } from './session-commands.ts';

describe('restore --to, --to-gtid, --to-position', () => {
  it('become the RestoreSession point', () => {
    assert.deepEqual(pointInTimeOptions(undefined, undefined, undefined), {});
    assert.deepEqual(pointInTimeOptions('latest', undefined, undefined), { pointInTime: 'latest' });
    assert.deepEqual(pointInTimeOptions('2026-12-01T10:15:00Z', undefined, undefined), { pointInTime: '2026-12-01T10:15:00Z' });
    assert.deepEqual(pointInTimeOptions('2026-12-01T12:15:00.5+02:00', undefined, undefined), { pointInTime: '2026-12-01T12:15:00.5+02:00' });
    assert.deepEqual(pointInTimeOptions(undefined, '0-1-42', undefined), { gtid: '0-1-42' });
    assert.deepEqual(pointInTimeOptions(undefined, undefined, 'mysql-bin.000042:650'), { position: { file: 'mysql-bin.000042', position: 650 } });
  });

  const refused: [string, [string | undefined, string | undefined, string | undefined], RegExp][] = [
    ['two points', ['latest', '0-1-2', undefined], /one of --to, --to-gtid/],
    ['a time without its offset (no guessing a time zone)', ['2026-12-01T10:15:00', undefined, undefined], /with its offset/],
    ['a date only', ['2026-12-01', undefined, undefined], /with its offset/],
    ['a position without a file', [undefined, undefined, '650'], /FILE:POSITION/],
    ['a position that is no number', [undefined, undefined, 'mysql-bin.000042:end'], /FILE:POSITION/],
  ];
  for (const [name, args, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => pointInTimeOptions(...args), (err) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && message.test(err.message));
    });
  }
});
