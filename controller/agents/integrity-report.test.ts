// The integrity an agent reports with a result is untrusted input: each refusal names its field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../../common/errors.ts';
import { parseResult } from './agent-reports.ts';

const H = 'b'.repeat(64);
const result = (integrity: unknown, phase = 'Succeeded'): unknown => ({ phase, snapshotId: H, integrity });
const good = { ok: false, checkedAt: '2026-06-10T12:00:00.123Z', readDataSubset: '5%', errors: ['pack 1: content does not match its name'] };

function refusedFields(body: unknown): string[] {
  try {
    parseResult(body);
  } catch (err) {
    assert.ok(isSidestashError(err, ErrorCodes.INVALID_ARGUMENT));
    return (err.details.errors as { field: string }[]).map((e) => e.field).sort();
  }
  return [];
}

describe('integrity in an agent result', () => {
  it('a well-formed one is kept', () => {
    assert.deepEqual(parseResult(result(good)).integrity, good);
    assert.deepEqual(parseResult(result({ ok: true, checkedAt: '2026-06-10T12:00:00Z', errors: [] })).integrity, { ok: true, checkedAt: '2026-06-10T12:00:00.000Z', errors: [] });
  });

  it('a time with an offset is stored in UTC', () => {
    assert.equal(parseResult(result({ ...good, checkedAt: '2026-06-10T14:00:00+02:00' })).integrity?.checkedAt, '2026-06-10T12:00:00.000Z');
  });

  const refusals: [string, unknown, string[]][] = [
    ['not an object', 'ok', ['integrity']],
    ['a list', [good], ['integrity']],
    ['ok missing', { ...good, ok: undefined }, ['integrity.ok']],
    ['ok a string', { ...good, ok: 'true' }, ['integrity.ok']],
    ['checkedAt missing', { ...good, checkedAt: undefined }, ['integrity.checkedAt']],
    ['checkedAt not a time', { ...good, checkedAt: 'yesterday' }, ['integrity.checkedAt']],
    ['checkedAt a number', { ...good, checkedAt: 1781092800000 }, ['integrity.checkedAt']],
    ['checkedAt an impossible date', { ...good, checkedAt: '2026-13-45T99:00:00Z' }, ['integrity.checkedAt']],
    ['checkedAt with text after it', { ...good, checkedAt: '2026-06-10T12:00:00Z; rm -rf /' }, ['integrity.checkedAt']],
    ['readDataSubset junk', { ...good, readDataSubset: 'everything' }, ['integrity.readDataSubset']],
    ['readDataSubset 0/2', { ...good, readDataSubset: '0/2' }, ['integrity.readDataSubset']],
    ['readDataSubset a number', { ...good, readDataSubset: 5 }, ['integrity.readDataSubset']],
    ['errors missing', { ...good, errors: undefined }, ['integrity.errors']],
    ['errors a string', { ...good, errors: 'bad' }, ['integrity.errors']],
    ['an error entry not a string', { ...good, errors: ['x', { message: 'y' }] }, ['integrity.errors[1]']],
    ['ok with errors', { ...good, ok: true }, ['integrity.errors']],
    ['several at once', { ok: 1, checkedAt: 'now', errors: null }, ['integrity.checkedAt', 'integrity.errors', 'integrity.ok']],
  ];
  for (const [name, integrity, fields] of refusals) {
    it(`refuses ${name}`, () => assert.deepEqual(refusedFields(result(integrity)), fields));
  }

  it('keeps at most 20 errors of at most 500 characters each, without terminal controls', () => {
    const errors = Array.from({ length: 50 }, (_, i) => `\u001b[31m${i}\u001b[0m ${'x'.repeat(1000)}`);
    const got = parseResult(result({ ...good, errors })).integrity!;
    assert.equal(got.errors.length, 20);
    for (const [i, e] of got.errors.entries()) {
      assert.equal(e.length, 500);
      assert.ok(e.startsWith(`${i} x`), e.slice(0, 20));
      assert.ok(e.endsWith('…'));
    }
  });

  it('drops unknown fields of it', () => {
    assert.deepEqual(parseResult(result({ ...good, trusted: true })).integrity, good);
  });

  it('is ignored with a Failed result (no check runs after a failed backup)', () => {
    assert.equal(parseResult({ phase: 'Failed', error: { code: 'SIDESTASH_DUMP_FAILED', message: 'x' }, integrity: good }).integrity, undefined);
  });
});
