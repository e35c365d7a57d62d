import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignmentRetentionPolicy, retentionPolicyProblem } from './retention-rules.ts';
import type { RetentionPolicySpec } from './types.ts';

describe('retention policy rules', () => {
  const table: [string, Partial<RetentionPolicySpec>, RegExp | undefined][] = [
    ['keepTags only', { keepTags: ['gold'] }, /keepTags alone would remove every backup/],
    ['keepTags with zero counts', { keepTags: ['gold'], keepLast: 0, keepDaily: 0 }, /keepTags alone/],
    ['empty', {}, /keeps no snapshot/],
    ['name and prune only (Stash style)', { name: 'keep', prune: true }, /keeps no snapshot/],
    ['all counts 0', { keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 }, /keeps no snapshot/],
    ['dry run keeping nothing', { keepLast: 0, dryRun: true }, /keeps no snapshot/],
    ['keepLast 1', { keepLast: 1 }, undefined],
    ['keepLast 0 but keepDaily 7', { keepLast: 0, keepDaily: 7 }, undefined],
    ['keepYearly unlimited', { keepYearly: -1 }, undefined],
    ['keepTags with a count', { keepTags: ['gold'], keepWeekly: 4 }, undefined],
  ];
  for (const [name, rp, want] of table) {
    it(name, () => {
      const got = retentionPolicyProblem(rp);
      if (want) assert.match(got ?? '', want);
      else assert.equal(got, undefined);
    });
  }

  it('passes one keep-tag list per keepTags entry (keep snapshots having ANY entry), as Stash does; prune only when set', () => {
    assert.deepEqual(assignmentRetentionPolicy({ keepLast: 2, keepTags: ['gold', 'silver,pinned'], name: 'p' }), {
      keepLast: 2, keepTags: [['gold'], ['silver', 'pinned']], prune: false, dryRun: false,
    });
    // restic's splitTagList: white space trimmed, empty tags kept (an empty tag matches only untagged snapshots).
    assert.deepEqual(assignmentRetentionPolicy({ keepLast: 1, keepTags: [' silver , pinned ', 'gold,,silver', ''], prune: true }), {
      keepLast: 1, keepTags: [['silver', 'pinned'], ['gold', '', 'silver'], ['']], prune: true, dryRun: false,
    });
    assert.deepEqual(assignmentRetentionPolicy({ keepDaily: 7, prune: false, dryRun: true }), { keepDaily: 7, prune: false, dryRun: true });
  });
});
