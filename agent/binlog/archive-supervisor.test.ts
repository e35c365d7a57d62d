import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../common/log.ts';
import type { BinlogArchiveAssignment } from '../../common/protocol.ts';
import { until } from '../../test/helpers/until.ts';
import { BinlogArchiveSupervisor } from './archive-supervisor.ts';
import type { ArchiveHooks } from './archive-supervisor.ts';

const log = createLogger({}, { level: 'error', write: () => {} });
const assignment = (configuration: string, over: Partial<BinlogArchiveAssignment> = {}): BinlogArchiveAssignment => ({
  configuration, target: 'shop/db', repositoryName: 'repo', snapshotHost: 'db', flushIntervalSeconds: 10, replicaServerId: 4000000001, leaseMs: 30_000,
  database: { host: 'db', username: 'u', password: 'p' }, repository: { location: 'local:/tmp/r', password: 'pw', credentials: {} }, ...over,
});

/** A runner that records its runs and keeps each until aborted or told to fail. */
function fakeRunner() {
  const runs: { a: BinlogArchiveAssignment; hooks: ArchiveHooks; fail: (e: Error) => void }[] = [];
  const run = (a: BinlogArchiveAssignment, hooks: ArchiveHooks) =>
    new Promise<void>((resolve, reject) => {
      runs.push({ a, hooks, fail: reject });
      hooks.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  return { runs, run };
}

describe('binlog archive supervisor', () => {
  it('runs the archives it is given for its own targets only, once however often the lease is renewed', async () => {
    const f = fakeRunner();
    let now = 1000;
    const s = new BinlogArchiveSupervisor(f.run, log, { targets: ['shop/db'], now: () => now, fenceCheckMs: 60_000 });
    s.apply([assignment('shop/nightly'), assignment('shop/foreign', { target: 'other/db' }), assignment('shop/bad', { flushIntervalSeconds: 0 })], now);
    assert.deepEqual(s.running, ['shop/nightly']);
    now += 10_000;
    s.apply([assignment('shop/nightly')], now);
    assert.equal(f.runs.length, 1);
    // The lease counts from the renewing sync: 39 s after the first one it still runs.
    now += 29_000;
    s.checkLeases();
    assert.deepEqual(s.running, ['shop/nightly']);
    await s.stopAll();
    assert.equal(f.runs[0]!.hooks.signal.aborted, true);
  });

  it('restarts an archive whose settings changed and stops one no longer given', async () => {
    const f = fakeRunner();
    const s = new BinlogArchiveSupervisor(f.run, log, { targets: ['shop/db'], now: () => 0, fenceCheckMs: 60_000 });
    s.apply([assignment('shop/a'), assignment('shop/b')], 0);
    s.apply([assignment('shop/a', { flushIntervalSeconds: 5 })], 0);
    // The new archiver of shop/a starts once the old one has ended (never two at once).
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(s.running, ['shop/a']);
    assert.deepEqual(f.runs.map((r) => [r.a.configuration, r.a.flushIntervalSeconds, r.hooks.signal.aborted]), [['shop/a', 10, true], ['shop/b', 10, true], ['shop/a', 5, false]]);
    await s.stopAll();
  });

  it('stops an archive whose lease ran out without a sync (fencing)', async () => {
    const f = fakeRunner();
    let now = 0;
    const s = new BinlogArchiveSupervisor(f.run, log, { targets: ['shop/db'], now: () => now, fenceCheckMs: 60_000 });
    s.apply([assignment('shop/a')], 0);
    now = 29_999;
    s.checkLeases();
    assert.deepEqual(s.running, ['shop/a']);
    now = 30_000;
    s.checkLeases();
    assert.deepEqual(s.running, []);
    assert.equal(f.runs[0]!.hooks.signal.aborted, true);
    await s.stopAll();
  });

  it('reports progress and gaps, counts a gap once the controller has it, and restarts a failed archiver with its error shown', async () => {
    const f = fakeRunner();
    const s = new BinlogArchiveSupervisor(f.run, log, { targets: ['shop/db'], now: () => 0, fenceCheckMs: 60_000, firstRestartDelayMs: 10 });
    s.apply([assignment('shop/a')], 0);
    const h = f.runs[0]!.hooks;
    h.onProgress({ chain: '0123456789abcdef', file: 'mysql-bin.000001', position: 400, lagSinceMs: -2500 });
    h.onGap({ detectedAt: '2026-12-01T00:00:00.000Z', message: 'purged' });
    const sent = s.reports();
    assert.deepEqual(sent, [{ configuration: 'shop/a', chain: '0123456789abcdef', file: 'mysql-bin.000001', position: 400, lagSeconds: 2.5, gaps: 1, lastGap: { detectedAt: '2026-12-01T00:00:00.000Z', message: 'purged' } }]);
    // A failure the archiver retries is on the report until it goes away.
    h.onProgress({ chain: '0123456789abcdef', file: 'mysql-bin.000001', position: 400, retrying: { code: 'SIDESTASH_DATABASE_UNAVAILABLE', message: 'refused' } });
    assert.deepEqual([s.reports()[0]!.error?.message, s.reports()[0]!.lagSeconds], ['refused', 0]);
    s.delivered(sent);
    assert.equal(s.reports()[0]!.gaps, undefined);
    f.runs[0]!.fail(Object.assign(new Error('server gone'), { code: 'SIDESTASH_DATABASE_UNAVAILABLE' }));
    await until('the error on the report', () => s.reports()[0]?.error);
    assert.equal(s.reports()[0]!.error!.message, 'server gone');
    await until('a restart', () => (f.runs.length === 2 ? true : undefined));
    f.runs[1]!.hooks.onProgress({ position: 500 });
    assert.equal(s.reports()[0]!.error, undefined);
    assert.equal(s.reports()[0]!.lagSeconds, 0);
    assert.equal(s.reports()[0]!.position, 500);
    await s.stopAll();
  });
});
