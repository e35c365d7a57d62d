import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, isSidestashError } from '../errors.ts';
import { parseReadDataSubset, readDataSubsetProblem, selectPacks } from './read-data-subset.ts';
import type { ReadDataSubset } from './read-data-subset.ts';

describe('read-data subset values', () => {
  const valid: [string, ReadDataSubset][] = [
    ['1/1', { kind: 'bucket', bucket: 1, totalBuckets: 1 }],
    ['1/2', { kind: 'bucket', bucket: 1, totalBuckets: 2 }],
    ['2/2', { kind: 'bucket', bucket: 2, totalBuckets: 2 }],
    ['01/02', { kind: 'bucket', bucket: 1, totalBuckets: 2 }],
    ['256/256', { kind: 'bucket', bucket: 256, totalBuckets: 256 }],
    ['5%', { kind: 'percent', percent: 5 }],
    ['2.5%', { kind: 'percent', percent: 2.5 }],
    ['.5%', { kind: 'percent', percent: 0.5 }],
    ['5.%', { kind: 'percent', percent: 5 }],
    ['100%', { kind: 'percent', percent: 100 }],
    ['0.001%', { kind: 'percent', percent: 0.001 }],
  ];
  for (const [text, want] of valid) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseReadDataSubset(text), want);
      assert.equal(readDataSubsetProblem(text), undefined);
    });
  }

  const refused: [string, unknown, RegExp][] = [
    ['bucket 0', '0/3', /positive integers n <= m/],
    ['zero buckets', '1/0', /positive integers n <= m/],
    ['0/0', '0/0', /positive integers n <= m/],
    ['n > m', '3/2', /positive integers n <= m/],
    ['more than 256 buckets', '1/257', /at most 256/],
    ['0%', '0%', /above 0 and at most 100/],
    ['0.0%', '0.0%', /above 0 and at most 100/],
    ['over 100%', '100.5%', /above 0 and at most 100/],
    ['1000%', '1000%', /above 0 and at most 100/],
    ['a negative percentage', '-5%', /must be "n\/m"/],
    ['a signed bucket', '+1/2', /must be "n\/m"/],
    ['a negative bucket', '-1/2', /must be "n\/m"/],
    ['three parts', '1/2/3', /must be "n\/m"/],
    ['half a fraction', '1/', /must be "n\/m"/],
    ['a fraction of decimals', '1.5/2', /must be "n\/m"/],
    ['a percentage without %', '5', /must be "n\/m"/],
    ['an exponent (restic takes 1e1%)', '1e1%', /must be "n\/m"/],
    ['nan% (restic takes it)', 'nan%', /must be "n\/m"/],
    ['inf%', 'inf%', /must be "n\/m"/],
    ['hex float', '0x1p3%', /must be "n\/m"/],
    ['a size (restic 0.14+ reads a byte count)', '500M', /must be "n\/m"/],
    ['spaces', ' 1/2', /must be "n\/m"/],
    ['a trailing newline', '1/2\n', /must be "n\/m"/],
    ['empty', '', /must be "n\/m"/],
    ['junk', 'all', /must be "n\/m"/],
    ['very long', `1/${'0'.repeat(100)}2`, /must be "n\/m"/],
    ['a number, not a string', 5, /must be "n\/m"/],
    ['null', null, /must be "n\/m"/],
  ];
  for (const [name, text, want] of refused) {
    it(`refuses ${name}`, () => {
      assert.match(readDataSubsetProblem(text) ?? '', want);
      assert.throws(
        () => parseReadDataSubset(text),
        (err: unknown) => isSidestashError(err, ErrorCodes.INVALID_ARGUMENT) && want.test(err.message) && err.message.length < 300,
      );
    });
  }
});

describe('packs a subset selects', () => {
  // One pack id per first byte: 00…, 01…, …, ff….
  const ids = Array.from({ length: 256 }, (_, b) => `${b.toString(16).padStart(2, '0')}${'a'.repeat(62)}`);
  const firstByte = (id: string): number => parseInt(id.slice(0, 2), 16);

  it('n/m: the packs whose first id byte modulo m is n-1, as restic selectPacksByBucket', () => {
    const table: [string, number[]][] = [
      ['1/1', ids.map(firstByte)],
      ['1/2', ids.map(firstByte).filter((b) => b % 2 === 0)],
      ['2/2', ids.map(firstByte).filter((b) => b % 2 === 1)],
      ['3/7', ids.map(firstByte).filter((b) => b % 7 === 2)],
      ['256/256', [255]],
      ['1/256', [0]],
    ];
    for (const [text, want] of table) assert.deepEqual(selectPacks(ids, parseReadDataSubset(text)).map(firstByte), want, text);
  });

  it('1/m .. m/m read every pack exactly once', () => {
    for (const m of [1, 2, 3, 5, 16, 100, 256]) {
      const seen = Array.from({ length: m }, (_, n) => selectPacks(ids, { kind: 'bucket', bucket: n + 1, totalBuckets: m })).flat();
      assert.deepEqual([...seen].sort(), [...ids].sort(), `m=${m}`);
    }
  });

  it('x%: that share of the packs rounded down, at least one, distinct, and none of an empty repository', () => {
    const table: [number, number, number][] = [
      // [packs, percent, packs read]
      [256, 5, 12],
      [256, 100, 256],
      [10, 10, 1],
      [10, 19.9, 1],
      [10, 20, 2],
      [3, 0.001, 1],
      [1, 50, 1],
      [0, 5, 0],
    ];
    for (const [n, percent, want] of table) {
      const got = selectPacks(ids.slice(0, n), { kind: 'percent', percent });
      assert.equal(got.length, want, `${percent}% of ${n}`);
      assert.equal(new Set(got).size, got.length);
      for (const id of got) assert.ok(ids.slice(0, n).includes(id));
    }
  });

  it('x%: the choice is random (the injected source decides which packs)', () => {
    const subset: ReadDataSubset = { kind: 'percent', percent: 1 };
    assert.deepEqual(selectPacks(ids, subset, () => 0).map(firstByte), [0, 1]);
    assert.deepEqual(selectPacks(ids, subset, () => 0.9999999).map(firstByte), [255, 0]);
    const chosen = new Set<string>();
    for (let i = 0; i < 50; i++) for (const id of selectPacks(ids, subset)) chosen.add(id);
    assert.ok(chosen.size > 2, 'Math.random by default chooses different packs');
  });
});
