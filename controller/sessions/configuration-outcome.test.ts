// configurationStatusAfter on tables: what a finished BackupSession leaves on its configuration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BackupConfigurationStatus } from '../resources/types.ts';
import { configurationStatusAfter } from './configuration-outcome.ts';
import type { FinishedSession } from './configuration-outcome.ts';

const shrink = { previousSnapshotId: 'a'.repeat(64), previousBytes: 1000, bytes: 10, percent: 1, thresholdPercent: 50 };
const ok = (name: string, finishedAt: string, durationSeconds = 12, extra: Partial<FinishedSession['status']> = {}): FinishedSession => ({ name, status: { phase: 'Succeeded', finishedAt, durationSeconds, ...extra } });
const failed = (name: string, finishedAt: string, durationSeconds?: number): FinishedSession => ({ name, status: { phase: 'Failed', finishedAt, ...(durationSeconds === undefined ? {} : { durationSeconds }) } });
const cancelled = (name: string, finishedAt: string, durationSeconds?: number): FinishedSession => ({ name, status: { phase: 'Cancelled', finishedAt, ...(durationSeconds === undefined ? {} : { durationSeconds }) } });
const sched = { lastScheduleTime: 'S', nextScheduleTime: 'N', lastSessionName: 'x', skippedOverlaps: 2 };

describe('configurationStatusAfter', () => {
  const table: [string, BackupConfigurationStatus | undefined, FinishedSession[], BackupConfigurationStatus][] = [
    ['first success', undefined, [ok('s1', 'T1')], { lastFinishedPhase: 'Succeeded', lastFinishedSession: 's1', lastDurationSeconds: 12, lastSuccessTime: 'T1', consecutiveFailures: 0 }],
    ['a failure after a success keeps the success time', undefined, [ok('s1', 'T1'), failed('s2', 'T2', 3)], { lastFinishedPhase: 'Failed', lastFinishedSession: 's2', lastDurationSeconds: 3, lastSuccessTime: 'T1', consecutiveFailures: 1 }],
    ['failures count up; one that never started lasted 0 s', undefined, [ok('s1', 'T1'), failed('s2', 'T2', 3), failed('s3', 'T3')], { lastFinishedPhase: 'Failed', lastFinishedSession: 's3', lastDurationSeconds: 0, lastSuccessTime: 'T1', consecutiveFailures: 2 }],
    ['a success resets the count', undefined, [failed('s1', 'T1'), failed('s2', 'T2'), ok('s3', 'T3', 7)], { lastFinishedPhase: 'Succeeded', lastFinishedSession: 's3', lastDurationSeconds: 7, lastSuccessTime: 'T3', consecutiveFailures: 0 }],
    ['failures only: no success time', undefined, [failed('s1', 'T1')], { lastFinishedPhase: 'Failed', lastFinishedSession: 's1', lastDurationSeconds: 0, consecutiveFailures: 1 }],
    ['the scheduler\'s fields are kept', { ...sched }, [failed('s1', 'T1')], { ...sched, lastFinishedPhase: 'Failed', lastFinishedSession: 's1', lastDurationSeconds: 0, consecutiveFailures: 1 }],
    ['a flagged success records the shrink; a failure keeps it', undefined, [ok('s1', 'T1', 1, { suspiciousShrink: shrink }), failed('s2', 'T2')], { lastFinishedPhase: 'Failed', lastFinishedSession: 's2', lastDurationSeconds: 0, lastSuccessTime: 'T1', consecutiveFailures: 1, suspiciousShrink: shrink }],
    ['a later unflagged success clears the shrink', undefined, [ok('s1', 'T1', 1, { suspiciousShrink: shrink }), ok('s2', 'T2', 1)], { lastFinishedPhase: 'Succeeded', lastFinishedSession: 's2', lastDurationSeconds: 1, lastSuccessTime: 'T2', consecutiveFailures: 0 }],
    ['a cancelled session is the last phase, neither a success nor a failure', undefined, [ok('s1', 'T1', 1, { suspiciousShrink: shrink }), failed('s2', 'T2'), cancelled('s3', 'T3', 4)], { lastFinishedPhase: 'Cancelled', lastFinishedSession: 's3', lastDurationSeconds: 4, lastSuccessTime: 'T1', consecutiveFailures: 1, suspiciousShrink: shrink }],
    ['a cancel first: no count, no success time', undefined, [cancelled('s1', 'T1')], { lastFinishedPhase: 'Cancelled', lastFinishedSession: 's1', lastDurationSeconds: 0 }],
    ['an older success recorded later (an offline run reported late) keeps the newer success time', undefined, [ok('s2', 'T2'), ok('s1', 'T1')], { lastFinishedPhase: 'Succeeded', lastFinishedSession: 's1', lastDurationSeconds: 12, lastSuccessTime: 'T2', consecutiveFailures: 0 }],
    ['a non-terminal phase changes nothing', { ...sched }, [{ name: 's1', status: { phase: 'Running' } }], { ...sched }],
  ];
  for (const [what, start, sessions, want] of table) {
    it(what, () => {
      const before = structuredClone(start);
      let st = start;
      for (const s of sessions) st = configurationStatusAfter(st, s);
      assert.deepEqual(st, want);
      assert.deepEqual(start, before, 'the input status is not changed');
    });
  }
});
