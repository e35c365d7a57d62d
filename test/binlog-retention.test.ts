// Retention of a binlog archive in a real repository: after the dumps' retention, the archived
// binlog files that ended before the oldest kept dump are forgotten, a superseded snapshot of the
// open file too, every other file stays (another target's too), and restic still checks the
// repository and lists the rest.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { forgetUnneededBinlogs } from '../agent/binlog-retention-step.ts';
import { binlogFileTags, dumpCoordinateTags } from '../common/binlog/archive-layout.ts';
import { LocalBackend } from '../common/backend/local/local-backend.ts';
import { createLogger } from '../common/log.ts';
import { Repository } from '../common/repository/repository.ts';
import { listSnapshots } from '../common/repository/snapshot.ts';
import { targetTags } from '../common/repository/snapshot-selector.ts';
import { writeSnapshot } from '../common/repository/snapshot-writer.ts';
import { restic } from './helpers/restic.ts';
import { tempDir } from './helpers/tmp.ts';

const PASSWORD = 'binlog-retention';
const T = Date.parse('2026-12-01T12:00:00Z');
const H = 3600_000;
const log = createLogger({}, { level: 'error', write: () => {} });
const target = { namespace: 'shop', name: 'db' };

describe('binlog archive retention in a repository', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: Repository;
  const ids: Record<string, string> = {};
  const put = async (key: string, filename: string, tags: string[], who = target) => {
    const r = await writeSnapshot(repo, Readable.from([Buffer.from(`${key} content\n`)]), { filename, hostname: who.name, tags: [...tags, ...targetTags(who)] });
    ids[key] = r.snapshotId;
  };
  const binlog = (file: string, o: { closed: boolean; endPosition: number; lastS: number; chain?: string }) => binlogFileTags({ chain: o.chain ?? 'aaaaaaaaaaaaaaaa', file, serverId: 7, endPosition: o.endPosition, closed: o.closed, firstEventTime: o.lastS - 60, lastEventTime: o.lastS, gtidStart: [], gtidEnd: [] });

  before(async () => {
    dir = await tempDir();
    repo = await Repository.init(new LocalBackend(`${dir.path}/repo`), PASSWORD);
    await put('b1', 'mysql-bin.000001', binlog('mysql-bin.000001', { closed: true, endPosition: 900, lastS: (T - 30 * H) / 1000 }));
    await put('b2', 'mysql-bin.000002', binlog('mysql-bin.000002', { closed: true, endPosition: 900, lastS: (T - 3 * H) / 1000 }));
    await put('b3-old', 'mysql-bin.000003', binlog('mysql-bin.000003', { closed: false, endPosition: 500, lastS: (T - 1 * H) / 1000 }));
    await put('b3', 'mysql-bin.000003', binlog('mysql-bin.000003', { closed: false, endPosition: 800, lastS: T / 1000 }));
    await put('other', 'mysql-bin.000001', binlog('mysql-bin.000001', { closed: true, endPosition: 900, lastS: (T - 30 * H) / 1000 }), { namespace: 'crm', name: 'db' });
    await put('dump', 'dumpfile.sql', ['invoker=nightly', 'session=n-1', ...dumpCoordinateTags({ file: 'mysql-bin.000002', position: 400, gtid: [], seenAtMs: T - 4 * H })]);
  });
  after(() => dir?.cleanup());

  it('forgets the files before the oldest kept dump and the superseded snapshot, nothing else; a dry run forgets nothing', async () => {
    assert.equal(await forgetUnneededBinlogs(repo, target, { dryRun: true, signal: new AbortController().signal, log }), 0);
    assert.equal((await listSnapshots(repo)).length, 6);
    assert.equal(await forgetUnneededBinlogs(repo, target, { dryRun: false, signal: new AbortController().signal, log }), 2);
    const left = new Set((await listSnapshots(repo)).map((s) => s.id));
    assert.deepEqual(Object.entries(ids).filter(([, id]) => !left.has(id)).map(([k]) => k).sort(), ['b1', 'b3-old']);
    const check = await restic(`${dir.path}/repo`, PASSWORD, ['check', '--read-data']);
    assert.equal(check.code, 0, check.stderr);
  });
});
