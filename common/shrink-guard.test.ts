import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shrinkVerdict } from './shrink-guard.ts';

describe('shrink guard verdict', () => {
  const table: [string, number | undefined, number, number, { suspicious: boolean; percent: number } | undefined][] = [
    ['first backup: nothing to compare', undefined, 10, 50, undefined],
    ['previous size 0: nothing to compare', 0, 10, 50, undefined],
    ['same size', 1000, 1000, 50, { suspicious: false, percent: 100 }],
    ['grew', 1000, 3000, 50, { suspicious: false, percent: 300 }],
    ['exactly at the threshold is fine', 1000, 500, 50, { suspicious: false, percent: 50 }],
    ['just under the threshold', 1000, 499, 50, { suspicious: true, percent: 49.9 }],
    ['most rows deleted', 1_000_000, 20_000, 50, { suspicious: true, percent: 2 }],
    ['empty dump', 1000, 0, 50, { suspicious: true, percent: 0 }],
    ['custom threshold 90', 1000, 850, 90, { suspicious: true, percent: 85 }],
    ['custom threshold 10', 1000, 150, 10, { suspicious: false, percent: 15 }],
    ['disabled (0)', 1000, 1, 0, { suspicious: false, percent: 0.1 }],
  ];
  for (const [name, prev, cur, pct, want] of table) {
    it(name, () => assert.deepEqual(shrinkVerdict(prev, cur, pct), want));
  }
});
