// The orders sessions are served and pruned in (pure): the claim queue and the history limit,
// by creation and finish times, never by resourceVersion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scheduledRunAt } from '../../common/schedule.ts';
import type { Resource, SessionStatus } from '../resources/types.ts';
import { claimQueue } from './claim-queue.ts';
import { scheduledSessionName } from '../../common/scheduled-name.ts';
import { sessionsBeyondHistory } from './session-history.ts';

const session = (name: string, created: string, status: SessionStatus, resourceVersion = '1'): Resource<unknown, SessionStatus> => ({
  apiVersion: 'sidestash.io/v1', kind: 'BackupSession', metadata: { name, namespace: 'default', creationTimestamp: created, resourceVersion }, spec: {}, status,
});

describe('claimQueue', () => {
  it('Pending sessions only, oldest created first, then by name; resourceVersion plays no part', () => {
    const q = claimQueue([
      session('late', '2026-03-01T10:00:05Z', { phase: 'Pending' }, '1'),
      session('b', '2026-03-01T10:00:00.000Z', { phase: 'Pending' }, '9'),
      session('running', '2026-03-01T09:00:00Z', { phase: 'Running' }),
      session('a', '2026-03-01T10:00:00Z', { phase: 'Pending' }, '10'),
      session('done', '2026-03-01T08:00:00Z', { phase: 'Failed' }),
    ]);
    assert.deepEqual(q.map((s) => s.metadata.name), ['a', 'b', 'late']);
  });
});

describe('sessionsBeyondHistory', () => {
  const done = (name: string, created: string, finished: string, phase: SessionStatus['phase'] = 'Succeeded') => session(name, created, { phase, finishedAt: finished });
  it('keeps the `limit` most recently finished, never an unfinished one', () => {
    const all = [
      done('s1', '2026-03-01T01:00:00Z', '2026-03-01T01:10:00Z'),
      done('s3', '2026-03-01T03:00:00Z', '2026-03-01T03:10:00Z', 'Failed'),
      session('pending', '2026-03-01T00:00:00Z', { phase: 'Pending' }),
      session('running', '2026-03-01T00:00:00Z', { phase: 'Running' }),
      done('s2', '2026-03-01T02:00:00Z', '2026-03-01T02:10:00Z'),
      // Created first but finished last (a long run): it is among the newest.
      done('s0', '2026-03-01T00:30:00Z', '2026-03-01T04:00:00Z', 'Cancelled'),
    ];
    const gone = (limit: number) => sessionsBeyondHistory(all, limit).map((s) => s.metadata.name).sort();
    assert.deepEqual(gone(2), ['s1', 's2']);
    assert.deepEqual(gone(0), ['s0', 's1', 's2', 's3']);
    assert.deepEqual(gone(10), []);
  });
  it('finished at the same instant: the older creation goes first', () => {
    const same = '2026-03-01T05:00:00Z';
    assert.deepEqual(sessionsBeyondHistory([done('new', '2026-03-01T02:00:00Z', same), done('old', '2026-03-01T01:00:00Z', same)], 1).map((s) => s.metadata.name), ['old']);
  });
});

describe('scheduled session names', () => {
  it('are <configuration>-<unix seconds of the scheduled time>, cut to a 63-character DNS label', () => {
    assert.equal(scheduledSessionName('nightly', Date.parse('2026-03-01T03:00:00.750Z')), 'nightly-1772334000');
    // A name too long is cut and followed by five hex digits of its SHA-256, so that names
    // sharing their first characters stay apart.
    const long = scheduledSessionName(`n${'x'.repeat(70)}`, 0);
    assert.equal(long.length, 63);
    assert.match(long, /^nx+-[0-9a-f]{5}-0$/);
    assert.notEqual(scheduledSessionName(`n${'x'.repeat(70)}y`, 0), long);
    assert.equal(scheduledSessionName(`n${'x'.repeat(60)}`, 0), `n${'x'.repeat(60)}-0`, 'a name that fits is kept whole');
    assert.match(scheduledSessionName(`a${'-'.repeat(60)}b`, 0), /^a-[0-9a-f]{5}-0$/, 'no dash before the hash is doubled');
  });
  it('name the scheduled instant, not the late moment the timer fired', () => {
    const spec = { schedule: '0 3 * * *', timezone: 'Europe/Berlin' };
    const at = Date.parse('2026-03-01T02:00:00Z'); // 03:00 in Berlin
    for (const lateMs of [0, 1, 999, 1500, 60_000]) assert.equal(scheduledRunAt(spec, at + lateMs), at, `fired ${lateMs} ms late`);
    assert.equal(scheduledRunAt(spec, at - 1), at - 86_400_000, 'before it: the previous day');
  });
});
