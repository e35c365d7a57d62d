import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { targetTags } from '../repository/snapshot-selector.ts';
import { binlogFileTags, dumpCoordinateTags } from './archive-layout.ts';
import { targetPitrSnapshots } from './target-pitr-snapshots.ts';

const T = { namespace: 'shop', name: 'db' };
const own = (id: string, tags: string[], time = '2026-12-01T10:00:00Z') => ({ id, time, hostname: 'db', tags: [...tags, ...targetTags(T)] });
const binlog = binlogFileTags({ chain: '0123456789abcdef', file: 'mysql-bin.000001', serverId: 1, endPosition: 400, closed: false, gtidStart: [], gtidEnd: [] });

describe("a target's point-in-time snapshots", () => {
  it('its coordinate-bearing dumps with when they were taken, its archived files; nothing else', () => {
    const { dumps, files } = targetPitrSnapshots([
      own('seen', dumpCoordinateTags({ file: 'mysql-bin.000001', position: 4, gtid: [], seenAtMs: Date.parse('2026-12-01T10:00:05Z') })),
      own('unseen', dumpCoordinateTags({ file: 'mysql-bin.000001', position: 4, gtid: [] }), '2026-12-01T09:00:00Z'),
      own('plain', ['invoker=nightly']),
      own('archive', binlog),
      own('forged', [...binlog.filter((t) => !t.startsWith('binlog-end=')), 'binlog-end=-1']),
      { id: 'other', time: '2026-12-01T10:00:00Z', hostname: 'db', tags: [...binlog, ...targetTags({ namespace: 'crm', name: 'db' })] },
    ], T);
    assert.deepEqual(dumps.map((d) => [d.snapshotId, d.takenAtMs, d.time]), [
      ['seen', Date.parse('2026-12-01T10:00:05Z'), '2026-12-01T10:00:05.000Z'],
      ['unseen', Date.parse('2026-12-01T09:00:00Z'), '2026-12-01T09:00:00Z'],
    ]);
    assert.deepEqual(files.map((f) => f.snapshotId), ['archive']);
  });
});
