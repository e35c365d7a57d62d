import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyPolicy } from './retention.ts';
import type { RetentionPolicy, RetentionSnapshot } from './retention.ts';
import { PROTECTED_REASON, protectSnapshots } from './retention-guard.ts';

// "new" was just written, but a snapshot of a writer whose clock runs ahead is dated later.
const snaps: RetentionSnapshot[] = [
  { id: 'old', time: '2026-03-01T00:00:00Z' },
  { id: 'new', time: '2026-03-02T00:00:00Z' },
  { id: 'future', time: '2026-03-09T00:00:00Z' },
];

describe('retention never removes the snapshot the session just wrote', () => {
  const table: [string, RetentionPolicy, string[], string[]][] = [
    ['keep-last 1 would drop it', { keepLast: 1 }, ['future', 'new'], ['old']],
    ['keep-tags that it lacks would drop it', { keepTags: [['pinned']] }, ['new'], ['old', 'future']],
    ['keep-weekly 1 would drop it', { keepWeekly: 1 }, ['future', 'new'], ['old']],
    ['a policy that keeps it anyway', { keepLast: 2 }, ['future', 'new'], ['old']],
  ];
  for (const [name, policy, keep, remove] of table) {
    it(name, () => {
      const d = protectSnapshots(applyPolicy(snaps, policy), ['new']);
      assert.deepEqual(d.keep.map((s) => s.id).sort(), [...keep].sort());
      assert.deepEqual(d.remove.map((s) => s.id).sort(), [...remove].sort());
    });
  }

  it('says why', () => {
    const d = protectSnapshots(applyPolicy(snaps, { keepLast: 1 }), ['new']);
    assert.deepEqual(d.reasons.get('new'), [PROTECTED_REASON]);
    assert.deepEqual(protectSnapshots(applyPolicy(snaps, { keepLast: 1 }), []).remove.map((s) => s.id).sort(), ['new', 'old']);
  });
});
