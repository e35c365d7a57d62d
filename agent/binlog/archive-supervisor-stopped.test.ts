// After stopAll (the agent stops) the supervisor starts no archiver, whatever answer comes: a sync
// whose answer arrived as the agent stopped would otherwise start an archiver that no lease check
// stops any more (stopAll ends the fence), writing the archive while the controller gives it to
// another agent a lease later.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { BinlogArchiveAssignment } from '../../common/protocol.ts';
import { BinlogArchiveSupervisor } from './archive-supervisor.ts';
import type { ArchiveHooks } from './archive-supervisor.ts';

const log = createLogger({}, { level: 'error', write: () => {} });
const assignment = (configuration: string): BinlogArchiveAssignment => ({
  configuration, target: 'shop/db', repositoryName: 'repo', snapshotHost: 'db', flushIntervalSeconds: 10, replicaServerId: 4000000001, leaseMs: 30_000,
  database: { host: 'db', username: 'u', password: 'p' }, repository: { location: 'local:/tmp/r', password: 'pw', credentials: {} },
});

describe('binlog archive supervisor after stopAll', () => {
  it('a late answer starts no archiver', async () => {
    const runs: ArchiveHooks[] = [];
    const run = (_a: BinlogArchiveAssignment, hooks: ArchiveHooks): Promise<void> =>
      new Promise<void>((resolve) => {
        runs.push(hooks);
        hooks.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    const s = new BinlogArchiveSupervisor(run, log, { targets: ['shop/db'], now: () => 0, fenceCheckMs: 60_000 });
    s.apply([assignment('shop/a')], 0);
    await s.stopAll();
    assert.equal(runs[0]!.signal.aborted, true);
    s.apply([assignment('shop/a'), assignment('shop/b')], 0);
    assert.deepEqual(s.running, [], 'nothing runs');
    assert.equal(runs.length, 1, 'no archiver was started');
  });
});
