import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateResource } from './validate.ts';

const config = (integrityCheck: unknown): unknown => ({
  apiVersion: 'sidestash.io/v1',
  kind: 'BackupConfiguration',
  metadata: { name: 'c', namespace: 'shop' },
  spec: { schedule: '0 1 * * *', repository: { name: 'repo' }, target: { ref: { kind: 'AppBinding', name: 'db' } }, integrityCheck },
});

describe('BackupConfiguration spec.integrityCheck', () => {
  const table: [string, unknown, RegExp | undefined][] = [
    ['empty: the defaults', {}, undefined],
    ['disabled', { enabled: false }, undefined],
    ['a bucket and a daily interval', { readDataSubset: '1/7', readDataInterval: '24h' }, undefined],
    ['a percentage read on every check', { readDataSubset: '2.5%', readDataInterval: '0s' }, undefined],
    ['all data', { readDataSubset: '100%' }, undefined],
    ['bucket 0', { readDataSubset: '0/7' }, /^spec\.integrityCheck\.readDataSubset: must have positive integers n <= m/],
    ['n > m', { readDataSubset: '8/7' }, /^spec\.integrityCheck\.readDataSubset: must have positive integers n <= m/],
    ['more than 256 buckets', { readDataSubset: '1/1000' }, /^spec\.integrityCheck\.readDataSubset: must have m at most 256/],
    ['0%', { readDataSubset: '0%' }, /^spec\.integrityCheck\.readDataSubset: must have x above 0/],
    ['over 100%', { readDataSubset: '150%' }, /^spec\.integrityCheck\.readDataSubset: must have x above 0 and at most 100/],
    ['junk', { readDataSubset: 'some' }, /^spec\.integrityCheck\.readDataSubset: must be "n\/m"/],
    ['a size', { readDataSubset: '500M' }, /^spec\.integrityCheck\.readDataSubset: must be "n\/m"/],
    ['too long', { readDataSubset: `${'1'.repeat(40)}%` }, /^spec\.integrityCheck\.readDataSubset: /],
    ['a number', { readDataSubset: 5 }, /^spec\.integrityCheck\.readDataSubset: must be string/],
    ['an interval without a unit', { readDataInterval: '7' }, /^spec\.integrityCheck\.readDataInterval: /],
    ['an interval in days', { readDataInterval: '7d' }, /^spec\.integrityCheck\.readDataInterval: /],
    ['an interval too large to be a number', { readDataInterval: `${'9'.repeat(400)}h` }, /^spec\.integrityCheck\.readDataInterval: must be a duration/],
    ['enabled not a boolean', { enabled: 'yes' }, /^spec\.integrityCheck\.enabled: must be boolean/],
    ['an unknown field', { readData: true }, /^spec\.integrityCheck\.readData: unknown field/],
    ['not an object', 'weekly', /^spec\.integrityCheck: must be object/],
  ];
  for (const [name, integrityCheck, want] of table) {
    it(name, () => {
      const errors = validateResource(config(integrityCheck));
      if (!want) assert.deepEqual(errors, []);
      else {
        assert.equal(errors.length, 1, JSON.stringify(errors));
        assert.match(`${errors[0]!.field}: ${errors[0]!.message}`, want);
      }
    });
  }

  it('reports every problem together', () => {
    const errors = validateResource(config({ readDataSubset: '9/8', readDataInterval: 'often', enabled: 1 }));
    assert.deepEqual(errors.map((e) => e.field).sort(), ['spec.integrityCheck.enabled', 'spec.integrityCheck.readDataInterval', 'spec.integrityCheck.readDataSubset']);
  });
});
