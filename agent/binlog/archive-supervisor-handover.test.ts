// Found by an adversarial review of issue 14: an archive whose settings changed (flushIntervalSeconds, the
// repository's credentials, ...) is stopped and started again in one apply(): the new archiver
// starts while the old one is still finishing (an abort reaches a flush in progress only at its
// next await; the archiver resolves its promise when it has stopped), so for that while two
// archivers of one archive run on this agent: both plan their resume from the repository, both
// save snapshots of the active file, each removes the other's as superseded. README: "two agents
// never write one archive"; here one agent does it with itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { BinlogArchiveAssignment } from '../../common/protocol.ts';
import { BinlogArchiveSupervisor } from './archive-supervisor.ts';
import type { ArchiveHooks } from './archive-supervisor.ts';

const log = createLogger({}, { level: 'error', write: () => {} });
const assignment = (over: Partial<BinlogArchiveAssignment> = {}): BinlogArchiveAssignment => ({
  configuration: 'shop/nightly', target: 'shop/db', repositoryName: 'repo', snapshotHost: 'db', flushIntervalSeconds: 10, replicaServerId: 4000000001, leaseMs: 30_000,
  database: { host: 'db', username: 'u', password: 'p' }, repository: { location: 'local:/tmp/r', password: 'pw', credentials: {} }, ...over,
});

describe('binlog archive supervisor', () => {
  it('starts the new archiver of a changed archive only once the old one has stopped', async () => {
    let running = 0;
    let most = 0;
    /** An archiver that, once aborted, needs a moment to end its flush in progress. */
    const finishFlush: (() => void)[] = [];
    const run = (_a: BinlogArchiveAssignment, hooks: ArchiveHooks) =>
      new Promise<void>((resolve) => {
        running++;
        most = Math.max(most, running);
        hooks.signal.addEventListener('abort', () => finishFlush.push(() => (running--, resolve())), { once: true });
      });
    const s = new BinlogArchiveSupervisor(run, log, { targets: ['shop/db'], now: () => 1000, fenceCheckMs: 60_000 });
    s.apply([assignment()], 1000);
    s.apply([assignment({ flushIntervalSeconds: 5 })], 1000);
    await new Promise((r) => setTimeout(r, 20));
    const overlapped = most;
    for (const f of finishFlush.splice(0)) f();
    await new Promise((r) => setTimeout(r, 20));
    const stopping = s.stopAll();
    for (const f of finishFlush.splice(0)) f();
    await stopping;
    assert.equal(overlapped, 1, 'two archivers of shop/nightly ran at once');
  });
});
