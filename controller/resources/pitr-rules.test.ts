import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pointInTimeErrors, pointInTimeOf } from './pitr-rules.ts';
import { validateResource } from './validate.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const base = { repository: { name: 'r' }, target: { ref: { name: 'db' } } };

describe('point-in-time restore rules', () => {
  it('accepts one point and reads it', () => {
    for (const [spec, want] of [
      [{ pointInTime: 'latest' }, { kind: 'latest' }],
      [{ pointInTime: '2026-12-01T10:15:00+02:00' }, { kind: 'time', time: '2026-12-01T08:15:00.000Z' }],
      [{ gtid: '0-7-1234' }, { kind: 'gtid', gtid: '0-7-1234' }],
      [{ position: { file: 'mysql-bin.000042', position: 650 } }, { kind: 'position', file: 'mysql-bin.000042', position: 650 }],
    ] as const) {
      assert.deepEqual(pointInTimeErrors({ ...base, ...spec }, NOW), [], JSON.stringify(spec));
      assert.deepEqual(pointInTimeOf(spec), want);
    }
    assert.equal(pointInTimeOf({}), undefined);
  });

  const refused: [string, Record<string, unknown>, string, RegExp][] = [
    ['two points', { pointInTime: 'latest', gtid: '0-1-2' }, 'spec.gtid', /names one point/],
    ['a snapshot with a point', { pointInTime: 'latest', snapshot: 'abcd1234' }, 'spec.snapshot', /newest dump before the point/],
    ["Stash's rules with a point", { gtid: '0-1-2', target: { ref: { name: 'db' }, rules: [{ snapshots: ['latest'] }] } }, 'spec.target.rules', /newest dump/],
    ['one table with a point', { pointInTime: 'latest', tables: ['shop.orders'] }, 'spec.tables', /whole server/],
    ['a renamed target with a point', { gtid: '0-1-2', database: 'shop', targetDatabase: 'x' }, 'spec.database', /whole server/],
    ['a time in the future', { pointInTime: '2026-12-01T12:05:00Z' }, 'spec.pointInTime', /in the future/],
    ['a time that is no instant', { pointInTime: '2026-02-30T25:61:00Z' }, 'spec.pointInTime', /RFC 3339/],
    ['a GTID beyond 32-bit domain', { gtid: '4294967296-1-2' }, 'spec.gtid', /in range/],
  ];
  for (const [name, spec, field, message] of refused) {
    it(`refuses ${name}`, () => {
      const errors = pointInTimeErrors({ ...base, ...spec }, NOW);
      assert.ok(errors.some((e) => e.field === field && message.test(e.message)), JSON.stringify(errors));
    });
  }

  it('is checked when a RestoreSession is applied, with the schema', () => {
    const doc = (spec: Record<string, unknown>) => ({ apiVersion: 'sidestash.io/v1', kind: 'RestoreSession', metadata: { name: 'r', namespace: 'default' }, spec: { ...base, ...spec } });
    assert.deepEqual(validateResource(doc({ pointInTime: 'latest' })), []);
    assert.ok(validateResource(doc({ pointInTime: 'yesterday' })).some((e) => e.field === 'spec.pointInTime'));
    assert.ok(validateResource(doc({ position: { file: '../x.000001', position: 4 } })).some((e) => e.field === 'spec.position.file'));
    assert.ok(validateResource(doc({ gtid: '0-1-2', tables: ['shop.t'] })).some((e) => e.field === 'spec.tables'));
  });

  it('is a BackupConfiguration field with bounds', () => {
    const cfg = (binlog: unknown) => ({ apiVersion: 'sidestash.io/v1', kind: 'BackupConfiguration', metadata: { name: 'c', namespace: 'default' }, spec: { schedule: '0 2 * * *', repository: { name: 'r' }, target: { ref: { name: 'db' } }, binlog } });
    assert.deepEqual(validateResource(cfg({ enabled: true, flushIntervalSeconds: 10 })), []);
    assert.ok(validateResource(cfg({ enabled: true, flushIntervalSeconds: 0 })).some((e) => e.field === 'spec.binlog.flushIntervalSeconds'));
    assert.ok(validateResource(cfg({ flushIntervalSeconds: 10 })).some((e) => e.field.startsWith('spec.binlog')));
    assert.ok(validateResource(cfg({ enabled: true, replicaServerId: 0 })).some((e) => e.field === 'spec.binlog.replicaServerId'));
  });
});
