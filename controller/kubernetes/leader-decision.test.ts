import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideLease, microTime } from './leader-decision.ts';
import type { ElectionDecision, ElectionInput, LeaseRecord } from './leader-decision.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const base: ElectionInput = { lease: undefined, observedAtMs: T0, nowMs: T0, identity: 'me', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, leading: false };
const held = (holder: string, extra: LeaseRecord = {}): LeaseRecord => ({ holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: microTime(T0 - 60_000), renewTime: microTime(T0 - 1000), leaseTransitions: 3, ...extra });

test('the decision for each state of the Lease, the clock and this candidate', () => {
  const table: { name: string; input: Partial<ElectionInput>; expect: Partial<ElectionDecision> & { record?: Partial<LeaseRecord> } }[] = [
    { name: 'no Lease: create it, holding it', input: {}, expect: { action: 'create', record: { holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: microTime(T0), renewTime: microTime(T0) } } },
    { name: 'another holds it, seen just now: wait a whole lease duration', input: { lease: held('other') }, expect: { action: 'wait', holder: 'other', expiresAtMs: T0 + 15_000 } },
    { name: 'another holds it, unchanged for 14.9 s: still wait', input: { lease: held('other'), observedAtMs: T0 - 14_900 }, expect: { action: 'wait' } },
    { name: 'another holds it, unchanged for 15 s: take it over (transitions + 1)', input: { lease: held('other'), observedAtMs: T0 - 15_000 }, expect: { action: 'acquire', record: { holderIdentity: 'me', leaseTransitions: 4, acquireTime: microTime(T0) } } },
    { name: 'its renewTime is old but we saw it change just now: wait (our clock, not theirs)', input: { lease: held('other', { renewTime: microTime(T0 - 3_600_000) }) }, expect: { action: 'wait' } },
    { name: 'the holder asked for 60 s: its duration counts, not ours', input: { lease: held('other', { leaseDurationSeconds: 60 }), observedAtMs: T0 - 30_000 }, expect: { action: 'wait', expiresAtMs: T0 + 30_000 } },
    { name: 'a nonsense duration in the Lease: ours counts', input: { lease: held('other', { leaseDurationSeconds: -1 }), observedAtMs: T0 - 15_000 }, expect: { action: 'acquire' } },
    { name: 'released (no holder): take it at once', input: { lease: held('', { leaseDurationSeconds: 1 }) }, expect: { action: 'acquire', record: { leaseTransitions: 4 } } },
    { name: 'leading and holding it: renew, keeping acquireTime and transitions', input: { lease: held('me'), leading: true, lastRenewMs: T0 - 2000 }, expect: { action: 'renew', record: { acquireTime: microTime(T0 - 60_000), renewTime: microTime(T0), leaseTransitions: 3 } } },
    { name: 'leading, not renewed for more than renewDeadline: step down', input: { lease: held('me'), leading: true, lastRenewMs: T0 - 10_001 }, expect: { action: 'step-down', reason: 'renew-deadline' } },
    { name: 'leading, renewed exactly renewDeadline ago: renew', input: { lease: held('me'), leading: true, lastRenewMs: T0 - 10_000 }, expect: { action: 'renew' } },
    { name: 'leading but another holds it: step down', input: { lease: held('other'), leading: true, lastRenewMs: T0 - 1000 }, expect: { action: 'step-down', reason: 'lost-lease' } },
    { name: 'not leading but named holder (a restart with our identity): acquire without a transition', input: { lease: held('me') }, expect: { action: 'acquire', record: { leaseTransitions: 3, acquireTime: microTime(T0) } } },
    { name: 'a negative transitions count is treated as 0', input: { lease: held('', { leaseTransitions: -7 }) }, expect: { action: 'acquire', record: { leaseTransitions: 1 } } },
  ];
  for (const row of table) {
    const got = decideLease({ ...base, ...row.input }) as unknown as Record<string, unknown>;
    const { record, ...rest } = row.expect;
    for (const [k, v] of Object.entries(rest)) assert.deepEqual(got[k], v, `${row.name}: ${k}`);
    for (const [k, v] of Object.entries(record ?? {})) assert.deepEqual((got.record as Record<string, unknown>)[k], v, `${row.name}: record.${k}`);
  }
});

test('MicroTime has six fractional digits, as the API server parses it', () => {
  assert.equal(microTime(Date.parse('2026-12-01T10:00:00.123Z')), '2026-12-01T10:00:00.123000Z');
});
